"""Form plumbing shared by all apps: KERN UX classes on widgets and errors tied to fields."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.forms.renderers import TemplatesSetting
from django.utils.translation import gettext_lazy as _


def model_choice_field(form: forms.BaseForm, name: str) -> forms.ModelChoiceField:
    """The field `name` typed as a model choice field, to narrow its queryset."""
    return cast(forms.ModelChoiceField, form.fields[name])


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    return cast(forms.ChoiceField, form.fields[name])


class LotseFormRenderer(TemplatesSetting):
    form_template_name = "lotse/form.html"
    field_template_name = "lotse/field.html"


# Most specific first: CheckboxSelectMultiple is a subclass of RadioSelect.
_INPUT_CLASS = {
    forms.CheckboxSelectMultiple: "kern-form-check__checkbox",
    forms.RadioSelect: "kern-form-check__radio",
    forms.CheckboxInput: "kern-form-check__checkbox",
    forms.SelectMultiple: "kern-form-input__select",
    forms.Select: "kern-form-input__select",
}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class KernFormMixin:
    """Adds KERN classes, keeps browser-side autofill sane and links errors to fields."""

    fields: dict[str, forms.Field]
    errors: Any

    def _style_widgets(self) -> None:
        for field in self.fields.values():
            widget = field.widget
            css = next(
                (cls for wtype, cls in _INPUT_CLASS.items() if isinstance(widget, wtype)),
                "kern-form-input__input",
            )
            classes = widget.attrs.get("class", "").split()
            if css not in classes:
                widget.attrs["class"] = " ".join([*classes, css])
            if isinstance(field, forms.DateField) and not isinstance(widget, DateInput):
                field.widget = DateInput(attrs=widget.attrs)

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        # Screen readers announce the message when the field gets focus.
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                error_id = f"{self[name].auto_id}_error"  # type: ignore[index]
                described = widget.attrs.get("aria-describedby", "")
                if error_id not in described:
                    widget.attrs["aria-describedby"] = f"{error_id} {described}".strip()

    def add_service_errors(self, exc: ValidationError) -> None:
        """Put a service's ValidationError on the matching fields (or on the form)."""
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                target = field if field in self.fields else None
                for message in errors:
                    self.add_error(target, message)  # type: ignore[attr-defined]
        else:
            for message in exc.messages:
                self.add_error(None, message)  # type: ignore[attr-defined]


class Form(KernFormMixin, forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style_widgets()


class ModelForm(KernFormMixin, forms.ModelForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style_widgets()


class LoginForm(KernFormMixin, AuthenticationForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style_widgets()
        self.fields["username"].widget.attrs["autocomplete"] = "username"


class ActingForm(Form):
    membership = forms.ChoiceField(label=_("Act as"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, memberships: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["membership"].choices = [  # type: ignore[attr-defined]
            (str(m.pk), f"{m.organisation.name} · {m.get_role_display()}") for m in memberships
        ]
