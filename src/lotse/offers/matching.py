"""Matching a person to offers: which offers they can access, ranked, with reasons.

Pure: takes a compact profile of the person and compact rows of the offers, returns
matches. The legal check uses the eligibility engine on the offer's start date (today
for running offers and rolling entry); the person's results are evaluated once per
breakpoint of their facts, so one person over thousands of offers costs a few dozen
engine evaluations and a few comparisons per offer (`lotse bench`).

Reasons are codes with parameters; the page turns them into German sentences.
"""

from __future__ import annotations

import datetime as dt
import heapq
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lotse.eligibility.engine import CategoryTimeline, RuleSet
from lotse.eligibility.model import AccessItem, Facts

CEFR = ("none", "A1", "A2", "B1", "B2", "C1", "C2")
CEFR_RANK = {level: i for i, level in enumerate(CEFR)} | {"native": len(CEFR)}

# Score weights: a need the offer answers counts most, then the legal footing, place
# and timing. Only the order matters; the reasons explain it.
NEED_SCORE = {"high": 40, "medium": 30, "low": 20, "": 25}
LEGAL_SCORE = {"entitled": 15, "admissible": 10, "needs_permission": 5, "unknown": 0}
SAME_DISTRICT = 8
FREE_PLACE = 6
STARTS_SOON_DAYS = 42
STARTS_SOON = 4


@dataclass(frozen=True, slots=True)
class OfferRow:
    id: int
    title: str
    provider: str
    category: str
    eligibility_category: str | None
    statuses: frozenset[str]
    age_min: int | None
    age_max: int | None
    german_min: str
    district_id: int | None
    starts_on: dt.date | None
    ends_on: dt.date | None
    rolling_entry: bool
    capacity: int | None
    occupied: int
    need_type_ids: frozenset[int]


@dataclass(frozen=True)
class Profile:
    birth_date: dt.date
    german_level: str | None
    district_id: int | None
    open_needs: dict[int, str]  # need type id -> priority ("" when none given)
    facts: Facts | None  # None: the residence data are not known to the reader
    today: dt.date


@dataclass(frozen=True, slots=True)
class Reason:
    code: str  # e.g. "need", "legal", "age", "status", "german", "full", "district"
    fit: bool  # True: speaks for the offer; False: excludes or warns
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Match:
    offer: OfferRow
    score: int
    excluded: bool
    on: dt.date  # the date the checks were made for (start or today)
    legal: AccessItem | None


_rank_key = operator.itemgetter(0, 1, 2, 3, 4)


def _as_match(r: tuple[Any, ...]) -> Match:
    return Match(r[5], -r[1], r[0], r[6], r[7])


@dataclass(frozen=True)
class Ranked:
    accessible: list[Match]
    excluded: list[Match]
    accessible_count: int
    excluded_count: int


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


class Matcher:
    """Matching for one person: the legal results over time are evaluated once (per
    breakpoint of the person's facts, :class:`CategoryTimeline`), each offer then costs
    a few comparisons. Reasons are built only for the matches shown (:meth:`explain`)."""

    def __init__(self, profile: Profile, offers: Sequence[OfferRow], rule_set: RuleSet) -> None:
        self.profile = profile
        self.offers = offers
        today = profile.today
        categories = {o.eligibility_category for o in offers if o.eligibility_category}
        last = max((o.starts_on for o in offers if o.starts_on), default=today)
        self.timeline = (
            CategoryTimeline(profile.facts, sorted(categories), today, last, rule_set)
            if profile.facts is not None
            else None
        )
        self.german = CEFR_RANK.get(profile.german_level or "", None)

    def _on(self, o: OfferRow) -> dt.date:
        today = self.profile.today
        return o.starts_on if (o.starts_on and o.starts_on > today) else today

    def legal(self, o: OfferRow, on: dt.date) -> AccessItem | None:
        if self.timeline is None or not o.eligibility_category:
            return None
        return self.timeline.item(o.eligibility_category, on)

    def match(self, *, only_needs: bool = False) -> list[Match]:
        """All offers that have not ended, ranked: accessible first by score, then the
        excluded ones so that gaps show. ``only_needs``: offers for an open need only."""
        ranked = self._scored(only_needs)
        ranked.sort(key=_rank_key)
        return [_as_match(r) for r in ranked]

    def ranked(self, limit: int, *, only_needs: bool = False) -> Ranked:
        """The best ``limit`` accessible and excluded matches and how many there are
        (what a page shows: no full sort, no objects for the rest)."""
        scored = self._scored(only_needs)
        accessible = [r for r in scored if not r[0]]
        excluded = [r for r in scored if r[0]]
        return Ranked(
            accessible=[_as_match(r) for r in heapq.nsmallest(limit, accessible, key=_rank_key)],
            excluded=[_as_match(r) for r in heapq.nsmallest(limit, excluded, key=_rank_key)],
            accessible_count=len(accessible),
            excluded_count=len(excluded),
        )

    def _scored(self, only_needs: bool) -> list[tuple[Any, ...]]:
        p = self.profile
        today, birth, district = p.today, p.birth_date, p.district_id
        needs = p.open_needs
        need_ids = frozenset(needs)
        german = self.german
        soon = today + dt.timedelta(days=STARTS_SOON_DAYS)
        timeline = self.timeline
        items = timeline.items if timeline is not None else {}
        positions: dict[dt.date, int] = {}

        def index(on: dt.date) -> int:
            found = positions.get(on)
            if found is None:
                found = positions[on] = timeline._index(on)  # type: ignore[union-attr]
            return found

        ranked: list[tuple[Any, ...]] = []
        for o in self.offers:
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
                item = items[o.eligibility_category][index(on)]
                if item.result == "excluded":
                    excluded = True
                else:
                    score += LEGAL_SCORE.get(item.result, 0)
                if o.statuses and timeline.status(on) not in o.statuses:
                    excluded = True
            elif o.statuses and timeline is not None and timeline.status(on) not in o.statuses:
                excluded = True
            if o.age_min is not None or o.age_max is not None:
                age = _age(birth, on)
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
            ranked.append((excluded, -score, o.starts_on or today, o.title, o.id, o, on, item))
        return ranked

    def explain(self, m: Match) -> tuple[Reason, ...]:
        """Why the offer fits or is excluded (the same checks as :meth:`match`)."""
        p, o, on = self.profile, m.offer, m.on
        today = p.today
        reasons: list[Reason] = []
        for need_id in sorted(o.need_type_ids & p.open_needs.keys()):
            reasons.append(Reason("need", True, {"need_type_id": need_id}))
        item = m.legal
        if item is not None:
            if item.result == "excluded":
                reasons.append(
                    Reason("legal", False, {"rule_id": item.rule_id, "citation": item.citation})
                )
            else:
                reasons.append(
                    Reason(
                        "legal",
                        item.result != "unknown",
                        {
                            "result": item.result,
                            "rule_id": item.rule_id,
                            "citation": item.citation,
                            "missing": item.missing,
                        },
                    )
                )
                if item.available is False:
                    reasons.append(Reason("unavailable", False, {"note": item.availability_note}))
        if o.statuses and self.timeline is not None:
            status = self.timeline.status(on)
            if status not in o.statuses:
                reasons.append(Reason("status", False, {"status": status or ""}))
        age = _age(p.birth_date, on)
        if (o.age_min is not None and age < o.age_min) or (
            o.age_max is not None and age > o.age_max
        ):
            reasons.append(Reason("age", False, {"age": age, "min": o.age_min, "max": o.age_max}))
        if o.german_min:
            if self.german is None:
                reasons.append(Reason("german_unknown", False, {"min": o.german_min}))
            elif self.german < CEFR_RANK.get(o.german_min, 0):
                reasons.append(
                    Reason("german", False, {"min": o.german_min, "have": p.german_level})
                )
        if p.district_id is not None and o.district_id == p.district_id:
            reasons.append(Reason("district", True))
        if o.capacity is not None:
            if o.occupied >= o.capacity:
                reasons.append(Reason("full", False))
            else:
                reasons.append(Reason("free", True, {"free": o.capacity - o.occupied}))
        if o.starts_on and today < o.starts_on <= today + dt.timedelta(days=STARTS_SOON_DAYS):
            reasons.append(Reason("starts_soon", True, {"on": o.starts_on}))
        elif o.rolling_entry or (o.starts_on is not None and o.starts_on <= today):
            reasons.append(Reason("running", True))
        return tuple(reasons)


def match(
    profile: Profile,
    offers: Sequence[OfferRow],
    rule_set: RuleSet,
    *,
    only_needs: bool = False,
) -> list[Match]:
    return Matcher(profile, offers, rule_set).match(only_needs=only_needs)
