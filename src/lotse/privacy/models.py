"""Consent, sharing agreements and break-glass access (DESIGN §5)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lotse.casework.models import Case, Document
from lotse.core.models import Organisation, OrganisationType
from lotse.people.models import Person

from .categories import Category, Purpose


class Consent(models.Model):
    """Einwilligung / Schweigepflichtentbindung given by the person: which categories may
    go to which receiving organisations (optionally only named staff) for one purpose.

    Never deleted: withdrawal sets `withdrawn_at` and takes effect at once; expiry
    (`valid_until`) ends it too. The history of consents stays visible."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(
        pgettext_lazy("data processing", "purpose"), max_length=30, choices=Purpose.choices
    )
    categories = models.JSONField(_("data categories"), default=list)
    receiving_organisations = models.ManyToManyField(
        Organisation, verbose_name=_("receiving organisations"), related_name="received_consents"
    )
    named_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("only these staff members"),
        blank=True,
        related_name="+",
        help_text=_("Leave empty for all staff of the receiving organisations."),
    )
    signed_on = models.DateField(_("signed on"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    interpreter_language = models.CharField(_("interpreter used for"), max_length=8, blank=True)
    form_language = models.CharField(_("language of the form"), max_length=8, default="de")
    document = models.ForeignKey(
        Document,
        verbose_name=_("signed form"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_for = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawal_note = models.CharField(_("note on the withdrawal"), max_length=300, blank=True)

    class Meta:
        ordering = ["-signed_on", "-pk"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("signed_on")),
                name="consent_valid_after_signed",
            )
        ]

    def __str__(self) -> str:
        return _("Consent of %(date)s (%(purpose)s)") % {
            "date": self.signed_on,
            "purpose": self.get_purpose_display(),
        }

    def category_labels(self) -> list[str]:
        labels = dict(Category.choices)
        return [str(labels.get(c, c)) for c in self.categories]


class SharingAgreement(models.Model):
    """Vereinbarung zum Datenaustausch / legal basis: data of cases led by the source
    (an organisation, an organisation type, or anyone) may flow to the receiver (an
    organisation or an organisation type) for these categories and purposes, without
    consent, on the legal basis named. The receiver must still be on the case team."""

    name = models.CharField(_("name"), max_length=200)
    source_organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("from organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    source_type = models.CharField(
        _("from organisation type"), max_length=40, choices=OrganisationType.choices, blank=True
    )
    receiver_organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("to organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    receiver_type = models.CharField(
        _("to organisation type"), max_length=40, choices=OrganisationType.choices, blank=True
    )
    categories = models.JSONField(_("data categories"), default=list)
    purposes = models.JSONField(_("purposes"), default=list)
    legal_basis = models.CharField(
        _("legal basis"), max_length=200, help_text=_("E.g. § 69 Abs. 1 Nr. 1 SGB X.")
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until"), null=True, blank=True)
    owner = models.ForeignKey(
        Organisation,
        verbose_name=_("maintained by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("sharing agreement")
        verbose_name_plural = _("sharing agreements")
        constraints = [
            models.CheckConstraint(
                condition=Q(receiver_organisation__isnull=False) | ~Q(receiver_type=""),
                name="agreement_has_receiver",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="agreement_valid_to_after_from",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class BreakGlassAccess(models.Model):
    """Emergency access of one staff member to one case: all categories for a short
    time, with a reason; logged and reported to the lead case manager."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="break_glass")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    granted_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-granted_at"]
        verbose_name = _("emergency access")
        verbose_name_plural = _("emergency accesses")

    def __str__(self) -> str:
        return f"{self.user} → {self.case_id} ({self.granted_at:%Y-%m-%d %H:%M})"
