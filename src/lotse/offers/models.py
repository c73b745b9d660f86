"""The offer catalogue (Angebotslandkarte): offers of providers (DESIGN §3).

Offers are not personal data; the catalogue is visible to every member of the
alliance. Providers maintain their own offers, coordinators all of them.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lotse.core.models import District, NeedType, Organisation
from lotse.people.codes import CefrLevel, Language

from .codes import FieldOfAction, Funding, Level, OfferCategory


class Offer(models.Model):
    provider = models.ForeignKey(
        Organisation, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="offers"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    field_of_action = models.CharField(
        _("field of action"), max_length=20, choices=FieldOfAction.choices
    )
    category = models.CharField(_("category"), max_length=30, choices=OfferCategory.choices)
    need_types = models.ManyToManyField(
        NeedType, verbose_name=_("needs it answers"), blank=True, related_name="offers"
    )
    level = models.CharField(_("level"), max_length=20, choices=Level.choices, blank=True)
    # Eligibility constraints beyond the law (the law: eligibility engine by category).
    statuses = models.JSONField(
        _("residence statuses admitted"),
        default=list,
        blank=True,
        help_text=_("Empty: every status the law admits."),
    )
    age_min = models.PositiveSmallIntegerField(
        _("minimum age"), null=True, blank=True, validators=[MaxValueValidator(99)]
    )
    age_max = models.PositiveSmallIntegerField(
        _("maximum age"), null=True, blank=True, validators=[MaxValueValidator(99)]
    )
    german_min = models.CharField(
        _("German at least"), max_length=8, choices=CefrLevel.choices, blank=True
    )
    prerequisites = models.CharField(_("other prerequisites"), max_length=300, blank=True)
    district = models.ForeignKey(
        District, verbose_name=_("district"), null=True, blank=True, on_delete=models.SET_NULL
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    rolling_entry = models.BooleanField(_("rolling entry"), default=False)
    schedule = models.CharField(_("schedule"), max_length=200, blank=True)
    capacity = models.PositiveIntegerField(
        _("places"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    occupied = models.PositiveIntegerField(
        _("places taken"),
        default=0,
        help_text=_("Participants at present (kept up to date by the participations)."),
    )
    languages = models.JSONField(_("languages of instruction"), default=list, blank=True)
    funding = models.CharField(_("cost and funding"), max_length=20, choices=Funding.choices)
    cost_note = models.CharField(_("cost details"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=120, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    childcare = models.BooleanField(_("childcare available"), default=False)
    review_due = models.DateField(
        _("review due"), help_text=_("After this day the offer shows as outdated.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Folded words of title, description, provider, prerequisites and needs (services).
    search_text = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["title", "pk"]
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        indexes = [
            models.Index(fields=["category", "is_active"]),
            models.Index(fields=["field_of_action", "is_active"]),
            # The catalogue is listed by title: no sort of every matching row.
            models.Index(fields=["title", "id"], name="offer_title_idx"),
            # The matching's catalogue cache asks for the latest change on every call.
            models.Index(fields=["updated_at"], name="offer_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=models.F("starts_on")),
                name="offer_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(age_max__isnull=True)
                | Q(age_min__isnull=True)
                | Q(age_max__gte=models.F("age_min")),
                name="offer_age_range",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def free_places(self) -> int | None:
        if self.capacity is None:
            return None
        return max(self.capacity - self.occupied, 0)

    @property
    def is_outdated(self) -> bool:
        return self.review_due < timezone.localdate()

    def language_labels(self) -> list[str]:
        labels = dict(Language.choices)
        return [str(labels.get(code, code)) for code in self.languages]

    def level_label(self) -> str:
        return str(Level(self.level).label) if self.level else ""
