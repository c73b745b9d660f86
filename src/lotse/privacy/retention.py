"""Retention (DESIGN §5.7): anonymise persons whose cases have been closed long enough,
delete documents of long-closed cases, and keep a record of what was removed.

Two policies, periods in `settings.LOTSE_RETENTION` (days):

- ``closed_cases``: a person is anonymised once ALL their cases have been closed
  for longer than the period (counted from the last closing). Names, contacts,
  free text, notes, documents and follow-ups go; what statistics need stays
  (birth year, gender, nationality, district, status codes and dates, codes of
  needs and goals, participations). Apps that depend on privacy add their own
  steps (``register_anonymise_step``), e.g. referrals lose their free text. The
  person's access log entries lose their payload
  (`core.services.access_log_redact_person`); their metadata stays.
- ``closed_case_documents``: documents of a case closed longer than the period
  are deleted with their files, unless a consent still in force names the
  document as its signed form.

The selection is set-based (one query per policy); each person is then handled
in one transaction, so a failure leaves that person as they were. Document files
are deleted last inside the transaction: if the commit still fails, the next run
deletes the rows again (a missing file is no error), and no file with personal
data can outlive its row unnoticed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from lotse.casework.models import (
    Appointment,
    Assessment,
    AssessmentItem,
    Case,
    Document,
    FollowUp,
    Intake,
    Note,
    PlanGoal,
    PlanStep,
    PlanVersion,
    get_document_storage,
)
from lotse.core.models import (
    AccessAction,
    AccessLogEntry,
    DeletionRecord,
    Membership,
    RetentionPolicy,
)
from lotse.core.services import RETENTION_BASIS, access_log_record, access_log_redact_person
from lotse.people.models import (
    BenefitPeriod,
    Household,
    Person,
    PersonLanguage,
    PersonName,
    ResidenceStatusPeriod,
)

from .categories import Category
from .models import BreakGlassAccess, Consent

logger = logging.getLogger(__name__)

ANONYMISED_FAMILY_NAME = "Anonymisiert"
CLI = "cli"
AUDITLOG_ENTRY = "auditlog.LogEntry"  # django-auditlog, once installed


@dataclass(frozen=True)
class RetentionPeriods:
    closed_cases: int
    closed_case_documents: int


def retention_periods() -> RetentionPeriods:
    config: dict[str, Any] = getattr(settings, "LOTSE_RETENTION", {})
    try:
        periods = RetentionPeriods(
            closed_cases=int(config["closed_cases"]),
            closed_case_documents=int(config.get("closed_case_documents", config["closed_cases"])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ImproperlyConfigured(
            "LOTSE_RETENTION needs whole numbers of days for 'closed_cases' "
            "(and optionally 'closed_case_documents')."
        ) from exc
    if periods.closed_cases < 1 or periods.closed_case_documents < 1:
        raise ImproperlyConfigured("LOTSE_RETENTION periods must be at least 1 day.")
    return periods


# --- selection (set-based) ------------------------------------------------


def persons_due_for_anonymisation(*, today: dt.date, days: int) -> QuerySet[Person]:
    """Persons with at least one case, no open case, the last case closed more than
    `days` days before `today`, and not anonymised since that closing."""
    cutoff = today - dt.timedelta(days=days)
    last_closed = (
        Case.objects.filter(person_id=OuterRef("pk"), closed_on__isnull=False)
        .order_by("-closed_on")
        .values("closed_on")[:1]
    )
    open_case = Case.objects.filter(person_id=OuterRef("pk"), closed_on__isnull=True)
    anonymised = DeletionRecord.objects.filter(
        person_id=OuterRef("pk"),
        policy=RetentionPolicy.CLOSED_CASES,
        dry_run=False,
        as_of__gte=OuterRef("last_closed"),
    )
    return (
        Person.objects.annotate(last_closed=Subquery(last_closed))
        .filter(last_closed__lt=cutoff)
        .exclude(Exists(open_case))
        .exclude(Exists(anonymised))
        .order_by("pk")
    )


def documents_due_for_deletion(*, today: dt.date, days: int) -> QuerySet[Document]:
    """Documents of cases closed more than `days` days before `today`, except the
    signed form of a consent still in force."""
    cutoff = today - dt.timedelta(days=days)
    consent_in_force = Consent.objects.filter(
        document_id=OuterRef("pk"), withdrawn_at__isnull=True
    ).filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
    return (
        Document.objects.filter(case__closed_on__lt=cutoff)
        .exclude(Exists(consent_in_force))
        .order_by("pk")
    )


@dataclass
class RetentionItem:
    """What happens (or would happen) to one person under one policy."""

    person_id: int
    policy: str
    period_days: int
    counts: dict[str, int] = field(default_factory=dict)
    error: str = ""  # the exception's class name when it failed
    skipped: bool = False  # no longer due when its turn came


@dataclass
class RetentionResult:
    today: dt.date
    dry_run: bool
    items: list[RetentionItem] = field(default_factory=list)

    @property
    def failures(self) -> list[RetentionItem]:
        return [item for item in self.items if item.error]

    def done(self, policy: str | None = None) -> list[RetentionItem]:
        return [
            item
            for item in self.items
            if not item.error and not item.skipped and (policy is None or item.policy == policy)
        ]

    def total(self, key: str, policy: str | None = None) -> int:
        return sum(item.counts.get(key, 0) for item in self.done(policy))


@dataclass
class RetentionPlan:
    today: dt.date
    periods: RetentionPeriods
    anonymise: list[int]
    documents: dict[int, list[int]]  # person id → document ids

    def __len__(self) -> int:
        return len(self.anonymise) + len(self.documents)


def retention_plan(*, today: dt.date, periods: RetentionPeriods | None = None) -> RetentionPlan:
    periods = periods or retention_periods()
    due = persons_due_for_anonymisation(today=today, days=periods.closed_cases)
    docs = documents_due_for_deletion(today=today, days=periods.closed_case_documents).exclude(
        case__person_id__in=due.values("pk")
    )
    by_person: dict[int, list[int]] = defaultdict(list)
    for doc_id, person_id in docs.values_list("pk", "case__person_id"):
        by_person[person_id].append(doc_id)
    return RetentionPlan(
        today=today,
        periods=periods,
        anonymise=list(due.values_list("pk", flat=True)),
        documents=dict(sorted(by_person.items())),
    )


# --- anonymising one person --------------------------------------------------


def _blank_snapshot(snapshot: Any) -> Any:
    """An agreed plan version without goal and step titles (codes, dates, statuses stay)."""
    if not isinstance(snapshot, dict):
        return {}
    goals = []
    for goal in snapshot.get("goals", []):
        goal = {**goal, "title": ""}
        goal["steps"] = [{**step, "title": ""} for step in goal.get("steps", [])]
        goals.append(goal)
    return {**snapshot, "goals": goals}


def _update(**values: Any) -> Callable[[QuerySet[Any]], int]:
    return lambda qs: qs.update(**values)


def _count_delete(qs: QuerySet[Any]) -> int:
    _total, per_model = qs.delete()
    return per_model.get(qs.model._meta.label, 0)


def _coarsen_person(qs: QuerySet[Any]) -> int:
    person = qs.get()
    birth = person.birth_date
    return qs.update(
        family_name=ANONYMISED_FAMILY_NAME,
        given_names=f"#{person.pk}",
        birth_date=dt.date(birth.year, 7, 1),
        birth_date_estimated=True,
        entry_date=None,
        phone="",
        email="",
        address="",
        household=None,
        household_role="",
        search_text="",
    )


def _household_delete_if_empty(household_id: int | None) -> int:
    """The label is usually a family name; a household nobody is left in has no use."""
    if household_id is None or Person.objects.filter(household_id=household_id).exists():
        return 0
    return _count_delete(Household.objects.filter(pk=household_id))


def _blank_plan_versions(qs: QuerySet[Any]) -> int:
    count = 0
    for version in qs.only("pk", "snapshot"):
        PlanVersion.objects.filter(pk=version.pk).update(
            snapshot=_blank_snapshot(version.snapshot), remarks=""
        )
        count += 1
    return count


@dataclass(frozen=True)
class AnonymiseStep:
    """One record type: ``queryset(person_id)`` selects the person's rows, ``apply``
    blanks or deletes them and returns how many; ``key`` names the count in the
    deletion record."""

    key: str
    queryset: Callable[[int], QuerySet[Any]]
    apply: Callable[[QuerySet[Any]], int]


_Step = AnonymiseStep

# In this order (other apps' registered steps before the person's own row); then
# documents (their files last of all) and the access log.
_ANONYMISE_STEPS: tuple[_Step, ...] = (
    _Step("person_names", lambda pid: PersonName.objects.filter(person_id=pid), _count_delete),
    _Step(
        "person_languages", lambda pid: PersonLanguage.objects.filter(person_id=pid), _count_delete
    ),
    _Step(
        "residence_periods",
        lambda pid: ResidenceStatusPeriod.objects.filter(person_id=pid),
        _update(correction_reason="", recorded_by=None),
    ),
    _Step(
        "benefit_periods",
        lambda pid: BenefitPeriod.objects.filter(person_id=pid),
        _update(correction_reason="", recorded_by=None),
    ),
    _Step("cases", lambda pid: Case.objects.filter(person_id=pid), _update(closing_note="")),
    _Step("intakes", lambda pid: Intake.objects.filter(case__person_id=pid), _update(answers=[])),
    _Step(
        "assessments",
        lambda pid: Assessment.objects.filter(case__person_id=pid),
        _update(summary=""),
    ),
    _Step(
        "assessment_items",
        lambda pid: AssessmentItem.objects.filter(assessment__case__person_id=pid),
        _update(description=""),
    ),
    _Step(
        "plan_goals",
        lambda pid: PlanGoal.objects.filter(plan__case__person_id=pid),
        _update(title=""),
    ),
    _Step(
        "plan_steps",
        lambda pid: PlanStep.objects.filter(goal__plan__case__person_id=pid),
        _update(title=""),
    ),
    _Step(
        "plan_versions",
        lambda pid: PlanVersion.objects.filter(plan__case__person_id=pid),
        _blank_plan_versions,
    ),
    _Step(
        "appointments",
        lambda pid: Appointment.objects.filter(case__person_id=pid),
        _update(purpose="", location="", outcome="", agreements=""),
    ),
    _Step("notes", lambda pid: Note.objects.filter(case__person_id=pid), _count_delete),
    _Step("followups", lambda pid: FollowUp.objects.filter(case__person_id=pid), _count_delete),
    _Step(
        "consents",
        lambda pid: Consent.objects.filter(person_id=pid),
        _update(document=None, withdrawal_note=""),
    ),
    _Step(
        "break_glass",
        lambda pid: BreakGlassAccess.objects.filter(case__person_id=pid),
        _update(reason=""),
    ),
    _Step("person", lambda pid: Person.objects.filter(pk=pid), _coarsen_person),
)

# Steps of apps that depend on privacy (DESIGN §4: privacy imports none of them),
# registered from their AppConfig.ready().
_REGISTERED_STEPS: list[AnonymiseStep] = []


def register_anonymise_step(step: AnonymiseStep) -> None:
    """Anonymise another app's rows of a person with the person, in the same
    transaction (free text goes, what statistics need stays). Registering the same
    step again has no effect; another step under a key already used is refused."""
    if step in _REGISTERED_STEPS:
        return
    if any(s.key == step.key for s in (*_ANONYMISE_STEPS, *_REGISTERED_STEPS)):
        raise ValueError(f"an anonymisation step {step.key!r} is already registered")
    _REGISTERED_STEPS.append(step)


def anonymise_steps() -> tuple[AnonymiseStep, ...]:
    """All steps in their order: the registered ones before the person's own row, which
    is coarsened last."""
    *before, person = _ANONYMISE_STEPS
    return (*before, *_REGISTERED_STEPS, person)


def _delete_document_rows(documents: QuerySet[Document]) -> tuple[int, list[str]]:
    """Delete the rows; returns the count and the file names for `_delete_files`."""
    names = [name for name in documents.values_list("file", flat=True) if name]
    return _count_delete(documents), names


def _delete_files(names: list[str]) -> None:
    """The last step inside the person's transaction (see the module docstring)."""
    storage = get_document_storage()
    for name in names:
        storage.delete(name)


def _change_history_purge(
    person_id: int | None, targets: dict[type[models.Model], list[Any]]
) -> int:
    """Remove the field-level change history (django-auditlog) of a person and of the
    changed records, which would otherwise keep old values such as names. Runs after
    the deletes, whose own history entries it removes too. No-op without auditlog."""
    if not apps.is_installed("auditlog"):
        return 0
    from django.contrib.contenttypes.models import ContentType

    from .auditing import person_change_history

    removed = 0
    if person_id is not None:
        removed += person_change_history(person_id).delete()[0]
    log_entry = apps.get_model(AUDITLOG_ENTRY)
    for model, pks in targets.items():
        if pks:
            removed += log_entry.objects.filter(
                content_type=ContentType.objects.get_for_model(model),
                object_pk__in=[str(pk) for pk in pks],
            ).delete()[0]
    return removed


def _history_targets(person: Person) -> dict[type[models.Model], list[Any]]:
    """The records whose history goes, also where it lacks the person id."""
    if not apps.is_installed("auditlog"):
        return {}
    targets: dict[type[models.Model], list[Any]] = {}
    for step in anonymise_steps():
        qs = step.queryset(person.pk)
        targets[qs.model] = list(qs.values_list("pk", flat=True))
    docs = Document.objects.filter(case__person_id=person.pk)
    targets[Document] = list(docs.values_list("pk", flat=True))
    if person.household_id is not None:
        targets[Household] = [person.household_id]
    return targets


def _household_would_empty(person_id: int) -> int:
    household_id = Person.objects.filter(pk=person_id).values_list("household_id", flat=True)[0]
    if household_id is None:
        return 0
    others = Person.objects.filter(household_id=household_id).exclude(pk=person_id)
    return 0 if others.exists() else 1


class NotDueError(Exception):
    """The person is no longer due (e.g. a case was reopened since the plan was made)."""


def _lock(person_id: int) -> Person:
    """Lock the person and their cases, so a case cannot be reopened meanwhile."""
    person = Person.objects.select_for_update().get(pk=person_id)
    list(Case.objects.select_for_update().filter(person_id=person_id).only("pk"))
    return person


def _record(
    *, person_id: int, policy: str, today: dt.date, days: int, counts: dict[str, int], run_by: str
) -> None:
    DeletionRecord.objects.create(
        performed_at=timezone.now(),
        as_of=today,
        person_id=person_id,
        policy=policy,
        period_days=days,
        counts=counts,
        run_by=run_by,
        dry_run=False,
    )


def person_anonymise(
    *,
    person_id: int,
    today: dt.date,
    period_days: int,
    dry_run: bool = False,
    run_by: str = CLI,
    actor: Membership | None = None,
) -> dict[str, int]:
    """Anonymise one person in one transaction; returns the counts per record type.

    Checks again, under a lock on the person and their cases, that the person is
    due (`NotDueError` if not). With `dry_run` only counts what would change."""
    if dry_run:
        counts = {step.key: step.queryset(person_id).count() for step in anonymise_steps()}
        counts["households"] = _household_would_empty(person_id)
        counts["documents"] = Document.objects.filter(case__person_id=person_id).count()
        counts["access_log_entries"] = AccessLogEntry.objects.filter(
            person_id=person_id, redacted_at__isnull=True
        ).count()
        if apps.is_installed("auditlog"):
            from .auditing import person_change_history

            counts["change_history"] = person_change_history(person_id).count()
        return counts
    with transaction.atomic():
        person = _lock(person_id)
        due = persons_due_for_anonymisation(today=today, days=period_days)
        if not due.filter(pk=person_id).exists():
            raise NotDueError
        history = _history_targets(person)
        counts = {}
        for step in anonymise_steps():
            counts[step.key] = step.apply(step.queryset(person_id))
        counts["households"] = _household_delete_if_empty(person.household_id)
        counts["documents"], files = _delete_document_rows(
            Document.objects.filter(case__person_id=person_id)
        )
        counts["change_history"] = _change_history_purge(person_id, history)
        counts["access_log_entries"] = access_log_redact_person(person_id=person_id, actor=actor)
        _record(
            person_id=person_id,
            policy=RetentionPolicy.CLOSED_CASES,
            today=today,
            days=period_days,
            counts=counts,
            run_by=run_by,
        )
        _delete_files(files)
    return counts


def person_documents_delete(
    *,
    person_id: int,
    document_ids: list[int],
    today: dt.date,
    period_days: int,
    dry_run: bool = False,
    run_by: str = CLI,
    actor: Membership | None = None,
) -> dict[str, int]:
    """Delete documents of a person's long-closed cases (and their files) in one
    transaction; only those of `document_ids` that are still due."""
    documents = documents_due_for_deletion(today=today, days=period_days).filter(
        pk__in=document_ids, case__person_id=person_id
    )
    if dry_run:
        return {"documents": documents.count()}
    with transaction.atomic():
        _lock(person_id)
        ids = list(documents.values_list("pk", flat=True))
        if not ids:
            raise NotDueError
        Consent.objects.filter(document_id__in=ids).update(document=None)
        count, files = _delete_document_rows(Document.objects.filter(pk__in=ids))
        for doc_id in ids:
            access_log_record(
                actor=actor,
                action=AccessAction.DELETE,
                person_ids=[person_id],
                categories=[Category.DOCUMENTS],
                basis=RETENTION_BASIS,
                purpose=RETENTION_BASIS,
                object_type="document",
                object_id=doc_id,
            )
        counts = {"documents": count}
        if apps.is_installed("auditlog"):
            counts["change_history"] = _change_history_purge(None, {Document: ids})
        _record(
            person_id=person_id,
            policy=RetentionPolicy.CLOSED_CASE_DOCUMENTS,
            today=today,
            days=period_days,
            counts=counts,
            run_by=run_by,
        )
        _delete_files(files)
    return counts


# --- the run ------------------------------------------------------------------


def retention_run(
    *,
    today: dt.date | None = None,
    dry_run: bool = False,
    run_by: str = CLI,
    actor: Membership | None = None,
    plan: RetentionPlan | None = None,
    progress: Callable[[int], object] | None = None,
) -> RetentionResult:
    """Apply both policies as of `today` (default: the local date).

    A failure for one person is logged and reported in the result; that person's
    transaction is rolled back and the run goes on with the next."""
    today = today or timezone.localdate()
    plan = plan or retention_plan(today=today)
    result = RetentionResult(today=today, dry_run=dry_run)
    common: dict[str, Any] = {"today": today, "dry_run": dry_run, "run_by": run_by, "actor": actor}
    jobs: list[tuple[RetentionItem, Callable[[], dict[str, int]]]] = []
    days = plan.periods.closed_cases
    for person_id in plan.anonymise:
        jobs.append(
            (
                RetentionItem(person_id, RetentionPolicy.CLOSED_CASES, days),
                partial(person_anonymise, person_id=person_id, period_days=days, **common),
            )
        )
    days = plan.periods.closed_case_documents
    for person_id, document_ids in plan.documents.items():
        jobs.append(
            (
                RetentionItem(person_id, RetentionPolicy.CLOSED_CASE_DOCUMENTS, days),
                partial(
                    person_documents_delete,
                    person_id=person_id,
                    document_ids=document_ids,
                    period_days=days,
                    **common,
                ),
            )
        )
    seen_errors: set[str] = set()
    for item, job in jobs:
        try:
            item.counts = job()
        except NotDueError:
            item.skipped = True
        except Exception as exc:
            item.error = type(exc).__name__
            # The traceback once per kind of error; a broken setup fails for everybody.
            logger.error(
                "retention failed for person %s (%s): %s",
                item.person_id,
                item.policy,
                item.error,
                exc_info=item.error not in seen_errors,
            )
            seen_errors.add(item.error)
        result.items.append(item)
        if progress is not None:
            progress(1)
    return result
