"""Matching a person to offers (issue #5): legal check on the start date, age, German,
status restrictions, needs, ranking, reasons; and the page's scope and logging."""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import random
from typing import Any

import pytest
from django.urls import reverse

from lotse.casework.models import Assessment, AssessmentItem
from lotse.core.models import AccessLogEntry, District, NeedType
from lotse.eligibility import parse_facts
from lotse.eligibility.codes import CODES
from lotse.eligibility.engine import UNDECIDED, Ctx, _entries, _item, breakpoints, decide
from lotse.eligibility.ruleset import active_rule_set
from lotse.offers.matching import (
    CEFR,
    CEFR_RANK,
    FREE_PLACE,
    LEGAL_SCORE,
    NEED_SCORE,
    SAME_DISTRICT,
    STARTS_SOON,
    STARTS_SOON_DAYS,
    Match,
    Matcher,
    OfferRow,
    OfferRows,
    Profile,
    Ranked,
    match,
)
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


# --- the fast ranking against the original algorithm ---------------------------------
#
# Matcher.ranked works on prepared tables and integer keys; what it must give is what
# the first implementation gave: every breakpoint of the facts evaluated for every
# category up front, then offer by offer the checks and the score, sorted by
# (excluded, -score, start or today, title, id). That implementation is kept here
# verbatim as the reference.


class _EagerTimeline:
    """CategoryTimeline as first written: all categories on all breakpoints at once."""

    def __init__(self, facts, categories, start, end, rs):
        self.days = [start, *breakpoints(facts, rs, start, max(start, end))]
        self.items = {c: [] for c in categories}
        for day in self.days:
            c = Ctx(facts, day)
            plan = rs.plan(day)
            for category, items in self.items.items():
                entries = plan.get(category)
                decision = decide(_entries(entries, c.status), c) if entries else UNDECIDED
                items.append(_item(category, decision, rs, day))
        self.statuses = [Ctx(facts, day).status for day in self.days]

    def _index(self, on):
        return max(bisect.bisect_right(self.days, on) - 1, 0)

    def status(self, on):
        return self.statuses[self._index(on)]


def _reference_scored(p: Profile, offers, rs, only_needs: bool) -> list[tuple[Any, ...]]:
    today = p.today
    categories = {o.eligibility_category for o in offers if o.eligibility_category}
    last = max((o.starts_on for o in offers if o.starts_on), default=today)
    timeline = (
        _EagerTimeline(p.facts, sorted(categories), today, last, rs)
        if p.facts is not None
        else None
    )
    german = CEFR_RANK.get(p.german_level or "", None)
    birth, district, needs = p.birth_date, p.district_id, p.open_needs
    need_ids = frozenset(needs)
    soon = today + dt.timedelta(days=STARTS_SOON_DAYS)
    out = []
    for o in offers:
        if o.ends_on is not None and o.ends_on < today:
            continue
        answered = o.need_type_ids & need_ids
        if only_needs and not answered:
            continue
        on = o.starts_on if (o.starts_on and o.starts_on > today) else today
        score = sum(NEED_SCORE.get(needs[n], 25) for n in answered) if answered else 0
        excluded = False
        item = None
        if timeline is not None and o.eligibility_category:
            item = timeline.items[o.eligibility_category][timeline._index(on)]
            if item.result == "excluded":
                excluded = True
            else:
                score += LEGAL_SCORE.get(item.result, 0)
            if o.statuses and timeline.status(on) not in o.statuses:
                excluded = True
        elif o.statuses and timeline is not None and timeline.status(on) not in o.statuses:
            excluded = True
        if o.age_min is not None or o.age_max is not None:
            age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
            if (o.age_min is not None and age < o.age_min) or (
                o.age_max is not None and age > o.age_max
            ):
                excluded = True
        if o.german_min and german is not None and german < CEFR_RANK.get(o.german_min, 0):
            excluded = True
        if district is not None and o.district_id == district:
            score += SAME_DISTRICT
        if o.capacity is not None and o.occupied < o.capacity:
            score += FREE_PLACE
        if o.starts_on and today < o.starts_on <= soon:
            score += STARTS_SOON
        out.append((excluded, -score, o.starts_on or today, o.title, o.id, o, on, item))
    return out


def _key(r):
    return r[:5]


def _m(r) -> Match:
    return Match(r[5], -r[1], r[0], r[6], r[7])


def reference_match(p, offers, rs, only_needs=False) -> list[Match]:
    return [_m(r) for r in sorted(_reference_scored(p, offers, rs, only_needs), key=_key)]


def reference_ranked(p, offers, rs, limit, only_needs=False) -> Ranked:
    scored = _reference_scored(p, offers, rs, only_needs)
    accessible = [r for r in scored if not r[0]]
    excluded = [r for r in scored if r[0]]
    return Ranked(
        accessible=[_m(r) for r in heapq.nsmallest(limit, accessible, key=_key)],
        excluded=[_m(r) for r in heapq.nsmallest(limit, excluded, key=_key)],
        accessible_count=len(accessible),
        excluded_count=len(excluded),
    )


STATUSES = sorted(CODES.statuses)
CATEGORIES = [*CODES.categories, None, ""]


def _day(rng: random.Random, today: dt.date, lo: int, hi: int) -> dt.date:
    return today + dt.timedelta(days=rng.randint(lo, hi))


def _random_facts(rng: random.Random, today: dt.date, birth: dt.date, dates, pool):
    kind = rng.random()
    if kind < 0.15:
        return None  # residence data not shared
    if kind < 0.5:
        return rng.choice(pool)  # realistic histories with flags (synth)
    # Short histories that change within the offers' dates: periods ending and new ones
    # starting in the coming months (gaps too), months counted from entry and application.
    # Some periods begin on an offer's start date or end the day before, so that check
    # dates fall exactly on breakpoints.
    periods = []
    start = _day(rng, today, -900, -10)
    while start <= today + dt.timedelta(days=300):
        end = None if rng.random() < 0.2 else _day(rng, start, 20, 300)
        later = [d for d in dates if d > start + dt.timedelta(days=1)]
        if end is not None and later and rng.random() < 0.5:
            end = rng.choice(later) - dt.timedelta(days=1)
        periods.append({"status": rng.choice(STATUSES), "from": str(start), "to": end and str(end)})
        if end is None:
            break
        start = end + dt.timedelta(days=rng.choice((1, 1, 1, 30)))
    entry = _day(rng, today, -1600, -30)
    flags: dict[str, object] = {"work_ban_60a6": rng.random() < 0.2}
    if rng.random() < 0.6:
        flags["asylum_application_date"] = str(entry + dt.timedelta(days=rng.randint(0, 60)))
    if rng.random() < 0.5:
        flags["labour_market_proximity"] = rng.random() < 0.7
    return parse_facts(
        {
            "birth_date": str(birth),
            "entry_date": str(entry),
            "nationality": rng.choice(("AF", "SY", "UA", "ER")),
            "status_history": periods,
            "flags": flags,
        }
    )


def _random_offers(rng: random.Random, today: dt.date, n: int) -> list[OfferRow]:
    # Few titles, dates and districts, so that scores and tie orders collide often.
    titles = [f"Kurs {c}" for c in "ABCDE"]
    dates = [_day(rng, today, -400, 300) for _ in range(rng.randint(1, 12))]
    dates += [today, today + dt.timedelta(days=STARTS_SOON_DAYS)]
    ids = rng.sample(range(1, 10 * n + 10), n)
    out = []
    for i in ids:
        starts = None if rng.random() < 0.25 else rng.choice(dates)
        ends = None
        if rng.random() < 0.6:
            ends = (starts or today) + dt.timedelta(days=rng.randint(-30, 200))
            if rng.random() < 0.2:
                ends = _day(rng, today, -60, -1)  # ended
        capacity = None if rng.random() < 0.3 else rng.randint(0, 20)
        age_min = rng.choice((None, None, 16, 18, 21, 25))
        age_max = rng.choice((None, None, 18, 21, 25, 27, 35))
        out.append(
            row(
                id=i,
                title=rng.choice(titles),
                category="x",
                eligibility_category=rng.choice(CATEGORIES),
                statuses=frozenset(rng.sample(STATUSES, rng.choice((0, 0, 0, 1, 2, 6)))),
                age_min=age_min,
                age_max=age_max,
                german_min=rng.choice(("", "", "", *CEFR, "native")),
                district_id=rng.choice((None, 1, 2, 3)),
                starts_on=starts,
                ends_on=ends,
                rolling_entry=rng.random() < 0.4,
                capacity=capacity,
                occupied=rng.randint(0, (capacity or 5) + 2),
                need_type_ids=frozenset(rng.sample(range(1, 8), rng.choice((0, 0, 1, 1, 2, 3)))),
            )
        )
    return out


def _random_profile(rng: random.Random, today: dt.date, offers, pool) -> Profile:
    # Birthdays near today and the offers' dates, so that ages cross limits in between.
    birth = _day(rng, today, -32 * 365, -15 * 365)
    needs = {
        n: rng.choice(("high", "medium", "low", "", "other"))
        for n in rng.sample(range(1, 10), rng.choice((0, 1, 2, 3, 5)))
    }
    return Profile(
        birth_date=birth,
        german_level=rng.choice((None, "", *CEFR, "native", "x")),
        district_id=rng.choice((None, 1, 2, 9)),
        open_needs=needs,
        facts=_random_facts(
            rng, today, birth, sorted({o.starts_on for o in offers if o.starts_on}), pool
        ),
        today=today,
    )


def test_ranked_and_match_equal_the_original_algorithm_on_random_data():
    """Matcher.ranked (prepared tables, integer keys, lazy timeline) and Matcher.match
    give exactly the original per-offer ranking: the same offers in the same order,
    with equal scores, excluded flags, check dates and legal items, and the same counts
    — for offers past, running and future, rolling entry, status lists, age ranges,
    German levels, capacities and needs, and persons with and without facts."""
    from lotse.synth.eligibility_bench import synthetic_fact_sets

    rs = active_rule_set()
    rng = random.Random(20261122)
    pool = synthetic_fact_sets(40, 11, TODAY)
    cases = 0
    for case in range(300):
        today = TODAY + dt.timedelta(days=rng.choice((0, 0, 3, 40, 200)))
        offers = _random_offers(rng, today, rng.choice((0, 1, 5, 40, 150, 400)))
        prepared = OfferRows(offers)
        for _ in range(3):
            p = _random_profile(rng, today, offers, pool)
            for only_needs in (False, True):
                want = reference_match(p, offers, rs, only_needs)
                assert Matcher(p, offers, rs).match(only_needs=only_needs) == want, case
                for limit in (0, 1, 7, 50, 1000):
                    expected = reference_ranked(p, offers, rs, limit, only_needs)
                    for given in (offers, prepared):
                        got = Matcher(p, given, rs).ranked(limit, only_needs=only_needs)
                        assert got == expected, (case, limit, only_needs)
                cases += 1
    assert cases == 1800


def test_no_part_of_a_score_is_negative():
    """Matcher.ranked packs (excluded, score, tie order) into one integer and relies on
    it."""
    parts = [*NEED_SCORE.values(), 25, *LEGAL_SCORE.values()]
    assert min(*parts, SAME_DISTRICT, FREE_PLACE, STARTS_SOON) >= 0


def test_prepared_rows_are_shared_and_follow_the_day():
    offers = OfferRows(
        [
            row(id=1, starts_on=TODAY + dt.timedelta(days=10), rolling_entry=False),
            row(id=2, ends_on=TODAY + dt.timedelta(days=1)),
        ]
    )
    rs = active_rule_set()
    first = Matcher(profile(), offers, rs)
    assert Matcher(profile(), offers, rs).tables is first.tables  # prepared once
    later = TODAY + dt.timedelta(days=2)  # offer 2 has ended, offer 1 starts sooner
    ranked = Matcher(profile(today=later), offers, rs).ranked(5)
    assert [m.offer.id for m in ranked.accessible] == [1]
    assert ranked == reference_ranked(profile(today=later), offers, rs, 5)
