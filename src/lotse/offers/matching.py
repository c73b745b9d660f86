"""Matching a person to offers: which offers they can access, ranked, with reasons.

Pure: takes a compact profile of the person and compact rows of the offers, returns
matches. The legal check uses the eligibility engine on the offer's start date (today
for running offers and rolling entry); the person's results are constant between the
breakpoints of their facts and evaluated lazily, once per breakpoint and category an
offer asks for (:class:`CategoryTimeline`).

Two ways to the same ranking: :meth:`Matcher.match` scores offer by offer (the plain
statement of the rules), :meth:`Matcher.ranked` (the page) works on tables prepared
once per catalogue and day (:class:`OfferRows`): offers that share the category,
check date, status list, age range and German level are checked once per person, and
each offer's rank is a single integer. tests/offers/test_matching.py checks that both
agree with the original per-offer algorithm (`lotse bench --only offers`).

Reasons are codes with parameters; the page turns them into German sentences.
"""

from __future__ import annotations

import bisect
import datetime as dt
import operator
from collections.abc import Iterable, Sequence
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
# The most an offer can score besides the needs it answers.
MAX_BONUS = max(LEGAL_SCORE.values()) + SAME_DISTRICT + FREE_PLACE + STARTS_SOON


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


# One check group: (eligibility category or None, check date, admitted statuses, age_min,
# age_max, German level required as CEFR rank or None). Offers of a group are excluded
# or not, and get their legal score, together.
_Group = tuple[str | None, dt.date, frozenset[str], int | None, int | None, int | None]


class _Tables:
    """What ranking needs of a catalogue on one day, independent of the person.

    ``rows``: the offers that have not ended, in the order ranking uses for equal
    scores (start or today, title, id; stable); an offer is named by its position r
    there. Per r: its check group and ``const`` = r - (the score of free places and
    a near start) × size. Per need type and per district: the r of their offers."""

    def __init__(self, offers: Sequence[OfferRow], today: dt.date) -> None:
        self.today = today
        self.categories = sorted({o.eligibility_category for o in offers if o.eligibility_category})
        self.last = max((o.starts_on for o in offers if o.starts_on), default=today)
        current = [o for o in offers if o.ends_on is None or o.ends_on >= today]
        current.sort(key=lambda o: (o.starts_on or today, o.title, o.id))
        self.rows: tuple[OfferRow, ...] = tuple(current)
        self.size = size = max(len(current), 1)
        soon = today + dt.timedelta(days=STARTS_SOON_DAYS)
        groups: dict[_Group, int] = {}
        self.group_of: list[int] = []
        self.const: list[int] = []
        self.by_need: dict[int, list[int]] = {}
        self.by_district: dict[int, list[int]] = {}
        for r, o in enumerate(current):
            on = o.starts_on if (o.starts_on and o.starts_on > today) else today
            german = CEFR_RANK.get(o.german_min, 0) if o.german_min else None
            key = (o.eligibility_category or None, on, o.statuses, o.age_min, o.age_max, german)
            self.group_of.append(groups.setdefault(key, len(groups)))
            bonus = FREE_PLACE if (o.capacity is not None and o.occupied < o.capacity) else 0
            if o.starts_on and today < o.starts_on <= soon:
                bonus += STARTS_SOON
            self.const.append(r - bonus * size)
            for need in o.need_type_ids:
                self.by_need.setdefault(need, []).append(r)
            if o.district_id is not None:
                self.by_district.setdefault(o.district_id, []).append(r)
        self.groups: list[_Group] = list(groups)


class OfferRows(tuple[OfferRow, ...]):
    """Offer rows (an immutable sequence) that keep the tables for ranking once built:
    :func:`lotse.offers.selectors.offer_rows` caches one per state of the catalogue, so
    matching a person does not prepare the catalogue again."""

    _tables: dict[dt.date, _Tables]

    def __new__(cls, rows: Iterable[OfferRow] = ()) -> OfferRows:
        self = super().__new__(cls, rows)
        self._tables = {}
        return self

    def tables(self, today: dt.date) -> _Tables:
        found = self._tables.get(today)
        if found is None:
            if len(self._tables) >= 3:  # a long-running process crosses midnight
                self._tables.clear()
            found = self._tables[today] = _Tables(self, today)
        return found


class Matcher:
    """Matching for one person: the legal results over time come from a lazily evaluated
    :class:`CategoryTimeline`, offers are checked per group of equal checks and ranked
    by one integer each. Reasons are built only for the matches shown (:meth:`explain`)."""

    def __init__(self, profile: Profile, offers: Sequence[OfferRow], rule_set: RuleSet) -> None:
        self.profile = profile
        self.offers = offers
        today = profile.today
        self.tables = (
            offers.tables(today) if isinstance(offers, OfferRows) else _Tables(offers, today)
        )
        t = self.tables
        self.timeline = (
            CategoryTimeline(profile.facts, t.categories, today, t.last, rule_set)
            if profile.facts is not None
            else None
        )
        self.german = CEFR_RANK.get(profile.german_level or "", None)

    def legal(self, o: OfferRow, on: dt.date) -> AccessItem | None:
        if self.timeline is None or not o.eligibility_category:
            return None
        return self.timeline.item(o.eligibility_category, on)

    def match(self, *, only_needs: bool = False) -> list[Match]:
        """All offers that have not ended, ranked: accessible first by score, then the
        excluded ones so that gaps show. ``only_needs``: offers for an open need only.

        Offer by offer, as the rules read; :meth:`ranked` gives the same order."""
        ranked = self._scored(only_needs)
        ranked.sort(key=_rank_key)
        return [_as_match(r) for r in ranked]

    def ranked(self, limit: int, *, only_needs: bool = False) -> Ranked:
        """The best ``limit`` accessible and excluded matches and how many there are
        (what a page shows), in the order of :meth:`match`.

        Each offer's rank is one integer, smaller is better: ``excluded × E + (top -
        score) × size + r``, with r the offer's position in the tie order of the tables,
        ``top`` at least any score and E = (top + 1) × size (every part of a score is
        at least 0). Its parts: per check group (exclusion, legal score), per offer
        (free places, near start; prepared), and the needs and the district, added only
        to the offers listed for them. Per offer only an integer is made, no tuple or
        other container, so ranking 10,000 offers gives the garbage collector nothing
        to trace (per-offer tuples once made full collections of 60-90 ms the p95)."""
        t = self.tables
        p = self.profile
        size = t.size
        weights = {n: NEED_SCORE.get(priority, 25) for n, priority in p.open_needs.items()}
        top = sum(weights.values()) + MAX_BONUS
        cut = (top + 1) * size  # keys from here on are excluded offers
        base, items = self._groups(t, top, cut)
        keys = list(map(operator.add, map(base.__getitem__, t.group_of), t.const))
        for need, weight in weights.items():
            step = weight * size
            for r in t.by_need.get(need, ()):
                keys[r] -= step
        if p.district_id is not None:
            step = SAME_DISTRICT * size
            for r in t.by_district.get(p.district_id, ()):
                keys[r] -= step
        if only_needs:
            chosen: set[int] = set()
            for need in weights:
                chosen.update(t.by_need.get(need, ()))
            keys = [keys[r] for r in chosen]
        keys.sort()
        count = bisect.bisect_left(keys, cut)
        limit = max(limit, 0)
        groups, group_of, rows = t.groups, t.group_of, t.rows

        def as_match(key: int) -> Match:
            excluded = key >= cut
            q, r = divmod(key - cut if excluded else key, size)
            g = group_of[r]
            return Match(rows[r], top - q, excluded, groups[g][1], items[g])

        return Ranked(
            accessible=[as_match(k) for k in keys[: min(limit, count)]],
            excluded=[as_match(k) for k in keys[count : count + limit]],
            accessible_count=count,
            excluded_count=len(keys) - count,
        )

    def _groups(self, t: _Tables, top: int, cut: int) -> tuple[list[int], list[AccessItem | None]]:
        """Per check group: the person's part of the rank key (exclusion and legal
        score) and the legal item."""
        birth, german, size = self.profile.birth_date, self.german, t.size
        timeline = self.timeline
        at: dict[dt.date, int] = {}  # check date -> breakpoint of the timeline
        ages: dict[dt.date, int] = {}
        base: list[int] = []
        items: list[AccessItem | None] = []
        for category, on, statuses, age_min, age_max, german_min in t.groups:
            excluded = False
            legal = 0
            item = None
            if timeline is not None and (category or statuses):
                i = at.get(on)
                if i is None:
                    i = at[on] = timeline.index(on)
                if category:
                    item = timeline.item_at(category, i)
                    if item.result == "excluded":
                        excluded = True
                    else:
                        legal = LEGAL_SCORE.get(item.result, 0)
                if statuses and timeline.status_at(i) not in statuses:
                    excluded = True
            if age_min is not None or age_max is not None:
                age = ages.get(on)
                if age is None:
                    age = ages[on] = _age(birth, on)
                if (age_min is not None and age < age_min) or (
                    age_max is not None and age > age_max
                ):
                    excluded = True
            if german_min is not None and german is not None and german < german_min:
                excluded = True
            base.append((cut if excluded else 0) + (top - legal) * size)
            items.append(item)
        return base, items

    def _scored(self, only_needs: bool) -> list[tuple[Any, ...]]:
        p = self.profile
        today, birth, district = p.today, p.birth_date, p.district_id
        needs = p.open_needs
        need_ids = frozenset(needs)
        german = self.german
        soon = today + dt.timedelta(days=STARTS_SOON_DAYS)
        timeline = self.timeline
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
                item = timeline.item(o.eligibility_category, on)
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
