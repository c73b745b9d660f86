"""Scoped, logged reads the API needs and the people/casework selectors do not offer yet.

Every function starts from the scope of `privacy.access` (or a scoped casework
selector) and obeys the category-level decision exactly like the pages (DESIGN §5):

- a case or person of which the caller may read no category does not exist (404);
- a part of a case or person that belongs to one category the caller may not read is
  refused with 403 and a JSON detail (the case exists for the caller, the category is
  not shared);
- what is returned carries the caller's `access` (privacy.access.CaseAccess), which
  the schemas use to leave out (null) the fields of categories not shared.

Reads of personal data are written to the access log with the categories actually
returned, one entry per basis ("read" for one object, "list" for lists). The
`*_for_write` functions only find the object a write works on; the service checks
the category again and logs the write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Model, Prefetch, Q, QuerySet, prefetch_related_objects
from django.http import Http404
from django.utils.text import capfirst
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
    log_rows,
)
from lotse.core.models import AccessAction, District, Membership, Organisation, User
from lotse.core.services import access_log_record
from lotse.people.models import BenefitPeriod, Person, ResidenceStatusPeriod, TimelineEntry
from lotse.people.selectors import timeline_mark_current
from lotse.privacy.access import (
    CaseAccess,
    case_access,
    case_access_bulk,
    person_access,
    visible_cases,
    visible_persons,
)
from lotse.privacy.categories import LIFE_DOMAIN_CATEGORY, Category

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


# --- the category decision, as the API applies it ---------------------------------


def not_shared(category: str) -> PermissionDenied:
    """403 for a category of a case or person the caller sees but may not read."""
    return PermissionDenied(
        _("%(what)s: not shared with your organisation (no consent or legal basis).")
        % {"what": capfirst(Category(category).label)}
    )


def attach_access(obj: Any, access: CaseAccess) -> Any:
    """Give a case or person the caller's access, for the schemas (fail closed without)."""
    obj.access = access
    return obj


def with_access(actor: Membership, case: Case) -> Case:
    """A case (e.g. just written by a service) with the caller's access attached."""
    return attach_access(case, case_access(actor, case))


def domain_category(life_domain: str) -> str:
    return LIFE_DOMAIN_CATEGORY.get(life_domain, Category.PLAN)


def _log_shown(
    actor: Membership,
    access: CaseAccess,
    categories: Iterable[str],
    *,
    person_id: int,
    action: str,
    object_type: str,
    object_id: int | str = "",
    identified: bool = False,
) -> None:
    """One access log entry per basis for the shared categories among `categories`.

    With `identified`, the name that identifies the person counts as master data even
    where master data are not shared (basis: the strongest one), as on the case page."""
    shown = access.by_basis_map(categories)
    if identified:
        shown = {Category.MASTER: access.basis(), **shown}
    groups: dict[str, list[str]] = {}
    for category, basis in shown.items():
        groups.setdefault(basis, []).append(category)
    for basis, cats in groups.items():
        access_log_record(
            actor=actor,
            action=action,
            person_ids=[person_id],
            categories=cats,
            basis=basis,
            object_type=object_type,
            object_id=object_id,
        )


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


def _attach_person_accesses(actor: Membership, persons: list[Person]) -> None:
    """Each person's access: the union over the cases of theirs the actor sees (the
    others allow nothing), as privacy.access.person_access, in a fixed number of queries."""
    cases = [c for p in persons for c in p.visible_case_list]  # type: ignore[attr-defined]
    accesses = case_access_bulk(actor, cases)
    for person in persons:
        merged = CaseAccess(case_id=0)
        for case in person.visible_case_list:  # type: ignore[attr-defined]
            merged.merge(accesses[case.pk])
        attach_access(person, merged)


def person_list(
    *, actor: Membership, q: str = "", birth_date: dt.date | None = None, page: int = 1
) -> Page:
    """Persons in scope, optionally by name (any spelling, as the case search) and birth
    date; the filters match only where the category they test is shared. Logged per
    person with the categories shown (master) and their basis."""
    qs = visible_persons(actor)
    if q or birth_date:
        matching = cases_filtered(
            actor=actor, filters=CaseFilters(q=q, birth_date=birth_date, include_closed=True)
        )
        qs = qs.filter(pk__in=matching.values("person_id"))
    qs = _with_cases(actor, qs)
    result = paginate(qs.order_by("family_name", "given_names", "pk"), page)
    rows = list(result.object_list)
    _attach_person_accesses(actor, rows)
    # Somebody whose last consent was withdrawn a moment ago is no longer shown.
    rows = [p for p in rows if p.access.visible]
    result.object_list = rows
    if rows:
        # One case stands for each person, with the person's access over all their cases.
        standing = [p.visible_case_list[0] for p in rows]
        accesses = {c.pk: p.access for c, p in zip(standing, rows, strict=True)}
        log_rows(actor, standing, accesses, [Category.MASTER], "person_list")
    return result


def person_for_write(*, actor: Membership, person_id: int) -> Person:
    """The person in scope, for a write (the service logs it); 404 otherwise."""
    person = visible_persons(actor).filter(pk=person_id).first()
    if person is None:
        raise Http404
    return person


def person_load(*, actor: Membership, person_id: int, access: CaseAccess | None = None) -> Person:
    """The person in scope with their visible cases and the actor's access; names and
    languages only if master data are shared (404 when out of scope). Not logged:
    callers log the read, or return what a logged write just saved."""
    if access is None:
        access = person_access(actor, person_id)
    person = _with_cases(actor, visible_persons(actor)).filter(pk=person_id).first()
    if person is None or not access.visible:
        raise Http404
    if access.allows(Category.MASTER):
        prefetch_related_objects([person], "other_names", "languages")
    return attach_access(person, access)


def person_get(*, actor: Membership, person_id: int) -> Person:
    """A person's master data, if shared (the name always), with the visible cases."""
    access = person_access(actor, person_id)
    if not access.visible:
        raise Http404
    person = person_load(actor=actor, person_id=person_id, access=access)
    _log_shown(
        actor,
        access,
        [Category.MASTER],
        person_id=person.pk,
        action=AccessAction.READ,
        object_type="person",
        object_id=person.pk,
        identified=True,
    )
    return person


# --- timelines -----------------------------------------------------------------


def timeline_list(*, actor: Membership, person_id: int, kind: str) -> list[Any]:
    """All entries of a timeline, history included; `current` marks the current ones.
    404 when the person is out of scope, 403 when the timeline's category is not shared."""
    model, category, object_type = TIMELINES[kind]
    access = person_access(actor, person_id)
    if not access.visible:
        raise Http404
    if not access.allows(category):
        raise not_shared(category)
    related = "issuing_authority" if model is ResidenceStatusPeriod else "authority"
    entries: list[Any] = list(
        model.objects.filter(person_id=person_id)  # type: ignore[attr-defined]
        .select_related(related, "recorded_by")
        .order_by("valid_from", "recorded_at", "pk")
    )
    timeline_mark_current(entries)
    _log_shown(
        actor,
        access,
        [category],
        person_id=person_id,
        action=AccessAction.LIST,
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
    """casework.selectors.case_detail (scoped by category and logged), plus the
    relations the API shows and the page does not, so the queries do not grow with
    the case. The schema returns only what case_detail loaded."""
    detail = case_detail(actor=actor, case_id=case_id)
    prefetch_related_objects(detail.followups, "organisation", "done_by", "created_by")
    attach_access(detail.case, detail.access)
    attach_access(detail.case.person, detail.access)
    return detail


def _case_access(actor: Membership, case_id: int) -> tuple[Case, CaseAccess]:
    """A case in scope with the actor's access (404 otherwise)."""
    case = case_get(actor=actor, case_id=case_id)
    access = case_access(actor, case)
    if not access.visible:
        raise Http404
    return case, access


def _case_read(actor: Membership, case_id: int, category: str) -> tuple[Case, CaseAccess]:
    """A case in scope (404 otherwise) whose `category` is shared with the actor (403)."""
    case, access = _case_access(actor, case_id)
    if not access.allows(category):
        raise not_shared(category)
    return case, access


def case_for_category(*, actor: Membership, case_id: int, category: str) -> Case:
    """The case a contribution of `category` is written to: 404 out of scope, 403 with
    a detail when the category is not shared (the service decides the same again)."""
    case, _access = _case_read(actor, case_id, category)
    return case


def _log_case(
    actor: Membership,
    case: Case,
    access: CaseAccess,
    action: str,
    categories: Iterable[str],
    object_type: str,
) -> None:
    _log_shown(
        actor,
        access,
        categories,
        person_id=case.person_id,
        action=action,
        object_type=object_type,
        object_id=case.pk,
    )


def case_team_list(*, actor: Membership, case_id: int) -> list[CaseTeamMember]:
    """The active case team: master data, as on the case page."""
    case, access = _case_read(actor, case_id, Category.MASTER)
    members = list(case.team.filter(removed_at__isnull=True).select_related("user", "organisation"))
    _log_case(actor, case, access, AccessAction.LIST, [Category.MASTER], "case_team_list")
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


@dataclass
class PlanView:
    """What the actor may see of a plan: goals of shared life domains, versions for
    the lead only (a version is a snapshot of the whole plan)."""

    goals: list[PlanGoal]
    versions: list[PlanVersion] | None


def plan_get(*, actor: Membership, case_id: int) -> PlanView:
    """The working plan as the case page shows it. Logged with the categories of the
    goals shown (plan too, if shared)."""
    case, access = _case_access(actor, case_id)
    plan = _plan_queryset().filter(case=case).first()
    goals = (
        [g for g in plan.goals.all() if access.allows(domain_category(g.life_domain))]
        if plan is not None
        else []
    )
    versions = list(plan.versions.all()) if plan is not None and access.is_lead else None
    shown = {domain_category(g.life_domain) for g in goals} | {Category.PLAN}
    _log_case(actor, case, access, AccessAction.READ, sorted(shown), "plan")
    return PlanView(goals=goals, versions=versions)


def goal_for_write(*, actor: Membership, case_id: int, goal_id: int) -> PlanGoal:
    case = case_get(actor=actor, case_id=case_id)
    goal = PlanGoal.objects.select_related("plan__case").filter(pk=goal_id, plan__case=case).first()
    if goal is None:
        raise Http404
    return goal


def step_for_write(*, actor: Membership, case_id: int, step_id: int) -> PlanStep:
    """A step of the case (404 otherwise) whose goal's life domain is shared (403
    otherwise, as the service decides)."""
    case, access = _case_access(actor, case_id)
    step = (
        PlanStep.objects.select_related("goal__plan__case")
        .filter(pk=step_id, goal__plan__case=case)
        .first()
    )
    if step is None:
        raise Http404
    category = domain_category(step.goal.life_domain)
    if not access.allows(category):
        raise not_shared(category)
    return step


def appointment_list(*, actor: Membership, case_id: int) -> list[Appointment]:
    case, access = _case_read(actor, case_id, Category.PLAN)
    items = list(case.appointments.select_related("organisation", "created_by"))
    _log_case(actor, case, access, AccessAction.LIST, [Category.PLAN], "appointment_list")
    return items


def appointment_for_write(*, actor: Membership, case_id: int, appointment_id: int) -> Appointment:
    # The category first: whether an appointment exists is itself plan data.
    case, _access = _case_read(actor, case_id, Category.PLAN)
    item = case.appointments.filter(pk=appointment_id).first()
    if item is None:
        raise Http404
    return item


def note_list(*, actor: Membership, case_id: int) -> list[Note]:
    """Notes as the case page shows them: case-team notes to everybody in scope,
    organisation notes only to the author's organisation; category notes, sensitive
    notes only where health is shared too."""
    case, access = _case_read(actor, case_id, Category.NOTES)
    visible = Q(visibility=NoteVisibility.CASE_TEAM) | Q(organisation_id=actor.organisation_id)
    if not access.allows(Category.HEALTH):
        visible &= Q(is_sensitive=False)
    notes = list(case.notes.filter(visible).select_related("author", "organisation"))
    categories = [Category.NOTES]
    if any(n.is_sensitive for n in notes):
        categories.append(Category.HEALTH)
    _log_case(actor, case, access, AccessAction.LIST, categories, "note_list")
    return notes


def followup_list(*, actor: Membership, case_id: int) -> list[FollowUp]:
    """Follow-ups of the actor's organisation (others' are their internal planning)."""
    case, access = _case_read(actor, case_id, Category.PLAN)
    items = list(
        case.followups.filter(organisation_id=actor.organisation_id).select_related(
            "owner", "organisation", "done_by", "created_by"
        )
    )
    _log_case(actor, case, access, AccessAction.LIST, [Category.PLAN], "followup_list")
    return items


def followup_for_write(*, actor: Membership, case_id: int, followup_id: int) -> FollowUp:
    case, _access = _case_read(actor, case_id, Category.PLAN)
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
