"""Reads of cases and casework for one acting membership: scoped, bounded in
queries, and logged in the access log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from lotse.core.models import AccessAction, Membership
from lotse.core.roles import Perm
from lotse.core.services import access_log_record
from lotse.people.codes import ResidenceStatus
from lotse.people.models import BenefitPeriod, ResidenceStatusPeriod
from lotse.people.names import fold, skeleton
from lotse.people.selectors import timeline_mark_current
from lotse.privacy.access import Basis, visible_cases, visible_persons
from lotse.privacy.categories import CASE_PAGE_CATEGORIES, Category

from .codes import NoteVisibility
from .models import (
    Appointment,
    Assessment,
    AssessmentItem,
    Case,
    CaseTeamMember,
    Document,
    FollowUp,
    Intake,
    IntegrationPlan,
    Note,
    PlanStep,
)


def _current_status_subquery() -> Subquery:
    return Subquery(
        ResidenceStatusPeriod.objects.filter(
            person_id=OuterRef("person_id"), superseded_by__isnull=True, is_retraction=False
        )
        .order_by("-valid_from")
        .values("status")[:1]
    )


def name_query(text: str) -> Q:
    """Every word must match a folded name or its consonant skeleton (any spelling)."""
    q = Q()
    for word in text.split():
        folded, skel = fold(word), skeleton(word)
        if not folded:
            continue
        q &= Q(person__search_text__icontains=folded) | Q(person__search_text__icontains=skel)
    return q


@dataclass
class CaseFilters:
    q: str = ""
    birth_date: dt.date | None = None
    status: str = ""
    organisation_id: int | None = None
    phase: str = ""
    manager_id: int | None = None
    include_closed: bool = False


def cases_filtered(*, actor: Membership | None, filters: CaseFilters) -> QuerySet[Case]:
    """The scoped, filtered case queryset (not logged: callers log what they show)."""
    qs = visible_cases(actor).annotate(current_status=_current_status_subquery())
    if filters.q:
        qs = qs.filter(name_query(filters.q))
    if filters.birth_date:
        qs = qs.filter(person__birth_date=filters.birth_date)
    if filters.status:
        qs = qs.filter(current_status=filters.status)
    if filters.organisation_id:
        qs = qs.filter(
            Q(lead_organisation_id=filters.organisation_id)
            | Q(team__organisation_id=filters.organisation_id, team__removed_at__isnull=True)
        ).distinct()
    if filters.manager_id:
        qs = qs.filter(case_manager_id=filters.manager_id)
    if filters.phase:
        qs = qs.filter(phase=filters.phase)
    elif not filters.include_closed:
        qs = qs.exclude(phase="closed")
    return qs


def case_list(*, actor: Membership | None, filters: CaseFilters, page: int = 1) -> Page:
    qs = (
        cases_filtered(actor=actor, filters=filters)
        .select_related("person", "lead_organisation", "case_manager")
        .order_by("person__family_name", "person__given_names", "pk")
    )
    paginator = Paginator(qs, settings.LOTSE_PAGE_SIZE)
    result = paginator.get_page(page)
    rows = list(result.object_list)
    labels = dict(ResidenceStatus.choices)
    for row in rows:
        row.status_label = labels.get(row.current_status, "")  # type: ignore[attr-defined]
    result.object_list = rows
    if actor is not None and rows:
        access_log_record(
            actor=actor,
            action=AccessAction.LIST,
            person_ids=[c.person_id for c in rows],
            categories=[Category.MASTER, Category.RESIDENCE],
            basis={c.person_id: _basis(actor, c) for c in rows},
            object_type="case_list",
        )
    return result


def _basis(actor: Membership, case: Case) -> str:
    if case.lead_organisation_id == actor.organisation_id:
        return Basis.LEAD_ORGANISATION
    return Basis.CASE_TEAM


def case_get(*, actor: Membership | None, case_id: int) -> Case:
    """A case in scope, or 404. Not logged; for write views that log through services."""
    case = (
        visible_cases(actor)
        .select_related("person", "lead_organisation")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise Http404
    return case


@dataclass
class Timeline:
    current: list[Any]
    history: list[Any]


def _timeline(entries: list[Any]) -> Timeline:
    timeline_mark_current(entries)
    current = [e for e in entries if e.current]
    history = [e for e in entries if not e.current]
    current.sort(key=lambda e: e.valid_from, reverse=True)
    history.sort(key=lambda e: e.recorded_at, reverse=True)
    return Timeline(current=current, history=history)


@dataclass
class CaseDetail:
    case: Case
    basis: str
    can_edit: bool
    can_contribute: bool
    residence: Timeline
    benefits: Timeline
    team: list[CaseTeamMember]
    plan: IntegrationPlan
    appointments: list[Appointment]
    notes: list[Note]
    documents: list[Document]
    followups: list[FollowUp]
    open_needs: list[AssessmentItem] = field(default_factory=list)
    household: list[Any] = field(default_factory=list)

    @property
    def person(self) -> Any:
        return self.case.person


def case_detail(*, actor: Membership | None, case_id: int) -> CaseDetail:
    """Everything the case page shows, in a number of queries that does not grow
    with the case history (see tests/test_queries.py)."""
    case = (
        visible_cases(actor)
        .select_related(
            "person__district", "person__household", "lead_organisation", "case_manager"
        )
        .prefetch_related(
            "person__other_names",
            "person__languages",
            Prefetch("intakes", queryset=Intake.objects.select_related("conducted_by")),
            Prefetch(
                "assessments",
                queryset=Assessment.objects.select_related("assessed_by").prefetch_related(
                    Prefetch("items", queryset=AssessmentItem.objects.select_related("need_type"))
                ),
            ),
        )
        .filter(pk=case_id)
        .first()
    )
    if case is None or actor is None:
        raise Http404
    basis = _basis(actor, case)
    person_id = case.person_id
    residence = _timeline(
        list(
            ResidenceStatusPeriod.objects.filter(person_id=person_id).select_related(
                "issuing_authority", "recorded_by"
            )
        )
    )
    benefits = _timeline(
        list(
            BenefitPeriod.objects.filter(person_id=person_id).select_related(
                "authority", "recorded_by"
            )
        )
    )
    team = list(case.team.filter(removed_at__isnull=True).select_related("user", "organisation"))
    plan = (
        IntegrationPlan.objects.filter(case=case)
        .prefetch_related(
            Prefetch(
                "goals__steps",
                queryset=PlanStep.objects.select_related(
                    "responsible_organisation", "responsible_user"
                ),
            ),
            "versions__agreed_by",
        )
        .first()
    ) or IntegrationPlan(case=case)
    notes_q = Q(visibility=NoteVisibility.CASE_TEAM) | Q(organisation_id=actor.organisation_id)
    notes = list(case.notes.filter(notes_q).select_related("author", "organisation"))
    appointments = list(case.appointments.select_related("organisation", "created_by"))
    documents = list(case.documents.select_related("uploaded_by", "organisation"))
    followups = list(
        case.followups.filter(organisation_id=actor.organisation_id).select_related("owner")
    )
    open_needs = [
        item
        for assessment in case.assessments.all()
        for item in assessment.items.all()
        if item.kind == "need" and item.status in ("open", "in_progress")
    ]
    household = household_members(
        actor=actor, person_id=person_id, household_id=case.person.household_id
    )
    categories = list(CASE_PAGE_CATEGORIES)
    if any(n.is_sensitive for n in notes):
        categories.append(Category.HEALTH)
    access_log_record(
        actor=actor,
        action=AccessAction.READ,
        person_ids=[person_id],
        categories=categories,
        basis=basis,
        object_type="case",
        object_id=case.pk,
    )
    is_lead = basis == Basis.LEAD_ORGANISATION
    return CaseDetail(
        case=case,
        basis=basis,
        can_edit=is_lead and actor.has_perm(Perm.CASE_EDIT) and not case.is_closed,
        can_contribute=actor.has_perm(Perm.CASE_CONTRIBUTE) and not case.is_closed,
        residence=residence,
        benefits=benefits,
        team=team,
        plan=plan,
        appointments=appointments,
        notes=notes,
        documents=documents,
        followups=followups,
        open_needs=open_needs,
        household=household,
    )


def household_members(*, actor: Membership, person_id: int, household_id: int | None) -> list[Any]:
    """Other members of the household — only those the actor may see, each with a case
    of theirs in scope to link to. Logged by the caller with the case page."""
    if household_id is None:
        return []
    return list(
        visible_persons(actor)
        .filter(household_id=household_id)
        .exclude(pk=person_id)
        .annotate(
            visible_case_id=Subquery(
                visible_cases(actor).filter(person=OuterRef("pk")).values("pk")[:1]
            )
        )
        .order_by("birth_date")
    )


def household_candidates(*, actor: Membership, case: Case, q: str) -> list[Case]:
    """Cases in scope whose person matches `q`, to link into a household (logged)."""
    if not fold(q):
        return []
    rows = list(
        cases_filtered(actor=actor, filters=CaseFilters(q=q, include_closed=True))
        .exclude(person_id=case.person_id)
        .select_related("person")
        .order_by("person__family_name", "person__given_names")[:20]
    )
    if rows:
        access_log_record(
            actor=actor,
            action=AccessAction.LIST,
            person_ids=[c.person_id for c in rows],
            categories=[Category.MASTER],
            basis={c.person_id: _basis(actor, c) for c in rows},
            object_type="household_search",
        )
    return rows


@dataclass
class Dashboard:
    my_cases: list[Case]
    my_cases_total: int
    overdue: list[FollowUp]
    due_soon: list[FollowUp]
    upcoming: list[Appointment]
    recent: list[Case]


def dashboard(*, actor: Membership | None, days_ahead: int = 14) -> Dashboard:
    """'Meine Arbeit': my open cases, my overdue and due follow-ups, upcoming
    appointments of my organisation, recently changed cases — all within scope."""
    if actor is None or not actor.has_perm(Perm.CASE_VIEW):
        return Dashboard([], 0, [], [], [], [])
    today = timezone.localdate()
    scoped = visible_cases(actor)
    mine = scoped.filter(case_manager_id=actor.user_id).exclude(phase="closed")
    my_cases = list(mine.select_related("person").order_by("person__family_name")[:20])
    my_total = mine.count() if len(my_cases) == 20 else len(my_cases)
    followups = FollowUp.objects.filter(
        case__in=scoped,
        owner_id=actor.user_id,
        organisation_id=actor.organisation_id,
        done_at__isnull=True,
    ).select_related("case__person")
    overdue = list(followups.filter(due_on__lt=today).order_by("due_on")[:50])
    due_soon = list(
        followups.filter(due_on__gte=today, due_on__lte=today + dt.timedelta(days=7)).order_by(
            "due_on"
        )[:50]
    )
    now = timezone.now()
    upcoming = list(
        Appointment.objects.filter(
            case__in=scoped,
            organisation_id=actor.organisation_id,
            status="planned",
            starts_at__gte=now,
            starts_at__lte=now + dt.timedelta(days=days_ahead),
        )
        .select_related("case__person")
        .order_by("starts_at")[:50]
    )
    recent = list(scoped.select_related("person").order_by("-updated_at")[:10])
    shown_cases = my_cases + recent + [f.case for f in overdue + due_soon]
    shown_cases += [a.case for a in upcoming]
    basis: dict[int, str] = {}
    for case in shown_cases:
        # Lead wins over team when a person has cases on both bases.
        if basis.get(case.person_id) != Basis.LEAD_ORGANISATION:
            basis[case.person_id] = _basis(actor, case)
    if basis:
        access_log_record(
            actor=actor,
            action=AccessAction.LIST,
            person_ids=sorted(basis),
            categories=[Category.MASTER, Category.PLAN],
            basis=basis,
            object_type="dashboard",
        )
    return Dashboard(my_cases, my_total, overdue, due_soon, upcoming, recent)


def document_for_download(*, actor: Membership, case_id: int, document_id: int) -> Document:
    """A document of a case in scope (404 otherwise); the download is logged."""
    case = case_get(actor=actor, case_id=case_id)
    document = Document.objects.filter(case=case, pk=document_id).first()
    if document is None:
        raise Http404
    access_log_record(
        actor=actor,
        action=AccessAction.DOWNLOAD,
        person_ids=[case.person_id],
        categories=[Category.DOCUMENTS],
        basis=_basis(actor, case),
        object_type="document",
        object_id=document.pk,
    )
    return document
