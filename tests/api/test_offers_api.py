"""/offers (catalogue, no personal data) and /persons/{id}/matches (scoped, logged)."""

from __future__ import annotations

import datetime as dt

import pytest

from lotse.casework.models import Assessment, AssessmentItem
from lotse.core.models import AccessLogEntry, District, NeedType
from lotse.offers.models import Offer
from lotse.offers.selectors import offer_search_text

from ..factories import OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def offers(world):
    vhs = OrganisationFactory(name="VHS Lotsenstadt", org_type="vhs")
    mitte = District.objects.create(code="mitte", name="Mitte")
    b1 = NeedType.objects.get(code="deutsch_b1")
    made = []
    for title, category, district, capacity, occupied in [
        ("Berufssprachkurs B1", "berufssprachkurs", mitte, 20, 20),
        ("Integrationskurs für junge Erwachsene", "integrationskurs", None, 18, 3),
        ("Produktionsschule Holz", "produktionsschule", mitte, None, 0),
    ]:
        o = Offer.objects.create(
            provider=vhs,
            title=title,
            field_of_action="language",
            category=category,
            funding="bamf",
            review_due=dt.date(2030, 1, 1),
            rolling_entry=True,
            district=district,
            capacity=capacity,
            occupied=occupied,
            languages=["de", "ar"],
        )
        o.search_text = offer_search_text(o, [])
        o.save()
        made.append(o)
    made[0].need_types.add(b1)
    return made


def test_every_role_with_a_token_reads_the_catalogue_and_nothing_is_logged(api, offers, tokens):
    before = AccessLogEntry.objects.count()
    for who in tokens:
        data = api.get("/offers", who).json()
        assert data["count"] == 3, who
    assert AccessLogEntry.objects.count() == before


def test_filters(api, offers):
    assert [
        o["title"] for o in api.get("/offers?q=integrationskurs", "coordinator").json()["items"]
    ] == ["Integrationskurs für junge Erwachsene"]
    assert api.get("/offers?district=mitte", "coordinator").json()["count"] == 2
    assert api.get("/offers?need_type=deutsch_b1", "coordinator").json()["count"] == 1
    assert api.get("/offers?district=nowhere", "coordinator").json()["count"] == 0
    free = api.get("/offers?free_places=true", "coordinator").json()["items"]
    assert "Berufssprachkurs B1" not in [o["title"] for o in free]  # full


def test_detail_and_unknown_id(api, offers):
    data = api.get(f"/offers/{offers[0].pk}", "case_manager").json()
    assert data["need_types"] == ["deutsch_b1"] and data["free_places"] == 0
    assert data["district"] == "mitte" and data["outdated"] is False
    assert api.get("/offers/999999", "case_manager").status_code == 404
    assert api.get("/offers").status_code == 401


def test_matches_for_a_person_in_scope_are_logged(api, offers, world):
    person = world.case.person
    assessment = Assessment.objects.create(
        case=world.case, assessed_on=dt.date(2026, 10, 1), assessed_by=world.case_manager.user
    )
    AssessmentItem.objects.create(
        assessment=assessment,
        life_domain="language",
        kind="need",
        description="B1",
        need_type=NeedType.objects.get(code="deutsch_b1"),
        priority="high",
    )
    response = api.get(f"/persons/{person.pk}/matches", "case_manager")
    assert response.status_code == 200
    items = response.json()
    assert items[0]["title"] == "Berufssprachkurs B1"  # answers the open need
    assert any(r["code"] == "need" and r["fit"] for r in items[0]["reasons"])
    entry = AccessLogEntry.objects.filter(object_type="offer_matching").latest("seq")
    assert entry.person_id == person.pk and entry.channel == "api"


def test_matches_out_of_scope_and_roles(api, offers, world):
    person = world.case.person
    assert api.get(f"/persons/{person.pk}/matches", "outsider").status_code == 404
    assert api.get(f"/persons/{person.pk}/matches", "coordinator").status_code == 403
    assert not AccessLogEntry.objects.filter(object_type="offer_matching").exists()
