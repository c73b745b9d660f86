"""Forms of the alliance directory (issue #8)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from lotse.core.forms import Form
from lotse.core.models import NeedType, Organisation
from lotse.offers.codes import FieldOfAction
from lotse.people.codes import Language, ResidenceStatus
from lotse.people.models import TargetGroup

from .models import Contact
from .selectors import MAX_AGE

BLANK = [("", "—")]


class DirectorySearchForm(Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Name of the organisation, a contact or a function."),
    )


class ContactChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.organisation} – {obj}"


class ResponsibilityForm(Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.filter(is_active=True)
    )
    target_group = forms.ModelChoiceField(
        label=_("Target group"), queryset=TargetGroup.objects.filter(is_active=True)
    )
    field_of_action = forms.ChoiceField(
        label=_("Field of action"), choices=BLANK + list(FieldOfAction.choices)
    )
    role = forms.CharField(
        label=_("Agreed role"),
        required=False,
        max_length=200,
        help_text=_(
            "What this organisation does for the group, as agreed in the alliance. "
            "Leave empty if the roles are not agreed yet."
        ),
    )
    contact = ContactChoiceField(
        label=_("Contact"),
        required=False,
        queryset=Contact.objects.select_related("organisation"),
        help_text=_("Must belong to the organisation."),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class PathwayForm(Form):
    status = forms.ChoiceField(
        label=_("Residence status"), choices=BLANK + list(ResidenceStatus.choices)
    )
    age = forms.IntegerField(label=_("Age"), min_value=0, max_value=MAX_AGE)
    need = forms.ModelChoiceField(
        label=_("Need"),
        required=False,
        to_field_name="code",
        queryset=NeedType.objects.filter(is_active=True),
    )
    field = forms.ChoiceField(
        label=_("or field of action"),
        required=False,
        choices=BLANK + list(FieldOfAction.choices),
        help_text=_("Used when no need is chosen."),
    )


class ContactForm(Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    function = forms.CharField(
        label=_("Function"),
        required=False,
        max_length=120,
        help_text=_("E.g. “Migrationsberatung” or “Teamleitung”."),
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=40)
    languages = forms.MultipleChoiceField(
        label=_("Languages of counselling"),
        required=False,
        choices=Language.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=300)
