"""Models of the analytics (issue #7): the authorities' aggregate lists of the target group,
and the classification of needs per target group.

Counts by residence status group, age band and district as the foreigners' authority or
the statistics office reports them, so the coverage (persons in case management /
persons in the target group) can be computed. Aggregates only: no person, no personal
data, hence no access logging. Written only by ``population.population_list_import``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lotse.core.models import District, NeedType, Organisation
from lotse.people.codes import StatusGroup
from lotse.people.models import TargetGroup

from .snapshot import AGE_BANDS


class PopulationList(models.Model):
    """One imported list: its source and reference date (Stichtag)."""

    source = models.CharField(_("source"), max_length=120)
    reference_date = models.DateField(_("reference date"))
    file_name = models.CharField(_("file name"), max_length=200)
    note = models.CharField(_("note"), max_length=300, blank=True)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT
    )
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        ordering = ["-reference_date", "-id"]
        verbose_name = _("population list")
        verbose_name_plural = _("population lists")

    def __str__(self) -> str:
        return f"{self.source} ({self.reference_date:%d.%m.%Y})"


class PopulationCount(models.Model):
    """The number of persons of one status group, age band and district; a blank
    status group, blank age band or no district stands for all of them."""

    population_list = models.ForeignKey(
        PopulationList,
        verbose_name=_("population list"),
        on_delete=models.CASCADE,
        related_name="counts",
    )
    status_group = models.CharField(
        _("status group"), max_length=20, blank=True, choices=StatusGroup.choices
    )
    age_band = models.CharField(
        _("age band"), max_length=10, blank=True, choices=[(c, c) for c, _l, _h in AGE_BANDS]
    )
    district = models.ForeignKey(
        District, verbose_name=_("district"), null=True, blank=True, on_delete=models.PROTECT
    )
    count = models.PositiveIntegerField(_("count"))

    class Meta:
        verbose_name = _("population count")
        verbose_name_plural = _("population counts")
        # One count per status group, age band and district of a list. "Whole
        # municipality" is a NULL district: UniqueConstraint(nulls_distinct=False) is
        # not created on SQLite, so two partial unique indexes (both databases) instead.
        constraints = [
            models.UniqueConstraint(
                fields=["population_list", "status_group", "age_band", "district"],
                condition=Q(district__isnull=False),
                name="population_count_unique_in_district",
            ),
            models.UniqueConstraint(
                fields=["population_list", "status_group", "age_band"],
                condition=Q(district__isnull=True),
                name="population_count_unique_municipality",
            ),
            models.CheckConstraint(condition=Q(count__gte=0), name="population_count_not_negative"),
        ]

    def __str__(self) -> str:
        parts = (self.status_group, self.age_band, self.district_id)
        return "/".join(str(part or "*") for part in parts) + f": {self.count}"


class NeedLevel(models.TextChoices):
    """How a need is classified for a target group (the municipal report's question)."""

    LEGALLY_REQUIRED = "legally_required", _("legally required")
    LOCALLY_NECESSARY = "locally_necessary", _("locally necessary")
    DESIRABLE = "desirable", _("desirable")


NEED_LEVEL_ORDER = {level.value: n for n, level in enumerate(NeedLevel)}


class NeedClassification(models.Model):
    """Need type × target group → level; the gap report sorts by it. No row: not
    classified yet."""

    need_type = models.ForeignKey(
        NeedType, verbose_name=_("need type"), on_delete=models.CASCADE, related_name="+"
    )
    target_group = models.ForeignKey(
        TargetGroup, verbose_name=_("target group"), on_delete=models.CASCADE, related_name="+"
    )
    level = models.CharField(_("classification"), max_length=20, choices=NeedLevel.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("need classification")
        verbose_name_plural = _("need classifications")
        constraints = [
            models.UniqueConstraint(
                fields=["need_type", "target_group"], name="need_classification_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.need_type} / {self.target_group}: {self.get_level_display()}"


class GoalLevel(models.TextChoices):
    """The goal system of "Einwanderung gestalten": principle → framework → result."""

    PRINCIPLE = "principle", _("principle goal (Grundsatzziel)")
    FRAMEWORK = "framework", _("framework goal (Rahmenziel)")
    RESULT = "result", _("result goal (Ergebnisziel)")


GOAL_PARENT_LEVEL = {
    GoalLevel.PRINCIPLE: None,
    GoalLevel.FRAMEWORK: GoalLevel.PRINCIPLE,
    GoalLevel.RESULT: GoalLevel.FRAMEWORK,
}


class IndicatorType(models.TextChoices):
    """The fixed set of indicators a result goal can be measured by (indicators.py)."""

    OFFER_SHARE = (
        "offer_share",
        _("share of the target group with an offer of training or employment"),
    )
    REFERRAL_DAYS = "referral_days", _("median days from referral to start")
    STARTED_WITHIN = "started_within", _("share of referrals started within N weeks")
    TRANSITION_RATE = "transition_rate", _("transition rate after participations")
    FLAGGED_SHARE = "flagged_share", _("share of persons flagged for a measure career")
    PLAN_SHARE = "plan_share", _("share of cases with a current plan")


class Goal(models.Model):
    """A goal in the tree; a result goal carries an indicator computed from the data,
    its parameters and a target value."""

    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent goal"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    level = models.CharField(_("level"), max_length=20, choices=GoalLevel.choices)
    title = models.CharField(_("goal"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    indicator = models.CharField(
        _("indicator"), max_length=30, choices=IndicatorType.choices, blank=True
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    target_value = models.FloatField(_("target value"), null=True, blank=True)
    target_date = models.DateField(_("target date"), null=True, blank=True)
    higher_is_better = models.BooleanField(_("higher is better"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        constraints = [
            models.CheckConstraint(
                condition=(Q(level="result") & ~Q(indicator=""))
                | (~Q(level="result") & Q(indicator="")),
                name="goal_result_has_indicator",
            ),
            models.CheckConstraint(
                condition=Q(level="principle", parent__isnull=True)
                | (~Q(level="principle") & Q(parent__isnull=False)),
                name="goal_principle_is_root",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class CouncilReport(models.Model):
    """A produced council report (Berichtsvorlage) for a period, kept as PDF and XLSX
    so the data group can hand out exactly what went to the council. Aggregates only,
    disclosure-controlled when produced: no personal data."""

    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    title = models.CharField(_("title"), max_length=200)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT
    )
    k = models.PositiveSmallIntegerField(_("minimum count k"))
    rounding = models.PositiveSmallIntegerField(_("rounding"))
    seconds = models.FloatField(_("seconds to produce"))
    pdf = models.BinaryField(_("PDF"))
    xlsx = models.BinaryField(_("XLSX"))

    class Meta:
        verbose_name = _("council report")
        verbose_name_plural = _("council reports")
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(period_start__lte=models.F("period_end")),
                name="council_report_period_order",
            )
        ]

    def __str__(self) -> str:
        return self.title
