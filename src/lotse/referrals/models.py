"""Referrals (Vermittlung) and participations (Teilnahme): the integration chain (DESIGN §3).

A referral goes from a case to an offer or an organisation. What the receiving
organisation may see of the person is decided per category for the purpose
``referral`` (privacy.access.receiver_access): a consent or an agreement, checked when
the referral is sent and again at every read. Snapshots keep who sent it to whom as it
was then, whatever later happens to the organisations or the offer.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lotse.casework.models import Case
from lotse.core.models import NeedType, Organisation
from lotse.offers.codes import Level, OfferCategory
from lotse.offers.models import Offer
from lotse.people.models import Person
from lotse.privacy.models import Consent

from .codes import OPEN_STATUSES, AbortReason, NextStep, Outcome, ReferralStatus, RejectReason

User = settings.AUTH_USER_MODEL


class Referral(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="referrals")
    # Kept beside the case so chains and lists filter by person without a join.
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="referrals")
    offer = models.ForeignKey(
        Offer,
        verbose_name=_("offer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals",
    )
    receiver = models.ForeignKey(
        Organisation,
        verbose_name=_("receiving organisation"),
        on_delete=models.PROTECT,
        related_name="received_referrals",
    )
    sender = models.ForeignKey(
        Organisation,
        verbose_name=_("sending organisation"),
        on_delete=models.PROTECT,
        related_name="sent_referrals",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.PROPOSED
    )
    reason = models.TextField(_("reason for the referral"))
    need_types = models.ManyToManyField(
        NeedType, verbose_name=_("needs"), blank=True, related_name="referrals"
    )
    # Who sent it to whom, as it was when sent (names, contacts, offer title).
    sender_snapshot = models.JSONField(default=dict, blank=True)
    receiver_snapshot = models.JSONField(default=dict, blank=True)
    # Referral to an offer the matching excludes the person from: allowed only with a
    # reason, kept with the exclusion reasons as they were.
    override_reason = models.TextField(_("reason for referring despite the exclusion"), blank=True)
    exclusion_reasons = models.JSONField(default=list, blank=True)
    # What went to the receiver when sent, and on which basis (the live decision rules
    # every later read).
    shared_categories = models.JSONField(default=list, blank=True)
    sharing_basis = models.CharField(max_length=30, blank=True)
    consent = models.ForeignKey(
        Consent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reject_reason = models.CharField(
        _("reason for rejecting"), max_length=20, choices=RejectReason.choices, blank=True
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    waitlisted_on = models.DateField(_("on the waiting list since"), null=True, blank=True)
    # Days on the waiting list, kept when the referral leaves it.
    days_waited = models.PositiveIntegerField(_("days waited"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [
            models.Index(fields=["receiver", "status"]),
            models.Index(fields=["person", "status"]),
        ]
        constraints = [
            # One open referral per case and offer (or, without an offer, per receiver).
            models.UniqueConstraint(
                fields=["case", "offer"],
                condition=Q(status__in=sorted(OPEN_STATUSES)) & Q(offer__isnull=False),
                name="referral_one_open_per_offer",
            ),
            models.UniqueConstraint(
                fields=["case", "receiver"],
                condition=Q(status__in=sorted(OPEN_STATUSES)) & Q(offer__isnull=True),
                name="referral_one_open_per_receiver",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reject_reason=""),
                name="referral_rejected_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return _("Referral %(id)s") % {"id": self.pk}

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def title(self) -> str:
        snap = self.receiver_snapshot or {}
        if snap.get("offer") or snap.get("organisation"):
            return str(snap.get("offer") or snap.get("organisation"))
        return self.offer.title if self.offer_id else self.receiver.name  # type: ignore[union-attr]


class ReferralEvent(models.Model):
    """One step of a referral: who, when, why (append-only)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(_("status"), max_length=20, choices=ReferralStatus.choices)
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    by_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("referral step")
        verbose_name_plural = _("referral steps")

    def __str__(self) -> str:
        return f"{self.referral_id}: {self.status}"


class Participation(models.Model):
    """A person in an offer: start, attendance, end, outcome, level reached. Usually from
    an accepted referral; the lead organisation may record earlier ones directly."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="participations")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="participations")
    referral = models.OneToOneField(
        Referral,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="participation",
    )
    offer = models.ForeignKey(
        Offer,
        verbose_name=_("offer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="participations",
    )
    provider = models.ForeignKey(
        Organisation,
        verbose_name=_("provider"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="participations",
    )
    # As recorded: the offer's title and category then, or entered for earlier ones.
    title = models.CharField(_("offer"), max_length=200)
    category = models.CharField(_("category"), max_length=30, choices=OfferCategory.choices)
    level = models.CharField(
        _("level of the offer"), max_length=20, choices=Level.choices, blank=True
    )
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    attendance_percent = models.PositiveSmallIntegerField(
        _("attendance (%)"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    attendance_note = models.CharField(_("attendance summary"), max_length=300, blank=True)
    outcome = models.CharField(_("outcome"), max_length=30, choices=Outcome.choices, blank=True)
    abort_reason = models.CharField(
        _("reason for aborting"), max_length=20, choices=AbortReason.choices, blank=True
    )
    outcome_note = models.CharField(_("note on the outcome"), max_length=300, blank=True)
    level_reached = models.CharField(
        _("level reached"), max_length=20, choices=Level.choices, blank=True
    )
    next_step = models.CharField(
        _("what followed"), max_length=30, choices=NextStep.choices, blank=True
    )
    recorded_by = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_on", "-pk"]
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        indexes = [
            models.Index(fields=["person", "started_on"]),
            models.Index(fields=["offer", "ended_on"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="participation_ends_after_start",
            ),
            # An end has an outcome and an outcome an end.
            models.CheckConstraint(
                condition=(Q(ended_on__isnull=True) & Q(outcome=""))
                | (Q(ended_on__isnull=False) & ~Q(outcome="")),
                name="participation_end_has_outcome",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="aborted") | ~Q(abort_reason=""),
                name="participation_abort_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_running(self) -> bool:
        return self.ended_on is None


from .models_alerts import TransitionAlert  # noqa: E402,F401
from .models_careers import CareerFlag, CareerRuleSetting  # noqa: E402,F401
