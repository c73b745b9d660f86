"""/cases/{id}/appointments, /notes, /followups."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from lotse.casework.models import Appointment, FollowUp, Note
from lotse.core.models import AccessLogEntry

from ..factories import MembershipFactory


@pytest.fixture
def case_url(world) -> str:
    return f"/cases/{world.case.pk}"


# --- appointments ---------------------------------------------------------------------


def test_appointments_of_every_organisation_are_listed(api, world, case_url, log):
    lead = api.post(
        f"{case_url}/appointments",
        "case_manager",
        {
            "starts_at": "2030-01-10T10:00:00+01:00",
            "purpose": "Erstgespräch",
            "location": "KI, Raum 3",
        },
    )
    assert lead.status_code == 201, lead.content
    assert lead.json()["organisation"]["short_name"] == "KI"
    jc = api.post(
        f"{case_url}/appointments",
        "partner_staff",
        {"starts_at": "2030-01-12T09:00:00", "purpose": "Beratung Jobcenter"},
    )
    assert jc.status_code == 201 and jc.json()["organisation"]["short_name"] == "JC"
    # Without an offset the time is local (Europe/Berlin).
    assert jc.json()["starts_at"] in ("2030-01-12T08:00:00Z", "2030-01-12T09:00:00+01:00")
    listed = api.get(f"{case_url}/appointments", "partner_staff").json()
    assert [a["purpose"] for a in listed] == ["Beratung Jobcenter", "Erstgespräch"]
    assert [(e.action, e.categories) for e in log.entries()] == [
        ("create", ["plan"]),
        ("create", ["plan"]),
        ("list", ["plan"]),
    ]


def test_appointment_updates_by_their_organisation_or_the_lead(api, world, case_url):
    created = api.post(
        f"{case_url}/appointments",
        "case_manager",
        {"starts_at": "2030-01-10T10:00:00+01:00", "purpose": "Erstgespräch"},
    )
    url = f"{case_url}/appointments/{created.json()['id']}"
    refused = api.patch(url, "partner_staff", {"outcome": "?"})
    assert refused.status_code == 403
    done = api.patch(
        url,
        "case_manager",
        {"status": "held", "outcome": "Ziele besprochen", "agreements": "Zeugnisse mitbringen"},
    )
    assert done.status_code == 200 and done.json()["status"] == "held"
    assert done.json()["purpose"] == "Erstgespräch"
    bad = api.patch(url, "case_manager", {"status": "postponed", "starts_at": "soon"})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"status", "starts_at"}
    assert Appointment.objects.get().outcome == "Ziele besprochen"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"purpose": "x"}, "starts_at"),
        ({"starts_at": "2030-02-30T10:00:00", "purpose": "x"}, "starts_at"),
        ({"starts_at": "2030-01-10T10:00:00+01:00", "purpose": ""}, "purpose"),
        ({"starts_at": "2030-01-10T10:00:00+01:00", "purpose": "x", "status": "?"}, "status"),
    ],
)
def test_bad_appointments_are_422(api, world, case_url, body, field):
    response = api.post(f"{case_url}/appointments", "case_manager", body)
    assert response.status_code == 422 and field in response.json()["errors"], response.content
    assert not Appointment.objects.exists()


def test_the_same_appointment_twice_is_refused(api, world, case_url):
    body = {"starts_at": "2030-01-10T10:00:00+01:00", "purpose": "Erstgespräch"}
    assert api.post(f"{case_url}/appointments", "case_manager", body).status_code == 201
    again = api.post(f"{case_url}/appointments", "team_lead", body)
    assert again.status_code == 422 and "starts_at" in again.json()["errors"]
    assert Appointment.objects.count() == 1


# --- notes ----------------------------------------------------------------------------


def test_notes_follow_their_visibility(api, world, case_url):
    for who, text, visibility in [
        ("case_manager", "nur KI", "organisation"),
        ("case_manager", "für das Team", "case_team"),
        ("partner_staff", "nur JC", "organisation"),
    ]:
        response = api.post(f"{case_url}/notes", who, {"text": text, "visibility": visibility})
        assert response.status_code == 201, response.content

    def texts(who):
        return sorted(n["text"] for n in api.get(f"{case_url}/notes", who).json())

    assert texts("case_manager") == ["für das Team", "nur KI"]
    assert texts("team_lead") == ["für das Team", "nur KI"]
    assert texts("partner_staff") == ["für das Team", "nur JC"]
    assert texts("partner_colleague") == ["für das Team", "nur JC"]


def test_sensitive_notes_are_logged_as_health(api, world, case_url, log):
    response = api.post(
        f"{case_url}/notes", "case_manager", {"text": "Therapie begonnen", "is_sensitive": True}
    )
    assert response.status_code == 201 and response.json()["is_sensitive"] is True
    api.get(f"{case_url}/notes", "case_manager")
    created, listed = log.entries()
    assert created.categories == ["health"]
    assert set(listed.categories) == {"notes", "health"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "   "}, "text"),
        ({}, "text"),
        ({"text": "x", "visibility": "world"}, "visibility"),
        ({"text": "x", "is_sensitive": "perhaps"}, "is_sensitive"),
    ],
)
def test_bad_notes_are_422(api, world, case_url, body, field):
    before = AccessLogEntry.objects.count()
    response = api.post(f"{case_url}/notes", "case_manager", body)
    assert response.status_code == 422 and field in response.json()["errors"], response.content
    assert not Note.objects.exists() and AccessLogEntry.objects.count() == before


def test_a_note_sent_twice_is_saved_once(api, world, case_url):
    assert api.post(f"{case_url}/notes", "case_manager", {"text": "Anruf"}).status_code == 201
    again = api.post(f"{case_url}/notes", "case_manager", {"text": "Anruf"})
    assert again.status_code == 422 and "text" in again.json()["errors"]
    assert Note.objects.count() == 1


# --- follow-ups -------------------------------------------------------------------------


def test_followups_belong_to_the_organisation(api, world, case_url, log):
    due = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    mine = api.post(
        f"{case_url}/followups",
        "case_manager",
        {"title": "Bescheid prüfen", "due_on": due, "owner": world.team_lead.user_id},
    )
    assert mine.status_code == 201, mine.content
    assert mine.json()["owner"]["id"] == world.team_lead.user_id
    theirs = api.post(f"{case_url}/followups", "partner_staff", {"title": "VerBIS", "due_on": due})
    assert theirs.status_code == 201 and theirs.json()["owner"]["id"] == world.partner_staff.user_id
    assert [f["title"] for f in api.get(f"{case_url}/followups", "case_manager").json()] == [
        "Bescheid prüfen"
    ]
    assert [f["title"] for f in api.get(f"{case_url}/followups", "partner_colleague").json()] == [
        "VerBIS"
    ]
    # Another organisation's follow-up does not exist for the partner.
    url = f"{case_url}/followups/{mine.json()['id']}/done"
    assert api.post(url, "partner_staff").status_code == 404
    done = api.post(url, "team_lead")
    assert done.status_code == 200 and done.json()["done_at"]
    assert done.json()["done_by"]["id"] == world.team_lead.user_id
    again = api.post(url, "case_manager")
    assert again.status_code == 200 and again.json()["done_at"] == done.json()["done_at"]
    assert FollowUp.objects.get(pk=mine.json()["id"]).done_by == world.team_lead.user
    assert {e.categories[0] for e in log.entries()} == {"plan"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x", "due_on": "31.12.2030"}, "due_on"),
        ({"due_on": "2030-12-31"}, "title"),
        ({"title": "", "due_on": "2030-12-31"}, "title"),
        ({"title": "x", "due_on": "2030-12-31", "owner": "{partner}"}, "owner"),
        ({"title": "x", "due_on": "2030-12-31", "owner": 999999}, "owner"),
    ],
)
def test_bad_followups_are_422(api, world, case_url, body, field):
    if body.get("owner") == "{partner}":
        body = dict(body, owner=world.partner_staff.user_id)
    response = api.post(f"{case_url}/followups", "case_manager", body)
    assert response.status_code == 422 and field in response.json()["errors"], response.content
    assert not FollowUp.objects.exists()


def test_contributions_to_a_foreign_case_do_not_exist(api, world):
    url = f"/cases/{world.foreign_case.pk}"
    before = AccessLogEntry.objects.count()
    for who in ("case_manager", "partner_staff"):
        assert api.post(f"{url}/notes", who, {"text": "x"}).status_code == 404
        assert api.get(f"{url}/notes", who).status_code == 404
        assert api.get(f"{url}/appointments", who).status_code == 404
        assert api.get(f"{url}/followups", who).status_code == 404
    assert not Note.objects.exists() and AccessLogEntry.objects.count() == before


def test_new_colleague_of_the_partner_sees_the_case_through_the_organisation(api, world):
    """Scope is per organisation: a colleague of the team member sees the case too."""
    from lotse.api.services import token_create

    colleague = MembershipFactory(organisation=world.partner, role="partner_staff")
    _token, plain = token_create(membership=colleague)
    assert api.get(f"/cases/{world.case.pk}/notes", token=plain).status_code == 200
