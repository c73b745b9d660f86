"""Matching a person to offers: which offers they can access, ranked, with reasons.

Pure: takes a compact profile of the person and compact rows of the offers, returns
matches. The legal check uses the eligibility engine on the offer's start date (today
for running offers and rolling entry), cached per (category, date), so one person over
thousands of offers costs a few engine calls (docs/offers.md, `lotse bench`).

Reasons are codes with parameters; the page turns them into German sentences.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from lotse.eligibility.engine import RuleSet, evaluate_category
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
    reasons: tuple[Reason, ...]
    legal: AccessItem | None


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


class LegalCache:
    """Engine results per (category, date) for one person."""

    def __init__(self, facts: Facts | None, rule_set: RuleSet) -> None:
        self.facts = facts
        self.rule_set = rule_set
        self._items: dict[tuple[str, dt.date], AccessItem] = {}
        self._status: dict[dt.date, str | None] = {}

    def item(self, category: str, on: dt.date) -> AccessItem | None:
        if self.facts is None:
            return None
        key = (category, on)
        found = self._items.get(key)
        if found is None:
            found = evaluate_category(self.facts, on, category, rule_set=self.rule_set)
            self._items[key] = found
        return found

    def status(self, on: dt.date) -> str | None:
        if self.facts is None:
            return None
        if on not in self._status:
            current = None
            for p in self.facts.status_history:
                if p.start <= on and (p.end is None or on <= p.end):
                    current = p.status
            self._status[on] = current
        return self._status[on]


def match(
    profile: Profile,
    offers: Iterable[OfferRow],
    rule_set: RuleSet,
    *,
    only_needs: bool = False,
) -> list[Match]:
    """All offers that have not ended, ranked: accessible first by score, then the
    excluded ones (with their reasons) so that gaps show. ``only_needs`` keeps offers
    answering at least one open need."""
    today = profile.today
    legal = LegalCache(profile.facts, rule_set)
    german = CEFR_RANK.get(profile.german_level or "", None)
    needs = profile.open_needs
    out: list[Match] = []
    for o in offers:
        if o.ends_on is not None and o.ends_on < today:
            continue
        answered = o.need_type_ids & needs.keys() if needs else frozenset()
        if only_needs and not answered:
            continue
        on = o.starts_on if (o.starts_on and o.starts_on > today) else today
        reasons: list[Reason] = []
        score = 0
        excluded = False
        for need_id in answered:
            score += NEED_SCORE.get(needs[need_id], 25)
            reasons.append(Reason("need", True, {"need_type_id": need_id}))
        item = legal.item(o.eligibility_category, on) if o.eligibility_category else None
        if item is not None:
            if item.result == "excluded":
                excluded = True
                reasons.append(
                    Reason("legal", False, {"rule_id": item.rule_id, "citation": item.citation})
                )
            else:
                score += LEGAL_SCORE.get(item.result, 0)
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
        if o.statuses:
            status = legal.status(on)
            if status is not None and status not in o.statuses:
                excluded = True
                reasons.append(Reason("status", False, {"status": status}))
        age = _age(profile.birth_date, on)
        if (o.age_min is not None and age < o.age_min) or (
            o.age_max is not None and age > o.age_max
        ):
            excluded = True
            reasons.append(
                Reason("age", False, {"age": age, "min": o.age_min, "max": o.age_max})
            )
        if o.german_min:
            wanted = CEFR_RANK.get(o.german_min, 0)
            if german is None:
                reasons.append(Reason("german_unknown", False, {"min": o.german_min}))
            elif german < wanted:
                excluded = True
                reasons.append(
                    Reason("german", False, {"min": o.german_min, "have": profile.german_level})
                )
        if profile.district_id is not None and o.district_id == profile.district_id:
            score += SAME_DISTRICT
            reasons.append(Reason("district", True))
        if o.capacity is not None:
            if o.occupied >= o.capacity:
                reasons.append(Reason("full", False))
            else:
                score += FREE_PLACE
                reasons.append(Reason("free", True, {"free": o.capacity - o.occupied}))
        if o.starts_on and today < o.starts_on <= today + dt.timedelta(days=STARTS_SOON_DAYS):
            score += STARTS_SOON
            reasons.append(Reason("starts_soon", True, {"on": o.starts_on}))
        elif o.rolling_entry or (o.starts_on is not None and o.starts_on <= today):
            reasons.append(Reason("running", True))
        out.append(Match(o, score, excluded, on, tuple(reasons), item))
    out.sort(key=lambda m: (m.excluded, -m.score, m.offer.starts_on or today, m.offer.title))
    return out


def top(matches: Sequence[Match], n: int) -> list[Match]:
    return [m for m in matches if not m.excluded][:n]
