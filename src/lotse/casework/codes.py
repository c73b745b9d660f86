from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Phase(models.TextChoices):
    INTAKE = "intake", _("Intake")
    ASSESSMENT = "assessment", _("Assessment")
    PLANNING = "planning", _("Planning")
    IMPLEMENTATION = "implementation", _("Implementation & monitoring")
    EVALUATION = "evaluation", _("Evaluation")
    CLOSED = "closed", _("Closed")


PHASE_ORDER = [p.value for p in Phase]


class ClosingReason(models.TextChoices):
    GOALS_ACHIEVED = "goals_achieved", _("goals achieved")
    TRANSFERRED = "transferred", _("handed over to another service")
    MOVED_AWAY = "moved_away", _("moved away")
    LEFT_TARGET_GROUP = "left_target_group", _("left the target group")
    NO_CONTACT = "no_contact", _("no contact any more")
    DECLINED = "declined", _("person ended the cooperation")
    DEPARTED = "departed", _("left Germany")
    OTHER = "other", _("other")


class LifeDomain(models.TextChoices):
    LANGUAGE = "language", _("Language")
    EDUCATION = "education", _("School / education")
    WORK = "work", _("Training / work")
    HOUSING = "housing", _("Housing")
    HEALTH = "health", _("Health")
    LIVELIHOOD = "livelihood", _("Livelihood")
    RESIDENCE = "residence", _("Residence")
    FAMILY = "family", _("Family")
    PARTICIPATION = "participation", _("Social participation")


class ItemKind(models.TextChoices):
    STRENGTH = "strength", _("strength")
    NEED = "need", _("need")


class Priority(models.TextChoices):
    HIGH = "high", _("high")
    MEDIUM = "medium", _("medium")
    LOW = "low", _("low")


class NeedStatus(models.TextChoices):
    OPEN = "open", _("open")
    IN_PROGRESS = "in_progress", _("in progress")
    MET = "met", _("met")
    DROPPED = "dropped", _("no longer relevant")


class GoalStatus(models.TextChoices):
    OPEN = "open", _("open")
    ACHIEVED = "achieved", _("achieved")
    DROPPED = "dropped", _("dropped")


class StepStatus(models.TextChoices):
    OPEN = "open", _("open")
    IN_PROGRESS = "in_progress", _("in progress")
    DONE = "done", _("done")
    CANCELLED = "cancelled", _("cancelled")


class AppointmentStatus(models.TextChoices):
    PLANNED = "planned", _("planned")
    HELD = "held", _("held")
    CANCELLED = "cancelled", _("cancelled")
    MISSED = "missed", _("missed")


class NoteVisibility(models.TextChoices):
    ORGANISATION = "organisation", _("own organisation only")
    CASE_TEAM = "case_team", _("whole case team")


class DocumentType(models.TextChoices):
    ASYLBESCHEID = "asylbescheid", _("Asylum decision")
    AUFENTHALTSDOKUMENT = "aufenthaltsdokument", _("Residence document")
    AUSWEIS = "ausweis", _("Passport / ID")
    ZEUGNIS = "zeugnis", _("Certificate / school report")
    ANERKENNUNGSBESCHEID = "anerkennungsbescheid", _("Recognition of qualifications")
    SPRACHZERTIFIKAT = "sprachzertifikat", _("Language certificate")
    LEBENSLAUF = "lebenslauf", _("CV")
    ARBEITSVERTRAG = "arbeitsvertrag", _("Employment or training contract")
    LEISTUNGSBESCHEID = "leistungsbescheid", _("Benefit notice")
    EINWILLIGUNG = "einwilligung", _("Signed consent")
    OTHER = "other", _("Other")


class QuestionKind(models.TextChoices):
    TEXT = "text", _("short text")
    LONG_TEXT = "long_text", _("long text")
    NUMBER = "number", _("number")
    YES_NO = "yes_no", _("yes / no")
    CHOICE = "choice", _("one of a list")
    MULTI_CHOICE = "multi_choice", _("several of a list")


class GuideSection(models.TextChoices):
    QUALIFICATIONS = "qualifications", _("Qualifications")
    SCHOOL = "school", _("School")
    VOCATIONAL = "vocational", _("Vocational experience")
    GOALS = "goals", _("Goals")
    SUPPORT = "support", _("Support needs")
    AGENCIES = "agencies", _("Agencies involved")
    OWN_VIEW = "own_view", _("The person's own view")
