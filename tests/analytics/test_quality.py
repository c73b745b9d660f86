"""Offer quality (issue #7): completion, drop-out, transition within 6 months and
waiting time per offer and provider, against the category median — every count
through the disclosure control."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from lotse.analytics import snapshot
from lotse.analytics.quality import quality
from lotse.core.disclosure import Policy
from lotse.core.models import AccessLogEntry
from lotse.referrals.models import Participation
from tests.conftest import login
from tests.factories import CaseFactory, OfferFactory

TODAY = dt.date(2026, 11, 21)


def _part(offer, *, start, end=None, outcome="", next_step="", case=None):
    case = case or CaseFactory()
    return Participation.objects.create(
        person=case.person,
        case=case,
        offer=offer,
        provider=offer.provider,
        title=offer.title,
        category=offer.category,
        started_on=start,
        ended_on=end,
        outcome=outcome,
        abort_reason="motivation" if outcome == "aborted" else "",
        next_step=next_step,
        recorded_by=case.lead_organisation,
        created_by=case.case_manager,
    )


@pytest.fixture
def offers(db):
    big = OfferFactory(category="bvb", title="BvB Metall")
    small = OfferFactory(category="bvb", title="BvB Holz", provider=big.provider)
    early, late = dt.date(2025, 1, 1), dt.date(2025, 3, 31)
    # Big: 10 completed (6 went into an apprenticeship), 6 aborted, 5 transferred.
    for i in range(10):
        _part(
            big,
            start=early,
            end=late,
            outcome="completed",
            next_step="apprenticeship" if i < 6 else "none",
        )
    for _i in range(6):
        _part(big, start=early, end=late, outcome="aborted")
    for _i in range(5):
        case = CaseFactory()
        _part(big, start=early, end=late, outcome="transferred", case=case)
        # ... and each started another measure two months later: a transition.
        _part(small, start=late + dt.timedelta(days=60), case=case)
    # Small: only 3 ended: left out.
    for _i in range(3):
        _part(small, start=early, end=late, outcome="completed")
    return big, small


def test_rates_counts_and_medians(offers):
    big, small = offers
    snap = snapshot.build(on=TODAY)
    q = quality(
        snap,
        policy=Policy(k=5),
        offer_provider={big.pk: big.provider_id, small.pk: small.provider_id},
    )
    (row,) = q.by_offer  # the small offer has fewer than k ended
    assert row.key == big.pk and row.ended.value == 21
    assert (row.completed.value, row.aborted.value, row.transferred.value) == (10, 6, 5)
    assert row.completion == pytest.approx(100 * 10 / 21)
    assert row.dropout == pytest.approx(100 * 6 / 21)
    # 6 apprenticeships + 5 transfers with a next measure within 6 months.
    assert row.observed.value == 21 and row.transitions.value == 11
    assert row.median_completion == pytest.approx(row.completion)  # the only bvb offer
    (provider,) = q.by_provider
    assert provider.ended.value == 24  # both offers' ended participations


def test_small_counts_hide_the_rate(offers):
    big, _small = offers
    Participation.objects.filter(offer=big, outcome="aborted").exclude(
        pk__in=Participation.objects.filter(offer=big, outcome="aborted").values("pk")[:3]
    ).delete()
    snap = snapshot.build(on=TODAY)
    q = quality(snap, policy=Policy(k=5), offer_provider={big.pk: big.provider_id})
    (row,) = q.by_offer
    # 3 aborted: withheld, and with them the 5 transferred (else 18 − 10 − 5 = 3).
    assert row.aborted.value is None and row.transferred.value is None
    assert row.dropout is None
    assert row.completed.value == 10 and row.ended.value == 18


def test_page_roles_and_log(world, offers, client):
    url = reverse("analytics:quality")
    for member in (world.analyst, world.coordinator, world.team_lead):
        login(client, member)
        before = AccessLogEntry.objects.count()
        response = client.get(url)
        assert response.status_code == 200
        assert 'id="quality-offers"' in response.content.decode()
        entry = AccessLogEntry.objects.order_by("-seq").first()
        assert AccessLogEntry.objects.count() == before + 1
        assert entry.object_id == "quality" and entry.person_id is None
    for member in (world.case_manager, world.partner_staff, world.volunteer, world.org_admin):
        login(client, member)
        assert client.get(url).status_code == 403
