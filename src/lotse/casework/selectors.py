"""Reads of cases and casework for one acting membership: scoped, bounded in
queries, and logged in the access log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import (
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.http import Http404
from django.utils import timezone

from lotse.core.models import AccessAction, Membership, NeedType
from lotse.core.roles import Perm
from lotse.core.services import access_log_record
from lotse.eligibility.engine import add_years
from lotse.people.codes import STATUS_GROUP, ResidenceStatus
from lotse.people.models import BenefitPeriod, ResidenceStatusPeriod, TargetGroup
from lotse.people.names import fold, skeleton
from lotse.people.selectors import timeline_mark_current
from lotse.privacy.access import (
    CaseAccess,
    case_access,
    case_access_bulk,
    category_q,
    visible_cases,
    visible_persons,
)
from lotse.privacy.categories import LIFE_DOMAIN_CATEGORY, Category
from lotse.referrals.codes import OPEN_STATUSES
from lotse.referrals.models import Participation, Referral

from .codes import ItemKind, NeedStatus, NoteVisibility
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


def name_query(text: str, actor: Membership | None = None) -> Q:
    """Every word must match a folded name or its consonant skeleton (any spelling).

    Other spellings are master data: with an actor, they are searched only in cases
    whose master data is shared with the actor; elsewhere only the name shown counts."""
    q = Q()
    for word in text.split():
        folded, skel = fold(word), skeleton(word)
        if not folded:
            continue
        q &= Q(person__search_text__icontains=folded) | Q(person__search_text__icontains=skel)
    if actor is None or not q:
        return q
    shown_name = Q()
    for word in text.split():
        shown_name &= Q(person__family_name__icontains=word) | Q(
            person__given_names__icontains=word
        )
    return (category_q(actor, Category.MASTER) & q) | shown_name


@dataclass
class CaseFilters:
    q: str = ""
    birth_date: dt.date | None = None
    status: str = ""
    organisation_id: int | None = None
    phase: str = ""
    manager_id: int | None = None
    include_closed: bool = False
    without_offer: bool = False
    need_type: NeedType | None = None  # an open need of this type in an assessment
    target_group: TargetGroup | None = None  # status group and age today


def cases_filtered(*, actor: Membership | None, filters: CaseFilters) -> QuerySet[Case]:
    """The scoped, filtered case queryset (not logged: callers log what they show)."""
    qs = visible_cases(actor).annotate(current_status=_current_status_subquery())
    if actor is None:
        return qs
    # Filters on a category match only cases where that category is shared with the
    # actor; otherwise a filter would disclose what the page hides.
    if filters.q:
        qs = qs.filter(name_query(filters.q, actor))
    if filters.birth_date:
        qs = qs.filter(category_q(actor, Category.MASTER), person__birth_date=filters.birth_date)
    if filters.status:
        qs = qs.filter(category_q(actor, Category.RESIDENCE), current_status=filters.status)
    if filters.organisation_id:
        # The lead organisation is in the case header; the team is master data.
        on_team = Exists(
            CaseTeamMember.objects.filter(
                case=OuterRef("pk"),
                organisation_id=filters.organisation_id,
                removed_at__isnull=True,
            )
        )
        qs = qs.filter(
            Q(lead_organisation_id=filters.organisation_id)
            | (category_q(actor, Category.MASTER) & Q(on_team))
        )
    if filters.manager_id:
        qs = qs.filter(case_manager_id=filters.manager_id)
    if filters.without_offer:
        # Persons taking part in nothing and with no open referral (of any case):
        # only where participations are shared, like every filter on a category.
        running = Participation.objects.filter(person=OuterRef("person_id"), ended_on__isnull=True)
        pending = Referral.objects.filter(
            person=OuterRef("person_id"), status__in=sorted(OPEN_STATUSES)
        )
        qs = qs.filter(category_q(actor, Category.PARTICIPATIONS)).exclude(
            Q(Exists(running)) | Q(Exists(pending))
        )
    if filters.need_type is not None:
        # The drill-down of the gap analysis; only where the need's domain is shared.
        need = filters.need_type
        open_need = AssessmentItem.objects.filter(
            assessment__case=OuterRef("pk"),
            kind=ItemKind.NEED,
            status__in=[NeedStatus.OPEN, NeedStatus.IN_PROGRESS],
            need_type=need,
        )
        category = LIFE_DOMAIN_CATEGORY.get(need.life_domain, Category.PLAN)
        qs = qs.filter(category_q(actor, category), Exists(open_need))
    if filters.target_group is not None:
        qs = qs.filter(_target_group_q(actor, filters.target_group))
    if filters.phase:
        qs = qs.filter(phase=filters.phase)
    elif not filters.include_closed:
        qs = qs.exclude(phase="closed")
    return qs


def _target_group_q(actor: Membership, group: TargetGroup) -> Q:
    """Cases of persons in ``group`` today: the residence status and the birth date
    must both be shared with the actor."""
    today = timezone.localdate()
    q = category_q(actor, Category.MASTER)
    if group.age_min is not None:
        q &= Q(person__birth_date__lte=add_years(today, -group.age_min))
    if group.age_max is not None:
        q &= Q(person__birth_date__gt=add_years(today, -(group.age_max + 1)))
    if group.status_groups:
        statuses = [s for s, g in STATUS_GROUP.items() if g in group.status_groups]
        q &= category_q(actor, Category.RESIDENCE) & Q(current_status__in=statuses)
    return q


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
    accesses = case_access_bulk(actor, rows)
    for row in rows:
        row.access = accesses[row.pk]  # type: ignore[attr-defined]
        row.status_label = labels.get(row.current_status, "")  # type: ignore[attr-defined]
    result.object_list = rows
    if actor is not None:
        log_rows(actor, rows, accesses, [Category.MASTER, Category.RESIDENCE], "case_list")
    return result


def log_rows(
    actor: Membership,
    rows: list[Case],
    accesses: dict[int, CaseAccess],
    categories: list[str],
    object_type: str,
) -> None:
    """Log a list: per person the categories shown of it, with their basis. The name
    that identifies a listed case counts as master data."""
    groups: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for case in rows:
        access = accesses[case.pk]
        shown: dict[str, str] = {Category.MASTER.value: access.basis()}
        shown.update(access.by_basis_map(categories))
        for basis, shown_categories in _invert(shown).items():
            key = (basis, tuple(sorted(shown_categories)))
            groups.setdefault(key, []).append(case.person_id)
    for (basis, logged), person_ids in groups.items():
        access_log_record(
            actor=actor,
            action=AccessAction.LIST,
            person_ids=person_ids,
            categories=logged,
            basis=basis,
            object_type=object_type,
        )


def _invert(mapping: dict[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for category, basis in mapping.items():
        out.setdefault(basis, []).append(category)
    return out


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
    access: CaseAccess
    can_edit: bool
    can_contribute: bool
    residence: Timeline
    benefits: Timeline
    team: list[CaseTeamMember]
    intakes: list[Intake]
    assessments: list[Assessment]
    plan: IntegrationPlan
    goals: list[Any]
    appointments: list[Appointment]
    notes: list[Note]
    documents: list[Document]
    followups: list[FollowUp]
    open_needs: list[AssessmentItem] = field(default_factory=list)
    household: list[Any] = field(default_factory=list)

    @property
    def person(self) -> Any:
        return self.case.person

    @property
    def basis(self) -> str:
        return self.access.basis()

    @property
    def shared(self) -> dict[str, bool]:
        """Category → shared with the actor, for the template's "not shared" blocks."""
        return {c.value: self.access.allows(c.value) for c in Category}


def _domain_allowed(access: CaseAccess, life_domain: str) -> bool:
    return access.allows(LIFE_DOMAIN_CATEGORY.get(life_domain, Category.PLAN))


def case_detail(*, actor: Membership | None, case_id: int) -> CaseDetail:
    """Everything of the case page that the actor may read, category by category, in a
    number of queries that does not grow with the case history (tests/test_queries.py).
    Sections whose category is not shared are not even loaded."""
    case = (
        visible_cases(actor)
        .select_related(
            "person__district", "person__household", "lead_organisation", "case_manager"
        )
        .filter(pk=case_id)
        .first()
    )
    if case is None or actor is None:
        raise Http404
    access = case_access(actor, case)
    allows = access.allows
    person_id = case.person_id
    shown: set[str] = set()

    def load(category: str, loader: Any, empty: Any) -> Any:
        if not allows(category):
            return empty
        shown.add(category)
        return loader()

    load(
        Category.MASTER,
        lambda: prefetch_related_objects([case.person], "other_names", "languages"),
        None,
    )
    residence = load(
        Category.RESIDENCE,
        lambda: _timeline(
            list(
                ResidenceStatusPeriod.objects.filter(person_id=person_id).select_related(
                    "issuing_authority", "recorded_by"
                )
            )
        ),
        Timeline([], []),
    )
    benefits = load(
        Category.BENEFITS,
        lambda: _timeline(
            list(
                BenefitPeriod.objects.filter(person_id=person_id).select_related(
                    "authority", "recorded_by"
                )
            )
        ),
        Timeline([], []),
    )
    team = load(
        Category.MASTER,
        lambda: list(
            case.team.filter(removed_at__isnull=True).select_related("user", "organisation")
        ),
        [],
    )
    intakes = load(
        Category.EDUCATION, lambda: list(case.intakes.select_related("conducted_by")), []
    )
    assessments: list[Assessment] = []
    item_categories = {LIFE_DOMAIN_CATEGORY.get(d, Category.PLAN) for d in LIFE_DOMAIN_CATEGORY}
    if any(allows(c) for c in item_categories | {Category.PLAN}):
        assessments = list(
            case.assessments.select_related("assessed_by").prefetch_related(
                Prefetch("items", queryset=AssessmentItem.objects.select_related("need_type"))
            )
        )
        for assessment in assessments:
            assessment.shown_items = [  # type: ignore[attr-defined]
                i for i in assessment.items.all() if _domain_allowed(access, i.life_domain)
            ]
            shown.update(
                LIFE_DOMAIN_CATEGORY.get(i.life_domain, Category.PLAN)
                for i in assessment.shown_items  # type: ignore[attr-defined]
            )
            if not allows(Category.PLAN):
                assessment.summary = ""
        assessments = [
            a
            for a in assessments
            if a.shown_items or allows(Category.PLAN)  # type: ignore[attr-defined]
        ]
        if allows(Category.PLAN) and assessments:
            shown.add(Category.PLAN)
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
    goals = (
        [g for g in plan.goals.all() if _domain_allowed(access, g.life_domain)] if plan.pk else []
    )
    shown.update(LIFE_DOMAIN_CATEGORY.get(g.life_domain, Category.PLAN) for g in goals)
    notes_q = Q(visibility=NoteVisibility.CASE_TEAM) | Q(organisation_id=actor.organisation_id)
    notes = load(
        Category.NOTES,
        lambda: [
            n
            for n in case.notes.filter(notes_q).select_related("author", "organisation")
            if not n.is_sensitive or allows(Category.HEALTH)
        ],
        [],
    )
    if any(n.is_sensitive for n in notes):
        shown.add(Category.HEALTH)
    appointments = load(
        Category.PLAN,
        lambda: list(case.appointments.select_related("organisation", "created_by")),
        [],
    )
    documents = load(
        Category.DOCUMENTS,
        lambda: list(case.documents.select_related("uploaded_by", "organisation")),
        [],
    )
    followups = load(
        Category.PLAN,
        lambda: list(
            case.followups.filter(organisation_id=actor.organisation_id).select_related("owner")
        ),
        [],
    )
    open_needs = [
        item
        for assessment in assessments
        for item in assessment.shown_items  # type: ignore[attr-defined]
        if item.kind == "need" and item.status in ("open", "in_progress")
    ]
    household = load(
        Category.FAMILY,
        lambda: household_members(
            actor=actor, person_id=person_id, household_id=case.person.household_id
        ),
        [],
    )
    # The name and the case header identify the case for everybody who sees it.
    shown.add(Category.MASTER)
    # The page shows the integration chain (referrals.selectors.chain_for, not logged
    # there) where participations are shared.
    if allows(Category.PARTICIPATIONS):
        shown.add(Category.PARTICIPATIONS)
    for basis, categories in _invert(
        {**{Category.MASTER: access.basis()}, **access.by_basis_map(shown)}
    ).items():
        access_log_record(
            actor=actor,
            action=AccessAction.READ,
            person_ids=[person_id],
            categories=categories,
            basis=basis,
            object_type="case",
            object_id=case.pk,
        )
    return CaseDetail(
        case=case,
        access=access,
        can_edit=access.is_lead and actor.has_perm(Perm.CASE_EDIT) and not case.is_closed,
        can_contribute=actor.has_perm(Perm.CASE_CONTRIBUTE) and not case.is_closed,
        residence=residence,
        benefits=benefits,
        team=team,
        intakes=intakes,
        assessments=assessments,
        plan=plan,
        goals=goals,
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
    # Linking needs the other person's master data (shown here) and family data.
    rows = list(
        cases_filtered(actor=actor, filters=CaseFilters(q=q, include_closed=True))
        .filter(category_q(actor, Category.MASTER), category_q(actor, Category.FAMILY))
        .exclude(person_id=case.person_id)
        .select_related("person")
        .order_by("person__family_name", "person__given_names")[:20]
    )
    if rows:
        log_rows(actor, rows, case_access_bulk(actor, rows), [Category.MASTER], "household_search")
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
    # Follow-ups and appointments are plan data: only for cases whose plan is shared.
    planned = Case.objects.filter(category_q(actor, Category.PLAN))
    followups = FollowUp.objects.filter(
        case__in=planned,
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
            case__in=planned,
            organisation_id=actor.organisation_id,
            status="planned",
            starts_at__gte=now,
            starts_at__lte=now + dt.timedelta(days=days_ahead),
        )
        .select_related("case__person")
        .order_by("starts_at")[:50]
    )
    recent = list(scoped.select_related("person").order_by("-updated_at")[:10])
    shown_cases = {c.pk: c for c in my_cases + recent}
    shown_cases.update({f.case.pk: f.case for f in overdue + due_soon})
    shown_cases.update({a.case.pk: a.case for a in upcoming})
    rows = list(shown_cases.values())
    if rows:
        log_rows(actor, rows, case_access_bulk(actor, rows), [Category.PLAN], "dashboard")
    return Dashboard(my_cases, my_total, overdue, due_soon, upcoming, recent)


def document_for_download(*, actor: Membership, case_id: int, document_id: int) -> Document:
    """A document of a case in scope (404 otherwise); the download is logged."""
    case = case_get(actor=actor, case_id=case_id)
    access = case_access(actor, case)
    document = Document.objects.filter(case=case, pk=document_id).first()
    if document is None:
        raise Http404
    if not access.allows(Category.DOCUMENTS):
        raise PermissionDenied
    access_log_record(
        actor=actor,
        action=AccessAction.DOWNLOAD,
        person_ids=[case.person_id],
        categories=[Category.DOCUMENTS],
        basis=access.basis(Category.DOCUMENTS),
        object_type="document",
        object_id=document.pk,
    )
    return document
