"""Measure-career detection rules (issue #6; DESIGN §3 MeasureCareerFlag): the rules as
configuration, and their meaning as a plain-Python reference engine for one person.

Pure: no Django, no database, no polars. A rule is a frozen dataclass: its kind
(which detector runs), a code (what a flag records as its rule; unique within a rule
set), a name and an explanation for staff, ``enabled``, and the parameters of its
kind with the defaults of issue #6. :func:`rule_from_dict` builds one from a plain
dict — a JSON document or a coordinator-edited database row — and
:meth:`Rule.to_dict` writes it back; the two round-trip.

:func:`scan_person` applies the rules to one person's rows (the incremental update);
:mod:`lotse.referrals.careers_scan` applies them to all persons at once with polars
and gives the same flags. The code values below are the project's code lists
(``referrals.codes``, ``offers.codes``, ``casework.codes``) as plain strings; a test
keeps them equal.

Semantics shared by all rules ("as of ``today``"):

- participations starting after ``today`` and referrals sent after ``today`` are not
  seen (so a scan with an earlier ``today`` sees roughly the state of that day);
- a person's participations are ordered by ``(started_on, id)``; a running one
  counts as lasting until ``today``.

The rules:

1. ``cycle`` — at least ``min_count`` participations in ``categories`` whose starts
   lie within ``months`` calendar months (inclusive: starts exactly 24 months apart
   are within), with no exit event from the first start to the last end (or today)
   of those participations. Exit events of the person, in any category: a
   participation ending with a next step in ``exit_next_steps`` or reaching a level
   in ``exit_levels`` (dated by its end), a participation of ``exit_categories``
   starting (dated by its start). One flag for the latest such window; its evidence
   is the longest run of participations up to the window's last start that still
   satisfies the rule.
2. ``repetition`` — a participation with a level following (in the same category and
   level) an ended one that did not reach that level: not ``completed_certificate``,
   or a level reached below the offer's level on the same track (a certificate with
   no level reached recorded counts as reached). A transfer is no failure unless
   ``count_transfers``. One flag per category and level; evidence: the participations
   of the failed-and-repeated pairs.
3. ``no_progression`` — over the last ``n`` ended participations in ``categories``
   (ordered by end, start, id) the best level reached rose on neither track (CEFR
   A1 < … < C1; orientation < preparation < school certificate < qualification) above
   the best reached before them. Needs ``n`` ended participations.
4. ``gap`` — more than ``days`` days between the end of a person's participations in
   ``categories`` so far (the latest end of all earlier ones) and the next start, or
   until today when none is running; not when a participation (any category) ended
   on the gap's first day with a next step in ``exit_next_steps``, and not when a
   plan step was active in the gap: not cancelled, created on or before the gap's
   last day, and open/in progress or due on or after its first day; not when the gap
   ended more than ``within_months`` calendar months before today. The latest such
   gap per person; persons with an open case only.
5. ``waiting`` — a referral whose participation started more than the limit of its
   offer category after it was sent (``start − sent``), or one still waiting (sent,
   accepted, waitlisted) for more than the limit (``today − sent``). One flag per
   referral; persons with an open case only.
6. ``dropout_chain`` — at least ``n`` consecutive ended participations in
   ``categories`` (by start) were aborted. The latest such run per person.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from itertools import pairwise
from typing import Any, ClassVar, NamedTuple


def gettext_noop(message: str) -> str:
    """Marks a default name or explanation for `makemessages`; translated where shown."""
    return message


# --- code values (kept equal to the Django code lists by a test) -----------------------

LANGUAGE_LEVELS = ("A1", "A2", "B1", "B2", "C1")
QUALIFICATION_LEVELS = ("orientation", "preparation", "school_certificate", "qualification")
# Two tracks that are never compared with each other: CEFR and qualification stages.
TRACKS: dict[str, tuple[str, ...]] = {
    "language": LANGUAGE_LEVELS,
    "qualification": QUALIFICATION_LEVELS,
}
LEVEL_TRACK: dict[str, str] = {lv: t for t, levels in TRACKS.items() for lv in levels}
LEVEL_RANK: dict[str, int] = {lv: i for levels in TRACKS.values() for i, lv in enumerate(levels)}

EXIT_NEXT_STEPS = frozenset({"apprenticeship", "employment", "school_qualification", "study"})
CERTIFICATE = "completed_certificate"
ABORTED = "aborted"
TRANSFERRED = "transferred"
ACTIVE_STEP_STATUSES = frozenset({"open", "in_progress"})
CANCELLED_STEP = "cancelled"
# A referral sent but not (yet) started or closed: it is still waiting.
WAITING_REFERRAL_STATUSES = frozenset({"sent", "accepted", "waitlisted"})

# Measures in the sense of "Maßnahme-Karriere": language, preparation, orientation.
MEASURE_CATEGORIES = frozenset(
    {
        "integrationskurs",
        "berufssprachkurs",
        "sprachkurs",
        "bvb",
        "eq",
        "produktionsschule",
        "berufsorientierung",
        "arbeit",
        "schulabschluss",
    }
)
# The measures plus vocational training: the participations that make up a career
# (counselling, mentoring, leisure and "other" are support, not steps of it).
CAREER_CATEGORIES = MEASURE_CATEGORIES | {"ausbildung", "asa_flex"}


# --- rules ------------------------------------------------------------------------------

RULE_BASE_FIELDS = ("code", "name", "explanation", "enabled")


@dataclass(frozen=True, kw_only=True)
class Rule:
    """Common part of every rule. Subclasses add their parameters (with defaults)."""

    kind: ClassVar[str] = ""
    default_name: ClassVar[str] = ""
    default_explanation: ClassVar[str] = ""

    code: str = ""
    name: str = ""
    explanation: str = ""
    enabled: bool = True

    def __post_init__(self) -> None:
        # Frozen: fill the defaults of the kind through object.__setattr__.
        if not self.code:
            object.__setattr__(self, "code", self.kind)
        if not self.name:
            object.__setattr__(self, "name", self.default_name)
        if not self.explanation:
            object.__setattr__(self, "explanation", self.default_explanation)
        self.validate()

    def validate(self) -> None:
        if not isinstance(self.code, str) or not self.code:
            raise ValueError("a rule needs a code")

    def params(self) -> dict[str, Any]:
        """The parameters of the rule as JSON-ready values (sets as sorted lists)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in RULE_BASE_FIELDS:
                continue
            out[f.name] = _jsonable(getattr(self, f.name))
        return out

    @cached_property
    def params_json(self) -> str:
        """What a flag stores as "the parameters used": stable for equal parameters."""
        return json.dumps(self.params(), sort_keys=True, separators=(",", ":"))

    def explain(self, text: str | None = None, display: Callable[[Any], str] | None = None) -> str:
        """The explanation (or ``text``, e.g. its translation) with its ``{parameter}``
        placeholders filled in (``display`` shows a value, e.g. codes by their labels);
        text that does not format (a stray brace in an edited explanation) stays as it
        is."""
        text = self.explanation if text is None else text
        show = display or _display
        values = {k: show(v) for k, v in self.params().items()}
        try:
            return text.format_map(_Keep(values))
        except (ValueError, IndexError, AttributeError, KeyError):
            return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "code": self.code,
            "name": self.name,
            "explanation": self.explanation,
            "enabled": self.enabled,
            "params": self.params(),
        }

    def with_params(self, **params: Any) -> Rule:
        """A copy with some parameters changed (validated)."""
        return replace(self, **_coerce_params(type(self), params))


class _Keep(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _display(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, Mapping):
        return {str(k): value[k] for k in sorted(value)}
    return value


def _categories(value: Any, what: str) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(f"{what} must be a list of codes")
    out = frozenset(value)
    if not all(isinstance(c, str) and c for c in out):
        raise ValueError(f"{what} must be a list of codes")
    return out


def _positive_int(value: Any, what: str, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{what} must be a whole number of at least {minimum}")


@dataclass(frozen=True, kw_only=True)
class CycleRule(Rule):
    """1. Cycle: ``min_count`` measures starting within ``months`` without an exit."""

    kind: ClassVar[str] = "cycle"
    default_name: ClassVar[str] = gettext_noop("Cycle of measures")
    default_explanation: ClassVar[str] = gettext_noop(
        "At least {min_count} participations in measures started within {months} months, "
        "and none of them led out of the measure system (apprenticeship, employment, "
        "school-leaving qualification, studies)."
    )

    min_count: int = 3
    months: int = 24
    categories: frozenset[str] = MEASURE_CATEGORIES
    # What counts as an exit: a participation ending with one of these next steps or
    # reaching one of these levels (on its end date), or one of these categories
    # starting (on its start date).
    exit_next_steps: frozenset[str] = EXIT_NEXT_STEPS
    exit_levels: frozenset[str] = frozenset({"school_certificate"})
    exit_categories: frozenset[str] = frozenset({"ausbildung"})

    def validate(self) -> None:
        super().validate()
        _positive_int(self.min_count, "min_count", 2)
        _positive_int(self.months, "months")


@dataclass(frozen=True, kw_only=True)
class RepetitionRule(Rule):
    """2. Repetition: the same category and level again after it was not reached."""

    kind: ClassVar[str] = "repetition"
    default_name: ClassVar[str] = gettext_noop("Repetition without progress")
    default_explanation: ClassVar[str] = gettext_noop(
        "A participation of the same category and level as an earlier one that ended "
        "without a certificate of that level (e.g. a second B1 course without a B1 "
        "certificate)."
    )

    # Empty: every category (only participations with a level count).
    categories: frozenset[str] = frozenset()
    # A transfer to another course of the same level is a continuation, not a failure.
    count_transfers: bool = False


@dataclass(frozen=True, kw_only=True)
class NoProgressionRule(Rule):
    """3. No progression over the last ``n`` ended participations (either track)."""

    kind: ClassVar[str] = "no_progression"
    default_name: ClassVar[str] = gettext_noop("No progression")
    default_explanation: ClassVar[str] = gettext_noop(
        "Over the last {n} ended participations neither the language level nor the "
        "qualification stage reached rose above what had been reached before them."
    )

    n: int = 3
    categories: frozenset[str] = CAREER_CATEGORIES

    def validate(self) -> None:
        super().validate()
        _positive_int(self.n, "n")


@dataclass(frozen=True, kw_only=True)
class GapRule(Rule):
    """4. Gap (Förderlücke): more than ``days`` without a participation or plan step."""

    kind: ClassVar[str] = "gap"
    default_name: ClassVar[str] = gettext_noop("Gap in support")
    default_explanation: ClassVar[str] = gettext_noop(
        "More than {days} days between the end of one participation and the start of "
        "the next (or until today) without an active step in the integration plan; "
        "gaps that ended more than {within_months} months ago do not count."
    )

    days: int = 90
    categories: frozenset[str] = CAREER_CATEGORIES
    # A gap that starts the day a participation ended with one of these next steps is
    # no gap in support: the person left the measure system.
    exit_next_steps: frozenset[str] = EXIT_NEXT_STEPS
    # A gap closed long ago is history, not something to act on today.
    within_months: int = 24

    def validate(self) -> None:
        super().validate()
        _positive_int(self.days, "days", 0)
        _positive_int(self.within_months, "within_months")


@dataclass(frozen=True, kw_only=True)
class WaitingRule(Rule):
    """5. Waiting: a referral not started within the limit of its offer category."""

    kind: ClassVar[str] = "waiting"
    default_name: ClassVar[str] = gettext_noop("Waiting too long")
    default_explanation: ClassVar[str] = gettext_noop(
        "A referral that did not start within the limit for its offer category "
        "(days: {days_by_category}; otherwise {default_days} days)."
    )

    default_days: int = 90
    days_by_category: Mapping[str, int] = field(default_factory=lambda: {"integrationskurs": 56})

    def validate(self) -> None:
        super().validate()
        _positive_int(self.default_days, "default_days", 0)
        if not isinstance(self.days_by_category, Mapping):
            raise ValueError("days_by_category must map categories to days")
        for cat, days in self.days_by_category.items():
            if not isinstance(cat, str) or not cat:
                raise ValueError("days_by_category must map categories to days")
            _positive_int(days, f"days_by_category[{cat}]", 0)

    def __hash__(self) -> int:  # the mapping is not hashable: hash what it holds
        return hash((self.kind, self.code, self.name, self.explanation, self.params_json))

    def limit(self, category: str | None) -> int:
        return self.days_by_category.get(category or "", self.default_days)


@dataclass(frozen=True, kw_only=True)
class DropoutChainRule(Rule):
    """6. Drop-out chain: ``n`` ended participations in a row were aborted."""

    kind: ClassVar[str] = "dropout_chain"
    default_name: ClassVar[str] = gettext_noop("Chain of drop-outs")
    default_explanation: ClassVar[str] = gettext_noop(
        "{n} participations in a row (by start date, ended ones) were aborted."
    )

    n: int = 2
    categories: frozenset[str] = CAREER_CATEGORIES

    def validate(self) -> None:
        super().validate()
        _positive_int(self.n, "n")


RULE_KINDS: dict[str, type[Rule]] = {
    cls.kind: cls
    for cls in (
        CycleRule,
        RepetitionRule,
        NoProgressionRule,
        GapRule,
        WaitingRule,
        DropoutChainRule,
    )
}


def default_rules() -> list[Rule]:
    """The six rules of issue #6 with their default parameters, in the issue's order."""
    return [cls() for cls in RULE_KINDS.values()]


def _coerce_params(cls: type[Rule], params: Mapping[str, Any]) -> dict[str, Any]:
    known = {f.name: f for f in fields(cls) if f.name not in RULE_BASE_FIELDS}
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ValueError(f"unknown parameter(s) for rule kind {cls.kind!r}: {', '.join(unknown)}")
    out: dict[str, Any] = {}
    for name, value in params.items():
        default = getattr(cls(), name)
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false")
            out[name] = value
        elif isinstance(default, frozenset):
            out[name] = _categories(value, name)
        elif isinstance(default, Mapping):
            if not isinstance(value, Mapping):
                raise ValueError(f"{name} must map categories to days")
            out[name] = dict(value)
        else:
            out[name] = value
    return out


def rule_from_dict(data: Mapping[str, Any]) -> Rule:
    """Build a rule from ``{"kind", "code"?, "name"?, "explanation"?, "enabled"?,
    "params"?: {...}}``; missing parameters take the kind's defaults. Raises
    ``ValueError`` naming what is wrong."""
    kind = data.get("kind")
    cls = RULE_KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown rule kind {kind!r} (known: {', '.join(RULE_KINDS)})")
    extra = sorted(set(data) - {"kind", "params", *RULE_BASE_FIELDS})
    if extra:
        raise ValueError(f"unknown key(s) in rule {kind!r}: {', '.join(extra)}")
    params = data.get("params")
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise ValueError("params must be an object")
    base: dict[str, Any] = {k: data[k] for k in RULE_BASE_FIELDS if data.get(k) is not None}
    if "enabled" in base and not isinstance(base["enabled"], bool):
        raise ValueError("enabled must be true or false")
    for k in ("code", "name", "explanation"):
        if k in base and not isinstance(base[k], str):
            raise ValueError(f"{k} must be a string")
    return cls(**base, **_coerce_params(cls, params))


def rules_from_json(text: str) -> list[Rule]:
    """A rule set from a JSON list of rule objects (codes must be unique)."""
    data = json.loads(text)
    if not isinstance(data, list):
        raise ValueError("a rule set is a JSON list of rules")
    rules = [rule_from_dict(d) for d in data]
    check_rule_set(rules)
    return rules


def check_rule_set(rules: Iterable[Rule]) -> None:
    seen: set[str] = set()
    for r in rules:
        if r.code in seen:
            raise ValueError(f"rule code {r.code!r} is used twice")
        seen.add(r.code)


# --- rows and flags -------------------------------------------------------------------

# What the evidence shows of a participation, in this order.
P_FIELDS = (
    "id",
    "category",
    "level",
    "started_on",
    "ended_on",
    "outcome",
    "level_reached",
    "next_step",
)


class ParticipationRow(NamedTuple):
    person_id: int
    id: int
    category: str
    level: str
    started_on: dt.date
    ended_on: dt.date | None
    outcome: str
    level_reached: str
    next_step: str


class PlanStepRow(NamedTuple):
    person_id: int
    id: int
    status: str
    created_on: dt.date
    due_date: dt.date | None


class ReferralRow(NamedTuple):
    person_id: int
    id: int
    category: str | None
    sent_on: dt.date | None
    status: str
    started_on: dt.date | None


class Flag(NamedTuple):
    person_id: int
    rule: str
    params: str
    evidence_key: str
    evidence: str


@dataclass
class PersonRecords:
    """One person's rows, for :func:`scan_person` (the incremental path)."""

    person_id: int
    participations: list[ParticipationRow] = field(default_factory=list)
    plan_steps: list[PlanStepRow] = field(default_factory=list)
    referrals: list[ReferralRow] = field(default_factory=list)
    open_case: bool = True


# --- helpers --------------------------------------------------------------------------

FAR_FUTURE = dt.date(9999, 12, 31)
JSON_SEPARATORS = (",", ":")
# What a detector yields: the evidence key and the evidence (JSON-ready).
Found = Iterator[tuple[str, dict[str, Any]]]


def add_months(d: dt.date, months: int) -> dt.date:
    """``d`` plus ``months`` calendar months, clamped to the month's last day (as
    polars' ``offset_by("<n>mo")``)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(d.day, last))


def _iso(d: dt.date | None) -> str | None:
    return None if d is None else d.isoformat()


def _key(prefix: str, ids: Iterable[int]) -> str:
    return prefix + ",".join(str(i) for i in sorted(ids))


def rules_in_order(rules: Sequence[Rule]) -> list[tuple[int, Rule]]:
    """The enabled rules with their position in the rule set (codes checked)."""
    rules = list(rules)
    check_rule_set(rules)
    return [(i, r) for i, r in enumerate(rules) if r.enabled]


# --- the reference engine: one person in plain Python ----------------------------------


def _p_json(p: ParticipationRow) -> dict[str, Any]:
    return {
        "id": p.id,
        "category": p.category,
        "level": p.level,
        "started_on": _iso(p.started_on),
        "ended_on": _iso(p.ended_on),
        "outcome": p.outcome,
        "level_reached": p.level_reached,
        "next_step": p.next_step,
    }


def _end_c(p: ParticipationRow, today: dt.date) -> dt.date:
    return p.ended_on if p.ended_on is not None else today


def _cycle(parts: Sequence[ParticipationRow], rule: CycleRule, today: dt.date) -> Found:
    ms = [p for p in parts if p.category in rule.categories]
    exits: set[dt.date] = set()
    for p in parts:
        if p.ended_on is not None and (
            p.next_step in rule.exit_next_steps or p.level_reached in rule.exit_levels
        ):
            exits.add(p.ended_on)
        if p.category in rule.exit_categories:
            exits.add(p.started_on)

    def blocked(a: dt.date, b: dt.date) -> bool:
        return any(a <= x <= b for x in exits)

    n = rule.min_count
    best = None
    for i in range(n - 1, len(ms)):
        first = ms[i - n + 1].started_on
        if first < add_months(ms[i].started_on, -rule.months):
            continue
        last_end = max(_end_c(ms[j], today) for j in range(i - n + 1, i + 1))
        if not blocked(first, last_end):
            best = i
    if best is None:
        return
    # The longest run up to the anchor that still satisfies the rule.
    lower = add_months(ms[best].started_on, -rule.months)
    members: list[ParticipationRow] = []
    last_end = dt.date.min
    for p in reversed(ms[: best + 1]):
        last_end = max(last_end, _end_c(p, today))
        if p.started_on < lower or blocked(p.started_on, last_end):
            break
        members.append(p)
    members.reverse()
    yield (
        _key("p:", (p.id for p in members)),
        {
            "window_from": _iso(members[0].started_on),
            "window_to": _iso(members[-1].started_on),
            "participations": [_p_json(p) for p in members],
        },
    )


def reached_level(p: ParticipationRow) -> bool:
    """The participation ended with a certificate of (at least) its level."""
    if p.outcome != CERTIFICATE:
        return False
    got, level = p.level_reached, p.level
    if got in ("", level):
        return True
    track = LEVEL_TRACK.get(got)
    return (
        track is not None
        and track == LEVEL_TRACK.get(level)
        and (LEVEL_RANK[got] >= LEVEL_RANK[level])
    )


def _repetition(parts: Sequence[ParticipationRow], rule: RepetitionRule, today: dt.date) -> Found:
    groups: dict[tuple[str, str], list[ParticipationRow]] = defaultdict(list)
    for p in parts:
        if p.level and (not rule.categories or p.category in rule.categories):
            groups[(p.category, p.level)].append(p)
    for (category, level), ps in groups.items():
        chosen: set[int] = set()
        for a, b in pairwise(ps):
            failed = a.outcome != "" and not reached_level(a)
            if failed and (rule.count_transfers or a.outcome != TRANSFERRED):
                chosen.update((a.id, b.id))
        if chosen:
            yield (
                _key("p:", chosen),
                {
                    "category": category,
                    "level": level,
                    "participations": [_p_json(p) for p in ps if p.id in chosen],
                },
            )


def _no_progression(
    parts: Sequence[ParticipationRow], rule: NoProgressionRule, today: dt.date
) -> Found:
    ended = sorted(
        (p for p in parts if p.ended_on is not None and p.category in rule.categories),
        key=lambda p: (p.ended_on, p.started_on, p.id),
    )
    n = rule.n
    if len(ended) < n:
        return
    before, recent = ended[: len(ended) - n], ended[len(ended) - n :]

    def best(ps: Sequence[ParticipationRow], track: str) -> str | None:
        levels = [p.level_reached for p in ps if LEVEL_TRACK.get(p.level_reached) == track]
        return max(levels, key=LEVEL_RANK.__getitem__) if levels else None

    best_before, best_recent = {}, {}
    for track in TRACKS:
        b, r = best(before, track), best(recent, track)
        if r is not None and (b is None or LEVEL_RANK[r] > LEVEL_RANK[b]):
            return
        best_before[track], best_recent[track] = b, r
    yield (
        _key("p:", (p.id for p in recent)),
        {
            "participations": [_p_json(p) for p in recent],
            "best_before": best_before,
            "best_recent": best_recent,
        },
    )


def _gap(
    parts: Sequence[ParticipationRow], steps: Sequence[PlanStepRow], rule: GapRule, today: dt.date
) -> Found:
    gaps: list[tuple[dt.date, dt.date, ParticipationRow, ParticipationRow | None]] = []
    cover = dt.date.min  # the latest end so far (FAR_FUTURE while one runs)
    before: ParticipationRow | None = None  # the participation that ends then
    for p in parts:
        if p.category not in rule.categories:
            continue
        end = p.ended_on or FAR_FUTURE
        if before is not None and cover != FAR_FUTURE and (p.started_on - cover).days > rule.days:
            gaps.append((cover, p.started_on, before, p))
        if before is None or end >= cover:
            cover, before = end, p
    if before is not None and cover != FAR_FUTURE and (today - cover).days > rule.days:
        gaps.append((cover, today, before, None))
    horizon = add_months(today, -rule.within_months)
    gaps = [g for g in gaps if g[1] >= horizon]
    exit_ends = {
        p.ended_on for p in parts if p.ended_on is not None and p.next_step in rule.exit_next_steps
    }
    active = [s for s in steps if s.status != CANCELLED_STEP]
    for g0, g1, b, a in reversed(gaps):
        if g0 in exit_ends or any(
            s.created_on <= g1
            and (s.status in ACTIVE_STEP_STATUSES or (s.due_date is not None and s.due_date >= g0))
            for s in active
        ):
            continue
        yield (
            f"p:{b.id}",
            {
                "from": _iso(g0),
                "to": _iso(g1),
                "days": (g1 - g0).days,
                "until_today": a is None,
                "before": _p_json(b),
                "after": None if a is None else _p_json(a),
            },
        )
        return


def _waiting(refs: Sequence[ReferralRow], rule: WaitingRule, today: dt.date) -> Found:
    for r in refs:
        if r.sent_on is None or r.sent_on > today:
            continue
        started = r.started_on if r.started_on is not None and r.started_on <= today else None
        if started is not None:
            until = started
        elif r.status in WAITING_REFERRAL_STATUSES:
            until = today
        else:
            continue
        days = (until - r.sent_on).days
        limit = rule.limit(r.category)
        if days > limit:
            yield (
                f"r:{r.id}",
                {
                    "referral_id": r.id,
                    "category": r.category or None,
                    "status": r.status,
                    "sent_on": _iso(r.sent_on),
                    "started_on": _iso(started),
                    "until": _iso(until),
                    "days": days,
                    "limit_days": limit,
                },
            )


def _dropout_chain(
    parts: Sequence[ParticipationRow], rule: DropoutChainRule, today: dt.date
) -> Found:
    run: list[ParticipationRow] = []
    latest: list[ParticipationRow] = []
    for p in parts:
        if p.ended_on is None or p.category not in rule.categories:
            continue
        if p.outcome == ABORTED:
            run.append(p)
            if len(run) >= rule.n:
                latest = run  # the same list: it grows with the run
        else:
            run = []
    if latest:
        yield _key("p:", (p.id for p in latest)), {"participations": [_p_json(p) for p in latest]}


def scan_person(person: PersonRecords, rules: Sequence[Rule], today: dt.date) -> list[Flag]:
    """The rules over one person's rows in plain Python, as of ``today``: the flags
    :func:`lotse.referrals.careers_scan.scan_frames` gives for this person (by rule,
    then evidence key)."""
    parts = sorted(
        (p for p in person.participations if p.started_on <= today),
        key=lambda p: (p.started_on, p.id),
    )
    flags: list[Flag] = []
    for _order, rule in rules_in_order(rules):
        found: Iterable[tuple[str, dict[str, Any]]]
        if isinstance(rule, CycleRule):
            found = _cycle(parts, rule, today)
        elif isinstance(rule, RepetitionRule):
            found = _repetition(parts, rule, today)
        elif isinstance(rule, NoProgressionRule):
            found = _no_progression(parts, rule, today)
        elif isinstance(rule, GapRule):
            found = _gap(parts, person.plan_steps, rule, today) if person.open_case else ()
        elif isinstance(rule, WaitingRule):
            found = _waiting(person.referrals, rule, today) if person.open_case else ()
        elif isinstance(rule, DropoutChainRule):
            found = _dropout_chain(parts, rule, today)
        else:  # pragma: no cover - a new kind without a detector
            raise TypeError(f"no detector for rule kind {rule.kind!r}")
        flags.extend(
            Flag(
                person.person_id,
                rule.code,
                rule.params_json,
                key,
                json.dumps(evidence, separators=JSON_SEPARATORS, ensure_ascii=False),
            )
            for key, evidence in sorted(found, key=lambda kv: kv[0])
        )
    return flags


def scan_records(
    persons: Iterable[PersonRecords], rules: Sequence[Rule], today: dt.date
) -> list[Flag]:
    """:func:`scan_person` over several persons, in the order of the full scan: by rule
    (as given), person and evidence key."""
    order = {r.code: i for i, r in enumerate(rules)}
    flags = [flag for person in persons for flag in scan_person(person, rules, today)]
    flags.sort(key=lambda f: (order[f.rule], f.person_id, f.evidence_key))
    return flags
