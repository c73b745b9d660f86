"""Cases and casework (DESIGN §3): intake, assessment, plan, appointments, notes, documents."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from lotse.core.models import NeedType, Organisation
from lotse.people.models import Person
from lotse.privacy.fields import EncryptedTextField

from .codes import (
    AppointmentStatus,
    ClosingReason,
    DocumentType,
    GoalStatus,
    GuideSection,
    ItemKind,
    LifeDomain,
    NeedStatus,
    NoteVisibility,
    Phase,
    Priority,
    QuestionKind,
    StepStatus,
)

User = settings.AUTH_USER_MODEL


class Case(models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cases")
    lead_organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("lead organisation"),
        on_delete=models.PROTECT,
        related_name="led_cases",
    )
    case_manager = models.ForeignKey(
        User, verbose_name=_("case manager"), on_delete=models.PROTECT, related_name="managed_cases"
    )
    phase = models.CharField(_("phase"), max_length=20, choices=Phase.choices, default=Phase.INTAKE)
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    closing_reason = models.CharField(
        _("closing reason"), max_length=30, choices=ClosingReason.choices, blank=True
    )
    closing_note = models.TextField(_("closing note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Touched by every casework service so "recently changed cases" needs no join.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "lead_organisation"],
                condition=Q(closed_on__isnull=True),
                name="case_one_open_per_person_and_org",
            ),
            models.CheckConstraint(
                condition=(Q(phase="closed") & Q(closed_on__isnull=False) & ~Q(closing_reason=""))
                | (~Q(phase="closed") & Q(closed_on__isnull=True)),
                name="case_closed_consistent",
            ),
        ]

    def __str__(self) -> str:
        return _("Case %(id)s") % {"id": self.pk}

    @property
    def is_closed(self) -> bool:
        return self.phase == Phase.CLOSED


class CaseTeamMember(models.Model):
    """A user of (usually) another organisation working on the case, with their role in it."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="+"
    )
    team_role = models.CharField(_("role in the case"), max_length=120)
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organisation__name"]
        verbose_name = _("case team member")
        verbose_name_plural = _("case team members")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "user", "organisation"],
                condition=Q(removed_at__isnull=True),
                name="case_team_member_unique_active",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.organisation}): {self.team_role}"


class InterviewGuide(models.Model):
    """A configurable interview guide for intakes; organisation None = the default guide."""

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="guides"
    )
    name = models.CharField(_("name"), max_length=120)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("interview guide")
        verbose_name_plural = _("interview guides")

    def __str__(self) -> str:
        return self.name


class InterviewQuestion(models.Model):
    guide = models.ForeignKey(InterviewGuide, on_delete=models.CASCADE, related_name="questions")
    key = models.SlugField(_("key"), max_length=60)
    section = models.CharField(_("section"), max_length=20, choices=GuideSection.choices)
    order = models.PositiveIntegerField(_("order"), default=0)
    text = models.CharField(_("question"), max_length=300)
    help_text = models.CharField(_("hint"), max_length=300, blank=True)
    kind = models.CharField(_("answer type"), max_length=20, choices=QuestionKind.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("interview question")
        verbose_name_plural = _("interview questions")
        constraints = [models.UniqueConstraint(fields=["guide", "key"], name="question_key_unique")]

    def __str__(self) -> str:
        return self.text


class Intake(models.Model):
    """An intake interview. Answers keep the question text as asked, so later edits
    of the guide do not change what was recorded."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="intakes")
    guide = models.ForeignKey(
        InterviewGuide, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    conducted_on = models.DateField(_("conducted on"))
    conducted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    interpreter_language = models.CharField(_("interpreter for"), max_length=8, blank=True)
    answers = models.JSONField(default=list)  # [{"key", "section", "question", "value"}]
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-conducted_on", "-pk"]
        verbose_name = _("intake")
        verbose_name_plural = _("intakes")

    def __str__(self) -> str:
        return _("Intake on %(date)s") % {
            "date": date_format(self.conducted_on, "SHORT_DATE_FORMAT")
        }


class Assessment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assessments")
    assessed_on = models.DateField(_("date"))
    assessed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    summary = models.TextField(_("summary"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-assessed_on", "-pk"]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")

    def __str__(self) -> str:
        return _("Assessment of %(date)s") % {
            "date": date_format(self.assessed_on, "SHORT_DATE_FORMAT")
        }


class AssessmentItem(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="items")
    life_domain = models.CharField(_("life domain"), max_length=20, choices=LifeDomain.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=ItemKind.choices)
    description = EncryptedTextField(_("description"), max_length=500)
    need_type = models.ForeignKey(
        NeedType, verbose_name=_("need type"), null=True, blank=True, on_delete=models.PROTECT
    )
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=NeedStatus.choices, default=NeedStatus.OPEN
    )

    class Meta:
        ordering = ["life_domain", "kind", "pk"]
        verbose_name = _("assessment item")
        verbose_name_plural = _("assessment items")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="strength") | (~Q(priority="") & Q(need_type__isnull=False)),
                name="assessment_need_has_type_and_priority",
            )
        ]

    def __str__(self) -> str:
        return self.description


class IntegrationPlan(models.Model):
    """The working plan of a case. Each agreement with the person freezes a PlanVersion."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="plan")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("integration plan")
        verbose_name_plural = _("integration plans")

    def __str__(self) -> str:
        return _("Integration plan of case %(id)s") % {"id": self.case_id}


class PlanGoal(models.Model):
    plan = models.ForeignKey(IntegrationPlan, on_delete=models.CASCADE, related_name="goals")
    life_domain = models.CharField(_("life domain"), max_length=20, choices=LifeDomain.choices)
    title = models.CharField(_("goal"), max_length=300)
    target_date = models.DateField(_("target date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=GoalStatus.choices, default=GoalStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["target_date", "pk"]
        verbose_name = _("goal")
        verbose_name_plural = _("goals")

    def __str__(self) -> str:
        return self.title


class PlanStep(models.Model):
    goal = models.ForeignKey(PlanGoal, on_delete=models.CASCADE, related_name="steps")
    title = models.CharField(_("step"), max_length=300)
    responsible_organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("responsible organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    responsible_user = models.ForeignKey(
        User,
        verbose_name=_("responsible person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    responsible_is_client = models.BooleanField(_("the person themselves"), default=False)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=StepStatus.choices, default=StepStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("step")
        verbose_name_plural = _("steps")

    def __str__(self) -> str:
        return self.title


class PlanVersion(models.Model):
    """A frozen copy of the plan as agreed with the person on a date."""

    plan = models.ForeignKey(IntegrationPlan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    agreed_on = models.DateField(_("agreed with the person on"))
    agreed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    remarks = models.TextField(_("remarks"), blank=True)
    snapshot = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        verbose_name = _("agreed plan version")
        verbose_name_plural = _("agreed plan versions")
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_version_unique")
        ]

    def __str__(self) -> str:
        return _("Version %(n)s of %(date)s") % {
            "n": self.number,
            "date": date_format(self.agreed_on, "SHORT_DATE_FORMAT"),
        }


class Appointment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="appointments")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField(_("date and time"), db_index=True)
    purpose = models.CharField(_("purpose"), max_length=300)
    location = models.CharField(_("location"), max_length=200, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=AppointmentStatus.choices,
        default=AppointmentStatus.PLANNED,
    )
    outcome = models.TextField(_("outcome"), blank=True)
    agreements = models.TextField(_("agreements"), blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")

    def __str__(self) -> str:
        return self.purpose


class Note(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    text = EncryptedTextField(_("text"))
    visibility = models.CharField(
        _("visible to"),
        max_length=20,
        choices=NoteVisibility.choices,
        default=NoteVisibility.ORGANISATION,
    )
    is_sensitive = models.BooleanField(
        _("special category (e.g. health)"),
        default=False,
        help_text=_("Health and other special categories of data (Art. 9 GDPR)."),
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")

    def __str__(self) -> str:
        return self.text[:60]


class DocumentStorage(FileSystemStorage):
    """Documents live under DOCUMENT_ROOT, outside STATIC/MEDIA, and have no URL.
    The location is read at use, so operators and tests can move it."""

    @property
    def base_location(self) -> str:
        return str(settings.DOCUMENT_ROOT)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        raise NotImplementedError("documents are served only by the permission-checked view")


document_storage = DocumentStorage()


def get_document_storage() -> DocumentStorage:
    return document_storage


def _document_path(instance: Document, filename: str) -> str:
    # Never keep the uploaded name on disk: it may hold personal data or path tricks.
    return str(Path(f"{instance.case_id}") / f"{uuid.uuid4().hex}{Path(filename).suffix.lower()}")


class Document(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    doc_type = models.CharField(_("document type"), max_length=30, choices=DocumentType.choices)
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), storage=get_document_storage, upload_to=_document_path)
    original_filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        constraints = [
            models.UniqueConstraint(fields=["case", "sha256"], name="document_unique_per_case")
        ]

    def __str__(self) -> str:
        return self.title


class FollowUp(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="followups")
    title = models.CharField(_("subject"), max_length=300)
    due_on = models.DateField(_("due on"), db_index=True)
    owner = models.ForeignKey(
        User, verbose_name=_("responsible"), on_delete=models.PROTECT, related_name="followups"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")

    def __str__(self) -> str:
        return self.title
