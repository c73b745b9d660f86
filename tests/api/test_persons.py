"""/persons: list and search within scope, register with duplicate check, master data."""

from __future__ import annotations

import pytest

from lotse.casework.models import Case
from lotse.core.models import AccessLogEntry
from lotse.people.models import Person

from ..factories import CaseFactory, DistrictFactory, PersonFactory

NEW = {
    "family_name": "Tesfaye",
    "given_names": "Selam",
    "birth_date": "2004-02-29",
    "gender": "female",
    "nationality": "ER",
    "other_names": [{"family_name": "ተስፋይ", "given_names": "ሰላም"}],
    "languages": [{"language": "ti", "level": "native"}, {"language": "de", "level": "A2"}],
}


def _names(response) -> list[str]:
    return [item["family_name"] for item in response.json()["items"]]


def test_list_shows_and_counts_only_persons_in_scope(api, world):
    mine = api.get("/persons", "case_manager").json()
    assert mine["count"] == 1 and _names_of(mine) == ["Haddad"]
    assert _names(api.get("/persons", "partner_staff")) == ["Haddad"]
    theirs = api.get("/persons", "outsider").json()
    assert theirs["count"] == 1 and _names_of(theirs) == ["Rahimi"]
    # Searching for somebody out of scope finds nothing, not even a count.
    assert api.get("/persons?q=Rahimi", "case_manager").json()["count"] == 0
    assert api.get("/persons?q=Rahimi", "outsider").json()["count"] == 1


def _names_of(page: dict) -> list[str]:
    return [item["family_name"] for item in page["items"]]


@pytest.mark.parametrize("query", ["Muhammad", "mohamed haddad", "محمد", "HADAD"])
def test_search_matches_other_spellings_and_scripts(api, world, query):
    assert _names(api.get(f"/persons?q={query}", "case_manager")) == ["Haddad"]


def test_list_filters_by_birth_date_and_pages(api, world, settings):
    settings.LOTSE_PAGE_SIZE = 2
    for n in range(3):
        CaseFactory(
            lead_organisation=world.lead,
            case_manager=world.case_manager.user,
            person__family_name=f"Zeta{n}",
            person__birth_date="1999-09-09",
        )
    page1 = api.get("/persons?page=1", "case_manager").json()
    assert page1["count"] == 4 and page1["pages"] == 2 and len(page1["items"]) == 2
    page2 = api.get("/persons?page=2", "case_manager").json()
    assert len(page2["items"]) == 2
    assert api.get("/persons?birth_date=1999-09-09", "case_manager").json()["count"] == 3
    bad = api.get("/persons?birth_date=09.09.1999&page=0", "case_manager")
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"birth_date", "page"}


def test_list_logs_each_shown_person_with_its_basis(api, world, log):
    api.get("/persons", "partner_staff")
    (entry,) = log.entries()
    assert entry.action == "list" and entry.person_id == world.case.person_id
    assert entry.categories == ["master"] and entry.basis == "consent"
    assert entry.user_id == world.partner_staff.user_id and entry.channel == "api"


def test_detail_shows_master_data_and_only_visible_cases(api, world, log):
    person = world.case.person
    # The person also has a case at the foreigners' authority: not shown to the lead.
    other = CaseFactory(
        person=person, lead_organisation=world.other, case_manager=world.outsider.user
    )
    data = api.get(f"/persons/{person.pk}", "case_manager").json()
    assert data["family_name"] == "Haddad" and data["nationality"] == "SY"
    assert [c["id"] for c in data["cases"]] == [world.case.pk]
    assert log.entries()[-1].action == "read"
    # …and the foreigners' authority now sees the person, with its own case only.
    data = api.get(f"/persons/{person.pk}", "outsider").json()
    assert [c["id"] for c in data["cases"]] == [other.pk]


def test_register_creates_person_and_case_and_logs(api, world, log):
    response = api.post("/persons", "case_manager", NEW)
    assert response.status_code == 201, response.content
    data = response.json()
    person = Person.objects.get(pk=data["person"]["id"])
    case = Case.objects.get(pk=data["case"]["id"])
    assert case.person == person and case.lead_organisation == world.lead
    assert case.case_manager == world.case_manager.user and case.phase == "intake"
    assert data["person"]["other_names"] == [{"family_name": "ተስፋይ", "given_names": "ሰላም"}]
    assert {(lang["language"], lang["level"]) for lang in data["person"]["languages"]} == {
        ("ti", "native"),
        ("de", "A2"),
    }
    assert [c["id"] for c in data["person"]["cases"]] == [case.pk]
    assert any(e.action == "create" and e.person_id == person.pk for e in log.entries())
    # The new person is in scope at once, and findable in the other script.
    assert _names(api.get("/persons?q=ሰላም", "case_manager")) == ["Tesfaye"]


def test_register_stops_on_likely_duplicates_until_confirmed(api, world, log):
    body = {
        "family_name": "Hadad",
        "given_names": "Muhammad",
        "birth_date": "2003-05-17",
        "gender": "male",
        "nationality": "SY",
    }
    before = Person.objects.count()
    response = api.post("/persons", "case_manager", body)
    assert response.status_code == 409
    (candidate,) = response.json()["candidates"]
    assert candidate["id"] == world.case.person_id and candidate["score"] >= 80
    assert Person.objects.count() == before
    assert {e.basis for e in log.entries()} == {"duplicate_check"}
    confirmed = api.post("/persons", "case_manager", dict(body, confirm_not_duplicate=True))
    assert confirmed.status_code == 201
    assert Person.objects.count() == before + 1


def test_duplicate_check_never_offers_persons_out_of_scope(api, world):
    foreign = world.foreign_case.person
    body = {
        "family_name": foreign.family_name,
        "given_names": foreign.given_names,
        "birth_date": foreign.birth_date.isoformat(),
        "gender": "female",
        "nationality": "AF",
    }
    response = api.post("/persons", "case_manager", body)
    assert response.status_code == 201  # nothing disclosed; a new person of the KI


def test_partner_staff_may_not_register_and_sees_no_candidates(api, world, log):
    body = {
        "family_name": "Haddad",
        "given_names": "Mohammed",
        "birth_date": "2003-05-17",
        "gender": "male",
        "nationality": "SY",
    }
    response = api.post("/persons", "partner_staff", body)
    assert response.status_code == 403 and "candidates" not in response.json()
    assert log.entries() == []


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"birth_date": "2004-02-30"}, {"birth_date"}),
        ({"birth_date": "17.05.2003"}, {"birth_date"}),
        ({"gender": "foo"}, {"gender"}),
        ({"nationality": "ZZ"}, {"nationality"}),
        ({"district": "atlantis"}, {"district"}),
        ({"email": "not-an-address"}, {"email"}),
        ({"family_name": ""}, {"family_name"}),
        ({"languages": [{"language": "xx", "level": "A1"}]}, {"languages.0.language"}),
        ({"unknown_field": 1}, {"unknown_field"}),
        ({"family_name": None}, {"family_name"}),
    ],
)
def test_register_rejects_bad_input_per_field_and_writes_nothing(api, world, change, fields):
    before = (Person.objects.count(), Case.objects.count(), AccessLogEntry.objects.count())
    response = api.post("/persons", "case_manager", {**NEW, **change})
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["detail"] and set(body["errors"]) == fields
    assert all(isinstance(m, str) and m for msgs in body["errors"].values() for m in msgs)
    assert (Person.objects.count(), Case.objects.count(), AccessLogEntry.objects.count()) == before


def test_missing_fields_and_broken_json(api, world):
    response = api.post("/persons", "case_manager", {"family_name": "X"})
    assert response.status_code == 422
    assert {"given_names", "birth_date", "gender", "nationality"} <= set(response.json()["errors"])
    broken = api.client.post(
        "/api/v1/persons",
        data="{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.tokens['case_manager']}"},
    )
    assert broken.status_code == 400 and broken.json()["detail"]


def test_patch_changes_only_the_fields_sent(api, world, log):
    DistrictFactory(code="nord", name="Nord")
    person = world.case.person
    response = api.patch(
        f"/persons/{person.pk}",
        "case_manager",
        {
            "phone": "0151 000000",
            "district": "nord",
            "other_names": [{"family_name": "حداد", "given_names": "محمد"}],
        },
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["phone"] == "0151 000000" and data["district"] == "nord"
    assert data["family_name"] == "Haddad" and data["birth_date"] == "2003-05-17"
    assert [e.action for e in log.entries()] == ["update"]
    assert _names(api.get("/persons?q=حداد", "case_manager")) == ["Haddad"]


def test_patch_rejects_bad_input_and_keeps_the_data(api, world):
    person = world.case.person
    for body, field in [
        ({"email": "nope"}, "email"),
        ({"given_names": ""}, "given_names"),
        ({"birth_date": "tomorrow"}, "birth_date"),
        ({"typo": "x"}, "typo"),
    ]:
        response = api.patch(f"/persons/{person.pk}", "case_manager", body)
        assert response.status_code == 422 and field in response.json()["errors"], body
    person.refresh_from_db()
    assert (person.email, person.given_names) == ("", "Mohammed")


def test_partner_may_read_but_not_change_master_data(api, world):
    person = world.case.person
    assert api.get(f"/persons/{person.pk}", "partner_staff").status_code == 200
    response = api.patch(f"/persons/{person.pk}", "partner_staff", {"phone": "1"})
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.phone == ""


def test_person_without_any_case_does_not_exist(api, world):
    lonely = PersonFactory()
    assert api.get(f"/persons/{lonely.pk}", "case_manager").status_code == 404
    assert api.get("/persons/999999", "case_manager").status_code == 404
