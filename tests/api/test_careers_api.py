"""Measure-career flags over the API: the scoped list (per role, logged, a fixed number
of queries), one flag with its evidence, resolving (422 without a note, nothing
written), and the counts for coordinators and analysts with small counts null."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lotse.referrals.careers_services import careers_store
from lotse.referrals.models import CareerFlag

from ..factories import CaseFactory, PersonFactory
from ..referrals.conftest import record_aborted
from .conftest import LogWatch


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def flag(world) -> CareerFlag:
    for days, title in ((300, "BvB Holz"), (200, "BvB Metall")):
        record_aborted(world.case_manager, world.case, days, title)
    return CareerFlag.objects.get(rule="dropout_chain")


def test_list_per_role_and_logged(api, world, flag):
    watch = LogWatch()
    response = api.get("/careers/flags", "case_manager")
    assert response.status_code == 200
    items = response.json()["items"]
    mine = [i for i in items if i["id"] == flag.pk]
    assert mine and mine[0]["rule_name"] == "Chain of drop-outs"
    assert mine[0]["reason"] == "2 participations aborted in a row."
    assert mine[0]["person"]["family_name"] == "Haddad"
    assert any(e.action == "list" for e in watch.entries(person_id=world.case.person_id))
    # The partner on the team manages no case: nothing "mine"; all it may read: the flag.
    assert api.get("/careers/flags", "partner_staff").json()["items"] == []
    shared = api.get("/careers/flags?mine=false", "partner_staff").json()["items"]
    assert flag.pk in [i["id"] for i in shared]
    assert api.get("/careers/flags?mine=false", "outsider").json()["items"] == []
    for role in ("coordinator", "analyst", "org_admin"):
        assert api.get("/careers/flags", role).status_code == 403


def test_list_queries_do_not_grow(api, world):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/careers/flags", "case_manager").status_code == 200
        return len(ctx.captured_queries)

    def add(n: int) -> None:
        for i in range(n):
            case = CaseFactory(lead_organisation=world.lead, case_manager=world.case_manager.user)
            careers_store(
                [(case.person_id, "gap", "{}", f"p:{i}", json.dumps({"days": 100}))],
                person_ids=[case.person_id],
            )

    add(2)
    queries()  # warm: the session and caches of the first request
    few = queries()
    add(10)
    assert queries() == few


def test_one_flag_with_evidence_and_resolving(api, world, flag):
    response = api.get(f"/careers/flags/{flag.pk}", "case_manager")
    assert response.status_code == 200
    data = response.json()
    assert data["state"] == "open" and data["params"]["n"] == 2
    assert [t["kind"] for t in data["timeline"]] == ["participation", "participation"]
    assert "BvB Holz" in data["timeline"][0]["title"]
    assert len(data["evidence"]["participations"]) == 2 and data["hidden_participations"] == 0
    path = f"/careers/flags/{flag.pk}/resolve"
    response = api.post(path, "case_manager", {"note": " "})
    assert response.status_code == 422 and "note" in response.json()["errors"]
    flag.refresh_from_db()
    assert flag.is_open
    assert api.post(path, "partner_staff", {"note": "x"}).status_code == 403
    assert api.post(path, "outsider", {"note": "x"}).status_code == 404
    response = api.post(path, "case_manager", {"note": "Praktikum vereinbart"})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "resolved"
    assert response.json()["resolution_note"] == "Praktikum vereinbart"
    assert api.post(path, "case_manager", {"note": "again"}).status_code == 422


def test_counts_for_coordinators_and_analysts(api, world):
    for i in range(6):
        person = PersonFactory()
        careers_store([(person.pk, "cycle", "{}", f"p:{i}", "{}")], person_ids=[person.pk])
    person = PersonFactory()
    careers_store([(person.pk, "gap", "{}", "p:9", "{}")], person_ids=[person.pk])
    for role in ("coordinator", "analyst"):
        response = api.get("/careers/counts", role)
        assert response.status_code == 200
        data = response.json()
        assert data["min_count"] == 5
        assert [(r["label"], r["open"]) for r in data["by_rule"]] == [("Cycle of measures", 6)]
    for role in ("case_manager", "partner_staff", "org_admin"):
        assert api.get("/careers/counts", role).status_code == 403
