"""A person outside the acting organisation's scope does not exist: lists, search,
counts, dashboard and duplicate check agree; access is logged."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from lotse.casework import selectors, services
from lotse.casework.models import CaseTeamMember
from lotse.core.models import AccessLogEntry
from lotse.people.selectors import person_duplicate_candidates
from lotse.privacy.access import visible_cases, visible_persons


def test_visible_sets_per_membership(world):
    assert set(visible_cases(world.case_manager)) == {world.case}
    assert set(visible_cases(world.partner_staff)) == {world.case}
    assert set(visible_cases(world.outsider)) == {world.foreign_case}
    for role in ("coordinator", "analyst", "volunteer", "org_admin", "sysadmin"):
        member = world.by_role()[role]
        assert not visible_cases(member).exists()
        assert not visible_persons(member).exists()


def test_removed_team_member_loses_access(world, as_member):
    item = CaseTeamMember.objects.get(case=world.case, organisation=world.partner)
    services.case_team_remove(actor=world.case_manager, case=world.case, item=item)
    client = as_member(world.partner_staff)
    assert client.get(reverse("casework:detail", args=[world.case.pk])).status_code == 404
    assert "Haddad" not in client.get(reverse("casework:list")).content.decode()


def test_case_list_search_and_count_only_in_scope(world, as_member):
    client = as_member(world.case_manager)
    body = client.get(reverse("casework:list"), {"q": "Rahimi"}).content.decode()
    assert "Rahimi, Zahra" not in body
    assert "0 Fälle gefunden" in body or "0 cases found" in body
    body = client.get(reverse("casework:list")).content.decode()
    assert "Haddad, Mohammed" in body and "Rahimi, Zahra" not in body
    outsider = as_member(world.outsider).get(reverse("casework:list")).content.decode()
    assert "Rahimi, Zahra" in outsider and "Haddad, Mohammed" not in outsider


def test_search_finds_other_transliterations_and_scripts(world, as_member):
    client = as_member(world.case_manager)
    for query in ("Muhammad", "mohamed haddad", "محمد"):
        body = client.get(reverse("casework:list"), {"q": query}).content.decode()
        assert "Haddad, Mohammed" in body, query


def test_list_views_write_access_log(world, as_member):
    client = as_member(world.case_manager)
    client.get(reverse("casework:list"))
    entry = AccessLogEntry.objects.filter(action="list", person_id=world.case.person_id).last()
    assert entry is not None and entry.user == world.case_manager.user
    assert entry.basis == "lead_organisation" and entry.organisation == world.lead
    assert not AccessLogEntry.objects.filter(person_id=world.foreign_case.person_id).exists()


def test_case_page_read_is_logged_with_basis(world, as_member):
    as_member(world.partner_staff).get(reverse("casework:detail", args=[world.case.pk]))
    entry = AccessLogEntry.objects.filter(action="read", person_id=world.case.person_id).last()
    assert entry.basis == "consent" and entry.organisation == world.partner
    assert "residence" in entry.categories and entry.request_id


def test_duplicate_check_never_offers_persons_out_of_scope(world):
    foreign = world.foreign_case.person
    found = person_duplicate_candidates(
        actor=world.case_manager,
        family_name=foreign.family_name,
        given_names=foreign.given_names,
        birth_date=foreign.birth_date,
    )
    assert found == []
    mine = world.case.person
    found = person_duplicate_candidates(
        actor=world.case_manager,
        family_name="Hadad",
        given_names="Muhammad",
        birth_date=mine.birth_date,
    )
    assert [c.person for c in found] == [mine]


def test_dashboard_only_in_scope(world, as_member):
    services.followup_create(
        actor=world.outsider, case=world.foreign_case, title="Fremd-WV", due_on=dt.date(2020, 1, 1)
    )
    services.followup_create(
        actor=world.case_manager, case=world.case, title="Eigene WV", due_on=dt.date(2020, 1, 1)
    )
    body = as_member(world.case_manager).get(reverse("core:dashboard")).content.decode()
    assert "Eigene WV" in body and "Fremd-WV" not in body and "Rahimi, Zahra" not in body
    data = selectors.dashboard(actor=world.partner_staff)
    assert data.overdue == []  # follow-ups belong to the organisation that set them
