"""Thin views: a selector reads (scoped, logged), a form validates, a service writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from lotse.core.models import Membership
from lotse.core.roles import Perm
from lotse.core.views import acting_membership, actor_required, is_htmx, page_number
from lotse.people import services as people_services
from lotse.people.models import BenefitPeriod, ResidenceStatusPeriod
from lotse.people.selectors import person_duplicate_candidates
from lotse.privacy.access import BASIS_LABELS, require_case
from lotse.privacy.categories import Category
from lotse.referrals.careers_selectors import case_open_flags
from lotse.referrals.selectors import chain_for

from . import forms as f
from . import selectors, services
from .codes import GoalStatus, NeedStatus, StepStatus
from .models import (
    Appointment,
    Assessment,
    AssessmentItem,
    Case,
    CaseTeamMember,
    FollowUp,
    InterviewGuide,
    InterviewQuestion,
    PlanGoal,
    PlanStep,
)


def _case_url(case: Case, anchor: str = "") -> str:
    url = reverse("casework:detail", args=[case.pk])
    return f"{url}#{anchor}" if anchor else url


# --- list, register, detail ----------------------------------------------------


@actor_required(Perm.CASE_VIEW)
def case_list(request: HttpRequest) -> HttpResponse:
    form = f.CaseFilterForm(request.GET or None)
    filters = selectors.CaseFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters = selectors.CaseFilters(
            q=data["q"],
            birth_date=data["birth_date"],
            status=data["status"],
            organisation_id=data["organisation"].pk if data["organisation"] else None,
            phase=data["phase"],
            manager_id=acting_membership(request).user_id if data["mine"] else None,
            without_offer=data["without_offer"],
            need_type=data["need"],
            target_group=data["target_group"],
        )
    page = selectors.case_list(
        actor=acting_membership(request), filters=filters, page=page_number(request)
    )
    context = {"form": form, "page": page}
    if is_htmx(request):
        return render(request, "casework/_case_results.html", context)
    return render(request, "casework/case_list.html", context)


@actor_required(Perm.CASE_CREATE)
def register(request: HttpRequest) -> HttpResponse:
    actor = acting_membership(request)
    form = f.RegisterForm(request.POST or None)
    duplicates: list[Any] = []
    if request.method == "POST" and form.is_valid():
        duplicates = person_duplicate_candidates(
            actor=actor,
            family_name=form.cleaned_data["family_name"],
            given_names=form.cleaned_data["given_names"],
            birth_date=form.cleaned_data["birth_date"],
            other_names=form.other_names(),
        )
        if duplicates and not form.cleaned_data["confirm_not_duplicate"]:
            form.add_error(
                "confirm_not_duplicate",
                _(
                    "There are similar persons with the same date of birth. Please check them "
                    "and confirm that this is a different person."
                ),
            )
        else:
            try:
                case = services.case_register(
                    actor=actor,
                    other_names=form.other_names(),
                    languages=form.languages(),
                    **form.person_fields(),
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(
                    request,
                    _("%(person)s has been registered and a case opened.")
                    % {"person": case.person},
                )
                return redirect(_case_url(case))
    return render(request, "casework/register.html", {"form": form, "duplicates": duplicates})


@actor_required(Perm.CASE_VIEW)
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting_membership(request)
    detail = selectors.case_detail(actor=actor, case_id=pk)
    return render(
        request,
        "casework/case_detail.html",
        {
            "d": detail,
            "chain": chain_for(
                actor,
                detail.case,
                detail.access,
                residence=detail.residence.current,
                benefits=detail.benefits.current,
                log=False,
            ),
            "career_flags": case_open_flags(actor, detail.case, detail.access),
            "case": detail.case,
            "person": detail.case.person,
            "need_choices": NeedStatus.choices,
            "category_labels": dict(Category.choices),
            "basis_labels": BASIS_LABELS,
            "step_choices": StepStatus.choices,
        },
    )


@actor_required(Perm.CASE_VIEW)
def plan_print(request: HttpRequest, pk: int, number: int | None = None) -> HttpResponse:
    detail = selectors.case_detail(actor=acting_membership(request), case_id=pk)
    if not detail.access.is_lead:
        # The printed plan (and its agreed versions) covers every life domain.
        raise PermissionDenied
    version = None
    if number is not None:
        version = next((v for v in detail.plan.versions.all() if v.number == number), None)
        if version is None:
            raise Http404
    return render(
        request,
        "casework/plan_print.html",
        {
            "d": detail,
            "case": detail.case,
            "person": detail.case.person,
            "version": version,
            "today": timezone.localdate(),
        },
    )


# --- the generic form step on a case ------------------------------------------


def case_form(
    request: HttpRequest,
    pk: int,
    *,
    perm: str,
    form_factory: Callable[..., forms.BaseForm],
    save: Callable[[Membership, Case, Any], Any],
    title: str,
    anchor: str,
    success: str,
    intro: str = "",
    template: str = "casework/case_form.html",
    extra: dict[str, Any] | None = None,
    category: str | None = None,
) -> HttpResponse:
    """GET shows the form, POST validates and calls the service; service errors land at
    the fields, and nothing is written unless everything is valid (services are atomic)."""
    actor = acting_membership(request)
    case = selectors.case_get(actor=actor, case_id=pk)
    require_case(actor, case, perm, category)
    if case.is_closed:
        raise PermissionDenied
    form = form_factory(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            save(actor, case, form)
        except ValidationError as exc:
            form.add_service_errors(exc)  # type: ignore[attr-defined]
        else:
            messages.success(request, success)
            return redirect(_case_url(case, anchor))
    context = {
        "form": form,
        "case": case,
        "person": case.person,
        "title": title,
        "intro": intro,
        "anchor": anchor,
        **(extra or {}),
    }
    return render(request, template, context, status=422 if form.errors else 200)


def _get(model: type[Any], case: Case, pk: int, path: str) -> Any:
    """An object that belongs to this case (404 otherwise, e.g. an id from another case)."""
    return get_object_or_404(model, pk=pk, **{path: case})


# --- person and timelines -----------------------------------------------------------


@actor_required(Perm.CASE_EDIT)
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting_membership(request)
    case = selectors.case_get(actor=actor, case_id=pk)

    def save(actor: Membership, case: Case, form: Any) -> None:
        people_services.person_update(
            actor=actor,
            person=case.person,
            other_names=form.other_names(),
            languages=form.languages(),
            **form.person_fields(),
        )

    return case_form(
        request,
        pk,
        perm=Perm.CASE_EDIT,
        save=save,
        anchor="person",
        form_factory=lambda *a: f.PersonForm(*a[:1], instance=case.person),
        title=_("Edit master data"),
        success=_("Master data saved."),
    )


def _timeline_new(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    form_class = f.ResidenceForm if kind == "residence" else f.BenefitForm
    add = (
        people_services.residence_status_add
        if kind == "residence"
        else people_services.benefit_period_add
    )

    def save(actor: Membership, case: Case, form: Any) -> None:
        add(actor=actor, person=case.person, **form.cleaned_data)

    return case_form(
        request,
        pk,
        perm=Perm.CASE_EDIT,
        save=save,
        anchor="residence",
        form_factory=lambda *a: form_class(*a[:1]),
        title=_("New residence status") if kind == "residence" else _("New benefit period"),
        intro=_(
            "An open period before the new one ends the day before. Earlier entries stay in "
            "the history."
        ),
        success=_("Entry saved."),
    )


def _timeline_correct(request: HttpRequest, pk: int, entry_pk: int, kind: str) -> HttpResponse:
    actor = acting_membership(request)
    case = selectors.case_get(actor=actor, case_id=pk)
    model: type[Any] = ResidenceStatusPeriod if kind == "residence" else BenefitPeriod
    entry = get_object_or_404(model, pk=entry_pk, person_id=case.person_id)
    form_class = f.ResidenceCorrectionForm if kind == "residence" else f.BenefitCorrectionForm
    correct = (
        people_services.residence_status_correct
        if kind == "residence"
        else people_services.benefit_period_correct
    )

    def save(actor: Membership, case: Case, form: Any) -> None:
        data = dict(form.cleaned_data)
        reason, retract = data.pop("correction_reason"), data.pop("retract")
        correct(actor=actor, entry=entry, reason=reason, retract=retract, **data)

    return case_form(
        request,
        pk,
        perm=Perm.CASE_EDIT,
        save=save,
        anchor="residence",
        form_factory=lambda *a: form_class(
            *a[:1],
            instance=model(
                **{
                    fld.attname: getattr(entry, fld.attname)
                    for fld in model._meta.concrete_fields
                    if fld.attname not in ("id", "supersedes_id")
                }
            ),
        ),
        title=_("Correct entry: %(entry)s") % {"entry": entry},
        intro=_(
            "The entry is not overwritten: the correction supersedes it and both stay visible "
            "in the history."
        ),
        success=_("Correction saved."),
    )


@actor_required(Perm.CASE_EDIT)
def residence_new(request: HttpRequest, pk: int) -> HttpResponse:
    return _timeline_new(request, pk, "residence")


@actor_required(Perm.CASE_EDIT)
def residence_correct(request: HttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    return _timeline_correct(request, pk, entry_pk, "residence")


@actor_required(Perm.CASE_EDIT)
def benefit_new(request: HttpRequest, pk: int) -> HttpResponse:
    return _timeline_new(request, pk, "benefit")


@actor_required(Perm.CASE_EDIT)
def benefit_correct(request: HttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    return _timeline_correct(request, pk, entry_pk, "benefit")


# --- case: phase, team -------------------------------------------------------------------


@actor_required(Perm.CASE_EDIT)
def phase(request: HttpRequest, pk: int) -> HttpResponse:
    def save(actor: Membership, case: Case, form: Any) -> None:
        services.case_phase_set(actor=actor, case=case, **form.cleaned_data)

    actor = acting_membership(request)
    case = selectors.case_get(actor=actor, case_id=pk)
    return case_form(
        request,
        pk,
        perm=Perm.CASE_EDIT,
        save=save,
        anchor="overview",
        form_factory=lambda *a: f.PhaseForm(*a[:1], initial={"phase": case.phase}),
        title=_("Change phase or close the case"),
        success=_("Phase saved."),
    )


@require_POST
@actor_required(Perm.CASE_EDIT)
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting_membership(request)
    case = selectors.case_get(actor=actor, case_id=pk)
    try:
        services.case_reopen(actor=actor, case=case)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The case has been reopened."))
    return redirect(_case_url(case))


@actor_required(Perm.CASE_EDIT)
def team_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting_membership(request)
    case = selectors.case_get(actor=actor, case_id=pk)

    def save(actor: Membership, case: Case, form: Any) -> None:
        services.case_team_add(
            actor=actor,
            case=case,
            member=form.cleaned_data["member"],
            team_role=form.cleaned_data["team_role"],
        )

    return case_form(
        request,
        pk,
        perm=Perm.CASE_EDIT,
        save=save,
        anchor="team",
        form_factory=lambda *a: f.TeamAddForm(
            *a[:1], lead_organisation_id=case.lead_organisation_id
        ),
        title=_("Add to the case team"),
        intro=_(
            "Team members' organisations can see the case. Until consent management is in "
            "place, add only agencies the person has agreed to."
        ),
        success=_("Added to the case team."),
    )


@require_POST
@actor_required(Perm.CASE_EDIT)
def team_remove(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    actor = acting_membership(request)
    case = selectors.case_get(actor=actor, case_id=pk)
    item = _get(CaseTeamMember, case, member_pk, "case")
    try:
        services.case_team_remove(actor=actor, case=case, item=item)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Removed from the case team."))
    return redirect(_case_url(case, "team"))


# --- intake ------------------------------------------------------------------------


def _active_guide(actor: Membership) -> InterviewGuide:
    guide = (
        InterviewGuide.objects.filter(organisation_id=actor.organisation_id, is_active=True).first()
        or InterviewGuide.objects.filter(organisation__isnull=True, is_active=True).first()
    )
    if guide is None:
        raise Http404
    return guide


@actor_required(Perm.CASE_EDIT)
def intake_new(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting_membership(request)
    guide = _active_guide(actor)
    questions = list(guide.questions.filter(is_active=True))

    def save(actor: Membership, case: Case, form: Any) -> None:
        services.intake_create(
            actor=actor,
            case=case,
            guide=guide,
            conducted_on=form.cleaned_data["conducted_on"],
            interpreter_language=form.cleaned_data["interpreter_language"],
            answers=form.answers(),
        )

    return case_form(
        request,
        pk,
        perm=Perm.CASE_EDIT,
        save=save,
        anchor="intake",
        form_factory=lambda *a: f.IntakeForm(
            *a[:1], questions=questions, initial={"conducted_on": timezone.localdate()}
        ),
        title=_("Intake interview"),
        intro=guide.name,
        success=_("Intake saved."),
    )


# --- assessment --------------------------------------------------------------------


class _AssessmentWithItemForm(f.AssessmentForm, f.AssessmentItemForm):
    """A new assessment with its first strength or need (the common case in one step)."""


@actor_required(Perm.CASE_EDIT)
def assessment_new(request: HttpRequest, pk: int) -> HttpResponse:
    def save(actor: Membership, case: Case, form: Any) -> None:
        data = form.cleaned_data
        item = {k: data[k] for k in ("life_domain", "kind", "description", "need_type", "priority")}
        services.assessment_create(
            actor=actor,
            case=case,
            assessed_on=data["assessed_on"],
            summary=data["summary"],
            items=[item],
        )

    return case_form(
        request,
        pk,
        perm=Perm.CASE_EDIT,
        save=save,
        anchor="assessment",
        form_factory=lambda *a: _AssessmentWithItemForm(
            *a[:1], initial={"assessed_on": timezone.localdate()}
        ),
        title=_("New assessment"),
        success=_("Assessment saved."),
        intro=_(
            "Record strengths and needs per life domain. Further items can be added to the "
            "assessment afterwards."
        ),
    )


@actor_required(Perm.CASE_EDIT)
def assessment_item_new(request: HttpRequest, pk: int, assessment_pk: int) -> HttpResponse:
    actor = acting_membership(request)
    case = selectors.case_get(actor=actor, case_id=pk)
    assessment = _get(Assessment, case, assessment_pk, "case")

    def save(actor: Membership, case: Case, form: Any) -> None:
        services.assessment_item_add(actor=actor, assessment=assessment, **form.cleaned_data)

    return case_form(
        request,
        pk,
        perm=Perm.CASE_EDIT,
        save=save,
        anchor="assessment",
        form_factory=lambda *a: f.AssessmentItemForm(*a[:1]),
        title=_("Add a strength or need"),
        intro=str(assessment),
        success=_("Saved."),
    )


def _status_post(
    request: HttpRequest,
    pk: int,
    *,
    model: type[Any],
    obj_pk: int,
    path: str,
    choices: Any,
    save: Callable[[Membership, Any, str], Any],
    anchor: str,
) -> HttpResponse:
    """The small status forms on the case page: one select, one button."""
    actor = acting_membership(request)
    case = selectors.case_get(actor=actor, case_id=pk)
    obj = _get(model, case, obj_pk, path)
    form = f.StatusForm(request.POST, choices=choices)
    if form.is_valid():
        save(actor, obj, form.cleaned_data["status"])
        messages.success(request, _("Status saved."))
    return redirect(_case_url(case, anchor))


@require_POST
@actor_required(Perm.CASE_EDIT)
def need_status(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    return _status_post(
        request,
        pk,
        model=AssessmentItem,
        obj_pk=item_pk,
        path="assessment__case",
        choices=NeedStatus.choices,
        anchor="assessment",
        save=lambda actor, item, status: services.assessment_item_status_set(
            actor=actor, item=item, status=status
        ),
    )


# --- plan --------------------------------------------------------------------------


@actor_required(Perm.CASE_EDIT)
def goal_new(request: HttpRequest, pk: int) -> HttpResponse:
    def save(actor: Membership, case: Case, form: Any) -> None:
        services.plan_goal_add(actor=actor, case=case, **form.cleaned_data)

    return case_form(
        request,
        pk,
        perm=Perm.CASE_EDIT,
        save=save,
        anchor="plan",
        form_factory=lambda *a: f.GoalForm(*a[:1]),
        title=_("New goal"),
        success=_("Goal saved."),
    )


@require_POST
@actor_required(Perm.CASE_EDIT)
def goal_status(request: HttpRequest, pk: int, goal_pk: int) -> HttpResponse:
    return _status_post(
        request,
        pk,
        model=PlanGoal,
        obj_pk=goal_pk,
        path="plan__case",
        choices=GoalStatus.choices,
        anchor="plan",
        save=lambda actor, goal, status: services.plan_goal_update(
            actor=actor, goal=goal, status=status
        ),
    )


@actor_required(Perm.CASE_EDIT)
def step_new(request: HttpRequest, pk: int, goal_pk: int) -> HttpResponse:
    actor = acting_membership(request)
    case = selectors.case_get(actor=actor, case_id=pk)
    goal = _get(PlanGoal, case, goal_pk, "plan__case")
    user_ids = [
        case.case_manager_id,
        *case.team.filter(removed_at__isnull=True).values_list("user_id", flat=True),
    ]

    def save(actor: Membership, case: Case, form: Any) -> None:
        services.plan_step_add(actor=actor, goal=goal, **form.cleaned_data)

    return case_form(
        request,
        pk,
        perm=Perm.CASE_EDIT,
        save=save,
        anchor="plan",
        form_factory=lambda *a: f.StepForm(*a[:1], case_user_ids=user_ids),
        title=_("New step"),
        intro=_("Goal: %(goal)s") % {"goal": goal},
        success=_("Step saved."),
    )


@require_POST
@actor_required(Perm.CASE_CONTRIBUTE)
def step_status(request: HttpRequest, pk: int, step_pk: int) -> HttpResponse:
    return _status_post(
        request,
        pk,
        model=PlanStep,
        obj_pk=step_pk,
        path="goal__plan__case",
        choices=StepStatus.choices,
        anchor="plan",
        save=lambda actor, step, status: services.plan_step_status_set(
            actor=actor, step=step, status=status
        ),
    )


@actor_required(Perm.CASE_EDIT)
def plan_agree(request: HttpRequest, pk: int) -> HttpResponse:
    def save(actor: Membership, case: Case, form: Any) -> None:
        services.plan_agree(actor=actor, case=case, **form.cleaned_data)

    return case_form(
        request,
        pk,
        perm=Perm.CASE_EDIT,
        save=save,
        anchor="plan",
        form_factory=lambda *a: f.AgreeForm(*a[:1], initial={"agreed_on": timezone.localdate()}),
        title=_("Record the agreement with the person"),
        intro=_("The current plan is kept as a numbered version that cannot change any more."),
        success=_("The plan version has been saved."),
    )


# --- appointments, notes, documents, follow-ups ---------------------------------


@actor_required(Perm.CASE_CONTRIBUTE)
def appointment_new(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting_membership(request)

    def save(actor: Membership, case: Case, form: Any) -> None:
        services.appointment_create(actor=actor, case=case, **form.cleaned_data)

    return case_form(
        request,
        pk,
        perm=Perm.CASE_CONTRIBUTE,
        category=Category.PLAN,
        save=save,
        anchor="appointments",
        form_factory=lambda *a: f.AppointmentForm(
            *a[:1], initial={"organisation": actor.organisation_id, "status": "planned"}
        ),
        title=_("New appointment"),
        success=_("Appointment saved."),
    )


@actor_required(Perm.CASE_CONTRIBUTE)
def appointment_edit(request: HttpRequest, pk: int, appointment_pk: int) -> HttpResponse:
    actor = acting_membership(request)
    case = selectors.case_get(actor=actor, case_id=pk)
    appointment = _get(Appointment, case, appointment_pk, "case")

    def save(actor: Membership, case: Case, form: Any) -> None:
        services.appointment_update(actor=actor, appointment=appointment, **form.cleaned_data)

    return case_form(
        request,
        pk,
        perm=Perm.CASE_CONTRIBUTE,
        category=Category.PLAN,
        save=save,
        anchor="appointments",
        form_factory=lambda *a: f.AppointmentForm(
            *a[:1], instance=Appointment.objects.get(pk=appointment.pk)
        ),
        title=_("Appointment: outcome and agreements"),
        success=_("Appointment saved."),
    )


@actor_required(Perm.CASE_CONTRIBUTE)
def note_new(request: HttpRequest, pk: int) -> HttpResponse:
    def save(actor: Membership, case: Case, form: Any) -> None:
        services.note_create(actor=actor, case=case, **form.cleaned_data)

    return case_form(
        request,
        pk,
        perm=Perm.CASE_CONTRIBUTE,
        category=Category.NOTES,
        save=save,
        anchor="notes",
        form_factory=lambda *a: f.NoteForm(*a[:1]),
        title=_("New note"),
        success=_("Note saved."),
    )


@actor_required(Perm.CASE_CONTRIBUTE)
def document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    def save(actor: Membership, case: Case, form: Any) -> None:
        services.document_upload(
            actor=actor,
            case=case,
            doc_type=form.cleaned_data["doc_type"],
            title=form.cleaned_data["title"],
            upload=form.cleaned_data["file"],
        )

    return case_form(
        request,
        pk,
        perm=Perm.CASE_CONTRIBUTE,
        category=Category.DOCUMENTS,
        save=save,
        anchor="documents",
        form_factory=lambda *a: f.DocumentForm(*a),
        title=_("Upload a document"),
        success=_("Document uploaded."),
        template="casework/case_form_upload.html",
    )


@actor_required(Perm.CASE_VIEW)
def document_download(request: HttpRequest, pk: int, document_pk: int) -> FileResponse:
    document = selectors.document_for_download(
        actor=acting_membership(request), case_id=pk, document_id=document_pk
    )
    response = FileResponse(
        document.file.open("rb"),
        content_type=document.content_type,
        as_attachment=True,
        filename=document.original_filename or "dokument",
    )
    response["Cache-Control"] = "no-store"
    return response


@actor_required(Perm.CASE_CONTRIBUTE)
def followup_new(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting_membership(request)

    def save(actor: Membership, case: Case, form: Any) -> None:
        services.followup_create(actor=actor, case=case, **form.cleaned_data)

    return case_form(
        request,
        pk,
        perm=Perm.CASE_CONTRIBUTE,
        category=Category.PLAN,
        save=save,
        anchor="followups",
        form_factory=lambda *a: f.FollowUpForm(
            *a[:1], organisation_id=actor.organisation_id, initial={"owner": actor.user_id}
        ),
        title=_("New follow-up"),
        success=_("Follow-up saved."),
    )


@require_POST
@actor_required(Perm.CASE_CONTRIBUTE)
def followup_done(request: HttpRequest, pk: int, followup_pk: int) -> HttpResponse:
    actor = acting_membership(request)
    case = selectors.case_get(actor=actor, case_id=pk)
    followup = _get(FollowUp, case, followup_pk, "case")
    services.followup_done(actor=actor, followup=followup)
    if is_htmx(request):
        return render(request, "casework/_followup_done.html", {"f": followup})
    messages.success(request, _("Follow-up done."))
    return redirect(request.POST.get("next") or _case_url(case, "followups"))


# --- interview guide (org admins) -----------------------------------------------------


@actor_required(Perm.GUIDE_EDIT)
def guides(request: HttpRequest) -> HttpResponse:
    actor = acting_membership(request)
    own = InterviewGuide.objects.filter(
        organisation_id=actor.organisation_id, is_active=True
    ).first()
    default = InterviewGuide.objects.filter(organisation__isnull=True, is_active=True).first()
    editable = own or (default if actor.role == "sysadmin" else None)
    if request.method == "POST" and own is None and default is not None:
        own = services.guide_copy_for_organisation(actor=actor, source=default)
        messages.success(request, _("Your organisation now has its own copy of the guide."))
        return redirect("casework:guides")
    shown = editable or default
    return render(
        request,
        "casework/guides.html",
        {
            "guide": shown,
            "editable": editable is not None,
            "questions": shown.questions.all() if shown else [],
            "can_copy": own is None,
        },
    )


@actor_required(Perm.GUIDE_EDIT)
def question_edit(
    request: HttpRequest, guide_pk: int, question_pk: int | None = None
) -> HttpResponse:
    actor = acting_membership(request)
    guide = get_object_or_404(InterviewGuide, pk=guide_pk)
    question = (
        get_object_or_404(InterviewQuestion, pk=question_pk, guide=guide) if question_pk else None
    )
    form = f.QuestionForm(request.POST or None, instance=question or InterviewQuestion(guide=guide))
    if request.method == "POST" and form.is_valid():
        values = {k: form.cleaned_data[k] for k in form.Meta.fields}
        try:
            services.guide_question_save(
                actor=actor, guide=guide, question=question, choices=form.choices(), **values
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Question saved."))
            return redirect("casework:guides")
    elif guide.organisation_id not in (None, actor.organisation_id):
        raise Http404
    return render(
        request,
        "casework/question_form.html",
        {
            "form": form,
            "guide": guide,
            "title": gettext_lazy("Edit question") if question else gettext_lazy("New question"),
        },
        status=422 if form.errors else 200,
    )


@actor_required(Perm.CASE_EDIT)
def household(request: HttpRequest, pk: int) -> HttpResponse:
    """Link the person with a household member: search among persons in scope, pick one."""
    actor = acting_membership(request)
    case = selectors.case_get(actor=actor, case_id=pk)
    require_case(actor, case, Perm.CASE_EDIT)
    q = (request.POST.get("q") or request.GET.get("q") or "").strip()[:100]
    candidates = selectors.household_candidates(actor=actor, case=case, q=q)
    form = f.HouseholdLinkForm(request.POST or None, candidates=candidates)
    if request.method == "POST" and request.POST.get("leave"):
        people_services.household_leave(actor=actor, person=case.person)
        messages.success(request, _("The person has left the household."))
        return redirect(_case_url(case, "overview"))
    if request.method == "POST" and form.is_valid():
        other = next(c.person for c in candidates if c.person_id == form.cleaned_data["other"])
        try:
            people_services.household_link(
                actor=actor,
                person=case.person,
                other=other,
                role=form.cleaned_data["role"],
                other_role=form.cleaned_data["other_role"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Household saved."))
            return redirect(_case_url(case, "overview"))
    return render(
        request,
        "casework/household.html",
        {
            "case": case,
            "person": case.person,
            "form": form,
            "q": q,
            "candidates": candidates,
        },
        status=422 if form.errors else 200,
    )
