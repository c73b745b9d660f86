"""The upload form of the authorities' aggregate lists (issue #7)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lotse.core.forms import Form
from lotse.offers.io import MAX_BYTES


class PopulationImportForm(Form):
    source = forms.CharField(
        label=gettext_lazy("Source"),
        max_length=120,
        help_text=gettext_lazy("Who compiled the list, e.g. “Ausländerbehörde Kreis X”."),
    )
    reference_date = forms.DateField(
        label=gettext_lazy("Reference date"),
        help_text=gettext_lazy("The day the counts refer to."),
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False)
    file = forms.FileField(
        label=gettext_lazy("List (.xlsx or .csv)"),
        help_text=gettext_lazy(
            "At most 5 MB. Columns “Status”, “Alter”, “Bezirk” and “Anzahl” (required)."
        ),
        widget=forms.FileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(
                _("The file is larger than %(mb)s MB. Split it into several files.")
                % {"mb": MAX_BYTES // (1024 * 1024)}
            )
        return upload
