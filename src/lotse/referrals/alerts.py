"""Transition alerts (issue #6): transitions ahead become follow-ups for the case manager.

For every open case, :func:`transition_alerts_run` looks for these transitions of the
case's person and turns each into a follow-up (Wiedervorlage) of the case manager in the
lead organisation, due ``days`` before the transition (never before today):

===================================  ======================================================
kind                                 fires when
===================================  ======================================================
``birthday_21/25/27``                the 21st/25th/27th birthday (the engine's age events,
                                     29 February → 28 February) is within ``days``
``status_end``                       the person's latest current residence period ends
                                     (``valid_to``) within ``days``
``document_end``                     its document expires within ``days`` (not when it
                                     expires on the day the status ends: ``status_end``
                                     says that already)
``benefit_switch``                   the eligibility engine's ``upcoming`` has a
                                     ``benefit_<regime>`` event within ``days``
``participation_end_without_next``   a participation of the case ended up to ``lookback``
                                     days ago (or ends within ``days``) and nothing follows:
                                     no exit as next step, no other participation of the
                                     person running on after it, no open or in-progress
                                     plan step created or due on or after the end
===================================  ======================================================

"Within ``days``" means ``today <= date <= today + days``. The days come from
``settings.LOTSE_TRANSITION_ALERT_DAYS`` (kind → days; ``None`` switches a kind off),
over :data:`DEFAULT_DAYS`; the participation look-back from
``settings.LOTSE_TRANSITION_ALERT_LOOKBACK_DAYS`` (default 30).

The selection is set-based: a fixed number of queries whatever the number of persons
(birthdays by birth-date ranges in SQL, ends by date ranges, participations with
``EXISTS`` subqueries, the benefit switch by the engine over facts loaded in bulk per
chunk of persons). Each case is then written in one transaction: its follow-ups, the
:class:`TransitionAlert` rows and one access-log entry per follow-up (actor: the
system). The unique key per case and transition makes a second run create nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import formats, translation
from django.utils.translation import gettext as _

from lotse.casework.codes import StepStatus
from lotse.casework.models import Case, FollowUp, PlanStep
from lotse.core.models import AccessAction
from lotse.core.services import access_log_record
from lotse.eligibility import labels
from lotse.eligibility.adapter import facts_for_person
from lotse.eligibility.engine import RuleSet, add_years, evaluate
from lotse.eligibility.model import FactsError, parse_facts
from lotse.eligibility.models import PersonFacts
from lotse.eligibility.ruleset import active_rule_set
from lotse.people.codes import ResidenceStatus
from lotse.people.models import Person, ResidenceStatusPeriod
from lotse.privacy import retention
from lotse.privacy.access import Basis
from lotse.privacy.categories import Category, Purpose

from .codes import EXIT_NEXT_STEPS
from .models import Participation
from .models_alerts import AlertKind, TransitionAlert

logger = logging.getLogger(__name__)

K = AlertKind
BIRTHDAYS: dict[str, int] = {K.BIRTHDAY_21: 21, K.BIRTHDAY_25: 25, K.BIRTHDAY_27: 27}
DEFAULT_DAYS: dict[str, int | None] = {
    K.BENEFIT_SWITCH: 30,
    K.BIRTHDAY_21: 60,
    K.BIRTHDAY_25: 60,
    K.BIRTHDAY_27: 60,
    K.STATUS_END: 90,
    K.DOCUMENT_END: 90,
    K.PARTICIPATION_END: 0,
}
DEFAULT_LOOKBACK_DAYS = 30
OBJECT_TYPE = "transition_alert"
FACTS_CHUNK = 500  # persons (or cases) loaded together by id
TITLE_MAX = 300  # FollowUp.title
ACTIVE_STEPS = (StepStatus.OPEN, StepStatus.IN_PROGRESS)

# The data each kind reads (the follow-up itself is plan data).
CATEGORIES: dict[str, tuple[str, ...]] = {
    K.BENEFIT_SWITCH: (Category.MASTER, Category.RESIDENCE, Category.PLAN),
    K.BIRTHDAY_21: (Category.MASTER, Category.PLAN),
    K.BIRTHDAY_25: (Category.MASTER, Category.PLAN),
    K.BIRTHDAY_27: (Category.MASTER, Category.PLAN),
    K.STATUS_END: (Category.RESIDENCE, Category.PLAN),
    K.DOCUMENT_END: (Category.RESIDENCE, Category.PLAN),
    K.PARTICIPATION_END: (Category.PARTICIPATIONS, Category.PLAN),
}


# --- configuration ------------------------------------------------------------------


def _days_value(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ImproperlyConfigured(f"{name} must be a whole number of days ≥ 0 or None")
    return value


def alert_days() -> dict[str, int | None]:
    """Days before the transition per kind: the defaults, overridden by
    ``settings.LOTSE_TRANSITION_ALERT_DAYS``; ``None`` switches a kind off."""
    configured = getattr(settings, "LOTSE_TRANSITION_ALERT_DAYS", None) or {}
    unknown = sorted(set(configured) - set(DEFAULT_DAYS))
    if unknown:
        raise ImproperlyConfigured(
            f"LOTSE_TRANSITION_ALERT_DAYS: unknown kinds {', '.join(unknown)} "
            f"(known: {', '.join(DEFAULT_DAYS)})"
        )
    return {
        kind: _days_value(configured.get(kind, default), f"LOTSE_TRANSITION_ALERT_DAYS[{kind!r}]")
        for kind, default in DEFAULT_DAYS.items()
    }


def lookback_days() -> int:
    """How far back a participation's end still raises an alert (a late entry, a missed run)."""
    value = getattr(settings, "LOTSE_TRANSITION_ALERT_LOOKBACK_DAYS", DEFAULT_LOOKBACK_DAYS)
    days = _days_value(value, "LOTSE_TRANSITION_ALERT_LOOKBACK_DAYS")
    return DEFAULT_LOOKBACK_DAYS if days is None else days


# --- candidates ---------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A transition of the person of ``case_id`` that is due for an alert."""

    case_id: int
    kind: str
    event_date: dt.date
    key: str
    title: str


@dataclass(frozen=True)
class CaseInfo:
    person_id: int
    case_manager_id: int
    lead_organisation_id: int


@dataclass
class AlertPlan:
    """What a run would create: the new candidates per case, and what exists already."""

    today: dt.date
    days: dict[str, int | None]
    cases: dict[int, CaseInfo] = field(default_factory=dict)
    new: dict[int, list[Candidate]] = field(default_factory=dict)
    existing: int = 0
    facts_errors: int = 0

    def __len__(self) -> int:
        return len(self.new)

    def due_on(self, candidate: Candidate) -> dt.date:
        days = self.days[candidate.kind] or 0
        return max(candidate.event_date - dt.timedelta(days=days), self.today)


def _open_cases() -> QuerySet[Case]:
    return Case.objects.filter(closed_on__isnull=True)


def _date(d: dt.date) -> str:
    return formats.date_format(d, "SHORT_DATE_FORMAT")


def _window(today: dt.date, days: int | None) -> tuple[dt.date, dt.date] | None:
    return None if days is None else (today, today + dt.timedelta(days=days))


def _birthday_title(kind: str, day: dt.date) -> str:
    texts: dict[str, str] = {
        K.BIRTHDAY_21: _(
            "Turns 21 on %(date)s: help for young adults (§ 41 SGB VIII) ends as a rule"
        ),
        K.BIRTHDAY_25: _("Turns 25 on %(date)s: leaves the under-25 programmes"),
        K.BIRTHDAY_27: _("Turns 27 on %(date)s: leaves the target group"),
    }
    return texts[kind] % {"date": _date(day)}


def _birthdays(today: dt.date, days: dict[str, int | None]) -> Iterator[Candidate]:
    """Birth dates in SQL ranges (a day of slack for 29 February), exact in Python."""
    windows = {kind: w for kind in BIRTHDAYS if (w := _window(today, days[kind]))}
    if not windows:
        return
    one = dt.timedelta(days=1)
    ranges = [
        Q(
            person__birth_date__range=(
                add_years(lo, -BIRTHDAYS[kind]) - one,
                add_years(hi, -BIRTHDAYS[kind]) + one,
            )
        )
        for kind, (lo, hi) in windows.items()
    ]
    rows = _open_cases().filter(reduce(or_, ranges)).values_list("pk", "person__birth_date")
    for case_id, birth in rows:
        for kind, (lo, hi) in windows.items():
            day = add_years(birth, BIRTHDAYS[kind])
            if lo <= day <= hi:
                yield Candidate(case_id, kind, day, f"{kind}:{day}", _birthday_title(kind, day))


def _current_periods() -> QuerySet[ResidenceStatusPeriod]:
    return ResidenceStatusPeriod.objects.filter(is_retraction=False, superseded_by__isnull=True)


def _status_label(code: str) -> str:
    try:
        return str(ResidenceStatus(code).label)
    except ValueError:
        return code


def _period_ends(today: dt.date, days: dict[str, int | None]) -> Iterator[Candidate]:
    """End of the latest current residence period of each person, and of its document."""
    status_w = _window(today, days[K.STATUS_END])
    doc_w = _window(today, days[K.DOCUMENT_END])
    if status_w is None and doc_w is None:
        return
    later = _current_periods().filter(
        person_id=OuterRef("person_id"), valid_from__gt=OuterRef("valid_from")
    )
    in_window = Q()
    if status_w:
        in_window |= Q(valid_to__range=status_w)
    if doc_w:
        in_window |= Q(document_expiry__range=doc_w)
    selected = (
        _current_periods()
        .filter(person_id__in=_open_cases().values("person_id"))
        .filter(in_window)
        .filter(~Exists(later))
    )
    periods = list(selected.values_list("person_id", "status", "valid_to", "document_expiry"))
    if not periods:
        return
    cases: dict[int, list[int]] = defaultdict(list)
    for case_id, person_id in (
        _open_cases()
        .filter(person_id__in=selected.values("person_id"))
        .order_by("pk")
        .values_list("pk", "person_id")
    ):
        cases[person_id].append(case_id)
    for person_id, status, valid_to, expiry in periods:
        label = _status_label(status)
        found: list[tuple[str, dt.date, str]] = []
        if status_w and valid_to and status_w[0] <= valid_to <= status_w[1]:
            title = _("Residence status “%(status)s” ends on %(date)s: renewal or new status")
            found.append(
                (K.STATUS_END, valid_to, title % {"status": label, "date": _date(valid_to)})
            )
        if (
            doc_w
            and expiry
            and doc_w[0] <= expiry <= doc_w[1]
            and not (expiry == valid_to and status_w is not None)
        ):
            title = _("Residence document (%(status)s) expires on %(date)s: renewal needed")
            found.append((K.DOCUMENT_END, expiry, title % {"status": label, "date": _date(expiry)}))
        for case_id in cases[person_id]:
            for kind, day, text in found:
                yield Candidate(case_id, kind, day, f"{kind}:{day}", text)


def _participation_ends(
    today: dt.date, days: dict[str, int | None], lookback: int
) -> Iterator[Candidate]:
    window = _window(today, days[K.PARTICIPATION_END])
    if window is None:
        return
    step_follows = PlanStep.objects.filter(
        goal__plan__case_id=OuterRef("case_id"), status__in=ACTIVE_STEPS
    ).filter(Q(created_at__date__gte=OuterRef("ended_on")) | Q(due_date__gte=OuterRef("ended_on")))
    runs_on = (
        Participation.objects.filter(person_id=OuterRef("person_id"))
        .exclude(pk=OuterRef("pk"))
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=OuterRef("ended_on")))
    )
    rows = (
        Participation.objects.filter(
            case__closed_on__isnull=True,
            ended_on__range=(today - dt.timedelta(days=lookback), window[1]),
        )
        .exclude(next_step__in=sorted(EXIT_NEXT_STEPS))
        .filter(~Exists(step_follows), ~Exists(runs_on))
        .order_by("ended_on", "pk")
        .values_list("pk", "case_id", "ended_on", "title")
    )
    kind = K.PARTICIPATION_END
    for pk, case_id, ended_on, offer in rows:
        assert ended_on is not None  # filtered on its range
        title = _("“%(offer)s” ended on %(date)s without a next step: plan what follows") % {
            "offer": offer,
            "date": _date(ended_on),
        }
        yield Candidate(case_id, kind, ended_on, f"{kind}:{ended_on}:p{pk}", title)


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _benefit_title(day: dt.date, regime: str, rule_id: str, rs: RuleSet) -> str:
    rule = rs.by_id.get(rule_id)
    return _("Benefit switch expected on %(date)s: %(regime)s – %(citation)s") % {
        "date": _date(day),
        "regime": labels.REGIME_LABELS.get(regime, regime),
        "citation": rule.citation if rule else "–",
    }


def _benefit_switches(
    today: dt.date, days: dict[str, int | None], plan: AlertPlan
) -> Iterator[Candidate]:
    """The engine's look-ahead over the facts of every person of an open case who has a
    residence status: timelines, facts rows and languages loaded per chunk of persons.
    Evaluated on the day before ``today``, so that a switch on ``today`` is still ahead."""
    window = _window(today, days[K.BENEFIT_SWITCH])
    if window is None:
        return
    on = today - dt.timedelta(days=1)
    with_status = (
        _current_periods()
        .filter(person_id=OuterRef("person_id"), valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
    )
    cases: dict[int, list[int]] = defaultdict(list)
    for case_id, person_id in (
        _open_cases().filter(Exists(with_status)).order_by("pk").values_list("pk", "person_id")
    ):
        cases[person_id].append(case_id)
    rs = active_rule_set()
    for ids in _chunks(sorted(cases), FACTS_CHUNK):
        periods: dict[int, list[ResidenceStatusPeriod]] = defaultdict(list)
        for period in ResidenceStatusPeriod.objects.filter(person_id__in=ids):
            periods[period.person_id].append(period)
        records = {r.person_id: r for r in PersonFacts.objects.filter(person_id__in=ids)}
        for person in Person.objects.filter(pk__in=ids).prefetch_related("languages"):
            raw = facts_for_person(
                person, residence=periods[person.pk], benefits=None, record=records.get(person.pk)
            )
            try:
                facts = parse_facts(raw, rs.codes)
            except FactsError:
                plan.facts_errors += 1
                continue
            for u in evaluate(facts, on, rule_set=rs).upcoming:
                if not u.event.startswith("benefit_") or not window[0] <= u.date <= window[1]:
                    continue
                regime = u.event.removeprefix("benefit_")
                title = _benefit_title(u.date, regime, u.rule_id, rs)
                key = f"{K.BENEFIT_SWITCH}:{u.date}:{regime}"
                for case_id in cases[person.pk]:
                    yield Candidate(case_id, K.BENEFIT_SWITCH, u.date, key, title)


def transition_alerts_plan(*, today: dt.date) -> AlertPlan:
    """The alerts a run on ``today`` creates (those not created before), per case.

    A fixed number of queries, whatever the number of persons (plus one batch of
    queries per :data:`FACTS_CHUNK` persons for the benefit switch)."""
    days = alert_days()
    lookback = lookback_days()
    plan = AlertPlan(today=today, days=days)
    found: list[Candidate] = []
    with translation.override(settings.LANGUAGE_CODE):
        found += _birthdays(today, days)
        found += _period_ends(today, days)
        found += _participation_ends(today, days, lookback)
        found += _benefit_switches(today, days, plan)
    if not found:
        return plan
    done = set(
        TransitionAlert.objects.filter(
            case__closed_on__isnull=True,
            event_date__gte=today - dt.timedelta(days=lookback),
        )
        .order_by()
        .values_list("case_id", "key")
    )
    seen: set[tuple[int, str]] = set()
    for c in sorted(found, key=lambda c: (c.case_id, c.event_date, c.kind, c.key)):
        if (c.case_id, c.key) in done:
            plan.existing += 1
        elif (c.case_id, c.key) not in seen:
            seen.add((c.case_id, c.key))
            plan.new.setdefault(c.case_id, []).append(c)
    for ids in _chunks(sorted(plan.new), FACTS_CHUNK):
        rows = (
            Case.objects.filter(pk__in=ids)
            .order_by()
            .values_list("pk", "person_id", "case_manager_id", "lead_organisation_id")
        )
        for pk, person_id, manager_id, org_id in rows:
            plan.cases[pk] = CaseInfo(person_id, manager_id, org_id)
    return plan


# --- the run ------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertItem:
    case_id: int
    person_id: int
    kind: str
    event_date: dt.date
    due_on: dt.date
    title: str
    alert_id: int | None = None
    followup_id: int | None = None


@dataclass
class AlertRunSummary:
    today: dt.date
    dry_run: bool
    created: list[AlertItem] = field(default_factory=list)
    existing: int = 0  # transitions alerted by an earlier run
    failed: list[tuple[int, str]] = field(default_factory=list)  # (case id, error)
    facts_errors: int = 0  # persons whose facts the engine refused

    def by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for item in self.created:
            counts[item.kind] += 1
        return dict(counts)


def _item(plan: AlertPlan, info: CaseInfo, c: Candidate, **ids: int) -> AlertItem:
    return AlertItem(
        c.case_id, info.person_id, c.kind, c.event_date, plan.due_on(c), c.title, **ids
    )


@transaction.atomic
def _create_for_case(
    plan: AlertPlan, info: CaseInfo, candidates: Iterable[Candidate]
) -> list[AlertItem]:
    """The follow-ups, alerts and access-log entries of one case, all or nothing.

    The follow-up goes to the case manager in the lead organisation, and is recorded as
    created by them: a follow-up needs a creating user and the project has no system
    user; the alert row and the access log (actor: none, the system) say where it came
    from. The case's ``updated_at`` is left alone: nobody worked on the case."""
    items = []
    for c in candidates:
        followup = FollowUp.objects.create(
            case_id=c.case_id,
            title=c.title[:TITLE_MAX],
            due_on=plan.due_on(c),
            owner_id=info.case_manager_id,
            organisation_id=info.lead_organisation_id,
            created_by_id=info.case_manager_id,
        )
        alert = TransitionAlert.objects.create(
            case_id=c.case_id, kind=c.kind, event_date=c.event_date, key=c.key, followup=followup
        )
        access_log_record(
            actor=None,
            action=AccessAction.CREATE,
            person_ids=[info.person_id],
            categories=CATEGORIES[c.kind],
            basis=Basis.LEAD_ORGANISATION,
            purpose=Purpose.CASEWORK,
            object_type=OBJECT_TYPE,
            object_id=alert.pk,
        )
        items.append(_item(plan, info, c, alert_id=alert.pk, followup_id=followup.pk))
    return items


def transition_alerts_run(
    *,
    today: dt.date,
    dry_run: bool = False,
    plan: AlertPlan | None = None,
    progress: Callable[[int], object] | None = None,
) -> AlertRunSummary:
    """Create the follow-ups of the transitions due on ``today`` (see the module doc).

    One transaction per case; a case that fails (e.g. a run at the same time created
    the same alert) is rolled back, logged and reported, and the run goes on."""
    plan = plan or transition_alerts_plan(today=today)
    summary = AlertRunSummary(
        today=today, dry_run=dry_run, existing=plan.existing, facts_errors=plan.facts_errors
    )
    seen_errors: set[str] = set()
    for case_id, candidates in plan.new.items():
        info = plan.cases[case_id]
        if dry_run:
            summary.created += [_item(plan, info, c) for c in candidates]
        else:
            try:
                summary.created += _create_for_case(plan, info, candidates)
            except Exception as exc:
                error = type(exc).__name__
                logger.error(
                    "transition alerts failed for case %s: %s",
                    case_id,
                    error,
                    exc_info=error not in seen_errors,
                )
                seen_errors.add(error)
                summary.failed.append((case_id, error))
        if progress is not None:
            progress(1)
    return summary


# --- retention ----------------------------------------------------------------------


def _delete(qs: QuerySet[Any]) -> int:
    return qs.delete()[0]


# The alerts' dates and keys would keep e.g. the exact birth date of an anonymised
# person: they go with the person (registered in privacy_hooks.register()).
ANONYMISE_STEP = retention.AnonymiseStep(
    "transition_alerts",
    lambda pid: TransitionAlert.objects.filter(case__person_id=pid),
    _delete,
)
