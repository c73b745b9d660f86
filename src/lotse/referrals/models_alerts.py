"""Transition alerts (issue #6): a dated transition of a person that became a follow-up.

One row per case and transition, written by :func:`lotse.referrals.alerts.transition_alerts_run`.
The stable ``key`` (kind, event date and, for a participation, its id) makes the run
idempotent: the unique constraint on (case, key) lets no run create the same alert
twice, even when two runs overlap. The follow-up it created is kept for provenance;
when the follow-up is deleted the alert stays, so it is not created again.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from lotse.casework.models import Case, FollowUp


class AlertKind(models.TextChoices):
    BENEFIT_SWITCH = "benefit_switch", _("benefit switch")
    BIRTHDAY_21 = "birthday_21", _("21st birthday")
    BIRTHDAY_25 = "birthday_25", _("25th birthday")
    BIRTHDAY_27 = "birthday_27", _("27th birthday (leaves the target group)")
    STATUS_END = "status_end", _("end of the residence status")
    DOCUMENT_END = "document_end", _("expiry of the residence document")
    PARTICIPATION_END = (
        "participation_end_without_next",
        _("end of a participation without a next step"),
    )


class TransitionAlert(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transition_alerts")
    kind = models.CharField(_("kind"), max_length=40, choices=AlertKind.choices)
    event_date = models.DateField(_("date of the transition"))
    # e.g. "birthday_27:2029-04-17", "participation_end_without_next:2026-01-10:p77"
    key = models.CharField(max_length=120)
    followup = models.ForeignKey(
        FollowUp,
        verbose_name=_("follow-up"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="transition_alerts",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["event_date", "pk"]
        verbose_name = _("transition alert")
        verbose_name_plural = _("transition alerts")
        constraints = [
            models.UniqueConstraint(fields=["case", "key"], name="transition_alert_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.key}"
