"""/api/v1/network: the directory, the matrix and the finder by role."""

from __future__ import annotations

import pytest

from lotse.core.models import AccessLogEntry

from ..api.conftest import Api

READERS = ["case_manager", "team_lead", "partner_staff", "coordinator", "analyst", "org_admin"]
PATHS = [
    "/network/organisations",
    "/network/responsibilities",
    "/network/pathways?status=duldung&age=22&need=schulabschluss",
]


@pytest.mark.parametrize("role", READERS)
@pytest.mark.parametrize("path", PATHS)
def test_readers_get_data_and_nothing_is_logged(api: Api, world, directory, role, path):
    before = AccessLogEntry.objects.count()
    response = api.get(path, role)
    assert response.status_code == 200, response.content
    assert AccessLogEntry.objects.count() == before  # no personal data


def test_without_token_401(api: Api, world):
    assert api.get("/network/organisations").status_code == 401


def test_organisations(api: Api, world, directory):
    items = api.get("/network/organisations?q=Berufskolleg", "case_manager").json()
    (school,) = items
    assert school["name"] == "Berufskolleg Lotsenstadt"
    assert school["legal_domains"] == ["schulg"]
    assert [c["name"] for c in school["contacts"]] == ["Bildungsgangleitung"]
    assert {(r["target_group"], r["field_of_action"]) for r in school["responsibilities"]} == {
        ("jv_geduldet", "education")
    }


def test_responsibilities(api: Api, world, directory):
    data = api.get("/network/responsibilities", "coordinator").json()
    cells = {(c["target_group"], c["field_of_action"]): c for c in data["cells"]}
    assert len(cells) == len(data["target_groups"]) * len(data["fields_of_action"])
    assert cells[("jv_geduldet", "training")]["duplicate"] is True
    assert cells[("jv_geduldet", "housing")]["gap"] is True
    education = cells[("jv_geduldet", "education")]
    assert {o["organisation"] for o in education["organisations"]} == {
        "Berufskolleg Lotsenstadt",
        "Jugendmigrationsdienst Lotsenstadt",
    }
    assert not education["gap"] and not education["duplicate"]


def test_pathway(api: Api, world, directory):
    data = api.get(PATHS[2], "partner_staff").json()
    assert data["target_groups"] == ["jv_geduldet"] and data["field_of_action"] == "education"
    assert {o["name"] for o in data["organisations"]} == {
        "Berufskolleg Lotsenstadt",
        "Jugendmigrationsdienst Lotsenstadt",
    }
    assert data["gap"] is False


def test_pathway_bad_input_422_by_field(api: Api, world, directory):
    response = api.get("/network/pathways?status=unbekannt&age=22&need=nope", "case_manager")
    assert response.status_code == 422
    assert set(response.json()["errors"]) >= {"status", "need"}


def test_every_role_with_a_token_may_read_the_directory():
    """Volunteers and sysadmins hold no token; every other role reads the directory."""
    from lotse.core.roles import ROLE_PERMISSIONS, Perm

    for role, perms in ROLE_PERMISSIONS.items():
        if Perm.API_TOKEN in perms:
            assert Perm.NETWORK_VIEW in perms, role
