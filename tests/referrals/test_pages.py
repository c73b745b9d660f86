"""The referral pages for both sides: the case manager refers from the matching page,
the provider (another organisation) answers, records start and outcome; who sees what,
what is logged, bad input at the field, query counts of the lists."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from lotse.core.models import AccessLogEntry, NeedType
from lotse.referrals import services
from lotse.referrals.models import Participation, Referral

from ..conftest import login
from ..factories import CaseFactory, ConsentFactory, OfferFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def _sent(world, provider, **kw):
    return services.referral_create(
        actor=world.case_manager,
        case=kw.pop("case", world.case),
        offer=kw.pop("offer", provider.offer),
        reason="Braucht Deutsch B1.",
        send=True,
        **kw,
    )


def test_refer_from_the_matching_page(world, provider, client):
    provider.offer.need_types.add(NeedType.objects.get(code="deutsch_b1"))
    login(client, world.case_manager)
    matches = client.get(reverse("offers:matches", args=[world.case.pk]))
    new_url = reverse("referrals:new", args=[world.case.pk]) + f"?offer={provider.offer.pk}"
    assert new_url.replace("&", "&amp;") in matches.content.decode()
    form = client.get(new_url)
    assert form.status_code == 200 and "Deutsch B1 am Vormittag" in form.content.decode()
    response = client.post(
        new_url, {"offer": provider.offer.pk, "reason": "Ausbildung ab August", "action": "send"}
    )
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:detail", args=[referral.pk])
    assert referral.status == "sent" and referral.reason == "Ausbildung ab August"


def test_missing_reason_error_at_the_field_nothing_written(world, provider, client):
    login(client, world.case_manager)
    url = reverse("referrals:new", args=[world.case.pk])
    response = client.post(url, {"offer": provider.offer.pk, "reason": "", "action": "send"})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert not Referral.objects.exists()


def test_no_referral_consent_error_on_the_form_nothing_written(world, provider, client):
    provider.consent.delete()
    login(client, world.case_manager)
    url = reverse("referrals:new", args=[world.case.pk])
    response = client.post(url, {"offer": provider.offer.pk, "reason": "x", "action": "send"})
    assert response.status_code == 200
    assert "no valid consent" in str(response.context["form"].non_field_errors())
    assert not Referral.objects.exists()  # the proposal is not kept either (atomic)


def test_provider_sees_only_shared_categories_and_is_logged(world, provider, client):
    r = _sent(world, provider)
    login(client, provider.staff)
    listing = client.get(reverse("referrals:list"))
    assert listing.status_code == 200
    assert "Haddad" in listing.content.decode()
    page = client.get(reverse("referrals:detail", args=[r.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and "Haddad" in body
    assert set(page.context["view"].access.categories) == {"master", "education"}
    # Residence is not shared with the provider: the case page does not exist for it.
    assert client.get(reverse("casework:detail", args=[world.case.pk])).status_code == 404
    assert "Duldung" not in body
    entries = AccessLogEntry.objects.filter(
        user=provider.staff.user, person_id=world.case.person_id, purpose="referral"
    )
    assert entries.filter(action="list").exists()
    assert entries.filter(action="read", object_type="referral").exists()


def test_consent_withdrawn_after_sending_hides_the_person(world, provider, client):
    r = _sent(world, provider)
    provider.consent.withdrawn_at = timezone.now()
    provider.consent.save()
    login(client, provider.staff)
    page = client.get(reverse("referrals:detail", args=[r.pk]))
    assert page.status_code == 200
    assert "Haddad" not in page.content.decode()
    assert not page.context["view"].person_shown
    assert "Haddad" not in client.get(reverse("referrals:list")).content.decode()


def test_provider_path_accept_start_end(world, provider, client):
    r = _sent(world, provider)
    login(client, provider.staff)
    assert client.post(reverse("referrals:accept", args=[r.pk]), {}).status_code == 302
    start = client.post(reverse("referrals:start", args=[r.pk]), {"start-started_on": TODAY()})
    assert start.status_code == 302
    p = Participation.objects.get()
    bad = client.post(
        reverse("referrals:end", args=[p.pk]),
        {"end-ended_on": TODAY() - dt.timedelta(days=5), "end-outcome": "completed"},
    )
    assert bad.status_code == 422
    assert "before it started" in str(bad.context["form"].errors["ended_on"])
    end = client.post(
        reverse("referrals:end", args=[p.pk]),
        {
            "end-ended_on": TODAY(),
            "end-outcome": "completed_certificate",
            "end-level_reached": "B1",
        },
    )
    assert end.status_code == 302
    r.refresh_from_db()
    assert r.status == "completed"
    # The case manager sees it in the chain on the case page.
    login(client, world.case_manager)
    case_page = client.get(reverse("casework:detail", args=[world.case.pk]))
    chain = case_page.context["chain"]
    assert [e.kind for e in chain.entries if e.kind != "residence"] == ["participation"]
    assert "completed with certificate" in case_page.content.decode()


def test_other_organisations_do_not_see_the_referral(world, provider, client):
    r = _sent(world, provider)
    for member in (world.outsider, world.coordinator, world.analyst, world.volunteer):
        login(client, member)
        assert client.get(reverse("referrals:detail", args=[r.pk])).status_code == 404
        listing = client.get(reverse("referrals:list"))
        assert listing.status_code in (200, 403)
        assert "Haddad" not in listing.content.decode()
    # The provider's colleague in another role of the same organisation does see it.
    login(client, provider.colleague)
    assert client.get(reverse("referrals:detail", args=[r.pk])).status_code == 200


def test_a_proposal_does_not_exist_for_the_provider(world, provider, client):
    r = services.referral_create(
        actor=world.case_manager, case=world.case, offer=provider.offer, reason="x"
    )
    login(client, provider.staff)
    assert client.get(reverse("referrals:detail", args=[r.pk])).status_code == 404
    assert client.post(reverse("referrals:accept", args=[r.pk])).status_code == 404


def test_case_list_without_any_offer(world, provider, client):
    idle = CaseFactory(lead_organisation=world.lead, case_manager=world.case_manager.user)
    login(client, world.case_manager)
    url = reverse("casework:list") + "?without_offer=on"
    ids = {c.pk for c in client.get(url).context["page"].object_list}
    assert ids == {world.case.pk, idle.pk}
    _sent(world, provider)  # an open referral counts as an offer
    ids = {c.pk for c in client.get(url).context["page"].object_list}
    assert ids == {idle.pk}
    # A partner without participations shared: the filter shows nothing of the case.
    world.consent.categories = ["master"]
    world.consent.save()
    login(client, world.partner_staff)
    assert not client.get(url).context["page"].object_list


@pytest.mark.parametrize("box", ["incoming", "outgoing"])
def test_list_queries_do_not_grow(world, provider, client, django_assert_max_num_queries, box):
    def grow(n):
        for _ in range(n):
            case = CaseFactory(lead_organisation=world.lead, case_manager=world.case_manager.user)
            ConsentFactory(
                person=case.person,
                purpose="referral",
                categories=["master"],
                recorded_by=world.case_manager.user,
                recorded_for=world.lead,
                receivers=[provider.org],
            )
            _sent(world, provider, case=case, offer=OfferFactory(provider=provider.org))

    login(client, provider.staff if box == "incoming" else world.case_manager)
    url = reverse("referrals:list") + f"?box={box}"
    grow(2)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    grow(9)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 11


def test_dashboard_tells_the_provider_about_waiting_referrals(world, provider, client):
    login(client, provider.staff)
    assert client.get(reverse("core:dashboard")).context["incoming_referrals"] == 0
    _sent(world, provider)
    page = client.get(reverse("core:dashboard"))
    assert page.context["incoming_referrals"] == 1
    assert "1 referral to your organisation waits for an answer" in page.content.decode()
    # Nothing for the sending side, nor for another organisation.
    login(client, world.case_manager)
    assert client.get(reverse("core:dashboard")).context["incoming_referrals"] == 0


def test_receiver_does_not_see_why_the_matching_excluded_the_person(world, provider, client):
    """The exclusion reasons name the residence status; the consent covers master and
    education only, so they stay with the sender, like the override and its note."""
    course = OfferFactory(provider=provider.org, statuses=["ae_25_2_gfk"], title="Nur GFK")
    r = _sent(world, provider, offer=course, override_reason="Träger prüft Einzelfall.")
    login(client, world.case_manager)
    assert (
        "Träger prüft Einzelfall."
        in client.get(reverse("referrals:detail", args=[r.pk])).content.decode()
    )
    login(client, provider.staff)
    page = client.get(reverse("referrals:detail", args=[r.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Träger prüft Einzelfall." not in body and "Duldung" not in body
    r.refresh_from_db()
    assert r.override_reason  # blanked for the reader only, never in the database


def test_chain_leaves_out_another_organisations_case(world, provider, client):
    """The same person has a case at the Ausländerbehörde too; its participations are
    that organisation's data and stay out of the KI's chain."""
    other_case = CaseFactory(
        person=world.case.person,
        lead_organisation=world.other,
        case_manager=world.outsider.user,
    )
    services.participation_record(
        actor=world.outsider,
        case=other_case,
        title="Kurs der ABH-Seite",
        category="beratung",
        started_on=dt.date(2024, 2, 1),
    )
    services.participation_record(
        actor=world.case_manager,
        case=world.case,
        title="Kurs der KI-Seite",
        category="sprachkurs",
        started_on=dt.date(2024, 3, 1),
    )
    login(client, world.case_manager)
    body = client.get(reverse("referrals:chain", args=[world.case.pk])).content.decode()
    assert "Kurs der KI-Seite" in body and "Kurs der ABH-Seite" not in body
    login(client, world.outsider)
    body = client.get(reverse("referrals:chain", args=[other_case.pk])).content.decode()
    assert "Kurs der ABH-Seite" in body and "Kurs der KI-Seite" not in body
