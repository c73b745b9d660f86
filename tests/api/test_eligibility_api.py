"""POST /eligibility (facts in, result out) and GET /persons/{id}/eligibility."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone

from lotse.core.models import AccessLogEntry
from lotse.eligibility import evaluate, parse_facts
from lotse.eligibility.ruleset import active_rule_set

from ..factories import PersonFactory, ResidenceFactory

DESIGN_FACTS: dict[str, Any] = {
    "birth_date": "2002-04-17",
    "entry_date": "2016-01-10",
    "nationality": "AF",
    "status_history": [
        {"status": "gestattung", "from": "2016-02-01", "to": "2018-05-31"},
        {"status": "duldung", "from": "2018-06-01", "to": None},
    ],
    "benefits_history": [{"regime": "asylblg_3", "from": "2016-02-01", "to": None}],
    "flags": {"identity_clarified": True, "in_training": False},
}
ON = dt.date(2026, 11, 21)


def _expected(facts: dict[str, Any], on: dt.date) -> dict[str, Any]:
    rs = active_rule_set()
    return evaluate(parse_facts(facts, rs.codes), on, rule_set=rs).to_json()


def _raw_post(api, path: str, body: str, who: str = "case_manager") -> Any:
    return api.client.post(
        f"/api/v1{path}",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.tokens[who]}"},
    )


# --- POST /eligibility ----------------------------------------------------------------


def test_evaluate_returns_exactly_the_engine_result(api, world, log):
    response = api.post(f"/eligibility?on={ON}", "case_manager", DESIGN_FACTS)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data == _expected(DESIGN_FACTS, ON)
    assert list(data) == ["on", "status", "benefit_regime", "access", "upcoming"]
    assert data["status"] == "duldung" and data["benefit_regime"] == "asylblg_2"
    # Optional keys appear only where the engine sets them.
    assert any("missing" in item for item in data["access"])
    assert not any("available" in item for item in data["access"])
    # No personal data of lotse: nothing is logged.
    assert log.entries() == []


def test_evaluate_keeps_the_overlay_fields(api, world):
    facts = {
        "birth_date": "2000-01-01",
        "entry_date": "2020-01-01",
        "status_history": [{"status": "duldung_ermessen", "from": "2022-01-01", "to": None}],
    }
    data = api.post(f"/eligibility?on={ON}", "case_manager", facts).json()
    assert data == _expected(facts, ON)
    course = next(i for i in data["access"] if i["category"] == "integrationskurs")
    assert course["result"] == "admissible" and course["available"] is False
    assert course["availability_note"]


def test_evaluate_defaults_to_today(api, world):
    data = api.post("/eligibility", "case_manager", DESIGN_FACTS).json()
    assert data["on"] == timezone.localdate().isoformat()
    assert data == _expected(DESIGN_FACTS, timezone.localdate())


@pytest.mark.parametrize("who", ["analyst", "coordinator", "org_admin", "outsider"])
def test_any_role_with_a_token_may_evaluate(api, world, who):
    assert api.post(f"/eligibility?on={ON}", who, DESIGN_FACTS).status_code == 200


def test_evaluate_without_or_with_a_bad_token_is_401(api, world):
    assert api.post("/eligibility", data=DESIGN_FACTS).status_code == 401
    response = api.post("/eligibility", data=DESIGN_FACTS, token="lotse_nope_nope")
    assert response.status_code == 401
    assert response.json()["detail"]


def _invalid(response) -> dict[str, list[str]]:
    assert response.status_code == 422, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["detail"]
    return body["errors"]


def test_malformed_json_is_422(api, world):
    errors = _invalid(_raw_post(api, "/eligibility", '{"birth_date": "2002-04-17",'))
    assert list(errors) == ["facts"]
    assert "malformed JSON" in errors["facts"][0]
    assert list(_invalid(_raw_post(api, "/eligibility", ""))) == ["facts"]


def test_detail_is_german_by_default(api, world):
    response = _raw_post(api, "/eligibility", "{nope")
    assert response.json()["detail"] == "Der Inhalt der Anfrage ist kein gültiges JSON."
    response = api.post("/eligibility", "case_manager", {"birth_date": "x"})
    assert response.json()["detail"] == "Die Eingabe ist ungültig."


def test_body_that_is_not_an_object_is_422(api, world):
    assert list(_invalid(api.post("/eligibility", "case_manager", [1, 2]))) == ["facts"]


def test_unknown_status_code_is_422_naming_the_field(api, world):
    facts = {**DESIGN_FACTS, "status_history": [{"status": "visum", "from": "2020-01-01"}]}
    errors = _invalid(api.post("/eligibility", "case_manager", facts))
    assert errors == {"status_history[0].status": ["unknown code 'visum'"]}


def test_period_ending_before_it_starts_is_422_naming_the_field(api, world):
    facts = {
        **DESIGN_FACTS,
        "status_history": [
            {"status": "gestattung", "from": "2016-02-01", "to": "2018-05-31"},
            {"status": "duldung", "from": "2020-05-01", "to": "2020-04-30"},
        ],
    }
    errors = _invalid(api.post("/eligibility", "case_manager", facts))
    assert errors == {
        "status_history[1].to": ["period ends (2020-04-30) before it starts (2020-05-01)"]
    }


def test_birth_after_entry_is_422_naming_the_field(api, world):
    facts = {**DESIGN_FACTS, "birth_date": "2017-01-01", "status_history": []}
    facts["benefits_history"] = []
    errors = _invalid(api.post("/eligibility", "case_manager", facts))
    assert list(errors) == ["entry_date"]
    assert "before birth" in errors["entry_date"][0]


@pytest.mark.parametrize("on", ["21.11.2026", "2026-02-30", "today"])
def test_bad_on_is_422_naming_on(api, world, on):
    errors = _invalid(api.post(f"/eligibility?on={on}", "case_manager", DESIGN_FACTS))
    assert list(errors) == ["on"]


def test_several_errors_are_reported_together(api, world):
    facts = {
        "birth_date": "17.04.2002",
        "nationality": "Afghanistan",
        "flags": {"reception_centre": "yes"},
    }
    errors = _invalid(api.post("/eligibility", "case_manager", facts))
    assert set(errors) == {"birth_date", "nationality", "flags.reception_centre"}
    assert all(len(messages) == 1 for messages in errors.values())


def test_openapi_documents_facts_and_result(api, world):
    doc = api.client.get("/api/v1/openapi.json").json()
    post = doc["paths"]["/api/v1/eligibility"]["post"]
    body = post["requestBody"]["content"]["application/json"]
    assert body["example"] == DESIGN_FACTS
    assert "status_history" in body["schema"]["properties"]
    assert "no access log entry" in post["description"]
    assert {"200", "401", "422"} <= set(post["responses"])
    assert post["parameters"][0]["name"] == "on"
    result = doc["components"]["schemas"]["EligibilityResultOut"]
    assert set(result["properties"]) == {"on", "status", "benefit_regime", "access", "upcoming"}
    assert result["example"]["on"] == "2026-11-21"
    person = doc["paths"]["/api/v1/persons/{person_id}/eligibility"]["get"]
    assert {"200", "401", "403", "404"} <= set(person["responses"])


# --- GET /persons/{id}/eligibility ---------------------------------------------------------


@pytest.fixture
def history(world):
    """A Gestattung before the world's Duldung (from 2023-01-01, open)."""
    person = world.case.person
    person.entry_date = dt.date(2021, 2, 15)
    person.save(update_fields=["entry_date"])
    ResidenceFactory(
        person=person,
        status="gestattung",
        valid_from=dt.date(2021, 3, 1),
        valid_to=dt.date(2022, 12, 31),
    )
    return person


def test_lead_case_manager_gets_facts_and_result_and_it_is_logged(api, world, history, log):
    response = api.get(f"/persons/{history.pk}/eligibility?on={ON}", "case_manager")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["errors"] == {}
    assert data["facts"]["entry_date"] == "2021-02-15"
    assert [p["status"] for p in data["facts"]["status_history"]] == ["gestattung", "duldung"]
    assert data["result"] == _expected(data["facts"], ON)
    assert data["result"]["status"] == "duldung"
    entries = log.entries(person_id=history.pk)
    assert entries, "no access log entry"
    assert all(e.object_type == "eligibility" and e.action == "read" for e in entries)
    assert all(e.channel == "api" and e.user_id == world.case_manager.user_id for e in entries)
    assert {e.basis for e in entries} == {"lead_organisation"}
    assert {"master", "residence"} <= {c for e in entries for c in e.categories}


def test_person_eligibility_defaults_to_today(api, world, history):
    data = api.get(f"/persons/{history.pk}/eligibility", "case_manager").json()
    assert data["result"]["on"] == timezone.localdate().isoformat()


def test_records_that_are_no_valid_facts_give_errors_not_a_result(api, world, log):
    person = world.case.person
    ResidenceFactory(
        person=person,
        status="gestattung",
        valid_from=dt.date(2000, 1, 1),
        valid_to=dt.date(2000, 12, 31),
    )
    response = api.get(f"/persons/{person.pk}/eligibility?on={ON}", "case_manager")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["result"] is None
    assert "status_history" in data["errors"]
    assert isinstance(data["errors"]["status_history"], list)
    assert log.entries(person_id=person.pk)


def test_outsider_gets_404_and_nothing_is_logged(api, world, history, log):
    response = api.get(f"/persons/{history.pk}/eligibility", "outsider")
    assert response.status_code == 404
    assert response.json()["detail"]
    assert log.entries() == []
    # …as for a person that does not exist.
    assert api.get("/persons/999999/eligibility", "case_manager").status_code == 404


def test_partner_without_residence_shared_gets_403(api, world, history, log):
    consent = world.consent
    consent.categories = [c for c in consent.categories if c != "residence"]
    consent.save()
    response = api.get(f"/persons/{history.pk}/eligibility", "partner_staff")
    assert response.status_code == 403
    assert log.entries() == []


def test_partner_with_residence_shared_reads_by_consent(api, world, history, log):
    response = api.get(f"/persons/{history.pk}/eligibility?on={ON}", "partner_staff")
    assert response.status_code == 200, response.content
    assert {e.basis for e in log.entries(person_id=history.pk)} == {"consent"}


def test_role_without_case_view_gets_403(api, world, history, log):
    assert api.get(f"/persons/{history.pk}/eligibility", "analyst").status_code == 403
    assert log.entries() == []


def test_person_eligibility_bad_on_is_422(api, world, history):
    response = api.get(f"/persons/{history.pk}/eligibility?on=2026-13-01", "case_manager")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["on"]
    assert not AccessLogEntry.objects.filter(object_type="eligibility").exists()


def test_person_eligibility_without_token_is_401(api, world, history):
    assert api.get(f"/persons/{history.pk}/eligibility").status_code == 401


def test_raw_json_of_the_person_endpoint_is_json(api, world, history):
    response = api.get(f"/persons/{history.pk}/eligibility?on={ON}", "case_manager")
    assert json.loads(response.content)["facts"]["birth_date"] == (history.birth_date.isoformat())


def test_person_out_of_any_case_is_404(api, world):
    loner = PersonFactory()
    assert api.get(f"/persons/{loner.pk}/eligibility", "case_manager").status_code == 404
