"""Forms of the offer catalogue: the filter of the catalogue page and the offer form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.forms.boundfield import BoundField
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from lotse.core.forms import Form, ModelForm, model_choice_field
from lotse.core.models import District, Membership, NeedType, Organisation
from lotse.core.roles import Perm
from lotse.people.codes import Language, ResidenceStatus

from .codes import FieldOfAction, OfferCategory
from .models import Offer
from .selectors import CatalogueFilters

BLANK = [("", "—")]


class CatalogueFilterForm(Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Words from title, description, provider or needs, in any spelling or script."),
    )
    field_of_action = forms.ChoiceField(
        label=_("Field of action"), required=False, choices=BLANK + list(FieldOfAction.choices)
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=BLANK + list(OfferCategory.choices)
    )
    district = forms.ModelChoiceField(
        label=_("District"), required=False, queryset=District.objects.all(), empty_label="—"
    )
    need_type = forms.ModelChoiceField(
        label=_("Need"),
        required=False,
        queryset=NeedType.objects.filter(is_active=True),
        empty_label="—",
    )
    provider = forms.ModelChoiceField(
        label=_("Provider"),
        required=False,
        queryset=Organisation.objects.filter(offers__isnull=False).distinct(),
        empty_label="—",
    )
    status = forms.ChoiceField(
        label=_("Accessible with residence status"),
        required=False,
        choices=BLANK + list(ResidenceStatus.choices),
        help_text=_(
            "Shows offers that are accessible for at least some persons with this status: "
            "the offer admits the status and the law does not exclude it. Whether a "
            "particular person has access is checked on that person's case."
        ),
    )
    age = forms.IntegerField(label=_("Age"), required=False, min_value=0, max_value=99)
    language = forms.ChoiceField(
        label=_("Language of instruction"), required=False, choices=BLANK + list(Language.choices)
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[("title", _("title")), ("start", _("start date"))],
    )
    free_places = forms.BooleanField(label=_("Only offers with free places"), required=False)
    include_past = forms.BooleanField(label=_("Include offers that have ended"), required=False)
    include_inactive = forms.BooleanField(label=_("Include deactivated offers"), required=False)

    def __init__(self, *args: Any, can_edit: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not can_edit:
            del self.fields["include_inactive"]

    def filters(self) -> CatalogueFilters:
        """The filters from the valid fields (an invalid one is shown at its field and
        ignored, so the rest still filters)."""
        if self.is_bound:
            self.is_valid()
        data: dict[str, Any] = getattr(self, "cleaned_data", {})

        def pk(name: str) -> int | None:
            obj = data.get(name)
            return obj.pk if obj is not None else None

        return CatalogueFilters(
            q=data.get("q") or "",
            field_of_action=data.get("field_of_action") or "",
            category=data.get("category") or "",
            district_id=pk("district"),
            provider_id=pk("provider"),
            need_type_id=pk("need_type"),
            status=data.get("status") or "",
            age=data.get("age"),
            language=data.get("language") or "",
            free_places=bool(data.get("free_places")),
            include_past=bool(data.get("include_past")),
            include_inactive=bool(data.get("include_inactive")),
        )

    def sort_order(self) -> str:
        data: dict[str, Any] = getattr(self, "cleaned_data", {})
        return data.get("sort") or "title"


# The offer form in sections, in the order the page shows them.
FORM_GROUPS: tuple[tuple[Promise, tuple[str, ...]], ...] = (
    (
        _("The offer"),
        (
            "provider",
            "title",
            "description",
            "field_of_action",
            "category",
            "level",
            "need_types",
        ),
    ),
    (
        _("Who it is for"),
        ("age_min", "age_max", "german_min", "prerequisites", "statuses"),
    ),
    (
        _("Place and time"),
        ("district", "address", "starts_on", "ends_on", "rolling_entry", "schedule"),
    ),
    (_("Places and languages"), ("capacity", "languages", "childcare")),
    (
        _("Cost and contact"),
        ("funding", "cost_note", "contact_name", "contact_email", "contact_phone"),
    ),
    (_("Review"), ("review_due",)),
)


class OfferForm(ModelForm):
    """The offer with its needs; the provider is a choice only for coordinators."""

    statuses = forms.MultipleChoiceField(
        label=_("Residence statuses admitted"),
        required=False,
        choices=ResidenceStatus.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Only if the offer itself is restricted; none ticked: every status the law admits."
        ),
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages of instruction"),
        required=False,
        choices=Language.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    GROUPS = FORM_GROUPS

    class Meta:
        model = Offer
        fields = [name for _title, names in FORM_GROUPS for name in names]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "need_types": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args: Any, actor: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offer = self.instance
        if actor.has_perm(Perm.OFFER_EDIT_ALL):
            providers = Q(is_active=True)
            if offer.provider_id is not None:
                providers |= Q(pk=offer.provider_id)
            else:
                self.initial.setdefault("provider", actor.organisation_id)
            model_choice_field(self, "provider").queryset = Organisation.objects.filter(providers)
        else:
            del self.fields["provider"]  # fixed: the acting organisation's own offers
        needs = Q(is_active=True)
        if offer.pk is not None:
            needs |= Q(pk__in=offer.need_types.values("pk"))
        model_choice_field(self, "need_types").queryset = NeedType.objects.filter(needs)
        model_choice_field(self, "district").queryset = District.objects.all()
        self.fields["age_min"].widget.attrs.update(min=0, max=99)
        self.fields["age_max"].widget.attrs.update(min=0, max=99)
        self.fields["capacity"].widget.attrs.update(min=1)
        self.fields["contact_email"].widget.attrs["autocomplete"] = "off"

    def _post_clean(self) -> None:
        """No model validation here and the instance stays as stored: the service
        validates the offer (with a message at each field) and writes it. The model's
        check constraints would only repeat its date and age rules as a form-wide
        message."""

    def groups(self) -> list[tuple[Promise, list[BoundField]]]:
        """The visible fields in sections for the page."""
        return [
            (legend, [self[name] for name in names if name in self.fields])
            for legend, names in self.GROUPS
        ]

    def service_values(self) -> dict[str, Any]:
        """Keyword arguments for offers.services (the needs go separately)."""
        data = self.cleaned_data
        return {name: data[name] for name in self.fields if name != "need_types"}
