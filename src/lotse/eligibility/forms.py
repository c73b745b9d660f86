from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from lotse.core.forms import Form, ModelForm

from .models import FLAG_FIELDS, PersonFacts


class PersonFactsForm(ModelForm):
    class Meta:
        model = PersonFacts
        fields = list(FLAG_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.NullBooleanField):
                field.widget.choices = [
                    ("unknown", _("not known")),
                    ("true", _("yes")),
                    ("false", _("no")),
                ]
        hours = self.fields["weekly_hours_employed"]
        hours.widget.attrs.update({"min": "0", "max": "80", "step": "0.5"})


class OnDateForm(Form):
    on = forms.DateField(label=_("Check on"), required=False)
