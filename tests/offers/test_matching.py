"""Matching a person to offers (issue #5): legal check on the start date, age, German,
status restrictions, needs, ranking, reasons; and the page's scope and logging."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from lotse.casework.models import Assessment, AssessmentItem
from lotse.core.models import AccessLogEntry, District, NeedType
from lotse.eligibility import parse_facts
from lotse.eligibility.ruleset import active_rule_set
from lotse.offers.matching import Matcher, OfferRow, Profile, match
from lotse.offers.models import Offer
from lotse.offers.selectors import offer_rows
from lotse.people.models import PersonLanguage, ResidenceStatusPeriod

from ..conftest import login
from ..factories import OrganisationFactory, ResidenceFactory

TODAY = dt.date(2026, 11, 21)


def row(**kw) -> OfferRow:
    base = {
        "id": 1,
        "title": "Kurs",
        "provider": "VHS",
        "category": "sprachkurs",
        "eligibility_category": None,
        "statuses": frozenset(),
        "age_min": None,
        "age_max": None,
        "german_min": "",
        "district_id": None,
        "starts_on": None,
        "ends_on": None,
        "rolling_entry": True,
        "capacity": None,
        "occupied": 0,
        "need_type_ids": frozenset(),
    }
    base.update(kw)
    return OfferRow(**base)


def profile(status="duldung", since="2024-01-10", **kw) -> Profile:
    facts = parse_facts(
        {
            "birth_date": "2006-05-01",  # 20 on TODAY
            "entry_date": "2023-06-01",
            "nationality": "AF",
            "status_history": [{"status": status, "from": since, "to": None}],
            "flags": {"work_ban_60a6": False, "labour_market_proximity": True},
        }
    )
    base = {
        "birth_date": dt.date(2006, 5, 1),
        "german_level": "A2",
        "district_id": None,
        "open_needs": {},
        "facts": facts,
        "today": TODAY,
    }
    base.update(kw)
    return Profile(**base)


def by_id(matches):
    return {m.offer.id: m for m in matches}


def why(m, p=None):
    """The reasons of a match (built on demand, as the page does)."""
    return Matcher(p or profile(), [m.offer], active_rule_set()).explain(m)


def test_integration_course_is_closed_to_a_geduldete_by_law_with_the_citation():
    """integrationskurs.other_duldung.excluded (§ 44 Abs. 4 S. 2 AufenthG) excludes it."""
    m = match(
        profile(),
        [row(category="integrationskurs", eligibility_category="integrationskurs")],
        active_rule_set(),
    )[0]
    assert m.excluded
    legal = next(r for r in why(m) if r.code == "legal")
    assert legal.params["rule_id"] == "integrationskurs.other_duldung.excluded"
    assert "§ 44" in legal.params["citation"]


def test_legal_check_uses_the_offer_start_date():
    """A Duldung from 10.01.2024: the Berufssprachkurs needs 6 months of Duldung
    (berufssprachkurs.duldung.waiting_6m); an offer starting after that is open."""
    p = profile(since="2026-09-01")
    soon = row(
        id=1,
        category="berufssprachkurs",
        eligibility_category="berufssprachkurs",
        rolling_entry=False,
        starts_on=dt.date(2026, 12, 1),
    )
    later = row(
        id=2,
        category="berufssprachkurs",
        eligibility_category="berufssprachkurs",
        rolling_entry=False,
        starts_on=dt.date(2027, 3, 1),
    )
    found = by_id(match(p, [soon, later], active_rule_set()))
    assert found[1].excluded and found[1].on == dt.date(2026, 12, 1)
    assert not found[2].excluded and found[2].legal.result == "admissible"


def test_age_german_and_status_restrictions_exclude_with_reasons():
    p = profile()
    offers = [
        row(id=1, age_min=16, age_max=18),
        row(id=2, german_min="B1"),
        row(id=3, statuses=frozenset({"gestattung"})),
        row(id=4, age_min=18, age_max=27, german_min="A2", statuses=frozenset({"duldung"})),
    ]
    found = by_id(match(p, offers, active_rule_set()))
    assert [r.code for r in why(found[1], p) if not r.fit] == ["age"]
    assert [r.code for r in why(found[2], p) if not r.fit] == ["german"]
    assert [r.code for r in why(found[3], p) if not r.fit] == ["status"]
    assert not found[4].excluded


def test_unknown_german_level_warns_but_does_not_exclude():
    p = profile(german_level=None)
    found = match(p, [row(german_min="B1")], active_rule_set())[0]
    assert not found.excluded
    assert [r.code for r in why(found, p) if not r.fit] == ["german_unknown"]


def test_ranking_needs_first_then_legal_district_free_places():
    p = profile(open_needs={7: "high", 8: "low"}, district_id=3)
    offers = [
        row(id=1, title="A", need_type_ids=frozenset({8})),
        row(id=2, title="B", need_type_ids=frozenset({7})),
        row(id=3, title="C", need_type_ids=frozenset({7}), district_id=3, capacity=10, occupied=2),
        row(id=4, title="D"),
        row(id=5, title="E", age_max=18, need_type_ids=frozenset({7})),
    ]
    ranked = [m.offer.id for m in match(p, offers, active_rule_set())]
    assert ranked == [3, 2, 1, 4, 5]  # the excluded one last, whatever its needs


def test_only_needs_and_ended_offers():
    p = profile(open_needs={7: ""})
    offers = [
        row(id=1, need_type_ids=frozenset({7})),
        row(id=2),
        row(id=3, need_type_ids=frozenset({7}), ends_on=dt.date(2026, 1, 1)),
    ]
    assert [m.offer.id for m in match(p, offers, active_rule_set(), only_needs=True)] == [1]


def test_full_offer_is_kept_with_waiting_list_note():
    m = match(profile(), [row(capacity=12, occupied=12)], active_rule_set())[0]
    assert not m.excluded and "full" in [r.code for r in why(m)]


def test_without_residence_data_the_legal_check_is_left_out():
    m = match(
        profile(facts=None),
        [row(category="integrationskurs", eligibility_category="integrationskurs")],
        active_rule_set(),
    )[0]
    assert not m.excluded and m.legal is None


# --- the page ----------------------------------------------------------------------


@pytest.fixture
def catalogue(world):
    provider = OrganisationFactory(name="VHS Lotsenstadt", org_type="vhs")
    b1 = NeedType.objects.get(code="deutsch_b1")
    district = District.objects.create(code="mitte", name="Mitte")
    course = Offer.objects.create(
        provider=provider,
        title="Berufssprachkurs B1/B2",
        field_of_action="language",
        category="berufssprachkurs",
        funding="bamf",
        review_due=dt.date(2030, 1, 1),
        rolling_entry=True,
        capacity=20,
        occupied=5,
        district=district,
    )
    course.need_types.add(b1)
    Offer.objects.create(
        provider=provider,
        title="Integrationskurs",
        field_of_action="language",
        category="integrationskurs",
        funding="bamf",
        review_due=dt.date(2030, 1, 1),
        rolling_entry=True,
    )
    person = world.case.person
    person.birth_date = dt.date(2006, 5, 1)
    person.district = district
    person.save()
    ResidenceStatusPeriod.objects.filter(person=person).delete()
    ResidenceFactory(person=person, status="duldung", valid_from=dt.date(2024, 1, 10))
    PersonLanguage.objects.create(person=person, language="de", level="A2")
    assessment = Assessment.objects.create(
        case=world.case, assessed_on=dt.date(2026, 10, 1), assessed_by=world.case_manager.user
    )
    AssessmentItem.objects.create(
        assessment=assessment,
        life_domain="language",
        kind="need",
        description="B1 für die Ausbildung",
        need_type=b1,
        priority="high",
    )
    return world


def _url(world, **q):
    url = reverse("offers:matches", args=[world.case.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in q.items()) if q else "")


@pytest.mark.django_db
def test_case_manager_sees_ranked_offers_with_reasons_and_is_logged(client, catalogue):
    login(client, catalogue.case_manager)
    page = client.get(_url(catalogue, excluded=1)).content.decode()
    assert page.index("Berufssprachkurs B1/B2") < page.index("Integrationskurs")
    assert "Deutsch B1" in page  # the need it answers
    assert "§ 44 Abs. 4" in page  # why the integration course is closed
    entry = AccessLogEntry.objects.filter(object_type="offer_matching").latest("seq")
    assert entry.person_id == catalogue.case.person_id and entry.basis == "lead_organisation"
    assert {"master", "residence", "education"} <= set(entry.categories)


@pytest.mark.django_db
def test_partner_without_residence_and_education_gets_no_legal_check_and_no_needs(
    client, catalogue
):
    w = catalogue
    w.consent.categories = ["master"]
    w.consent.save()
    login(client, w.partner_staff)
    page = client.get(_url(w, excluded=1)).content.decode()
    assert "Deutsch B1" not in page and "§ 44 Abs. 4" not in page
    entry = AccessLogEntry.objects.filter(object_type="offer_matching").latest("seq")
    assert entry.categories == ["master"]


@pytest.mark.django_db
def test_out_of_scope_404_and_roles_without_case_view_403(client, catalogue):
    login(client, catalogue.outsider)
    assert client.get(_url(catalogue)).status_code == 404
    login(client, catalogue.coordinator)
    assert client.get(_url(catalogue)).status_code == 403
    assert not AccessLogEntry.objects.filter(object_type="offer_matching").exists()


@pytest.mark.django_db
def test_offer_rows_cache_follows_changes(catalogue):
    first = offer_rows()
    assert len(first) == 2
    offer = Offer.objects.get(title="Integrationskurs")
    offer.is_active = False
    offer.save()
    assert [r.title for r in offer_rows()] == ["Berufssprachkurs B1/B2"]
    course = Offer.objects.get(title="Berufssprachkurs B1/B2")
    course.need_types.clear()
    assert offer_rows()[0].need_type_ids == frozenset()


def test_ranked_gives_the_same_order_as_the_full_match():
    """Matcher.ranked (the page: best N, counts) agrees with the full ranking."""
    p = profile(open_needs={7: "high", 8: "low"}, district_id=3)
    offers = [
        row(
            id=i,
            title=f"O{i:02d}",
            need_type_ids=frozenset({7 if i % 3 else 8}),
            district_id=3 if i % 4 == 0 else None,
            age_max=18 if i % 5 == 0 else None,
        )
        for i in range(1, 40)
    ]
    matcher = Matcher(p, offers, active_rule_set())
    full = matcher.match()
    top = matcher.ranked(7)
    assert [m.offer.id for m in top.accessible] == [m.offer.id for m in full if not m.excluded][:7]
    assert [m.offer.id for m in top.excluded] == [m.offer.id for m in full if m.excluded][:7]
    assert top.accessible_count + top.excluded_count == len(full)
