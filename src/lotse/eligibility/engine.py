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

import bisect
import calendar
import datetime as dt
import hashlib
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from .codes import RULES_DIR, Codes, load_codes
from .model import GERMAN_LEVELS, RESULTS, AccessItem, Facts, Result, Upcoming

BENEFIT = "benefit_regime"

# A compiled condition answers True/False, or the name of the missing fact.
Check = Callable[["Ctx"], "bool | str"]


def add_months(d: dt.date, months: int) -> dt.date:
    """``d`` plus ``months`` calendar months (clamped to the month's last day)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def add_years(d: dt.date, years: int) -> dt.date:
    return add_months(d, 12 * years)


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def end_of_month(d: dt.date) -> dt.date:
    if d.month == 2 and calendar.isleap(d.year):
        return d.replace(day=29)
    return d.replace(day=_MONTH_DAYS[d.month - 1])


class Ctx:
    """The facts seen on one date, with derived values computed on demand."""

    def __init__(self, facts: Facts, on: dt.date) -> None:
        self.facts = facts
        self.on = on
        self.index: int | None = None
        self.status: str | None = None
        for i, p in enumerate(facts.status_history):
            if p.start <= on and (p.end is None or on <= p.end):
                self.index, self.status = i, p.status
        b = facts.birth_date
        self.age = on.year - b.year - ((on.month, on.day) < (b.month, b.day))
        self._months: dict[dt.date, int] = {}
        self._chains: dict[frozenset[str], dt.date | None] = {}

    def months_since(self, start: dt.date) -> int:
        """Whole calendar months from ``start`` to ``on`` (as :func:`add_months` counts)."""
        n = self._months.get(start)
        if n is None:
            on = self.on
            n = (on.year - start.year) * 12 + on.month - start.month
            if start.day <= 28:  # no month-end clamping: compare the days
                n -= on.day < start.day
            elif add_months(start, n) > on:
                n -= 1
            self._months[start] = n
        return n

    def chain_start(self, group: frozenset[str]) -> dt.date | None:
        """Start of the uninterrupted run of periods in ``group`` that includes ``on``."""
        if group in self._chains:
            return self._chains[group]
        start = self._chain_start(group)
        self._chains[group] = start
        return start

    def _chain_start(self, group: frozenset[str]) -> dt.date | None:
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


def _statuses(values: Iterable[str], codes: Codes) -> frozenset[str]:
    out: set[str] = set()
    for v in values:
        if v.startswith("@"):
            if v[1:] not in codes.groups:
                raise ValueError(f"unknown status group {v!r}")
            out |= codes.groups[v[1:]]
        elif v in codes.statuses:
            out.add(v)
        else:
            raise ValueError(f"unknown status code or group {v!r}")
    return frozenset(out)


def _flag_date(name: str) -> Callable[[Ctx], tuple[dt.date | None, str]]:
    return lambda c: (c.facts.flags.get(name), f"flags.{name}")


def _compile_condition(key: str, value: Any, codes: Codes) -> Check:
    if key.startswith("not_"):  # negation; a missing fact stays missing
        inner = _compile_condition(key[4:], value, codes)

        def negated(c: Ctx) -> bool | str:
            r = inner(c)
            return r if isinstance(r, str) else not r

        return negated
    if key == "status":
        members = _statuses(value, codes)
        return lambda c: "status_history" if c.status is None else c.status in members
    if key == "age_min":
        return lambda c: c.age >= value
    if key == "age_below":
        return lambda c: c.age < value
    if key in ("entry_before", "entry_from"):
        limit, before = dt.date.fromisoformat(value), key == "entry_before"
        return lambda c: (
            "entry_date" if c.facts.entry_date is None else (c.facts.entry_date < limit) == before
        )
    if key == "application_after":
        limit = dt.date.fromisoformat(value)

        def after(c: Ctx) -> bool | str:
            d = c.facts.flags.get("asylum_application_date")
            return "flags.asylum_application_date" if d is None else d > limit

        return after
    if key == "safe_country":
        want = bool(value)
        return lambda c: (
            "nationality"
            if c.facts.nationality is None
            else codes.is_safe_country(c.facts.nationality, c.on) == want
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
    if key == "flag_min":  # {name = number}: numeric flags at least the number
        limits = {str(k): float(v) for k, v in dict(value).items()}

        def flag_min(c: Ctx) -> bool | str:
            missing = []
            for n, limit in limits.items():
                v = c.facts.flags.get(n)
                if v is None:
                    missing.append(f"flags.{n}")
                elif v < limit:
                    return False
            return ",".join(missing) if missing else True

        return flag_min
    if key in ("german_min", "german_below"):
        if value not in GERMAN_LEVELS:
            raise ValueError(f"{key}: unknown level {value!r}")
        rank, is_min = GERMAN_LEVELS.index(value), key == "german_min"

        def german(c: Ctx) -> bool | str:
            level = c.facts.flags.get("german_level")
            if level is None:
                return "flags.german_level"
            return (GERMAN_LEVELS.index(level) >= rank) == is_min

        return german
    if key in ("months_since_flag_min", "months_since_flag_below"):
        # {flag_name = months}: a date flag lies at least / less than N months back
        spans = [(_flag_date(str(k)), int(v)) for k, v in dict(value).items()]
        is_min = key.endswith("_min")

        def since_flag(c: Ctx) -> bool | str:
            missing = []
            for getter, months in spans:
                start, name = getter(c)
                if start is None:
                    missing.append(name)
                elif (c.months_since(start) >= months) != is_min:
                    return False
            return ",".join(missing) if missing else True

        return since_flag
    if key == "started_during":  # {flag = "training_since", status = [..]}
        getter = _flag_date(str(value["flag"]))
        members = _statuses(value["status"], codes)

        def started_during(c: Ctx) -> bool | str:
            day, name = getter(c)
            if day is None:
                return name
            return any(
                p.status in members and p.start <= day and (p.end is None or day <= p.end)
                for p in c.facts.status_history
            )

        return started_during
    if key == "asylblg_status":
        want = bool(value)
        asyl, prot = codes.groups["asylblg"], codes.groups["protection"]

        def asylblg_status(c: Ctx) -> bool | str:
            if c.index is None:
                return "status_history"
            if c.status in asyl:
                return want
            hist = c.facts.status_history
            start = hist[c.index].start
            # § 1 Abs. 3 AsylbLG: benefits end with the month in which the status that
            # gave them ends (recognition, or any title after an AsylbLG status).
            in_month = c.on <= end_of_month(start) and (
                c.status in prot or (c.index > 0 and hist[c.index - 1].status in asyl)
            )
            return in_month == want

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
            start_of = _start_getter(source, codes)

            def since(c: Ctx, start_of=start_of, months=months, is_min=is_min) -> bool | str:
                start, missing = start_of(c)
                if start is None:  # unknown, or not in such a period at all ("")
                    return missing or not is_min
                return (c.months_since(start) >= months) == is_min

            return since
    raise ValueError(f"unknown condition {key!r}")


def _start_getter(source: str, codes: Codes) -> Callable[[Ctx], tuple[dt.date | None, str]]:
    if source == "entry":
        return lambda c: (c.facts.entry_date, "entry_date")
    if source == "application":
        return _flag_date("asylum_application_date")
    if source == "status":  # uninterrupted run of the same status (renewals included)
        return lambda c: (
            None if c.status is None else c.chain_start(frozenset({c.status})),
            "status_history",
        )
    group = codes.groups["lawful_or_tolerated" if source == "lawful" else "duldung"]
    # A known status outside the group: no such period ("" = nothing missing).
    return lambda c: (c.chain_start(group), "status_history" if c.status is None else "")


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
    file: str = ""
    explanation_de: str = ""  # German text for the pages (the JSON contract stays English)
    # The status codes the rule is limited to (None: any status); used for indexing.
    statuses: frozenset[str] | None = None
    # The checks other than the status check (the index has already decided it).
    rest: tuple[Check, ...] = ()

    def valid_on(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


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
    file: str = ""
    note_de: str = ""

    def valid_on(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


@dataclass(frozen=True, slots=True)
class Decision:
    result: str
    rule: Rule | None
    missing: tuple[str, ...] = ()


UNDECIDED = Decision("unknown", None)

# The rules to try for one category and status, in order: the checks still to run
# and the decision if they all hold. A lone Decision: the outcome needs no check.
Entries = tuple[tuple[tuple[Check, ...], Decision], ...] | Decision
# For one period between change dates: category -> status (None = not known) -> entries.
Plan = dict[str, dict[str | None, Entries]]


@dataclass(frozen=True)
class RuleSet:
    codes: Codes
    rules: dict[str, tuple[Rule, ...]]  # by category, in evaluation order
    overlays: tuple[Overlay, ...]
    change_dates: tuple[dt.date, ...]  # all valid_from / valid_to+1 dates
    plans: tuple[Plan, ...]  # plans[i] holds from change_dates[i-1] (inclusive) on
    meta: dict[str, Any]
    directory: Path
    digest: str
    months: frozenset[int] = frozenset()  # month counts used by conditions
    ages: frozenset[int] = frozenset()  # ages used by conditions

    @property
    def categories(self) -> tuple[str, ...]:
        return self.codes.categories

    def plan(self, on: dt.date) -> Plan:
        return self.plans[bisect.bisect_right(self.change_dates, on)]

    def all_rules(self) -> list[Rule]:
        return [r for rules in self.rules.values() for r in rules]

    @cached_property
    def by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.all_rules()}


def _d(v: Any) -> dt.date | None:
    if v is None or v == "":
        return None
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))


RULE_KEYS = frozenset(
    {
        "id",
        "category",
        "result",
        "citation",
        "explanation",
        "explanation_de",
        "source",
        "valid_from",
        "valid_to",
    }
)


def _compile_rule(raw: dict[str, Any], where: str, codes: Codes) -> Rule:
    for key in ("id", "category", "result", "citation", "explanation", "source", "valid_from"):
        if key not in raw:
            raise ValueError(f"{where}: rule is missing {key!r}")
    extra = set(raw) - RULE_KEYS - {"when"}
    if extra:
        raise ValueError(f"{where} {raw['id']}: unknown keys {sorted(extra)}")
    cat, result = raw["category"], raw["result"]
    if cat == BENEFIT:
        if result not in codes.regimes:
            raise ValueError(f"{where} {raw['id']}: unknown regime {result!r}")
    elif cat not in codes.categories:
        raise ValueError(f"{where} {raw['id']}: unknown category {cat!r}")
    elif result not in RESULTS:
        raise ValueError(f"{where} {raw['id']}: unknown result {result!r}")
    when = dict(raw.get("when", {}))
    valid_from, valid_to = _d(raw["valid_from"]), _d(raw.get("valid_to"))
    assert valid_from is not None
    if valid_to is not None and valid_to < valid_from:
        raise ValueError(f"{where} {raw['id']}: valid_to before valid_from")
    try:
        checks = {k: _compile_condition(k, v, codes) for k, v in when.items()}
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"{where} {raw['id']}: {exc}") from exc
    return Rule(
        id=raw["id"],
        category=cat,
        result=result,
        citation=raw["citation"],
        explanation=" ".join(raw["explanation"].split()),
        source=" ".join(raw["source"].split()),
        valid_from=valid_from,
        valid_to=valid_to,
        checks=tuple(checks.values()),
        conditions=when,
        file=where,
        explanation_de=" ".join(raw.get("explanation_de", "").split()),
        statuses=_statuses(when["status"], codes) if "status" in when else None,
        rest=tuple(ch for k, ch in checks.items() if k != "status"),
    )


def _entries_for(pairs: list[tuple[tuple[Check, ...], Rule]]) -> Entries:
    out: list[tuple[tuple[Check, ...], Decision]] = []
    for checks, rule in pairs:
        out.append((checks, Decision(rule.result, rule)))
        if not checks:  # always matches: later rules are never reached
            break
    if not out:
        return UNDECIDED
    if not out[0][0]:
        return out[0][1]
    return tuple(out)


def _plan(rules: dict[str, tuple[Rule, ...]], codes: Codes, on: dt.date) -> Plan:
    plan: Plan = {}
    for cat, cat_rules in rules.items():
        valid = [r for r in cat_rules if r.valid_on(on)]
        by_status: dict[str | None, Entries] = {
            status: _entries_for(
                [(r.rest, r) for r in valid if r.statuses is None or status in r.statuses]
            )
            for status in codes.statuses
        }
        by_status[None] = _entries_for([(r.checks, r) for r in valid])
        plan[cat] = by_status
    return plan


NON_RULE_FILES = ("codes.toml", "ruleset.toml")


def _digest(directory: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(directory.glob("*.toml")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def compile_rule_set(directory: Path = RULES_DIR) -> RuleSet:
    """Parse and compile every ``*.toml`` rule file of ``directory`` (once).

    ``directory/codes.toml`` replaces the packaged code lists when present;
    ``ruleset.toml`` describes the set (name, version, review). Raises
    ``ValueError`` naming the file and rule for anything it cannot compile."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"{directory}: not a directory")
    codes_path = directory / "codes.toml"
    codes = load_codes(codes_path) if codes_path.exists() else load_codes()
    meta_path = directory / "ruleset.toml"
    meta: dict[str, Any] = {}
    if meta_path.exists():
        meta = dict(tomllib.loads(meta_path.read_text(encoding="utf-8")).get("ruleset", {}))
    by_cat: dict[str, list[Rule]] = {}
    overlays: list[Overlay] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("*.toml")):
        if path.name in NON_RULE_FILES:
            continue
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path.name}: {exc}") from exc
        for r in raw.get("rule", []):
            rule = _compile_rule(r, path.name, codes)
            if rule.id in seen:
                raise ValueError(f"{path.name}: duplicate rule id {rule.id!r}")
            seen.add(rule.id)
            by_cat.setdefault(rule.category, []).append(rule)
        for o in raw.get("overlay", []):
            vf = _d(o.get("valid_from"))
            if vf is None or o.get("category") not in codes.categories:
                raise ValueError(f"{path.name} {o.get('id')}: overlay needs valid_from, category")
            overlays.append(
                Overlay(
                    id=o["id"],
                    category=o["category"],
                    results=frozenset(o["results"]),
                    available=bool(o["available"]),
                    note=" ".join(o["note"].split()),
                    source=" ".join(o["source"].split()),
                    valid_from=vf,
                    valid_to=_d(o.get("valid_to")),
                    file=path.name,
                    note_de=" ".join(o.get("note_de", "").split()),
                )
            )
    if not seen:
        raise ValueError(f"{directory}: no rules found")
    dates: set[dt.date] = set()
    for rules in by_cat.values():
        for rule in rules:
            dates.add(rule.valid_from)
            if rule.valid_to:
                dates.add(rule.valid_to + dt.timedelta(days=1))
    for o in overlays:
        dates.add(o.valid_from)
        if o.valid_to:
            dates.add(o.valid_to + dt.timedelta(days=1))
    change_dates = tuple(sorted(dates))
    compiled = {k: tuple(v) for k, v in by_cat.items()}
    months: set[int] = set()
    ages: set[int] = set()
    for compiled_rules in compiled.values():
        for rule in compiled_rules:
            for key, value in rule.conditions.items():
                key = key.removeprefix("not_")
                if key.startswith("months_since_flag"):
                    months.update(int(v) for v in dict(value).values())
                elif key.startswith("months_"):
                    months.add(int(value))
                elif key in ("age_min", "age_below"):
                    ages.add(int(value))
    starts = (dt.date.min, *change_dates)
    return RuleSet(
        codes=codes,
        rules=compiled,
        overlays=tuple(overlays),
        change_dates=change_dates,
        plans=tuple(_plan(compiled, codes, d) for d in starts),
        meta=meta,
        directory=directory,
        digest=_digest(directory),
        months=frozenset(months),
        ages=frozenset(ages),
    )


@cache
def _load(directory: str) -> RuleSet:
    return compile_rule_set(Path(directory))


def load_rule_set(directory: str | Path | None = None) -> RuleSet:
    """The compiled rule set of ``directory`` (default: the packaged one), cached."""
    return _load(str(Path(directory or RULES_DIR).resolve()))


def _entries(by_status: dict[str | None, Entries], status: str | None) -> Entries:
    # A status the code lists do not know falls back to the full checks (never a match).
    found = by_status.get(status)
    return by_status[None] if found is None else found


def decide(entries: Entries, c: Ctx) -> Decision:
    """The first rule whose checks all hold; stops at the first that cannot be decided."""
    if entries.__class__ is Decision:
        return entries
    for checks, decision in entries:  # type: ignore[union-attr]
        missing: list[str] | None = None
        for check in checks:
            r = check(c)
            if r is False:
                break
            if r is not True:
                if missing is None:
                    missing = []
                missing.extend(r.split(","))
        else:
            if missing is None:
                return decision
            return Decision("unknown", decision.rule, tuple(dict.fromkeys(missing)))
    return UNDECIDED


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
            return replace(item, available=o.available, availability_note=o.note)
    return item


def _decisions(facts: Facts, on: dt.date, rs: RuleSet) -> tuple[Ctx, Decision, list[Decision]]:
    c = Ctx(facts, on)
    plan = rs.plan(on)
    status = c.status
    benefit = decide(_entries(plan[BENEFIT], status), c) if BENEFIT in plan else UNDECIDED
    decisions = [
        decide(_entries(plan[cat], status), c) if cat in plan else UNDECIDED
        for cat in rs.codes.categories
    ]
    return c, benefit, decisions


def _evaluate_now(facts: Facts, on: dt.date, rs: RuleSet) -> tuple[Ctx, Decision, list[AccessItem]]:
    c, benefit, decisions = _decisions(facts, on, rs)
    items = [_item(cat, d, rs, on) for cat, d in zip(rs.codes.categories, decisions, strict=True)]
    return c, benefit, items


def _regime(d: Decision) -> str | None:
    return d.result if d.rule is not None and not d.missing else None


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
        benefit_regime=_regime(benefit),
        access=tuple(items),
        upcoming=tuple(_upcoming(facts, c, benefit, items, rs)) if with_upcoming else (),
    )


def evaluate_category(
    facts: Facts, on: dt.date, category: str, *, rule_set: RuleSet | None = None
) -> AccessItem:
    """One category on one date (for matching offers: no other category, no look-ahead)."""
    rs = rule_set or load_rule_set()
    c = Ctx(facts, on)
    plan = rs.plan(on)
    decision = decide(_entries(plan[category], c.status), c) if category in plan else UNDECIDED
    return _item(category, decision, rs, on)


def breakpoints(facts: Facts, rs: RuleSet, start: dt.date, end: dt.date) -> list[dt.date]:
    """Every day in (start, end] on which a rule condition may change its value for
    these facts: the rule set's month counts after each anchor date (entry, asylum
    application, date flags, period starts), the ages it uses, period boundaries, the
    month after a period began, and the law's change dates. Between two of them every
    result is constant, so a result on any day is the result on the last breakpoint."""
    anchors: set[dt.date] = {p.start for p in facts.status_history}
    if facts.entry_date:
        anchors.add(facts.entry_date)
    anchors.update(v for v in facts.flags.values() if isinstance(v, dt.date))
    dates: set[dt.date] = {add_months(a, m) for a in anchors for m in rs.months}
    dates.update(add_years(facts.birth_date, age) for age in rs.ages)
    for p in facts.status_history:
        dates.add(p.start)
        dates.add(end_of_month(p.start) + dt.timedelta(days=1))
        if p.end is not None:
            dates.add(p.end + dt.timedelta(days=1))
    dates.update(rs.change_dates)
    return sorted(d for d in dates if start < d <= end)


class CategoryTimeline:
    """Results of some categories for one person from ``start`` to ``end``: constant
    between two breakpoints of the facts (:func:`breakpoints`), so a result on any day
    is the one evaluated on the last breakpoint up to that day. Evaluated lazily, once
    per breakpoint and category actually asked for (matching many offers whose start
    dates fall on a few breakpoints)."""

    def __init__(
        self,
        facts: Facts,
        categories: Iterable[str],
        start: dt.date,
        end: dt.date,
        rule_set: RuleSet | None = None,
    ) -> None:
        self.facts = facts
        self.rule_set = rule_set or load_rule_set()
        self.categories = tuple(dict.fromkeys(categories))
        self._known = frozenset(self.categories)
        self.days = [start, *breakpoints(facts, self.rule_set, start, max(start, end))]
        self._ctx: dict[int, Ctx] = {}
        self._items: dict[tuple[str, int], AccessItem] = {}

    def index(self, on: dt.date) -> int:
        """The breakpoint whose results hold on ``on`` (the first for earlier days)."""
        return max(bisect.bisect_right(self.days, on) - 1, 0)

    def _ctx_at(self, i: int) -> Ctx:
        c = self._ctx.get(i)
        if c is None:
            c = self._ctx[i] = Ctx(self.facts, self.days[i])
        return c

    def item_at(self, category: str, i: int) -> AccessItem:
        """The result of ``category`` from breakpoint ``i`` on (:meth:`index`)."""
        key = (category, i)
        found = self._items.get(key)
        if found is None:
            if category not in self._known:
                raise KeyError(category)
            day, c, rs = self.days[i], self._ctx_at(i), self.rule_set
            entries = rs.plan(day).get(category)
            decision = decide(_entries(entries, c.status), c) if entries else UNDECIDED
            found = self._items[key] = _item(category, decision, rs, day)
        return found

    def status_at(self, i: int) -> str | None:
        return self._ctx_at(i).status

    def item(self, category: str, on: dt.date) -> AccessItem:
        return self.item_at(category, self.index(on))

    def status(self, on: dt.date) -> str | None:
        return self.status_at(self.index(on))

    @property
    def items(self) -> dict[str, list[AccessItem]]:
        """Every category on every breakpoint (evaluates all of them)."""
        n = len(self.days)
        return {c: [self.item_at(c, i) for i in range(n)] for c in self.categories}

    @property
    def statuses(self) -> list[str | None]:
        return [self.status_at(i) for i in range(len(self.days))]


def evaluate_batch(
    facts: Iterable[Facts], on: dt.date, *, rule_set: RuleSet | None = None
) -> list[tuple[str | None, tuple[str, ...]]]:
    """For statistics: (benefit regime, one result code per category) for each facts.

    Skips building explanations and the look-ahead; same decisions as :func:`evaluate`."""
    rs = rule_set or load_rule_set()
    plan = rs.plan(on)
    benefit_plan = plan.get(BENEFIT)
    # Per status: the benefit entries and those of each category; an outcome that
    # needs no check is replaced by its value, and a status whose outcomes all need
    # no check gets its whole answer precomputed.
    rows: dict[str | None, tuple[Any, tuple[Any, ...]]] = {}
    done: dict[str | None, tuple[str | None, tuple[str, ...]]] = {}
    for status in (None, *rs.codes.statuses):
        b = _entries(benefit_plan, status) if benefit_plan else UNDECIDED
        cats = tuple(
            _entries(plan[cat], status) if cat in plan else UNDECIDED for cat in rs.codes.categories
        )
        b_value: Any = _regime(b) if isinstance(b, Decision) else b
        values: tuple[Any, ...] = tuple(e.result if isinstance(e, Decision) else e for e in cats)
        if b.__class__ is Decision and all(e.__class__ is Decision for e in cats):
            done[status] = (b_value, values)
        rows[status] = (b_value, values)
    out: list[tuple[str | None, tuple[str, ...]]] = []
    append = out.append
    for f in facts:
        c = Ctx(f, on)
        status = c.status
        answer = done.get(status)
        if answer is not None:
            append(answer)
            continue
        entries, checked = rows.get(status) or rows[None]
        regime = _regime(decide(entries, c)) if entries.__class__ is tuple else entries
        results = [v if v.__class__ is str else decide(v, c).result for v in checked]
        append((regime, tuple(results)))
    return out


AGE_EVENTS = {
    18: "Turns 18: adult; § 41 SGB VIII help for young adults becomes the basis for youth welfare.",
    21: "Turns 21: § 41 SGB VIII help ends as a rule; continuation only in justified cases.",
    25: "Turns 25: end of the 'U25' age band used by Jobcenter/Agentur programmes.",
    27: "Turns 27: leaves the target group (18–27); § 41 SGB VIII help ends at the latest.",
}
HORIZON_YEARS = 6
# Categories that are a status to apply for: their turning positive is "reachable".
REACHABLE = frozenset({"ausbildungsduldung", "beschaeftigungsduldung"})


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
    for name in ("employed_since", "livelihood_secured_since", "training_since"):
        since = facts.flags.get(name)
        if isinstance(since, dt.date):
            starts += [add_months(since, m) for m in (3, 6, 12, 18)]
    if c.index is not None:
        start = facts.status_history[c.index].start
        starts += [add_months(start, m) for m in (3, 9, 12, 15)]
        starts.append(end_of_month(start) + dt.timedelta(days=1))
        for group in ("lawful_or_tolerated", "duldung"):
            chain = c.chain_start(rs.codes.groups[group])
            if chain:
                starts += [add_months(chain, m) for m in (3, 6, 9, 12, 15)]
    starts += list(rs.change_dates)
    prev_benefit = _regime(benefit)
    prev = {it.category: (it.result, it.available) for it in items}
    for d in sorted({s for s in starts if on < s <= limit}):
        _, b, its = _evaluate_now(facts, d, rs)
        regime = _regime(b)
        if regime != prev_benefit and regime is not None and b.rule:
            out.append(
                Upcoming(
                    d,
                    f"benefit_{regime}",
                    f"Benefit regime becomes {regime} ({b.rule.citation}): {b.rule.explanation}",
                    b.rule.id,
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
                reachable = it.category in REACHABLE and it.result in ("entitled", "admissible")
                out.append(
                    Upcoming(
                        d,
                        f"{it.category}_reachable" if reachable else f"{it.category}_{it.result}",
                        f"{it.category} becomes "
                        f"{it.result} ({it.citation}): {it.explanation}{note}",
                        it.rule_id,
                    )
                )
            prev[it.category] = key
    out.sort(key=lambda u: (u.date, u.event))
    return out
