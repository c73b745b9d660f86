"""Persons and their dated, append-only timelines (DESIGN §3)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from lotse.core.models import District, Organisation

from .codes import (
    BenefitRegime,
    CefrLevel,
    Gender,
    HouseholdRole,
    Language,
    ResidenceStatus,
    WorkPermission,
)


class Household(models.Model):
    label = models.CharField(_("label"), max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return self.label or f"#{self.pk}"


class Person(models.Model):
    family_name = models.CharField(_("family name"), max_length=120)
    given_names = models.CharField(_("given names"), max_length=120)
    birth_date = models.DateField(_("date of birth"), db_index=True)
    birth_date_estimated = models.BooleanField(
        _("date of birth estimated"),
        default=False,
        help_text=_("Tick when the documents carry a fictitious date (e.g. 1 January)."),
    )
    gender = models.CharField(_("gender"), max_length=12, choices=Gender.choices)
    nationality = CountryField(_("nationality"))
    district = models.ForeignKey(
        District, verbose_name=_("district"), null=True, blank=True, on_delete=models.SET_NULL
    )
    entry_date = models.DateField(_("date of entry to Germany"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    household_role = models.CharField(
        _("role in household"), max_length=10, choices=HouseholdRole.choices, blank=True
    )
    # Folded names and skeletons of all names and transliterations, kept by the
    # services so a search matches "Mohammed" to "Muhammad" and "محمد" in one indexable column.
    search_text = models.TextField(editable=False, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_names"]
        verbose_name = _("person")
        verbose_name_plural = _("persons")

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_names}"

    @property
    def full_name(self) -> str:
        return f"{self.given_names} {self.family_name}"


class PersonName(models.Model):
    """Another spelling of the person's name: original script, or another transliteration."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="other_names")
    family_name = models.CharField(_("family name"), max_length=120, blank=True)
    given_names = models.CharField(_("given names"), max_length=120, blank=True)
    note = models.CharField(_("note"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("other spelling")
        verbose_name_plural = _("other spellings")

    def __str__(self) -> str:
        return f"{self.given_names} {self.family_name}".strip()


class PersonLanguage(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="languages")
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    level = models.CharField(_("level"), max_length=8, choices=CefrLevel.choices)

    class Meta:
        verbose_name = _("language")
        verbose_name_plural = _("languages")
        constraints = [
            models.UniqueConstraint(fields=["person", "language"], name="person_language_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_language_display()} ({self.get_level_display()})"


class TimelineEntry(models.Model):
    """An append-only dated period. Corrections supersede; nothing is overwritten.

    The current timeline of a person is the entries nobody superseded and that
    are not retractions. Current entries must not overlap (checked by the
    services under a lock on the person).
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until"), null=True, blank=True)
    supersedes = models.OneToOneField(
        "self",
        verbose_name=_("corrects"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    # A correction that withdraws the superseded entry without replacing it.
    is_retraction = models.BooleanField(_("entered in error"), default=False)
    correction_reason = models.CharField(_("reason for correction"), max_length=200, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True
        ordering = ["valid_from", "recorded_at"]

    @property
    def label(self) -> str:
        return str(self)

    @property
    def is_current(self) -> bool:
        return not self.is_retraction and not hasattr(self, "superseded_by")


def _period_constraints(prefix: str) -> list[models.BaseConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
            name=f"{prefix}_to_after_from",
        )
    ]


class ResidenceStatusPeriod(TimelineEntry):
    status = models.CharField(_("residence status"), max_length=40, choices=ResidenceStatus.choices)
    document_expiry = models.DateField(_("document valid until"), null=True, blank=True)
    issuing_authority = models.ForeignKey(
        Organisation,
        verbose_name=_("issuing authority"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    work_permission = models.CharField(
        _("work permission"),
        max_length=20,
        choices=WorkPermission.choices,
        default=WorkPermission.UNKNOWN,
    )

    class Meta(TimelineEntry.Meta):
        verbose_name = _("residence status period")
        verbose_name_plural = _("residence status periods")
        default_related_name = "residence_periods"
        constraints = _period_constraints("residence")

    def __str__(self) -> str:
        return f"{self.get_status_display()} {self.valid_from}–{self.valid_to or ''}"

    @property
    def label(self) -> str:
        return str(self.get_status_display())


class BenefitPeriod(TimelineEntry):
    regime = models.CharField(_("benefit regime"), max_length=20, choices=BenefitRegime.choices)
    authority = models.ForeignKey(
        Organisation,
        verbose_name=_("paying authority"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta(TimelineEntry.Meta):
        verbose_name = _("benefit period")
        verbose_name_plural = _("benefit periods")
        default_related_name = "benefit_periods"
        constraints = _period_constraints("benefit")

    def __str__(self) -> str:
        return f"{self.get_regime_display()} {self.valid_from}–{self.valid_to or ''}"

    @property
    def label(self) -> str:
        return str(self.get_regime_display())


class TargetGroup(models.Model):
    """A named filter over persons (DESIGN §3): residence status groups × an age range,
    e.g. "18–27, geduldet". The gap analysis and its drill-down to cases use them."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    # Codes of codes.StatusGroup; empty: every status.
    status_groups = models.JSONField(_("residence status groups"), default=list, blank=True)
    age_min = models.PositiveSmallIntegerField(_("age from"), null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(_("age up to"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("target group")
        verbose_name_plural = _("target groups")
        constraints = [
            models.CheckConstraint(
                condition=Q(age_min__isnull=True)
                | Q(age_max__isnull=True)
                | Q(age_min__lte=F("age_max")),
                name="target_group_age_range",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def contains(self, status_group: str, age: int) -> bool:
        """Whether a person of this residence status group and age belongs to it."""
        if self.status_groups and status_group not in self.status_groups:
            return False
        if self.age_min is not None and age < self.age_min:
            return False
        return self.age_max is None or age <= self.age_max
