"""Measure careers (issue #6): the detection rules as coordinators configure them, and
the flags the scan raised.

A rule row overrides the defaults of its kind (``careers_rules.default_rules``): name,
explanation, parameters, on/off. Without a row a rule runs with its defaults, so a new
installation needs no data to start.

A flag is unique per person, rule and evidence key: the scan never raises the same
finding twice, and a flag the case manager resolved stays resolved until new evidence
(another participation, another gap…) gives a new key.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from lotse.casework.models import Case
from lotse.people.models import Person


class CareerRuleSetting(models.Model):
    code = models.SlugField(_("rule"), max_length=40, unique=True)
    kind = models.CharField(_("kind of rule"), max_length=40)
    name = models.CharField(_("name"), max_length=120, blank=True)
    explanation = models.TextField(_("explanation"), blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    enabled = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("measure-career rule")
        verbose_name_plural = _("measure-career rules")

    def __str__(self) -> str:
        return self.name or self.code


class CareerFlag(models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="career_flags")
    # The case whose case manager works on it: the person's open case when raised.
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="career_flags"
    )
    rule = models.CharField(_("rule"), max_length=40)
    params = models.JSONField(_("parameters used"), default=dict)
    evidence_key = models.CharField(max_length=200)
    evidence = models.JSONField(_("evidence"), default=dict)
    # What the evidence names, for counts by provider and category (set-based SQL).
    participations = models.ManyToManyField(
        "referrals.Participation", blank=True, related_name="career_flags"
    )
    referral = models.ForeignKey(
        "referrals.Referral",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="career_flags",
    )
    raised_at = models.DateTimeField(auto_now_add=True)
    # A later scan no longer finds the evidence (e.g. a plan step now covers the gap, a
    # waiting referral was withdrawn): no longer open, kept for the record; found
    # again, it is open again.
    cleared_at = models.DateTimeField(_("no longer found on"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution_note = models.TextField(_("note on the resolution"), blank=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]
        verbose_name = _("measure-career flag")
        verbose_name_plural = _("measure-career flags")
        indexes = [
            models.Index(fields=["rule", "resolved_at"]),
            models.Index(fields=["case", "resolved_at", "cleared_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "rule", "evidence_key"], name="career_flag_once_per_evidence"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule} ({self.person_id})"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None and self.cleared_at is None
