"""Code lists of the offer catalogue (DESIGN §3: Offer)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class FieldOfAction(models.TextChoices):
    """Handlungsfelder of the municipal integration strategy."""

    LANGUAGE = "language", _("Language")
    EDUCATION = "education", _("School and education")
    TRAINING = "training", _("Vocational training")
    WORK = "work", _("Work")
    COUNSELLING = "counselling", _("Counselling")
    HOUSING = "housing", _("Housing")
    HEALTH = "health", _("Health")
    PARTICIPATION = "participation", _("Social participation")


class OfferCategory(models.TextChoices):
    INTEGRATIONSKURS = "integrationskurs", _("Integration course")
    BERUFSSPRACHKURS = "berufssprachkurs", _("Job-related German course")
    SPRACHKURS = "sprachkurs", _("Other German course (Land, municipality, volunteers)")
    BVB = "bvb", _("Pre-vocational training measure (BvB)")
    EQ = "eq", _("Entry qualification (EQ)")
    ASA_FLEX = "asa_flex", _("Assisted training (AsA flex)")
    AUSBILDUNG = "ausbildung", _("Apprenticeship / vocational training")
    SCHULABSCHLUSS = "schulabschluss", _("School-leaving certificate course")
    PRODUKTIONSSCHULE = "produktionsschule", _("Production school")
    BERUFSORIENTIERUNG = "berufsorientierung", _("Vocational orientation")
    BERATUNG = "beratung", _("Counselling")
    ARBEIT = "arbeit", _("Employment measure")
    MENTORING = "mentoring", _("Mentoring")
    FREIZEIT = "freizeit", _("Leisure and sport")
    OTHER = "other", _("Other")


# The eligibility category (docs/eligibility.md) that decides legal access to an offer
# of this category; categories without one are open to every status unless the offer
# restricts statuses itself.
ELIGIBILITY_CATEGORY: dict[str, str] = {
    OfferCategory.INTEGRATIONSKURS: "integrationskurs",
    OfferCategory.BERUFSSPRACHKURS: "berufssprachkurs",
    OfferCategory.BVB: "bvb",
    OfferCategory.EQ: "eq",
    OfferCategory.ASA_FLEX: "asa_flex",
    OfferCategory.AUSBILDUNG: "berufsausbildung",
    OfferCategory.ARBEIT: "beschaeftigung",
}


class Level(models.TextChoices):
    """Level an offer leads to: CEFR for language, a stage for qualifications."""

    NONE = "", _("no level")
    A1 = "A1", "A1"
    A2 = "A2", "A2"
    B1 = "B1", "B1"
    B2 = "B2", "B2"
    C1 = "C1", "C1"
    ORIENTATION = "orientation", _("orientation")
    PREPARATION = "preparation", _("preparation for training")
    SCHOOL_CERT = "school_certificate", _("school-leaving certificate")
    QUALIFICATION = "qualification", _("vocational qualification")


LEVEL_ORDER = [c.value for c in Level if c.value]


class Funding(models.TextChoices):
    FREE = "free", _("free of charge")
    BAMF = "bamf", _("BAMF")
    JOBCENTER = "jobcenter", _("Jobcenter / Agentur (voucher or assignment)")
    LAND = "land", _("Land programme")
    MUNICIPALITY = "municipality", _("municipality")
    ESF = "esf", _("ESF / EU programme")
    FEE = "fee", _("participants pay a fee")
    OTHER = "other", _("other")
