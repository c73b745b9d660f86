"""/cases: list and filters within scope, the case file, phase, case team."""

from __future__ import annotations

import pytest
from django.utils import timezone

from lotse.api.services import token_create
from lotse.casework.models import Case, CaseTeamMember, FollowUp, Note

from ..factories import CaseFactory, MembershipFactory, OrganisationFactory


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_list_agrees_with_scope_and_counts(api, world, log):
    mine = api.get("/cases", "case_manager").json()
    assert mine["count"] == 1 and [c["id"] for c in mine["items"]] == [world.case.pk]
    assert mine["items"][0]["current_status"] == "duldung"
    assert _ids(api.get("/cases", "partner_staff")) == [world.case.pk]
    assert _ids(api.get("/cases", "outsider")) == [world.foreign_case.pk]
    assert _ids(api.get("/cases?q=Rahimi", "case_manager")) == []
    entries = log.entries()
    assert {(e.action, tuple(e.categories)) for e in entries} == {("list", ("master", "residence"))}
    assert {e.person_id for e in entries} == {world.case.person_id, world.foreign_case.person_id}


def test_list_filters(api, world):
    case = world.case
    assert _ids(api.get("/cases?q=Muhammad", "case_manager")) == [case.pk]
    assert _ids(api.get("/cases?birth_date=2003-05-17", "case_manager")) == [case.pk]
    assert _ids(api.get("/cases?birth_date=2000-01-01", "case_manager")) == []
    assert _ids(api.get("/cases?status=duldung", "case_manager")) == [case.pk]
    assert _ids(api.get("/cases?status=ae_25a", "case_manager")) == []
    assert _ids(api.get("/cases?phase=intake", "case_manager")) == [case.pk]
    assert _ids(api.get(f"/cases?organisation={world.partner.pk}", "case_manager")) == [case.pk]
    assert _ids(api.get(f"/cases?organisation={world.other.pk}", "case_manager")) == []
    assert _ids(api.get("/cases?mine=true", "case_manager")) == [case.pk]
    assert _ids(api.get("/cases?mine=true", "team_lead")) == []


def test_closed_cases_only_on_request(api, world):
    closed = CaseFactory(
        lead_organisation=world.lead,
        case_manager=world.case_manager.user,
        phase="closed",
        closed_on=timezone.localdate(),
        closing_reason="moved_away",
    )
    assert closed.pk not in _ids(api.get("/cases", "case_manager"))
    assert closed.pk in _ids(api.get("/cases?include_closed=true", "case_manager"))
    assert _ids(api.get("/cases?phase=closed", "case_manager")) == [closed.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=foo", "status"),
        ("phase=done", "phase"),
        ("birth_date=2003-17-05", "birth_date"),
        ("organisation=x", "organisation"),
        ("page=-1", "page"),
    ],
)
def test_bad_filters_are_422_per_field(api, world, query, field):
    response = api.get(f"/cases?{query}", "case_manager")
    assert response.status_code == 422
    assert field in response.json()["errors"]


def test_case_file_respects_note_visibility_and_own_followups(api, world, log):
    case, cm, partner = world.case, world.case_manager, world.partner_staff
    Note.objects.create(
        case=case,
        author=cm.user,
        organisation=world.lead,
        text="intern KI",
        visibility="organisation",
    )
    Note.objects.create(
        case=case, author=cm.user, organisation=world.lead, text="für alle", visibility="case_team"
    )
    Note.objects.create(
        case=case,
        author=partner.user,
        organisation=world.partner,
        text="intern JC",
        visibility="organisation",
        is_sensitive=True,
    )
    FollowUp.objects.create(
        case=case,
        title="KI-Wiedervorlage",
        due_on=timezone.localdate(),
        owner=cm.user,
        organisation=world.lead,
        created_by=cm.user,
    )
    as_lead = api.get(f"/cases/{case.pk}", "case_manager").json()
    assert sorted(n["text"] for n in as_lead["notes"]) == ["für alle", "intern KI"]
    assert [f["title"] for f in as_lead["followups"]] == ["KI-Wiedervorlage"]
    assert as_lead["basis"] == "lead_organisation" and as_lead["can_edit"] is True
    as_partner = api.get(f"/cases/{case.pk}", "partner_staff").json()
    assert sorted(n["text"] for n in as_partner["notes"]) == ["für alle", "intern JC"]
    assert as_partner["followups"] == [] and as_partner["can_edit"] is False
    assert [t["organisation"]["short_name"] for t in as_partner["team"]] == ["JC"]
    lead_read, partner_read = log.entries()
    assert lead_read.action == "read" and "health" not in lead_read.categories
    # The partner's consent covers every category: one entry, basis consent.
    assert partner_read.basis == "consent" and "health" in partner_read.categories


def test_phase_and_closing(api, world, log):
    url = f"/cases/{world.case.pk}"
    response = api.patch(url, "case_manager", {"phase": "assessment"})
    assert response.status_code == 200 and response.json()["phase"] == "assessment"
    no_reason = api.patch(url, "case_manager", {"phase": "closed"})
    assert no_reason.status_code == 422 and "closing_reason" in no_reason.json()["errors"]
    bad_reason = api.patch(url, "case_manager", {"phase": "closed", "closing_reason": "bored"})
    assert bad_reason.status_code == 422 and "closing_reason" in bad_reason.json()["errors"]
    too_early = api.patch(
        url,
        "case_manager",
        {"phase": "closed", "closing_reason": "moved_away", "closed_on": "2000-01-01"},
    )
    assert too_early.status_code == 422 and "closed_on" in too_early.json()["errors"]
    assert Case.objects.get(pk=world.case.pk).phase == "assessment"
    closed = api.patch(
        url,
        "case_manager",
        {"phase": "closed", "closing_reason": "moved_away", "closing_note": "nach Köln"},
    )
    assert closed.status_code == 200 and closed.json()["closed_on"]
    again = api.patch(url, "case_manager", {"phase": "planning"})
    assert again.status_code == 422 and "phase" in again.json()["errors"]
    reopened = api.post(f"{url}/reopen", "case_manager")
    assert reopened.status_code == 200 and reopened.json()["phase"] == "implementation"
    assert [e.action for e in log.entries()] == ["update", "update", "update"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "__all__"),
        ({"phase": "foo"}, "phase"),
        ({"closing_reason": "moved_away"}, "phase"),
        ({"case_manager": 999999}, "case_manager"),
    ],
)
def test_bad_case_changes_are_422(api, world, body, field):
    response = api.patch(f"/cases/{world.case.pk}", "case_manager", body)
    assert response.status_code == 422 and field in response.json()["errors"]
    assert Case.objects.get(pk=world.case.pk).phase == "intake"


def test_case_manager_change_stays_within_the_lead(api, world):
    url = f"/cases/{world.case.pk}"
    outside = api.patch(
        url, "case_manager", {"case_manager": world.partner_staff.user_id, "phase": "assessment"}
    )
    assert outside.status_code == 422 and "case_manager" in outside.json()["errors"]
    case = Case.objects.get(pk=world.case.pk)
    assert case.phase == "intake" and case.case_manager == world.case_manager.user  # all or nothing
    inside = api.patch(url, "case_manager", {"case_manager": world.team_lead.user_id})
    assert (
        inside.status_code == 200 and inside.json()["case_manager"]["id"] == world.team_lead.user_id
    )


def test_team_add_gives_access_and_removal_takes_it(api, world):
    jmd = OrganisationFactory(name="JMD Lotsenstadt", short_name="JMD")
    newcomer = MembershipFactory(organisation=jmd, role="case_manager")
    _token, plain = token_create(membership=newcomer)
    url = f"/cases/{world.case.pk}"
    world.consent.receiving_organisations.add(jmd)
    assert api.get(url, token=plain).status_code == 404  # consent, but not on the team
    added = api.post(f"{url}/team", "case_manager", {"member": newcomer.pk, "team_role": "JMD"})
    assert added.status_code == 201, added.content
    assert added.json()["organisation"]["short_name"] == "JMD"
    assert api.get(url, token=plain).status_code == 200
    assert world.case.pk in _ids(api.get("/cases", token=plain))
    team = api.get(f"{url}/team", "case_manager").json()
    assert {t["organisation"]["short_name"] for t in team} == {"JC", "JMD"}
    removed = api.delete(f"{url}/team/{added.json()['id']}", "case_manager")
    assert removed.status_code == 204
    assert api.get(url, token=plain).status_code == 404
    assert _ids(api.get("/cases", token=plain)) == []
    assert CaseTeamMember.objects.get(pk=added.json()["id"]).removed_at is not None
    assert api.delete(f"{url}/team/{added.json()['id']}", "case_manager").status_code == 404


@pytest.mark.parametrize(
    ("who", "field"),
    [
        ("lead_colleague", "member"),
        ("unknown", "member"),
        ("coordinator", "member"),
        ("blank_role", "team_role"),
        ("already", "member"),
    ],
)
def test_bad_team_additions_are_422(api, world, who, field):
    member = {
        "lead_colleague": world.team_lead.pk,
        "unknown": 999999,
        "coordinator": MembershipFactory(role="coordinator").pk,
        "blank_role": world.partner_colleague.pk,
        "already": world.partner_staff.pk,
    }[who]
    role = "  " if who == "blank_role" else "Beratung"
    before = CaseTeamMember.objects.count()
    response = api.post(
        f"/cases/{world.case.pk}/team", "case_manager", {"member": member, "team_role": role}
    )
    assert response.status_code == 422 and field in response.json()["errors"], response.content
    assert CaseTeamMember.objects.count() == before


def test_partner_leaves_no_trace_when_refused(api, world, log):
    url = f"/cases/{world.case.pk}"
    assert api.patch(url, "partner_staff", {"phase": "closed"}).status_code == 403
    assert (
        api.post(
            f"{url}/team", "partner_staff", {"member": world.partner_colleague.pk, "team_role": "x"}
        ).status_code
        == 403
    )
    assert log.entries() == []
