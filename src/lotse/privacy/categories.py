"""Data categories (DESIGN §5.1) and which record type belongs to which.

This is the one place the mapping lives; the access log records categories by
these names, and the privacy core (#3) decides access per category.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    MASTER = "master", _("master data")
    RESIDENCE = "residence", _("residence")
    BENEFITS = "benefits", _("benefits")
    EDUCATION = "education", _("education")
    WORK = "work", _("work")
    HEALTH = "health", _("health")
    FAMILY = "family", _("family")
    NOTES = "notes", _("notes")
    DOCUMENTS = "documents", _("documents")
    PLAN = "plan", _("plan")
    PARTICIPATIONS = "participations", _("participations")


class Purpose(models.TextChoices):
    """Why data is processed; a consent names one, an agreement one or more."""

    CASEWORK = "casework", _("case management and counselling")
    REFERRAL = "referral", _("referral to offers and measures")
    CASE_CONFERENCE = "case_conference", _("case conference")


# Record type → category. Assessment items and plan goals take the category of
# their life domain (LIFE_DOMAIN_CATEGORY); sensitive notes count as health.
RECORD_CATEGORY: dict[str, str] = {
    "person": Category.MASTER,
    "person_name": Category.MASTER,
    "person_language": Category.MASTER,
    "household": Category.FAMILY,
    "case": Category.MASTER,
    "case_team": Category.MASTER,
    "residence_period": Category.RESIDENCE,
    "benefit_period": Category.BENEFITS,
    "eligibility_facts": Category.RESIDENCE,
    "intake": Category.EDUCATION,
    "assessment": Category.PLAN,
    "plan": Category.PLAN,
    "appointment": Category.PLAN,
    "followup": Category.PLAN,
    "note": Category.NOTES,
    "document": Category.DOCUMENTS,
}

LIFE_DOMAIN_CATEGORY: dict[str, str] = {
    "language": Category.EDUCATION,
    "education": Category.EDUCATION,
    "work": Category.WORK,
    "housing": Category.MASTER,
    "health": Category.HEALTH,
    "livelihood": Category.BENEFITS,
    "residence": Category.RESIDENCE,
    "family": Category.FAMILY,
    "participation": Category.PLAN,
}
