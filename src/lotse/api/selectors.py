"""Scoped, logged reads the API needs and the people/casework selectors do not offer yet.

Every function starts from the scope of `privacy.access` (or a scoped casework
selector): what is out of scope raises Http404, exactly like the pages. Reads
of personal data are written to the access log with the category of what is
returned ("read" for one object, "list" for lists). The `*_for_write`
functions only find the object a write works on; the service logs the write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import (
    Exists,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    prefetch_related_objects,
)
from django.http import Http404
from django.utils.translation import gettext as _

from lotse.casework.codes import NoteVisibility
from lotse.casework.models import (
    Appointment,
    Case,
    CaseTeamMember,
    FollowUp,
    IntegrationPlan,
    Note,
    PlanGoal,
    PlanStep,
    PlanVersion,
)
from lotse.casework.selectors import (
    CaseDetail,
    CaseFilters,
    case_detail,
    case_get,
    cases_filtered,
)
from lotse.core.models import AccessAction, District, Membership, Organisation, User
from lotse.core.roles import Perm
from lotse.core.services import access_log_record
from lotse.people.models import BenefitPeriod, Person, ResidenceStatusPeriod, TimelineEntry
from lotse.people.selectors import timeline_mark_current
from lotse.privacy.access import Basis, person_basis, require_case, visible_cases, visible_persons
from lotse.privacy.categories import LIFE_DOMAIN_CATEGORY, RECORD_CATEGORY, Category

M = TypeVar("M", bound=Model)

TIMELINES: dict[str, tuple[type[TimelineEntry], str, str]] = {
    # kind: (model, category, object type in the access log)
    "residence": (ResidenceStatusPeriod, Category.RESIDENCE, "residence_period"),
    "benefit": (BenefitPeriod, Category.BENEFITS, "benefit_period"),
}


def paginate(qs: QuerySet[Any], page: int) -> Page:
    return Paginator(qs, settings.LOTSE_PAGE_SIZE).get_page(page)


def page_data(page: Page) -> dict[str, Any]:
    return {
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "page_size": page.paginator.per_page,
        "items": list(page.object_list),
    }


# --- persons -------------------------------------------------------------------


def _with_cases(actor: Membership, qs: QuerySet[Person]) -> QuerySet[Person]:
    """Attach the cases the actor may see (never the others) as `visible_case_list`."""
    return qs.select_related("district").prefetch_related(
        Prefetch(
            "cases",
            queryset=visible_cases(actor).select_related("lead_organisation").order_by("opened_on"),
            to_attr="visible_case_list",
        )
    )


def person_list(
    *, actor: Membership, q: str = "", birth_date: dt.date | None = None, page: int = 1
) -> Page:
    """Persons in scope, optionally by name (any spelling, as the case search) and birth date."""
    qs = visible_persons(actor)
    if q or birth_date:
        matching = cases_filtered(
            actor=actor, filters=CaseFilters(q=q, birth_date=birth_date, include_closed=True)
        )
        qs = qs.filter(pk__in=matching.values("person_id"))
    qs = _with_cases(actor, qs).annotate(
        led_here=Exists(
            Case.objects.filter(person=OuterRef("pk"), lead_organisation_id=actor.organisation_id)
        )
    )
    result = paginate(qs.order_by("family_name", "given_names", "pk"), page)
    rows = list(result.object_list)
    result.object_list = rows
    if rows:
        access_log_record(
            actor=actor,
            action=AccessAction.LIST,
            person_ids=[p.pk for p in rows],
            categories=[Category.MASTER],
            basis={p.pk: Basis.LEAD_ORGANISATION if p.led_here else Basis.CASE_TEAM for p in rows},
            object_type="person_list",
        )
    return result


def person_for_write(*, actor: Membership, person_id: int) -> Person:
    """The person in scope, for a write (the service logs it); 404 otherwise."""
    person = visible_persons(actor).filter(pk=person_id).first()
    if person is None:
        raise Http404
    return person


def person_load(*, actor: Membership, person_id: int) -> Person:
    """The person in scope with names, languages and visible cases (404 otherwise).
    Not logged: callers log the read, or return what a logged write just saved."""
    person = (
        _with_cases(actor, visible_persons(actor))
        .prefetch_related("other_names", "languages")
        .filter(pk=person_id)
        .first()
    )
    if person is None:
        raise Http404
    return person


def person_get(*, actor: Membership, person_id: int) -> Person:
    basis = person_basis(actor, person_id)
    if basis is None:
        raise Http404
    person = person_load(actor=actor, person_id=person_id)
    access_log_record(
        actor=actor,
        action=AccessAction.READ,
        person_ids=[person.pk],
        categories=[Category.MASTER],
        basis=basis,
        object_type="person",
        object_id=person.pk,
    )
    return person


# --- timelines -----------------------------------------------------------------


def timeline_list(*, actor: Membership, person_id: int, kind: str) -> list[Any]:
    """All entries of a timeline, history included; `current` marks the current ones."""
    model, category, object_type = TIMELINES[kind]
    basis = person_basis(actor, person_id)
    if basis is None:
        raise Http404
    related = "issuing_authority" if model is ResidenceStatusPeriod else "authority"
    entries: list[Any] = list(
        model.objects.filter(person_id=person_id)  # type: ignore[attr-defined]
        .select_related(related, "recorded_by")
        .order_by("valid_from", "recorded_at", "pk")
    )
    timeline_mark_current(entries)
    access_log_record(
        actor=actor,
        action=AccessAction.LIST,
        person_ids=[person_id],
        categories=[category],
        basis=basis,
        object_type=object_type,
    )
    return entries


def timeline_entry_for_write(*, actor: Membership, person_id: int, entry_id: int, kind: str) -> Any:
    model, _category, _object_type = TIMELINES[kind]
    person_for_write(actor=actor, person_id=person_id)
    entry = model.objects.filter(person_id=person_id, pk=entry_id).first()  # type: ignore[attr-defined]
    if entry is None:
        raise Http404
    return entry


# --- case parts ----------------------------------------------------------------


def case_file(*, actor: Membership, case_id: int) -> CaseDetail:
    """casework.selectors.case_detail (scoped and logged), plus the relations the
    API shows and the page does not, so the queries do not grow with the case."""
    detail = case_detail(actor=actor, case_id=case_id)
    prefetch_related_objects(detail.followups, "organisation", "done_by", "created_by")
    return detail


def _case_read(actor: Membership, case_id: int) -> tuple[Case, str]:
    case = case_get(actor=actor, case_id=case_id)
    return case, require_case(actor, case, Perm.CASE_VIEW)


def _log_case(
    actor: Membership,
    case: Case,
    basis: str,
    action: str,
    categories: Sequence[str],
    object_type: str,
) -> None:
    access_log_record(
        actor=actor,
        action=action,
        person_ids=[case.person_id],
        categories=categories,
        basis=basis,
        object_type=object_type,
        object_id=case.pk,
    )


def case_team_list(*, actor: Membership, case_id: int) -> list[CaseTeamMember]:
    case, basis = _case_read(actor, case_id)
    members = list(case.team.filter(removed_at__isnull=True).select_related("user", "organisation"))
    _log_case(
        actor, case, basis, AccessAction.LIST, [RECORD_CATEGORY["case_team"]], "case_team_list"
    )
    return members


def team_member_for_write(*, actor: Membership, case_id: int, member_id: int) -> CaseTeamMember:
    case = case_get(actor=actor, case_id=case_id)
    item = case.team.filter(pk=member_id, removed_at__isnull=True).first()
    if item is None:
        raise Http404
    return item


def _plan_queryset() -> QuerySet[IntegrationPlan]:
    return IntegrationPlan.objects.prefetch_related(
        Prefetch(
            "goals__steps",
            queryset=PlanStep.objects.select_related(
                "responsible_organisation", "responsible_user"
            ),
        ),
        Prefetch("versions", queryset=PlanVersion.objects.select_related("agreed_by")),
    )


def plan_get(*, actor: Membership, case_id: int) -> IntegrationPlan:
    """The working plan with goals, steps and agreed versions."""
    case, basis = _case_read(actor, case_id)
    plan = _plan_queryset().filter(case=case).first() or IntegrationPlan(case=case)
    goals = list(plan.goals.all()) if plan.pk else []
    # Goals take the category of their life domain (privacy.categories).
    categories = {Category.PLAN} | {
        LIFE_DOMAIN_CATEGORY.get(g.life_domain, Category.PLAN) for g in goals
    }
    _log_case(actor, case, basis, AccessAction.READ, sorted(categories), "plan")
    return plan


def goal_for_write(*, actor: Membership, case_id: int, goal_id: int) -> PlanGoal:
    case = case_get(actor=actor, case_id=case_id)
    goal = PlanGoal.objects.select_related("plan__case").filter(pk=goal_id, plan__case=case).first()
    if goal is None:
        raise Http404
    return goal


def step_for_write(*, actor: Membership, case_id: int, step_id: int) -> PlanStep:
    case = case_get(actor=actor, case_id=case_id)
    step = (
        PlanStep.objects.select_related("goal__plan__case")
        .filter(pk=step_id, goal__plan__case=case)
        .first()
    )
    if step is None:
        raise Http404
    return step


def appointment_list(*, actor: Membership, case_id: int) -> list[Appointment]:
    case, basis = _case_read(actor, case_id)
    items = list(case.appointments.select_related("organisation", "created_by"))
    _log_case(
        actor, case, basis, AccessAction.LIST, [RECORD_CATEGORY["appointment"]], "appointment_list"
    )
    return items


def appointment_for_write(*, actor: Membership, case_id: int, appointment_id: int) -> Appointment:
    case = case_get(actor=actor, case_id=case_id)
    item = case.appointments.filter(pk=appointment_id).first()
    if item is None:
        raise Http404
    return item


def note_list(*, actor: Membership, case_id: int) -> list[Note]:
    """Notes as the case page shows them: case-team notes to everybody in scope,
    organisation notes only to the author's organisation."""
    case, basis = _case_read(actor, case_id)
    visible = Q(visibility=NoteVisibility.CASE_TEAM) | Q(organisation_id=actor.organisation_id)
    notes = list(case.notes.filter(visible).select_related("author", "organisation"))
    categories = [Category.NOTES]
    if any(n.is_sensitive for n in notes):
        categories.append(Category.HEALTH)
    _log_case(actor, case, basis, AccessAction.LIST, categories, "note_list")
    return notes


def followup_list(*, actor: Membership, case_id: int) -> list[FollowUp]:
    """Follow-ups of the actor's organisation (others' are their internal planning)."""
    case, basis = _case_read(actor, case_id)
    items = list(
        case.followups.filter(organisation_id=actor.organisation_id).select_related(
            "owner", "organisation", "done_by", "created_by"
        )
    )
    _log_case(actor, case, basis, AccessAction.LIST, [RECORD_CATEGORY["followup"]], "followup_list")
    return items


def followup_for_write(*, actor: Membership, case_id: int, followup_id: int) -> FollowUp:
    case = case_get(actor=actor, case_id=case_id)
    item = case.followups.filter(pk=followup_id, organisation_id=actor.organisation_id).first()
    if item is None:
        raise Http404
    return item


# --- references in input --------------------------------------------------------


def resolve_refs(values: dict[str, Any], **kinds: str) -> dict[str, Any]:
    """Replace ids (codes for districts) in `values` by objects; an unknown one is a
    ValidationError on that field. `kinds` maps field → organisation/user/district."""
    resolvers: dict[str, Callable[[str, Any], Model | None]] = {
        "organisation": organisation_ref,
        "user": user_ref,
        "district": district_ref,
    }
    errors: dict[str, list[str]] = {}
    for field, kind in kinds.items():
        if field not in values:
            continue
        try:
            values[field] = resolvers[kind](field, values[field])
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return values


def _lookup(qs: QuerySet[M], field: str, message: str, **lookup: Any) -> M:
    obj = qs.filter(**lookup).first()
    if obj is None:
        raise ValidationError({field: [message]})
    return obj


def organisation_ref(field: str, pk: int | None) -> Organisation | None:
    if pk is None:
        return None
    return _lookup(Organisation.objects.all(), field, _("Unknown organisation."), pk=pk)


def user_ref(field: str, pk: int | None) -> User | None:
    if pk is None:
        return None
    return _lookup(User.objects.filter(is_active=True), field, _("Unknown user."), pk=pk)


def district_ref(field: str, code: str | None) -> District | None:
    if not code:
        return None
    return _lookup(District.objects.all(), field, _("Unknown district."), code=code)


def membership_ref(field: str, pk: int) -> Membership:
    return _lookup(
        Membership.objects.select_related("organisation", "user"),
        field,
        _("Unknown membership."),
        pk=pk,
    )
