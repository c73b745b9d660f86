"""Residence status and benefit timelines through the API: history stays visible."""

from __future__ import annotations

import pytest

from lotse.core.models import AccessLogEntry
from lotse.people.models import BenefitPeriod, ResidenceStatusPeriod

from ..factories import BenefitFactory


@pytest.fixture
def person(world):
    return world.case.person


def _counts() -> tuple[int, int, int]:
    return (
        ResidenceStatusPeriod.objects.count(),
        BenefitPeriod.objects.count(),
        AccessLogEntry.objects.count(),
    )


def test_list_returns_history_with_current_flags(api, world, person, log):
    url = f"/persons/{person.pk}/residence-statuses"
    added = api.post(
        url,
        "case_manager",
        {"status": "ausbildungsduldung", "valid_from": "2024-08-01", "work_permission": "allowed"},
    )
    assert added.status_code == 201, added.content
    assert added.json()["current"] is True and added.json()["supersedes"] is None
    entries = api.get(url, "partner_staff").json()
    assert [(e["status"], e["valid_to"], e["current"]) for e in entries] == [
        ("duldung", None, False),  # the original, superseded by its closed copy
        ("duldung", "2024-07-31", True),
        ("ausbildungsduldung", None, True),
    ]
    assert entries[1]["supersedes"] == entries[0]["id"]
    assert entries[2]["status_label"] and entries[2]["work_permission"] == "allowed"
    actions = [(e.action, e.categories, e.basis) for e in log.entries()]
    assert actions == [
        ("create", ["residence"], "lead_organisation"),
        ("list", ["residence"], "consent"),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "foo", "valid_from": "2024-01-01"}, "status"),
        ({"status": "ae_25a", "valid_from": "2024-02-30"}, "valid_from"),
        ({"status": "ae_25a"}, "valid_from"),
        ({"status": "ae_25a", "valid_from": "2024-01-01", "valid_to": "2023-01-01"}, "valid_to"),
        # Starts before the current open period: an overlap, not a successor.
        ({"status": "ae_25a", "valid_from": "2022-01-01", "valid_to": "2023-06-30"}, "valid_from"),
        (
            {"status": "ae_25a", "valid_from": "2024-01-01", "issuing_authority": 99999},
            "issuing_authority",
        ),
        (
            {"status": "ae_25a", "valid_from": "2024-01-01", "work_permission": "maybe"},
            "work_permission",
        ),
    ],
)
def test_bad_residence_input_is_422_per_field_and_writes_nothing(api, world, person, body, field):
    before = _counts()
    response = api.post(f"/persons/{person.pk}/residence-statuses", "case_manager", body)
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"], response.json()
    assert _counts() == before


def test_correction_supersedes_and_needs_a_reason(api, world, person, log):
    entry = ResidenceStatusPeriod.objects.get(person=person)
    url = f"/persons/{person.pk}/residence-statuses/{entry.pk}/correction"
    before = _counts()
    blank = api.post(url, "case_manager", {"correction_reason": "  ", "valid_from": "2023-02-01"})
    assert blank.status_code == 422 and "correction_reason" in blank.json()["errors"]
    missing = api.post(url, "case_manager", {"valid_from": "2023-02-01"})
    assert missing.status_code == 422 and "correction_reason" in missing.json()["errors"]
    assert _counts() == before
    fixed = api.post(
        url, "case_manager", {"correction_reason": "Tippfehler", "valid_from": "2023-02-01"}
    )
    assert fixed.status_code == 201
    data = fixed.json()
    assert data["supersedes"] == entry.pk and data["valid_from"] == "2023-02-01"
    assert data["status"] == "duldung" and data["correction_reason"] == "Tippfehler"
    again = api.post(url, "case_manager", {"correction_reason": "nochmal"})
    assert again.status_code == 422 and "__all__" in again.json()["errors"]
    entries = api.get(f"/persons/{person.pk}/residence-statuses", "case_manager").json()
    assert [(e["id"], e["current"]) for e in entries] == [(entry.pk, False), (data["id"], True)]


def test_retraction_withdraws_without_replacement(api, world, person):
    entry = ResidenceStatusPeriod.objects.get(person=person)
    url = f"/persons/{person.pk}/residence-statuses/{entry.pk}/correction"
    response = api.post(
        url, "case_manager", {"correction_reason": "falsche Person", "retract": True}
    )
    assert response.status_code == 201
    assert response.json()["is_retraction"] is True and response.json()["current"] is False
    entries = api.get(f"/persons/{person.pk}/residence-statuses", "case_manager").json()
    assert [e["current"] for e in entries] == [False, False]


def test_benefit_timeline_change_of_regime(api, world, person, log):
    BenefitFactory(person=person, regime="asylblg_3")
    url = f"/persons/{person.pk}/benefits"
    response = api.post(url, "case_manager", {"regime": "sgb2", "valid_from": "2025-03-01"})
    assert response.status_code == 201, response.content
    assert response.json()["regime_label"]
    entries = api.get(url, "case_manager").json()
    assert [(e["regime"], e["current"]) for e in entries] == [
        ("asylblg_3", False),
        ("asylblg_3", True),
        ("sgb2", True),
    ]
    closed = entries[1]
    fix = api.post(
        f"{url}/{closed['id']}/correction",
        "case_manager",
        {"correction_reason": "Bescheid vom Jobcenter", "valid_to": "2025-03-15"},
    )
    assert fix.status_code == 422 and "valid_from" in fix.json()["errors"]  # overlaps sgb2
    assert {e.categories[0] for e in log.entries()} == {"benefits"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"regime": "sgb99", "valid_from": "2024-01-01"}, "regime"),
        ({"regime": "sgb2", "valid_from": "2024-01-01", "valid_to": "2023-12-31"}, "valid_to"),
        ({"regime": "sgb2", "valid_from": "2024-01-01", "authority": 99999}, "authority"),
    ],
)
def test_bad_benefit_input_is_422_and_writes_nothing(api, world, person, body, field):
    before = _counts()
    response = api.post(f"/persons/{person.pk}/benefits", "case_manager", body)
    assert response.status_code == 422 and field in response.json()["errors"]
    assert _counts() == before


def test_issuing_authority_is_an_organisation(api, world, person):
    response = api.post(
        f"/persons/{person.pk}/residence-statuses",
        "case_manager",
        {
            "status": "ae_25a",
            "valid_from": "2025-01-01",
            "issuing_authority": world.other.pk,
            "document_expiry": "2027-12-31",
        },
    )
    assert response.status_code == 201
    assert response.json()["issuing_authority"]["short_name"] == "ABH"


def test_timelines_of_persons_out_of_scope_do_not_exist(api, world):
    foreign = world.foreign_case.person
    for kind in ("residence-statuses", "benefits"):
        assert api.get(f"/persons/{foreign.pk}/{kind}", "case_manager").status_code == 404
        assert api.get(f"/persons/{foreign.pk}/{kind}", "partner_staff").status_code == 404
        assert api.get(f"/persons/{foreign.pk}/{kind}", "outsider").status_code == 200
