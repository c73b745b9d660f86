"""Writes of casework. Every function checks scope and role (privacy.access),
validates, writes atomically and records the access log entry."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lotse.core.models import AccessAction, Membership, Organisation, User
from lotse.core.roles import CASEWORK_ROLES, Perm
from lotse.core.services import access_log_record
from lotse.people.services import person_create
from lotse.privacy.access import Basis, require_case
from lotse.privacy.categories import LIFE_DOMAIN_CATEGORY, RECORD_CATEGORY, Category

from .codes import PHASE_ORDER, NoteVisibility, Phase, QuestionKind
from .hooks import person_changed
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
    InterviewGuide,
    InterviewQuestion,
    Note,
    PlanGoal,
    PlanStep,
    PlanVersion,
)
from .uploads import sniff_content_type


def _log(
    actor: Membership,
    case: Case,
    basis: str,
    action: str,
    kind: str,
    obj: Any,
    categories: Sequence[str] | None = None,
) -> None:
    access_log_record(
        actor=actor,
        action=action,
        person_ids=[case.person_id],
        categories=categories or [RECORD_CATEGORY[kind]],
        basis=basis,
        object_type=kind,
        object_id=obj.pk,
    )


def _touch(case: Case) -> None:
    Case.objects.filter(pk=case.pk).update(updated_at=timezone.now())


# --- cases -----------------------------------------------------------------


@transaction.atomic
def case_register(
    *,
    actor: Membership,
    opened_on: dt.date | None = None,
    other_names: Sequence[tuple[str, str]] = (),
    languages: Sequence[tuple[str, str]] = (),
    **person_fields: Any,
) -> Case:
    """Register a person and open a case led by the actor's organisation, in one step,
    so that a new person is never outside everybody's scope."""
    if not actor.has_perm(Perm.CASE_CREATE):
        raise PermissionDenied
    person = person_create(
        actor=actor, other_names=other_names, languages=languages, **person_fields
    )
    if opened_on is not None and (
        opened_on > timezone.localdate() or opened_on < person.birth_date
    ):
        raise ValidationError(
            {"opened_on": _("The case cannot open in the future or before the date of birth.")}
        )
    case = Case(
        person=person,
        lead_organisation_id=actor.organisation_id,
        case_manager=actor.user,
        phase=Phase.INTAKE,
        opened_on=opened_on or timezone.localdate(),
    )
    case.full_clean()
    case.save()
    IntegrationPlan.objects.create(case=case)
    _log(actor, case, Basis.LEAD_ORGANISATION, AccessAction.CREATE, "person", person)
    return case


@transaction.atomic
def case_phase_set(
    *,
    actor: Membership,
    case: Case,
    phase: str,
    closing_reason: str = "",
    closing_note: str = "",
    closed_on: dt.date | None = None,
) -> Case:
    basis = require_case(actor, case, Perm.CASE_EDIT)
    if phase not in PHASE_ORDER:
        raise ValidationError({"phase": _("Unknown phase.")})
    if case.is_closed:
        raise ValidationError({"phase": _("The case is closed. Reopen it first.")})
    if phase == Phase.CLOSED:
        if not closing_reason:
            raise ValidationError(
                {"closing_reason": _("Please give a reason for closing the case.")}
            )
        case.closed_on = closed_on or timezone.localdate()
        if case.closed_on < case.opened_on:
            raise ValidationError({"closed_on": _("A case cannot close before it was opened.")})
        case.closing_reason = closing_reason
        case.closing_note = closing_note
    case.phase = phase
    case.full_clean()
    case.save()
    _log(actor, case, basis, AccessAction.UPDATE, "case", case)
    if phase == Phase.CLOSED:
        person_changed(case.person_id)
    return case


@transaction.atomic
def case_reopen(*, actor: Membership, case: Case) -> Case:
    basis = require_case(actor, case, Perm.CASE_EDIT)
    if not case.is_closed:
        raise ValidationError({"phase": _("The case is open.")})
    if Case.objects.filter(
        person_id=case.person_id,
        lead_organisation_id=case.lead_organisation_id,
        closed_on__isnull=True,
    ).exists():
        raise ValidationError({"phase": _("The person already has an open case here.")})
    case.phase, case.closed_on, case.closing_reason = Phase.IMPLEMENTATION, None, ""
    case.save()
    _log(actor, case, basis, AccessAction.UPDATE, "case", case)
    person_changed(case.person_id)
    return case


@transaction.atomic
def case_manager_set(*, actor: Membership, case: Case, user: User) -> Case:
    basis = require_case(actor, case, Perm.CASE_EDIT)
    if not user.memberships.filter(
        organisation_id=case.lead_organisation_id, role__in=CASEWORK_ROLES, is_active=True
    ).exists():
        raise ValidationError(
            {"case_manager": _("The case manager must work for the lead organisation.")}
        )
    case.case_manager = user
    case.save()
    _log(actor, case, basis, AccessAction.UPDATE, "case", case)
    return case


@transaction.atomic
def case_team_add(
    *, actor: Membership, case: Case, member: Membership, team_role: str
) -> CaseTeamMember:
    basis = require_case(actor, case, Perm.CASE_EDIT)
    if member.role not in CASEWORK_ROLES or not member.is_active:
        raise ValidationError({"member": _("Only case workers of an agency can join a case team.")})
    if member.organisation_id == case.lead_organisation_id:
        raise ValidationError(
            {"member": _("Colleagues of the lead organisation see the case already.")}
        )
    if not team_role.strip():
        raise ValidationError({"team_role": _("Please describe the role in the case.")})
    if CaseTeamMember.objects.filter(
        case=case,
        user_id=member.user_id,
        organisation_id=member.organisation_id,
        removed_at__isnull=True,
    ).exists():
        raise ValidationError({"member": _("This person is already on the case team.")})
    item = CaseTeamMember.objects.create(
        case=case,
        user_id=member.user_id,
        organisation_id=member.organisation_id,
        team_role=team_role.strip(),
        added_by=actor.user,
    )
    _touch(case)
    _log(actor, case, basis, AccessAction.CREATE, "case_team", item)
    return item


@transaction.atomic
def case_team_remove(*, actor: Membership, case: Case, item: CaseTeamMember) -> None:
    basis = require_case(actor, case, Perm.CASE_EDIT)
    if item.case_id != case.pk or item.removed_at is not None:
        raise ValidationError({"member": _("Not an active member of this case team.")})
    item.removed_at = timezone.now()
    item.save(update_fields=["removed_at"])
    _touch(case)
    _log(actor, case, basis, AccessAction.DELETE, "case_team", item)


# --- intake ----------------------------------------------------------------


def _clean_answer(question: InterviewQuestion, raw: Any) -> Any:
    if raw in (None, "", []):
        if question.required:
            raise ValidationError(_("Please answer this question."))
        return None
    if question.kind == QuestionKind.NUMBER:
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise ValidationError(_("Please enter a whole number.")) from None
        if value < 0:
            raise ValidationError(_("Please enter a number of 0 or more."))
        return value
    if question.kind == QuestionKind.YES_NO:
        if raw in (True, "yes", "true", "1", 1):
            return True
        if raw in (False, "no", "false", "0", 0):
            return False
        raise ValidationError(_("Please answer yes or no."))
    if question.kind == QuestionKind.CHOICE:
        if raw not in question.choices:
            raise ValidationError(_("Please choose one of the given answers."))
        return raw
    if question.kind == QuestionKind.MULTI_CHOICE:
        values = raw if isinstance(raw, list) else [raw]
        if any(v not in question.choices for v in values):
            raise ValidationError(_("Please choose from the given answers."))
        return values
    text = str(raw).strip()
    if len(text) > 5000:
        raise ValidationError(_("Please keep the answer under 5000 characters."))
    return text


@transaction.atomic
def intake_create(
    *,
    actor: Membership,
    case: Case,
    guide: InterviewGuide,
    conducted_on: dt.date,
    answers: Mapping[str, Any],
    interpreter_language: str = "",
) -> Intake:
    basis = require_case(actor, case, Perm.CASE_EDIT)
    if conducted_on > timezone.localdate():
        raise ValidationError({"conducted_on": _("The intake cannot be in the future.")})
    errors: dict[str, Any] = {}
    recorded = []
    for question in guide.questions.filter(is_active=True):
        try:
            value = _clean_answer(question, answers.get(question.key))
        except ValidationError as exc:
            errors[question.key] = exc.messages
            continue
        recorded.append(
            {
                "key": question.key,
                "section": question.section,
                "question": question.text,
                "value": value,
            }
        )
    if errors:
        raise ValidationError(errors)
    intake = Intake.objects.create(
        case=case,
        guide=guide,
        conducted_on=conducted_on,
        conducted_by=actor.user,
        interpreter_language=interpreter_language,
        answers=recorded,
    )
    if case.phase == Phase.INTAKE:
        case.phase = Phase.ASSESSMENT
        case.save(update_fields=["phase", "updated_at"])
    else:
        _touch(case)
    _log(
        actor,
        case,
        basis,
        AccessAction.CREATE,
        "intake",
        intake,
        [Category.EDUCATION, Category.WORK],
    )
    return intake


def guide_question_save(
    *,
    actor: Membership,
    guide: InterviewGuide,
    question: InterviewQuestion | None = None,
    **values: Any,
) -> InterviewQuestion:
    if not actor.has_perm(Perm.GUIDE_EDIT) or guide.organisation_id not in (
        None,
        actor.organisation_id,
    ):
        raise PermissionDenied
    if guide.organisation_id is None and actor.role != "sysadmin":
        raise PermissionDenied
    question = question or InterviewQuestion(guide=guide)
    for key, value in values.items():
        setattr(question, key, value)
    if question.kind in (QuestionKind.CHOICE, QuestionKind.MULTI_CHOICE) and not question.choices:
        raise ValidationError({"choices": _("Please list the possible answers.")})
    question.full_clean()
    question.save()
    return question


@transaction.atomic
def guide_copy_for_organisation(*, actor: Membership, source: InterviewGuide) -> InterviewGuide:
    """Org admins adapt the default guide by working on their organisation's copy."""
    if not actor.has_perm(Perm.GUIDE_EDIT):
        raise PermissionDenied
    guide = InterviewGuide.objects.create(
        organisation_id=actor.organisation_id,
        name=_("%(name)s (%(org)s)") % {"name": source.name, "org": actor.organisation},
    )
    InterviewQuestion.objects.bulk_create(
        [
            InterviewQuestion(
                guide=guide,
                key=q.key,
                section=q.section,
                order=q.order,
                text=q.text,
                help_text=q.help_text,
                kind=q.kind,
                choices=q.choices,
                required=q.required,
                is_active=q.is_active,
            )
            for q in source.questions.all()
        ]
    )
    InterviewGuide.objects.filter(organisation_id=actor.organisation_id).exclude(
        pk=guide.pk
    ).update(is_active=False)
    return guide


# --- assessment ----------------------------------------------------------


@transaction.atomic
def assessment_create(
    *,
    actor: Membership,
    case: Case,
    assessed_on: dt.date,
    summary: str = "",
    items: Sequence[Mapping[str, Any]] = (),
) -> Assessment:
    basis = require_case(actor, case, Perm.CASE_EDIT)
    if assessed_on > timezone.localdate():
        raise ValidationError({"assessed_on": _("The assessment cannot be in the future.")})
    assessment = Assessment.objects.create(
        case=case, assessed_on=assessed_on, assessed_by=actor.user, summary=summary
    )
    for data in items:
        _assessment_item_build(assessment, data).save()
    if case.phase in (Phase.INTAKE, Phase.ASSESSMENT):
        case.phase = Phase.PLANNING if items else Phase.ASSESSMENT
        case.save(update_fields=["phase", "updated_at"])
    else:
        _touch(case)
    _log(actor, case, basis, AccessAction.CREATE, "assessment", assessment)
    return assessment


def _assessment_item_build(assessment: Assessment, data: Mapping[str, Any]) -> AssessmentItem:
    item = AssessmentItem(assessment=assessment, **data)
    if item.kind == "strength":
        item.priority, item.need_type = "", None
    errors: dict[str, list[str]] = {}
    if item.kind == "need" and not item.need_type_id:
        errors["need_type"] = [_("Please choose the type of need.")]
    if item.kind == "need" and not item.priority:
        errors["priority"] = [_("Please set a priority.")]
    if errors:
        raise ValidationError(errors)
    item.full_clean()
    return item


@transaction.atomic
def assessment_item_add(
    *, actor: Membership, assessment: Assessment, **data: Any
) -> AssessmentItem:
    case = assessment.case
    basis = require_case(actor, case, Perm.CASE_EDIT)
    item = _assessment_item_build(assessment, data)
    item.save()
    _touch(case)
    _log(
        actor,
        case,
        basis,
        AccessAction.CREATE,
        "assessment",
        item,
        [LIFE_DOMAIN_CATEGORY.get(item.life_domain, Category.PLAN)],
    )
    return item


@transaction.atomic
def assessment_item_status_set(
    *, actor: Membership, item: AssessmentItem, status: str
) -> AssessmentItem:
    case = item.assessment.case
    basis = require_case(actor, case, Perm.CASE_EDIT)
    item.status = status
    item.full_clean()
    item.save(update_fields=["status"])
    _touch(case)
    _log(actor, case, basis, AccessAction.UPDATE, "assessment", item)
    return item


# --- integration plan ------------------------------------------------------


def _plan(case: Case) -> IntegrationPlan:
    plan, _created = IntegrationPlan.objects.get_or_create(case=case)
    return plan


@transaction.atomic
def plan_goal_add(*, actor: Membership, case: Case, **values: Any) -> PlanGoal:
    basis = require_case(actor, case, Perm.CASE_EDIT)
    goal = PlanGoal(plan=_plan(case), **values)
    if goal.target_date and goal.target_date < case.opened_on:
        raise ValidationError(
            {"target_date": _("The target date lies before the case was opened.")}
        )
    goal.full_clean()
    goal.save()
    if case.phase in (Phase.INTAKE, Phase.ASSESSMENT):
        case.phase = Phase.PLANNING
        case.save(update_fields=["phase", "updated_at"])
    else:
        _touch(case)
    _log(actor, case, basis, AccessAction.CREATE, "plan", goal)
    return goal


@transaction.atomic
def plan_goal_update(*, actor: Membership, goal: PlanGoal, **values: Any) -> PlanGoal:
    case = goal.plan.case
    basis = require_case(actor, case, Perm.CASE_EDIT)
    for key, value in values.items():
        setattr(goal, key, value)
    goal.full_clean()
    goal.save()
    _touch(case)
    _log(actor, case, basis, AccessAction.UPDATE, "plan", goal)
    return goal


def _check_responsible(values: Mapping[str, Any]) -> None:
    org: Organisation | None = values.get("responsible_organisation")
    user: User | None = values.get("responsible_user")
    if not org and not user and not values.get("responsible_is_client"):
        raise ValidationError(
            {"responsible_organisation": _("Please name who is responsible for the step.")}
        )
    if org and user and not user.memberships.filter(organisation=org, is_active=True).exists():
        raise ValidationError(
            {"responsible_user": _("This person does not work for the responsible organisation.")}
        )


@transaction.atomic
def plan_step_add(*, actor: Membership, goal: PlanGoal, **values: Any) -> PlanStep:
    case = goal.plan.case
    basis = require_case(actor, case, Perm.CASE_EDIT)
    _check_responsible(values)
    step = PlanStep(goal=goal, **values)
    step.full_clean()
    step.save()
    _touch(case)
    _log(actor, case, basis, AccessAction.CREATE, "plan", step)
    person_changed(case.person_id)
    return step


@transaction.atomic
def plan_step_status_set(*, actor: Membership, step: PlanStep, status: str) -> PlanStep:
    """Team members responsible for a step may report its progress; the lead may always."""
    case = step.goal.plan.case
    category = LIFE_DOMAIN_CATEGORY.get(step.goal.life_domain, Category.PLAN)
    basis = require_case(actor, case, Perm.CASE_CONTRIBUTE, category)
    if (
        basis != Basis.LEAD_ORGANISATION
        and step.responsible_organisation_id != actor.organisation_id
    ):
        raise PermissionDenied
    step.status = status
    step.full_clean()
    step.save(update_fields=["status"])
    _touch(case)
    _log(actor, case, basis, AccessAction.UPDATE, "plan", step, [category])
    person_changed(case.person_id)
    return step


def plan_snapshot(plan: IntegrationPlan) -> dict[str, Any]:
    goals = plan.goals.prefetch_related(
        "steps__responsible_organisation", "steps__responsible_user"
    )
    return {
        "goals": [
            {
                "id": g.pk,
                "life_domain": g.life_domain,
                "title": g.title,
                "target_date": g.target_date.isoformat() if g.target_date else None,
                "status": g.status,
                "steps": [
                    {
                        "id": s.pk,
                        "title": s.title,
                        "responsible_organisation": str(s.responsible_organisation or ""),
                        "responsible_user": str(s.responsible_user or ""),
                        "responsible_is_client": s.responsible_is_client,
                        "due_date": s.due_date.isoformat() if s.due_date else None,
                        "status": s.status,
                    }
                    for s in g.steps.all()
                ],
            }
            for g in goals
        ]
    }


@transaction.atomic
def plan_agree(
    *, actor: Membership, case: Case, agreed_on: dt.date, remarks: str = ""
) -> PlanVersion:
    """Freeze the plan as agreed with the person: a new numbered version."""
    basis = require_case(actor, case, Perm.CASE_EDIT)
    plan = IntegrationPlan.objects.select_for_update().get(pk=_plan(case).pk)
    if agreed_on > timezone.localdate():
        raise ValidationError({"agreed_on": _("The agreement cannot be in the future.")})
    snapshot = plan_snapshot(plan)
    if not snapshot["goals"]:
        raise ValidationError({"agreed_on": _("The plan has no goals yet.")})
    last = plan.versions.order_by("-number").first()
    if last is not None and last.snapshot == snapshot and last.agreed_on == agreed_on:
        raise ValidationError({"agreed_on": _("This version of the plan has already been agreed.")})
    version = PlanVersion.objects.create(
        plan=plan,
        number=(last.number + 1) if last else 1,
        agreed_on=agreed_on,
        agreed_by=actor.user,
        remarks=remarks,
        snapshot=snapshot,
    )
    if case.phase in (Phase.INTAKE, Phase.ASSESSMENT, Phase.PLANNING):
        case.phase = Phase.IMPLEMENTATION
        case.save(update_fields=["phase", "updated_at"])
    else:
        _touch(case)
    _log(actor, case, basis, AccessAction.CREATE, "plan", version)
    return version


# --- appointments, notes, follow-ups, documents --------------------------------


@transaction.atomic
def appointment_create(*, actor: Membership, case: Case, **values: Any) -> Appointment:
    basis = require_case(actor, case, Perm.CASE_CONTRIBUTE, Category.PLAN)
    values.setdefault("organisation_id", actor.organisation_id)
    appointment = Appointment(case=case, created_by=actor.user, **values)
    appointment.full_clean()
    if Appointment.objects.filter(
        case=case, starts_at=appointment.starts_at, purpose=appointment.purpose
    ).exists():
        raise ValidationError({"starts_at": _("This appointment has already been entered.")})
    appointment.save()
    _touch(case)
    _log(actor, case, basis, AccessAction.CREATE, "appointment", appointment)
    return appointment


@transaction.atomic
def appointment_update(
    *, actor: Membership, appointment: Appointment, **values: Any
) -> Appointment:
    case = appointment.case
    basis = require_case(actor, case, Perm.CASE_CONTRIBUTE, Category.PLAN)
    if basis != Basis.LEAD_ORGANISATION and appointment.organisation_id != actor.organisation_id:
        raise PermissionDenied
    for key, value in values.items():
        setattr(appointment, key, value)
    appointment.full_clean()
    appointment.save()
    _touch(case)
    _log(actor, case, basis, AccessAction.UPDATE, "appointment", appointment)
    return appointment


@transaction.atomic
def note_create(
    *,
    actor: Membership,
    case: Case,
    text: str,
    visibility: str = NoteVisibility.ORGANISATION,
    is_sensitive: bool = False,
) -> Note:
    basis = require_case(actor, case, Perm.CASE_CONTRIBUTE, Category.NOTES)
    if is_sensitive:
        # A note on a special category needs health shared as well (reading needs both).
        require_case(actor, case, Perm.CASE_CONTRIBUTE, Category.HEALTH)
    note = Note(
        case=case,
        author=actor.user,
        organisation_id=actor.organisation_id,
        text=text.strip(),
        visibility=visibility,
        is_sensitive=is_sensitive,
    )
    note.full_clean()
    cutoff = timezone.now() - dt.timedelta(minutes=2)
    # The text is encrypted at rest, so SQL cannot compare it: compare the few recent ones.
    recent = Note.objects.filter(case=case, author=actor.user, created_at__gte=cutoff)
    if note.text in recent.values_list("text", flat=True):
        raise ValidationError({"text": _("This note has just been saved already.")})
    note.save()
    _touch(case)
    _log(
        actor,
        case,
        basis,
        AccessAction.CREATE,
        "note",
        note,
        [Category.HEALTH] if is_sensitive else [Category.NOTES],
    )
    return note


@transaction.atomic
def followup_create(
    *, actor: Membership, case: Case, title: str, due_on: dt.date, owner: User | None = None
) -> FollowUp:
    basis = require_case(actor, case, Perm.CASE_CONTRIBUTE, Category.PLAN)
    owner = owner or actor.user
    if not owner.memberships.filter(organisation_id=actor.organisation_id, is_active=True).exists():
        raise ValidationError({"owner": _("Follow-ups go to colleagues of your own organisation.")})
    followup = FollowUp(
        case=case,
        title=title.strip(),
        due_on=due_on,
        owner=owner,
        organisation_id=actor.organisation_id,
        created_by=actor.user,
    )
    followup.full_clean()
    if FollowUp.objects.filter(
        case=case, title=followup.title, due_on=due_on, done_at=None
    ).exists():
        raise ValidationError({"title": _("This follow-up exists already.")})
    followup.save()
    _touch(case)
    _log(actor, case, basis, AccessAction.CREATE, "followup", followup)
    return followup


@transaction.atomic
def followup_done(*, actor: Membership, followup: FollowUp) -> FollowUp:
    case = followup.case
    basis = require_case(actor, case, Perm.CASE_CONTRIBUTE, Category.PLAN)
    if followup.organisation_id != actor.organisation_id:
        raise PermissionDenied
    if followup.done_at is None:
        followup.done_at = timezone.now()
        followup.done_by = actor.user
        followup.save(update_fields=["done_at", "done_by"])
        _touch(case)
        _log(actor, case, basis, AccessAction.UPDATE, "followup", followup)
    return followup


@transaction.atomic
def document_upload(
    *, actor: Membership, case: Case, doc_type: str, title: str, upload: UploadedFile
) -> Document:
    basis = require_case(actor, case, Perm.CASE_CONTRIBUTE, Category.DOCUMENTS)
    if upload.size is None or upload.size > settings.DOCUMENT_MAX_BYTES:
        raise ValidationError(
            {
                "file": _("The file is too large (at most %(mb)s MB).")
                % {"mb": settings.DOCUMENT_MAX_BYTES // (1024 * 1024)}
            }
        )
    if upload.size == 0:
        raise ValidationError({"file": _("The file is empty.")})
    head = upload.read(16)
    upload.seek(0)
    content_type = sniff_content_type(head)
    if content_type is None:
        raise ValidationError({"file": _("Only PDF, JPEG and PNG files can be uploaded.")})
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    document = Document(
        case=case,
        doc_type=doc_type,
        title=title.strip(),
        original_filename=upload.name or "",
        content_type=content_type,
        size=upload.size,
        sha256=digest.hexdigest(),
        organisation_id=actor.organisation_id,
        uploaded_by=actor.user,
    )
    document.full_clean(exclude=["file"])
    if Document.objects.filter(case=case, sha256=document.sha256).exists():
        raise ValidationError({"file": _("This file has already been uploaded to the case.")})
    document.file.save(upload.name or "upload", upload, save=False)
    try:
        with transaction.atomic():
            document.save()
    except IntegrityError:
        document.file.delete(save=False)
        raise ValidationError(
            {"file": _("This file has already been uploaded to the case.")}
        ) from None
    _touch(case)
    _log(actor, case, basis, AccessAction.CREATE, "document", document)
    return document
