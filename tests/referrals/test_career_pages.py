"""The measure-career pages: the case manager's flagged persons, one flag with its
reason and time line and the resolve form, the counts for coordinators and
analysts. Scoping: out of scope a flag does not exist, without the role the page is
refused; reads are logged; counts below the minimum are never shown."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone

from lotse.core.models import AccessLogEntry
from lotse.offers.codes import OfferCategory
from lotse.referrals.careers_selectors import career_flag_counts
from lotse.referrals.careers_services import careers_store
from lotse.referrals.models import CareerFlag

from ..conftest import login
from ..factories import CaseFactory, DistrictFactory, PersonFactory
from .conftest import record_aborted

pytestmark = pytest.mark.django_db


def _aborted(actor, case, start: dt.date, title: str = "BvB Metall"):
    return record_aborted(actor, case, (timezone.localdate() - start).days, title)


@pytest.fixture
def flagged(world):
    today = timezone.localdate()
    _aborted(world.case_manager, world.case, today - dt.timedelta(days=300), "BvB Holz")
    _aborted(world.case_manager, world.case, today - dt.timedelta(days=200))
    return CareerFlag.objects.get(rule="dropout_chain")


def test_case_manager_sees_the_flagged_person_and_the_read_is_logged(
    world, client, flagged, django_assert_max_num_queries
):
    login(client, world.case_manager)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("referrals:career_flags"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Haddad, Mohammed" in html and "Chain of drop-outs" in html
    assert "2 participations aborted in a row." in html
    assert AccessLogEntry.objects.filter(object_type="career_flags", action="list").exists()
    # The filter by rule: another rule, nothing.
    response = client.get(reverse("referrals:career_flags"), {"rule": "cycle", "mine": "on"})
    assert "Haddad" not in response.content.decode()


def test_list_query_count_does_not_grow_with_the_flags(
    world, client, django_assert_max_num_queries
):
    for i in range(8):
        case = CaseFactory(lead_organisation=world.lead, case_manager=world.case_manager.user)
        careers_store(
            [
                (
                    case.person_id,
                    "gap",
                    "{}",
                    f"p:{i}",
                    json.dumps(
                        {
                            "days": 100,
                            "from": "2026-01-01",
                            "to": "2026-04-11",
                            "until_today": False,
                        }
                    ),
                )
            ],
            person_ids=[case.person_id],
        )
    login(client, world.case_manager)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("referrals:career_flags"))
    assert response.content.decode().count("Gap in support") >= 8


def test_flag_page_shows_reason_and_time_line_and_logs(world, client, flagged):
    login(client, world.case_manager)
    response = client.get(reverse("referrals:career_flag", args=[flagged.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "BvB Holz" in html and "BvB Metall" in html and "aborted" in html
    assert "participations in a row" in html and 'id="resolve-form"' in html
    assert AccessLogEntry.objects.filter(
        object_type="career_flag", object_id=str(flagged.pk), action="read"
    ).exists()


def test_resolve_needs_a_note_then_it_is_resolved(world, client, flagged):
    login(client, world.case_manager)
    url = reverse("referrals:career_flag_resolve", args=[flagged.pk])
    response = client.post(url, {"resolve-note": "  "})
    assert response.status_code == 422
    assert 'id="id_resolve-note"' in response.content.decode()
    flagged.refresh_from_db()
    assert flagged.is_open
    response = client.post(url, {"resolve-note": "BvB-Wechsel besprochen, Praktikum geplant"})
    assert response.status_code == 302
    flagged.refresh_from_db()
    assert flagged.resolved_at is not None
    listed = client.get(reverse("referrals:career_flags")).content.decode()
    assert f"careers/{flagged.pk}/" not in listed


def test_others_get_nothing(world, client, flagged):
    url = reverse("referrals:career_flag", args=[flagged.pk])
    resolve = reverse("referrals:career_flag_resolve", args=[flagged.pk])
    # Another organisation's case manager: the flag does not exist.
    login(client, world.outsider)
    assert client.get(url).status_code == 404
    assert client.post(resolve, {"resolve-note": "x"}).status_code == 404
    response = client.get(reverse("referrals:career_flags"), {"rule": "", "mine": ""})
    assert "Haddad" not in response.content.decode()
    # The Jobcenter on the team may read participations, but not resolve.
    login(client, world.partner_staff)
    assert client.post(resolve, {"resolve-note": "x"}).status_code == 403
    # Roles without casework: refused.
    for member in (world.coordinator, world.analyst, world.volunteer):
        login(client, member)
        assert client.get(url).status_code == 403
        assert client.get(reverse("referrals:career_flags")).status_code == 403
    flagged.refresh_from_db()
    assert flagged.is_open


def test_team_member_without_participations_shared_is_refused(world, client, flagged):
    world.consent.categories = ["master"]
    world.consent.save()
    login(client, world.partner_staff)
    assert client.get(reverse("referrals:career_flag", args=[flagged.pk])).status_code == 403
    response = client.get(reverse("referrals:career_flags"), {"rule": "", "mine": ""})
    assert "Haddad" not in response.content.decode()


def test_another_organisations_participation_is_counted_not_shown(world, client):
    today = timezone.localdate()
    # The person also has an older case at the foreigners' authority, with a drop-out
    # recorded there; the lead organisation's case is the newer one.
    abh_case = CaseFactory(
        person=world.case.person,
        lead_organisation=world.other,
        case_manager=world.outsider.user,
        opened_on=world.case.opened_on - dt.timedelta(days=10),
    )
    _aborted(world.outsider, abh_case, today - dt.timedelta(days=300), "Geheimkurs")
    _aborted(world.case_manager, world.case, today - dt.timedelta(days=200))
    flag = CareerFlag.objects.get(rule="dropout_chain")
    assert flag.case == world.case
    login(client, world.case_manager)
    html = client.get(reverse("referrals:career_flag", args=[flag.pk])).content.decode()
    assert "Geheimkurs" not in html and 'id="flag-hidden"' in html


def test_dashboard_and_case_page_show_the_flag(world, client, flagged):
    login(client, world.case_manager)
    assert 'id="career-flags"' in client.get(reverse("core:dashboard")).content.decode()
    html = client.get(reverse("casework:detail", args=[world.case.pk])).content.decode()
    assert 'id="case-career-flags"' in html and "Chain of drop-outs" in html


def _persons_with_flag(n: int, rule: str, district=None):
    for i in range(n):
        person = PersonFactory(district=district)
        careers_store([(person.pk, rule, "{}", f"p:{i}", "{}")], person_ids=[person.pk])


def test_counts_suppress_small_numbers(world, client):
    north = DistrictFactory(name="Nordstadt")
    _persons_with_flag(5, "gap", north)
    _persons_with_flag(4, "cycle", north)
    counts = career_flag_counts(actor=world.coordinator)
    by_rule = {r.label: r.open for r in counts.by_rule}
    assert by_rule == {"Gap in support": 5}  # 4 is below the minimum: the row is left out
    assert [(r.label, r.open) for r in counts.by_district] == [("Nordstadt", 9)]
    login(client, world.coordinator)
    response = client.get(reverse("referrals:career_overview"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Gap in support" in html and "Cycle of measures" not in html
    login(client, world.analyst)
    assert client.get(reverse("referrals:career_overview")).status_code == 200
    for member in (world.case_manager, world.partner_staff, world.volunteer, world.org_admin):
        login(client, member)
        assert client.get(reverse("referrals:career_overview")).status_code == 403


def test_counts_by_provider_and_category_from_the_evidence(world, flagged):
    # Five more persons with a drop-out chain at the same provider make the cell show.
    counts = career_flag_counts(actor=world.coordinator)
    assert counts.by_provider == [] and counts.by_category == []
    provider = world.partner
    for _i in range(5):
        case = CaseFactory(lead_organisation=world.lead, case_manager=world.case_manager.user)
        for days in (300, 200):
            record_aborted(
                world.case_manager, case, days, "EQ", category="eq", level="", provider=provider
            )
    counts = career_flag_counts(actor=world.coordinator)
    assert [(r.label, r.open) for r in counts.by_provider] == [(provider.name, 5)]
    labels = dict(OfferCategory.choices)
    assert [(r.label, r.open) for r in counts.by_category] == [(str(labels["eq"]), 5)]


def test_a_minimum_below_three_is_refused(world, settings):
    settings.LOTSE_DISCLOSURE_K = 2
    with pytest.raises(ImproperlyConfigured):
        career_flag_counts(actor=world.coordinator)
    settings.LOTSE_DISCLOSURE_K = 3
    _persons_with_flag(3, "gap")
    assert [r.open for r in career_flag_counts(actor=world.coordinator).by_rule] == [3]
