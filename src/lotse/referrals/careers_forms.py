"""The coordinators' form for one measure-career detection rule (issue #6).

Built from the rule's dataclass fields (``careers_rules``): every parameter gets a
field of its type — whole numbers with their lower bound, code sets as checkbox
groups, flags as a checkbox, the waiting limits as one optional number per offer
category — plus name, explanation and on/off. Validating the form writes nothing; the
service (``careers_services.career_rule_update``) validates the whole rule again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from django import forms
from django.forms import BoundField
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lotse.core.forms import Form
from lotse.offers.codes import Level, OfferCategory

from .careers_rules import RULE_BASE_FIELDS, Rule
from .codes import NextStep
from .models_careers import CareerRuleSetting

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The waiting limits per offer category: one field each, named with this prefix.
DAYS_PREFIX = "days_by_category__"

# Parameter → (label, help text); (kind, parameter) entries override the general one.
PARAM_TEXT: dict[str, tuple[StrOrPromise, StrOrPromise]] = {
    "min_count": (
        _("Minimum number of participations"),
        _("How many participations in the measures below must start within the period."),
    ),
    "months": (
        _("Period (months)"),
        _("The starts of these participations must lie within this many calendar months."),
    ),
    "categories": (
        _("Offer categories considered"),
        _("Only participations in the ticked offer categories are looked at."),
    ),
    "exit_next_steps": (
        _("Next steps that count as leaving the measure system"),
        _("A participation that ended with one of the ticked next steps counts as an exit."),
    ),
    "exit_levels": (
        _("Levels that count as leaving the measure system"),
        _("A participation that reached one of the ticked levels counts as an exit (on its end)."),
    ),
    "exit_categories": (
        _("Offer categories that count as leaving the measure system"),
        _("The start of a participation in one of the ticked categories counts as an exit."),
    ),
    "count_transfers": (
        _("Count transfers as not reaching the level"),
        _(
            "Normally a transfer to another course of the same level is a continuation. "
            "Tick to treat it like a course that ended without the level."
        ),
    ),
    "n": (
        _("Number of participations"),
        _("How many ended participations are looked at."),
    ),
    "days": (
        _("Days without support"),
        _("A flag is raised when more than this many days pass without support."),
    ),
    "default_days": (
        _("Default limit (days)"),
        _(
            "How many days may pass between sending a referral and the start of the "
            "participation, for offer categories without their own limit below."
        ),
    ),
}
KIND_PARAM_TEXT: dict[tuple[str, str], tuple[StrOrPromise, StrOrPromise]] = {
    ("cycle", "categories"): (
        _("Measures counted"),
        _("Participations in the ticked offer categories count towards a cycle."),
    ),
    ("repetition", "categories"): (
        _("Offer categories checked"),
        _(
            "Only repeated participations in the ticked categories are flagged. None "
            "ticked: every category (only participations with a level count)."
        ),
    ),
    ("no_progression", "n"): (
        _("Number of ended participations compared"),
        _(
            "How many of the most recent ended participations must show no rise in the "
            "level reached compared with what was reached before them."
        ),
    ),
    ("gap", "days"): (
        _("Longest gap without support (days)"),
        _(
            "A flag is raised when more than this many days pass after the end of a "
            "participation without a new one or an active step in the integration plan."
        ),
    ),
    ("gap", "exit_next_steps"): (
        _("Next steps after which there is no gap"),
        _(
            "A gap that begins the day a participation ended with one of the ticked next "
            "steps is not flagged: the person left the measure system."
        ),
    ),
    ("gap", "within_months"): (
        _("Look back (months)"),
        _(
            "Only gaps that ended within this many months (or last until today) raise a "
            "flag: an old gap is history, not something to act on."
        ),
    ),
    ("dropout_chain", "n"): (
        _("Number of drop-outs in a row"),
        _("How many ended participations in a row must have been aborted."),
    ),
}

# Lower bounds of the whole-number parameters (general, then per kind).
INT_MIN: dict[str, int] = {"days": 0, "default_days": 0}
KIND_INT_MIN: dict[tuple[str, str], int] = {("cycle", "min_count"): 2}

# Code sets → their code list.
CODE_CHOICES: dict[str, Any] = {
    "categories": OfferCategory,
    "exit_categories": OfferCategory,
    "exit_next_steps": NextStep,
    "exit_levels": Level,
}


def _choices(param: str) -> list[tuple[str, Any]]:
    codes = CODE_CHOICES.get(param, OfferCategory)
    return [(value, label) for value, label in codes.choices if value]


def _text(kind: str, param: str) -> tuple[StrOrPromise, StrOrPromise]:
    return KIND_PARAM_TEXT.get((kind, param)) or PARAM_TEXT.get(param) or (param, "")


def param_value(value: Any) -> str:
    """A parameter's value as staff read it: codes by their labels."""
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, list):
        labels = {**dict(OfferCategory.choices), **dict(NextStep.choices), **dict(Level.choices)}
        return ", ".join(str(labels.get(v, v)) for v in value) or "–"
    if isinstance(value, dict):
        categories = dict(OfferCategory.choices)
        return ", ".join(f"{categories.get(k, k)}: {v}" for k, v in value.items()) or "–"
    return str(value)


def param_label(kind: str, param: str) -> str:
    """The label of a rule's parameter (also on a flag's page: the parameters used)."""
    return str(_text(kind, param)[0])


class CareerRuleForm(Form):
    """One rule's name, explanation, on/off and parameters; ``rule`` is the rule as
    configured now (its values are the initial ones), ``setting`` its row if any."""

    name = forms.CharField(label=_("Name"), max_length=120, required=False)
    explanation = forms.CharField(label=_("Explanation"), widget=forms.Textarea, required=False)
    enabled = forms.BooleanField(
        label=_("Active"),
        required=False,
        help_text=_("Only active rules raise flags in the next scan."),
    )

    def __init__(
        self, *args: Any, rule: Rule, setting: CareerRuleSetting | None = None, **kwargs: Any
    ) -> None:
        self.rule = rule
        self.param_names: list[str] = []
        default = type(rule)()
        initial: dict[str, Any] = {
            "name": setting.name if setting else "",
            "explanation": setting.explanation if setting else "",
            "enabled": rule.enabled,
        }
        extra: dict[str, forms.Field] = {}
        for f in fields(rule):
            if f.name in RULE_BASE_FIELDS:
                continue
            self.param_names.append(f.name)
            value = getattr(rule, f.name)
            if isinstance(value, Mapping):
                for code, label in _choices(f.name):
                    key = DAYS_PREFIX + code
                    extra[key] = forms.IntegerField(
                        label=_("Limit for %(category)s (days)") % {"category": label},
                        help_text=_("Blank: the default limit."),
                        min_value=0,
                        required=False,
                    )
                    initial[key] = value.get(code)
                continue
            label, help_text = _text(rule.kind, f.name)
            if isinstance(value, bool):
                extra[f.name] = forms.BooleanField(label=label, help_text=help_text, required=False)
            elif isinstance(value, int):
                minimum = KIND_INT_MIN.get((rule.kind, f.name), INT_MIN.get(f.name, 1))
                extra[f.name] = forms.IntegerField(
                    label=label,
                    help_text=_("%(help)s Default: %(default)s.")
                    % {"help": help_text, "default": getattr(default, f.name)},
                    min_value=minimum,
                )
            elif isinstance(value, frozenset):
                extra[f.name] = forms.MultipleChoiceField(
                    label=label,
                    help_text=help_text,
                    choices=_choices(f.name),
                    widget=forms.CheckboxSelectMultiple,
                    required=False,
                )
                value = sorted(value)
            initial[f.name] = value
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.fields.update(extra)
        self._style_widgets()  # the parameter fields came after the base class styled
        self.fields["name"].help_text = _("Blank: the default name, “%(name)s”.") % {
            "name": gettext(default.name)
        }
        placeholders = ", ".join("{" + p + "}" for p in self.param_names if p not in CODE_CHOICES)
        self.fields["explanation"].help_text = _(
            "Blank: the default explanation (translated where shown). Placeholders in "
            "braces are filled in with the parameters; this rule has: %(placeholders)s."
        ) % {"placeholders": placeholders}

    # --- groups for the template ---------------------------------------------------------

    def base_fields_bound(self) -> list[BoundField]:
        return [self[n] for n in ("name", "explanation", "enabled")]

    def param_fields(self) -> list[BoundField]:
        return [self[n] for n in self.param_names if n in self.fields]

    def days_fields(self) -> list[BoundField]:
        return [self[n] for n in self.fields if n.startswith(DAYS_PREFIX)]

    # --- values for the service ----------------------------------------------------------

    def params(self) -> dict[str, Any]:
        """The parameters as JSON-ready values (what ``career_rule_update`` takes)."""
        data = self.cleaned_data
        out: dict[str, Any] = {}
        for name in self.param_names:
            if name in self.fields:
                value = data[name]
                out[name] = sorted(value) if isinstance(value, list) else value
            else:  # the mapping of days per category
                out[name] = {
                    key.removeprefix(DAYS_PREFIX): data[key]
                    for key in self.fields
                    if key.startswith(DAYS_PREFIX) and data.get(key) is not None
                }
        return out

    def service_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "params": self.params(),
            "enabled": data["enabled"],
            "name": data["name"],
            "explanation": data["explanation"],
        }
