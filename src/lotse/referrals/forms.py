"""Forms of the referral pages; the services validate, the forms carry their errors."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lotse.core.forms import Form
from lotse.core.models import NeedType, Organisation
from lotse.offers.codes import Level, OfferCategory
from lotse.offers.models import Offer

from .codes import AbortReason, NextStep, Outcome, ReferralStatus, RejectReason

BLANK = [("", "—")]


class ReferralForm(Form):
    offer = forms.ModelChoiceField(
        label=_("Offer"),
        required=False,
        queryset=Offer.objects.none(),
        help_text=_("Its provider receives the referral. Leave empty to refer to an organisation."),
    )
    receiver = forms.ModelChoiceField(
        label=_("Or: receiving organisation"),
        required=False,
        queryset=Organisation.objects.filter(is_active=True),
        help_text=_("For counselling or an organisation without a catalogue offer."),
    )
    reason = forms.CharField(
        label=_("Reason for the referral"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text=_(
            "What the person needs and what they have agreed to. The receiver reads this; "
            "write nothing they need not know."
        ),
    )
    need_types = forms.ModelMultipleChoiceField(
        label=_("Needs it answers"),
        required=False,
        queryset=NeedType.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
    )
    override_reason = forms.CharField(
        label=_("Reason for referring despite an exclusion"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        help_text=_("Only when the person is excluded from the offer; recorded with the referral."),
    )

    def __init__(self, *args: Any, offer: Offer | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        qs = Offer.objects.filter(is_active=True).exclude(ends_on__lt=today)
        if offer is not None:
            # The offer chosen on the matching page; the list stays short.
            qs = Offer.objects.filter(pk=offer.pk)
            self.fields["offer"].initial = offer.pk
        self.fields["offer"].queryset = qs.select_related("provider").order_by("title")  # type: ignore[attr-defined]
        self.fields["offer"].label_from_instance = lambda o: f"{o.title} ({o.provider})"  # type: ignore[attr-defined]


class NoteForm(Form):
    note = forms.CharField(
        label=_("Note"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


# Several of these forms share a page (the referral): prefixes keep their ids apart.
class RejectForm(Form):
    prefix = "reject"
    reject_reason = forms.ChoiceField(
        label=_("Reason for rejecting"), choices=BLANK + list(RejectReason.choices)
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class StartForm(Form):
    prefix = "start"
    started_on = forms.DateField(label=_("Started on"))
    # Only for a referral to an organisation: what the person takes part in.
    title = forms.CharField(label=_("Offer or measure"), required=False, max_length=200)
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=BLANK + list(OfferCategory.choices)
    )
    level = forms.ChoiceField(label=_("Level of the offer"), required=False, choices=Level.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)

    def __init__(self, *args: Any, with_offer: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if with_offer:  # the offer says what it is
            for name in ("title", "category", "level"):
                del self.fields[name]


class AttendanceForm(Form):
    prefix = "attendance"
    attendance_percent = forms.IntegerField(
        label=_("Attendance (%)"), required=False, min_value=0, max_value=100
    )
    attendance_note = forms.CharField(
        label=_("Attendance summary"),
        required=False,
        max_length=300,
        help_text=_("E.g. “regular, missed two weeks in March (illness)”."),
    )


class EndForm(AttendanceForm):
    prefix = "end"
    ended_on = forms.DateField(label=_("Ended on"))
    outcome = forms.ChoiceField(label=_("Outcome"), choices=BLANK + list(Outcome.choices))
    abort_reason = forms.ChoiceField(
        label=_("Reason for aborting"),
        required=False,
        choices=BLANK + list(AbortReason.choices),
        help_text=_("Only for an aborted participation."),
    )
    level_reached = forms.ChoiceField(
        label=_("Level reached"), required=False, choices=list(Level.choices)
    )
    next_step = forms.ChoiceField(
        label=_("What followed"),
        required=False,
        choices=BLANK + list(NextStep.choices),
        help_text=_(
            "Apprenticeship, work, school-leaving qualification or studies count as an exit."
        ),
    )
    outcome_note = forms.CharField(label=_("Note on the outcome"), required=False, max_length=300)

    field_order = [
        "ended_on",
        "outcome",
        "abort_reason",
        "level_reached",
        "next_step",
        "outcome_note",
        "attendance_percent",
        "attendance_note",
    ]


class ParticipationForm(Form):
    """An earlier participation, recorded by the lead organisation."""

    title = forms.CharField(label=_("Offer"), max_length=200)
    category = forms.ChoiceField(label=_("Category"), choices=BLANK + list(OfferCategory.choices))
    level = forms.ChoiceField(label=_("Level of the offer"), required=False, choices=Level.choices)
    provider = forms.ModelChoiceField(
        label=_("Provider"), required=False, queryset=Organisation.objects.filter(is_active=True)
    )
    started_on = forms.DateField(label=_("Started on"))
    ended_on = forms.DateField(label=_("Ended on"), required=False)
    outcome = forms.ChoiceField(
        label=_("Outcome"), required=False, choices=BLANK + list(Outcome.choices)
    )
    abort_reason = forms.ChoiceField(
        label=_("Reason for aborting"), required=False, choices=BLANK + list(AbortReason.choices)
    )
    level_reached = forms.ChoiceField(
        label=_("Level reached"), required=False, choices=list(Level.choices)
    )
    next_step = forms.ChoiceField(
        label=_("What followed"), required=False, choices=BLANK + list(NextStep.choices)
    )
    attendance_percent = forms.IntegerField(
        label=_("Attendance (%)"), required=False, min_value=0, max_value=100
    )


class ReferralFilterForm(Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=BLANK + list(ReferralStatus.choices)
    )
    open = forms.BooleanField(label=_("Only open referrals"), required=False)


class CareerFlagFilterForm(Form):
    mine = forms.BooleanField(label=_("Only cases I manage"), required=False, initial=True)
    rule = forms.ChoiceField(label=_("Rule"), required=False)

    def __init__(self, *args: Any, rules: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["rule"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("all rules")), *rules]


class CareerFlagResolveForm(Form):
    prefix = "resolve"
    note = forms.CharField(
        label=_("How was it dealt with?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "E.g. the conversation held, the plan step agreed, why the pattern is no "
            "concern. The flag comes back only on new evidence."
        ),
    )
