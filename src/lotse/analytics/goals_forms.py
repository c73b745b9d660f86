"""The form of one goal (issue #7), for creating and editing.

A result goal gets the indicator select and one field per parameter any indicator has
(``indicators.PARAMS``); only the chosen indicator's parameters are used — the help
texts say so, no JavaScript. Validating the form checks the types only; the service
(``goals.goal_create`` / ``goal_update``) validates the parameters against the
indicator and the target value against its unit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.forms import BoundField
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lotse.core.forms import Form
from lotse.offers.codes import OfferCategory
from lotse.referrals.careers_rules import default_rules

from .indicators import PARAMS, TRAINING_OR_WORK
from .models import Goal, GoalLevel, IndicatorType

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PARAM_NAMES = ("categories", "category", "months", "weeks", "rules")

PARAM_TEXT: dict[str, tuple[StrOrPromise, StrOrPromise]] = {
    "categories": (
        _("Offer categories counted"),
        _(
            "For the share with an offer of training or employment: participations in "
            "the ticked offer categories count."
        ),
    ),
    "category": (
        _("Offer category of the referrals"),
        _(
            "For the days from referral to start and the share started within N weeks: "
            "referrals to offers of this category."
        ),
    ),
    "months": (
        _("Period (months)"),
        _(
            "How many months back the indicator looks (all indicators but the flagged "
            "share). Blank: the indicator's default (12 months; 24 for the transition rate)."
        ),
    ),
    "weeks": (
        _("Weeks until the start"),
        _("For the share of referrals started within N weeks: N. Blank: 8 weeks."),
    ),
    "rules": (
        _("Measure-career rules counted"),
        _("For the share flagged for a measure career: flags of the ticked rules. None: all."),
    ),
}


def rule_choices() -> list[tuple[str, str]]:
    return [(rule.code, gettext(rule.name)) for rule in default_rules()]


def _category_choices() -> list[tuple[str, Any]]:
    return [(value, label) for value, label in OfferCategory.choices if value]


class GoalForm(Form):
    """Title, description and order of every goal; for a result goal (``level``)
    also the indicator, its parameters, target value and date, and the direction."""

    title = forms.CharField(label=_("Goal"), max_length=300)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    order = forms.IntegerField(
        label=_("Order"),
        min_value=0,
        max_value=32767,
        initial=0,
        help_text=_("Goals at the same place in the tree are listed by this number."),
    )

    def __init__(self, *args: Any, level: str, goal: Goal | None = None, **kwargs: Any) -> None:
        self.level = level
        initial: dict[str, Any] = {
            "order": 0,
            "higher_is_better": True,
            "categories": TRAINING_OR_WORK,
            "category": OfferCategory.INTEGRATIONSKURS.value,
        }
        if goal is not None:
            initial |= {
                "title": goal.title,
                "description": goal.description,
                "order": goal.order,
                "indicator": goal.indicator,
                "target_value": goal.target_value,
                "target_date": goal.target_date,
                "higher_is_better": goal.higher_is_better,
                **(goal.params or {}),
            }
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        if level == GoalLevel.RESULT:
            self._add_result_fields()
            self._style_widgets()

    def _add_result_fields(self) -> None:
        self.fields["indicator"] = forms.ChoiceField(
            label=_("Indicator"),
            choices=[("", "—"), *IndicatorType.choices],
            help_text=_(
                "What the goal is measured by, computed from the data. Of the parameters "
                "below only those of the chosen indicator are used."
            ),
        )
        categories_label, categories_help = PARAM_TEXT["categories"]
        self.fields["categories"] = forms.MultipleChoiceField(
            label=categories_label,
            help_text=categories_help,
            choices=_category_choices(),
            widget=forms.CheckboxSelectMultiple,
            required=False,
        )
        category_label, category_help = PARAM_TEXT["category"]
        self.fields["category"] = forms.ChoiceField(
            label=category_label,
            help_text=category_help,
            choices=_category_choices(),
            required=False,
        )
        for name in ("months", "weeks"):
            label, help_text = PARAM_TEXT[name]
            self.fields[name] = forms.IntegerField(label=label, help_text=help_text, required=False)
        rules_label, rules_help = PARAM_TEXT["rules"]
        self.fields["rules"] = forms.MultipleChoiceField(
            label=rules_label,
            help_text=rules_help,
            choices=rule_choices(),
            widget=forms.CheckboxSelectMultiple,
            required=False,
        )
        self.fields["target_value"] = forms.FloatField(
            label=_("Target value"),
            required=False,
            help_text=_("In percent for shares (0 to 100), in days for the median days."),
        )
        self.fields["target_date"] = forms.DateField(label=_("Target date"), required=False)
        self.fields["higher_is_better"] = forms.BooleanField(
            label=_("Higher is better"),
            required=False,
            help_text=_(
                "Ticked: the target is reached at or above the target value; not ticked: "
                "at or below it (e.g. for waiting days)."
            ),
        )

    # --- groups for the template ---------------------------------------------------------

    def base_fields_bound(self) -> list[BoundField]:
        return [self[n] for n in ("title", "description", "order")]

    def indicator_fields(self) -> list[BoundField]:
        if self.level != GoalLevel.RESULT:
            return []
        return [self["indicator"], *(self[n] for n in PARAM_NAMES)]

    def target_fields(self) -> list[BoundField]:
        if self.level != GoalLevel.RESULT:
            return []
        return [self[n] for n in ("target_value", "target_date", "higher_is_better")]

    # --- values for the service ----------------------------------------------------------

    def params(self) -> dict[str, Any]:
        """The chosen indicator's parameters as entered (blank numbers: the default)."""
        data = self.cleaned_data
        indicator = data.get("indicator") or ""
        out: dict[str, Any] = {}
        for param in PARAMS.get(indicator, ()):
            value = data.get(param.name)
            if param.kind == "int" and value is None:
                continue
            if param.kind == "category" and not value:
                continue
            out[param.name] = value
        return out

    def service_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values: dict[str, Any] = {
            "title": data["title"],
            "description": data["description"],
            "order": data["order"],
        }
        if self.level == GoalLevel.RESULT:
            values |= {
                "indicator": data["indicator"],
                "params": self.params(),
                "target_value": data["target_value"],
                "target_date": data["target_date"],
                "higher_is_better": data["higher_is_better"],
            }
        return values
