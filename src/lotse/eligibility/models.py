"""Facts for the eligibility engine that the timelines do not hold (DESIGN §6 flags).

One row per person, kept by the lead organisation's case manager on the page
"Zugang & Rechtskreis". Every field is optional: empty means *not known*, and the
engine then answers ``unknown`` naming the fact instead of guessing. The record
belongs to the data category *residence* (it is read only together with the
residence timeline). No criminal data is kept (Art. 10 GDPR): the rules name the
conviction checks instead of evaluating them.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from lotse.people.models import Person


class PersonFacts(models.Model):
    person = models.OneToOneField(
        Person, on_delete=models.CASCADE, related_name="eligibility_facts"
    )
    asylum_application_date = models.DateField(
        _("date of the asylum application"), null=True, blank=True
    )
    reception_centre = models.BooleanField(
        _("obliged to live in a reception centre"), null=True, blank=True
    )
    rejected_manifestly_unfounded = models.BooleanField(
        _("asylum application rejected as manifestly unfounded or inadmissible"),
        null=True,
        blank=True,
    )
    identity_clarified = models.BooleanField(_("identity clarified"), null=True, blank=True)
    work_ban_60a6 = models.BooleanField(
        _("work ban under § 60a (6) AufenthG"), null=True, blank=True
    )
    labour_market_proximity = models.BooleanField(
        _("close to the labour market"),
        null=True,
        blank=True,
        help_text=_(
            "Registered as unemployed or job- or training-seeking, or in employment, "
            "training, EQ or a BvB."
        ),
    )
    in_training = models.BooleanField(
        _("in a vocational training (or training contract signed)"), null=True, blank=True
    )
    training_since = models.DateField(_("training since"), null=True, blank=True)
    employed_since = models.DateField(
        _("employed (subject to social insurance) since"), null=True, blank=True
    )
    weekly_hours_employed = models.DecimalField(
        _("weekly working hours"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(80)],
    )
    livelihood_secured_since = models.DateField(
        _("livelihood secured since"), null=True, blank=True
    )
    sgb8_help_before_21 = models.BooleanField(
        _("help for young adults (§ 41 SGB VIII) began before the 21st birthday"),
        null=True,
        blank=True,
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("facts for the eligibility check")
        verbose_name_plural = _("facts for the eligibility check")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekly_hours_employed__isnull=True)
                | models.Q(weekly_hours_employed__gte=0, weekly_hours_employed__lte=80),
                name="eligibility_facts_hours_range",
            )
        ]

    def __str__(self) -> str:
        return f"PersonFacts #{self.pk}"


# Dates that must lie between the birth date and today.
DATE_FIELDS = (
    "asylum_application_date",
    "training_since",
    "employed_since",
    "livelihood_secured_since",
)

# The engine's flag name for each field (all fields above but the bookkeeping).
FLAG_FIELDS = (
    "asylum_application_date",
    "reception_centre",
    "rejected_manifestly_unfounded",
    "identity_clarified",
    "work_ban_60a6",
    "labour_market_proximity",
    "in_training",
    "training_since",
    "employed_since",
    "weekly_hours_employed",
    "livelihood_secured_since",
    "sgb8_help_before_21",
)
