"""The eligibility engine: compiles the dated rule files once, evaluates facts on a date.

Evaluation order (documented in docs/eligibility.md): for each category, the
rules valid on the date are tried in file order (files sorted by name, rules in
the order written); the first rule whose conditions all hold wins. If a rule's
conditions cannot be decided because a fact is missing (and none of its other
conditions is false), the category is ``unknown`` naming the missing facts —
the engine never skips past an undecidable rule to a later one. If no rule
matches, the category is ``unknown`` (not covered by the rule set).
"""

from __future__ import annotations

import calendar
import datetime as dt
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .codes import CODES, RULES_DIR
from .model import RESULTS, AccessItem, Facts, Result, Upcoming

BENEFIT = "benefit_regime"
COVERED = (
    "beschaeftigung",
    "integrationskurs",
    "bab",
    "bvb",
    "sgb8_41",
)

# A compiled condition answers True/False, or the name of the missing fact.
Check = Callable[["Ctx"], "bool | str"]


def add_months(d: dt.date, months: int) -> dt.date:
    """``d`` plus ``months`` calendar months (clamped to the month's last day)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def add_years(d: dt.date, years: int) -> dt.date:
    return add_months(d, 12 * years)


def end_of_month(d: dt.date) -> dt.date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


class Ctx:
    """The facts seen on one date, with derived values computed on demand."""

    def __init__(self, facts: Facts, on: dt.date) -> None:
        self.facts = facts
        self.on = on
        self.index: int | None = None
        for i, p in enumerate(facts.status_history):
            if p.start <= on and (p.end is None or on <= p.end):
                self.index = i
        self.status = facts.status_history[self.index].status if self.index is not None else None
        b = facts.birth_date
        self.age = on.year - b.year - ((on.month, on.day) < (b.month, b.day))

    def chain_start(self, group: frozenset[str]) -> dt.date | None:
        """Start of the uninterrupted run of periods in ``group`` that includes ``on``."""
        if self.index is None:
            return None
        hist = self.facts.status_history
        i = self.index
        if hist[i].status not in group:
            return None
        while i > 0:
            prev = hist[i - 1]
            if prev.status not in group or prev.end is None:
                break
            if prev.end + dt.timedelta(days=1) != hist[i].start:
                break
            i -= 1
        return hist[i].start


def _reached(start: dt.date | None, months: int, on: dt.date, missing: str) -> bool | str:
    if start is None:
        return missing
    return on >= add_months(start, months)


def _statuses(values: Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for v in values:
        if v.startswith("@"):
            out |= CODES.groups[v[1:]]
        elif v in CODES.statuses:
            out.add(v)
        else:
            raise ValueError(f"unknown status code or group {v!r}")
    return frozenset(out)


def _compile_condition(key: str, value: Any) -> Check:
    if key == "status":
        codes = _statuses(value)
        return lambda c: "status_history" if c.status is None else c.status in codes
    if key == "age_min":
        return lambda c: c.age >= value
    if key == "age_below":
        return lambda c: c.age < value
    if key in ("entry_before", "application_after"):
        limit = dt.date.fromisoformat(value)
        if key == "entry_before":
            return lambda c: (
                "entry_date" if c.facts.entry_date is None else c.facts.entry_date < limit
            )

        def after(c: Ctx) -> bool | str:
            d = c.facts.flags.get("asylum_application_date")
            return "flags.asylum_application_date" if d is None else d > limit

        return after
    if key == "safe_country":
        want = bool(value)
        return lambda c: (
            "nationality"
            if c.facts.nationality is None
            else CODES.is_safe_country(c.facts.nationality, c.on) == want
        )
    if key in ("flags_true", "flags_false"):
        names, want = tuple(value), key == "flags_true"

        def flags(c: Ctx) -> bool | str:
            missing = []
            for n in names:
                v = c.facts.flags.get(n)
                if v is None:
                    missing.append(f"flags.{n}")
                elif bool(v) != want:
                    return False
            return ",".join(missing) if missing else True

        return flags
    if key == "asylblg_status":
        want = bool(value)
        asyl, prot = CODES.groups["asylblg"], CODES.groups["protection"]

        def asylblg_status(c: Ctx) -> bool | str:
            if c.index is None:
                return "status_history"
            start = c.facts.status_history[c.index].start
            covered = c.status in asyl or (c.status in prot and c.on <= end_of_month(start))
            return covered == want

        return asylblg_status
    if key == "status_month_ended":
        want = bool(value)

        def month_ended(c: Ctx) -> bool | str:
            if c.index is None:
                return "status_history"
            start = c.facts.status_history[c.index].start
            return (c.on > end_of_month(start)) == want

        return month_ended
    for base, source in (
        ("months_since_entry", "entry"),
        ("months_since_application", "application"),
        ("months_in_status", "status"),
        ("months_lawful_stay", "lawful"),
        ("months_tolerated", "tolerated"),
    ):
        if key in (f"{base}_min", f"{base}_below"):
            months, is_min = int(value), key.endswith("_min")
            start_of = _start_getter(source)

            def since(c: Ctx, start_of=start_of, months=months, is_min=is_min) -> bool | str:
                start, missing = start_of(c)
                r = _reached(start, months, c.on, missing)
                return r if isinstance(r, str) else (r if is_min else not r)

            return since
    raise ValueError(f"unknown condition {key!r}")


def _start_getter(source: str) -> Callable[[Ctx], tuple[dt.date | None, str]]:
    if source == "entry":
        return lambda c: (c.facts.entry_date, "entry_date")
    if source == "application":
        return lambda c: (
            c.facts.flags.get("asylum_application_date"),
            "flags.asylum_application_date",
        )
    if source == "status":  # uninterrupted run of the same status (renewals included)
        return lambda c: (
            None if c.status is None else c.chain_start(frozenset({c.status})),
            "status_history",
        )
    group = CODES.groups["lawful_or_tolerated" if source == "lawful" else "duldung"]
    return lambda c: (c.chain_start(group), "status_history")


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    result: str
    citation: str
    explanation: str
    source: str
    valid_from: dt.date
    valid_to: dt.date | None
    checks: tuple[Check, ...]
    conditions: dict[str, Any]

    def valid_on(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)

    def test(self, c: Ctx) -> bool | list[str]:
        """True if all conditions hold; False if one fails; else the missing facts."""
        missing: list[str] = []
        for check in self.checks:
            r = check(c)
            if r is False:
                return False
            if isinstance(r, str):
                missing.extend(r.split(","))
        return missing or True


@dataclass(frozen=True)
class Overlay:
    id: str
    category: str
    results: frozenset[str]
    available: bool
    note: str
    source: str
    valid_from: dt.date
    valid_to: dt.date | None

    def valid_on(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


@dataclass(frozen=True)
class RuleSet:
    rules: dict[str, tuple[Rule, ...]]  # by category, in evaluation order
    overlays: tuple[Overlay, ...]
    change_dates: tuple[dt.date, ...]  # all valid_from / valid_to+1 dates


def _d(v: Any) -> dt.date | None:
    if v is None or v == "":
        return None
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))


def _compile_rule(raw: dict[str, Any], where: str) -> Rule:
    for key in ("id", "category", "result", "citation", "explanation", "source", "valid_from"):
        if key not in raw:
            raise ValueError(f"{where}: rule is missing {key!r}")
    cat, result = raw["category"], raw["result"]
    if cat == BENEFIT:
        if result not in CODES.regimes:
            raise ValueError(f"{where} {raw['id']}: unknown regime {result!r}")
    elif cat not in CODES.categories:
        raise ValueError(f"{where} {raw['id']}: unknown category {cat!r}")
    elif result not in RESULTS:
        raise ValueError(f"{where} {raw['id']}: unknown result {result!r}")
    when = dict(raw.get("when", {}))
    valid_from = _d(raw["valid_from"])
    assert valid_from is not None
    return Rule(
        id=raw["id"],
        category=cat,
        result=result,
        citation=raw["citation"],
        explanation=" ".join(raw["explanation"].split()),
        source=raw["source"],
        valid_from=valid_from,
        valid_to=_d(raw.get("valid_to")),
        checks=tuple(_compile_condition(k, v) for k, v in when.items()),
        conditions=when,
    )


def compile_rule_set(directory: Path = RULES_DIR) -> RuleSet:
    """Parse and compile every ``*.toml`` rule file of ``directory`` (once)."""
    by_cat: dict[str, list[Rule]] = {}
    overlays: list[Overlay] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("*.toml")):
        if path.name == "codes.toml":
            continue
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        for r in raw.get("rule", []):
            rule = _compile_rule(r, path.name)
            if rule.id in seen:
                raise ValueError(f"{path.name}: duplicate rule id {rule.id!r}")
            seen.add(rule.id)
            by_cat.setdefault(rule.category, []).append(rule)
        for o in raw.get("overlay", []):
            vf = _d(o["valid_from"])
            assert vf is not None
            overlays.append(
                Overlay(
                    id=o["id"],
                    category=o["category"],
                    results=frozenset(o["results"]),
                    available=bool(o["available"]),
                    note=" ".join(o["note"].split()),
                    source=o["source"],
                    valid_from=vf,
                    valid_to=_d(o.get("valid_to")),
                )
            )
    dates: set[dt.date] = set()
    for rules in by_cat.values():
        for rule in rules:
            dates.add(rule.valid_from)
            if rule.valid_to:
                dates.add(rule.valid_to + dt.timedelta(days=1))
    for o in overlays:
        dates.add(o.valid_from)
    return RuleSet(
        rules={k: tuple(v) for k, v in by_cat.items()},
        overlays=tuple(overlays),
        change_dates=tuple(sorted(dates)),
    )


@cache
def load_rule_set() -> RuleSet:
    return compile_rule_set()


@dataclass(frozen=True)
class Decision:
    result: str
    rule: Rule | None
    missing: tuple[str, ...] = ()


def decide(rules: tuple[Rule, ...], c: Ctx) -> Decision:
    for rule in rules:
        if not rule.valid_on(c.on):
            continue
        r = rule.test(c)
        if r is True:
            return Decision(rule.result, rule)
        if r is not False:
            return Decision("unknown", rule, tuple(dict.fromkeys(r)))
    return Decision("unknown", None)


def _item(category: str, d: Decision, rs: RuleSet, on: dt.date) -> AccessItem:
    if d.rule is None:
        item = AccessItem(
            category=category,
            result="unknown",
            rule_id=f"{category}.not_covered",
            citation="",
            explanation="The rule set has no rule for these facts on this date; "
            "check the case individually.",
        )
    elif d.missing:
        item = AccessItem(
            category=category,
            result="unknown",
            rule_id=d.rule.id,
            citation=d.rule.citation,
            explanation=f"Cannot decide without: {', '.join(d.missing)}. "
            f"Rule in question: {d.rule.explanation}",
            missing=d.missing,
        )
    else:
        item = AccessItem(
            category=category,
            result=d.result,
            rule_id=d.rule.id,
            citation=d.rule.citation,
            explanation=d.rule.explanation,
        )
    for o in rs.overlays:
        if o.category == category and item.result in o.results and o.valid_on(on):
            item = AccessItem(
                category=item.category,
                result=item.result,
                rule_id=item.rule_id,
                citation=item.citation,
                explanation=item.explanation,
                available=o.available,
                availability_note=o.note,
                missing=item.missing,
            )
            break
    return item


def _evaluate_now(facts: Facts, on: dt.date, rs: RuleSet) -> tuple[Ctx, Decision, list[AccessItem]]:
    c = Ctx(facts, on)
    benefit = decide(rs.rules.get(BENEFIT, ()), c)
    items = [_item(cat, decide(rs.rules.get(cat, ()), c), rs, on) for cat in COVERED]
    return c, benefit, items


def evaluate(
    facts: Facts, on: dt.date, *, rule_set: RuleSet | None = None, with_upcoming: bool = True
) -> Result:
    """Evaluate ``facts`` on ``on`` under the law valid on that date.

    ``with_upcoming=False`` skips the look-ahead (for batch statistics)."""
    rs = rule_set or load_rule_set()
    c, benefit, items = _evaluate_now(facts, on, rs)
    return Result(
        on=on,
        status=c.status,
        benefit_regime=benefit.result if benefit.rule and not benefit.missing else None,
        access=tuple(items),
        upcoming=tuple(_upcoming(facts, c, benefit, items, rs)) if with_upcoming else (),
    )


AGE_EVENTS = {
    18: "Turns 18: adult; § 41 SGB VIII help for young adults becomes the basis for youth welfare.",
    21: "Turns 21: § 41 SGB VIII help ends as a rule; continuation only in justified cases.",
    25: "Turns 25: end of the 'U25' age band used by Jobcenter/Agentur programmes.",
    27: "Turns 27: leaves the target group (18–27); § 41 SGB VIII help ends at the latest.",
}
HORIZON_YEARS = 6


def _upcoming(
    facts: Facts, c: Ctx, benefit: Decision, items: list[AccessItem], rs: RuleSet
) -> list[Upcoming]:
    on = c.on
    out: list[Upcoming] = []
    for age, text in AGE_EVENTS.items():
        d = add_years(facts.birth_date, age)
        if d > on:
            out.append(Upcoming(d, f"age_{age}", text))
    status_end: dt.date | None = None
    if c.index is not None:
        period = facts.status_history[c.index]
        status_end = period.end
        if status_end is not None:
            out.append(
                Upcoming(
                    status_end,
                    "status_end",
                    f"The current status '{period.status}' ends on this day; a renewal or "
                    "new status is needed. Later transitions assume it continues.",
                )
            )
    # Transitions: re-evaluate on candidate dates, assuming the current status continues.
    horizon = add_years(on, HORIZON_YEARS)
    limit = min(horizon, status_end) if status_end else horizon
    starts: list[dt.date] = [add_years(facts.birth_date, a) for a in (18, 21, 27)]
    if facts.entry_date:
        starts += [add_months(facts.entry_date, m) for m in (3, 6, 9, 15, 18, 36)]
    appl = facts.flags.get("asylum_application_date")
    if isinstance(appl, dt.date):
        starts += [add_months(appl, m) for m in (3, 6, 9)]
    if c.index is not None:
        start = facts.status_history[c.index].start
        starts += [add_months(start, m) for m in (3, 9, 12, 15)]
        starts.append(end_of_month(start) + dt.timedelta(days=1))
        for group in ("lawful_or_tolerated", "duldung"):
            chain = c.chain_start(CODES.groups[group])
            if chain:
                starts += [add_months(chain, m) for m in (3, 9, 15)]
    starts += list(rs.change_dates)
    prev_benefit = benefit.result if benefit.rule and not benefit.missing else None
    prev = {it.category: (it.result, it.available) for it in items}
    for d in sorted({s for s in starts if on < s <= limit}):
        _, b, its = _evaluate_now(facts, d, rs)
        regime = b.result if b.rule and not b.missing else None
        if regime != prev_benefit and regime is not None and b.rule:
            out.append(
                Upcoming(
                    d,
                    f"benefit_{regime}",
                    f"Benefit regime becomes {regime} ({b.rule.citation}): {b.rule.explanation}",
                )
            )
        prev_benefit = regime
        for it in its:
            key = (it.result, it.available)
            if key != prev[it.category] and it.result != "unknown":
                note = (
                    f" Not available in practice: {it.availability_note}"
                    if (it.available is False)
                    else ""
                )
                out.append(
                    Upcoming(
                        d,
                        f"{it.category}_{it.result}",
                        f"{it.category} becomes "
                        f"{it.result} ({it.citation}): {it.explanation}{note}",
                    )
                )
            prev[it.category] = key
    out.sort(key=lambda u: (u.date, u.event))
    return out
