from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lotse.core.forms import Form, ModelForm
from lotse.core.models import Organisation, OrganisationType, User
from lotse.people.codes import Language

from .categories import Category, Purpose
from .models import SharingAgreement

FORM_LANGUAGES = [
    ("de", "Deutsch"),
    ("ar", "العربية"),
    ("fa", "دری / فارسی"),
    ("en", "English"),
    ("ti", "ትግርኛ"),
    ("tr", "Türkçe"),
    ("uk", "Українська"),
]


class ConsentForm(Form):
    purpose = forms.ChoiceField(
        label=pgettext_lazy("data processing", "Purpose"),
        choices=Purpose.choices,
        initial=Purpose.CASEWORK,
    )
    categories = forms.MultipleChoiceField(
        label=_("Data categories"),
        choices=Category.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    receiving_organisations = forms.ModelMultipleChoiceField(
        label=_("Receiving organisations"),
        queryset=Organisation.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    named_users = forms.ModelMultipleChoiceField(
        label=_("Only these staff members"),
        required=False,
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty for all staff of the receiving organisations."),
    )
    signed_on = forms.DateField(label=_("Signed on"))
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, help_text=_("Empty: until withdrawn.")
    )
    interpreter_language = forms.ChoiceField(
        label=_("Interpreter used for"),
        required=False,
        choices=[("", "—"), *Language.choices],
    )
    form_language = forms.ChoiceField(
        label=_("Language of the signed form"), choices=FORM_LANGUAGES, initial="de"
    )

    def __init__(self, *args: Any, organisations: Any, users: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["receiving_organisations"].queryset = organisations  # type: ignore[attr-defined]
        self.fields["named_users"].queryset = users  # type: ignore[attr-defined]


class WithdrawForm(Form):
    note = forms.CharField(label=_("Note on the withdrawal"), required=False, max_length=300)


class BreakGlassForm(Form):
    reason = forms.CharField(
        label=_("Reason for the emergency access"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The lead case manager is informed at once, and the access is logged."),
    )


class AgreementForm(ModelForm):
    categories = forms.MultipleChoiceField(
        label=_("Data categories"), choices=Category.choices, widget=forms.CheckboxSelectMultiple
    )
    purposes = forms.MultipleChoiceField(
        label=_("Purposes"), choices=Purpose.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = SharingAgreement
        fields = [
            "name",
            "source_organisation",
            "source_type",
            "receiver_organisation",
            "receiver_type",
            "categories",
            "purposes",
            "legal_basis",
            "valid_from",
            "valid_to",
        ]

    def __init__(self, *args: Any, actor_role: str, actor_org_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source_type"].choices = [("", "—"), *OrganisationType.choices]  # type: ignore[attr-defined]
        self.fields["receiver_type"].choices = [("", "—"), *OrganisationType.choices]  # type: ignore[attr-defined]
        if actor_role != "sysadmin":
            # Org admins share only their own organisation's data.
            self.fields["source_organisation"].queryset = Organisation.objects.filter(  # type: ignore[attr-defined]
                pk=actor_org_id
            )
            self.fields["source_organisation"].initial = actor_org_id
            self.fields["source_type"].disabled = True
