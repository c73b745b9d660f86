"""The page "Regelwerk": the active eligibility rule set, readable for every member.

Shows which rule set is active (packaged or a municipality's directory from
``LOTSE_ELIGIBILITY_RULES``, with its description and digest), then per category the
rules in evaluation order with their conditions, citation, validity and source, the
practice overlays and the change dates. Filters: category and "valid on" a date. No
personal data: nothing is logged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from lotse.core.forms import Form
from lotse.core.views import actor_required

from . import labels
from .codes import RULES_DIR
from .engine import BENEFIT, Overlay, Rule, RuleSet
from .ruleset import active_rule_set

BENEFIT_LABEL = gettext_lazy("Benefit regime (AsylbLG, SGB II, SGB XII)")


def _german() -> bool:
    return (get_language() or "de").startswith("de")


def category_label(category: str) -> str:
    if category == BENEFIT:
        return str(BENEFIT_LABEL)
    return str(labels.CATEGORY_LABELS.get(category, category))


def _categories(rs: RuleSet) -> list[str]:
    """Benefit regime first, then the access categories in result order, then any
    other category the rule files use."""
    ordered = [BENEFIT, *rs.codes.categories]
    return ordered + [c for c in rs.rules if c not in ordered]


class RulesFilterForm(Form):
    category = forms.ChoiceField(label=gettext_lazy("Category"), required=False)
    on = forms.DateField(
        label=gettext_lazy("Valid on"),
        required=False,
        help_text=gettext_lazy("Only rules and overlays that apply on this day."),
    )

    def __init__(self, *args: Any, categories: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [  # type: ignore[attr-defined]
            ("", _("All categories")),
            *((c, category_label(c)) for c in categories),
        ]


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} = {_value(v)}" for k, v in value.items())
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _validity(valid_from: dt.date, valid_to: dt.date | None, today: dt.date) -> str:
    """'' when valid today, else 'expired' or 'future'."""
    if valid_to is not None and valid_to < today:
        return "expired"
    if valid_from > today:
        return "future"
    return ""


@dataclass
class RuleRow:
    rule: Rule
    result_label: str
    conditions: list[str]
    explanation: str
    validity: str


@dataclass
class CategoryTable:
    category: str
    label: str
    rows: list[RuleRow] = field(default_factory=list)


@dataclass
class OverlayRow:
    overlay: Overlay
    category_label: str
    results: list[str]
    note: str
    validity: str


def _rule_row(rule: Rule, today: dt.date) -> RuleRow:
    if rule.category == BENEFIT:
        result = labels.REGIME_LABELS.get(rule.result, rule.result)
    else:
        result = labels.RESULT_LABELS.get(rule.result, rule.result)
    german = rule.explanation_de if _german() and rule.explanation_de else ""
    return RuleRow(
        rule=rule,
        result_label=str(result),
        conditions=[f"{k} = {_value(v)}" for k, v in rule.conditions.items()],
        explanation=german or rule.explanation,
        validity=_validity(rule.valid_from, rule.valid_to, today),
    )


def _overlay_row(o: Overlay, today: dt.date) -> OverlayRow:
    return OverlayRow(
        overlay=o,
        category_label=category_label(o.category),
        results=[str(labels.RESULT_LABELS.get(r, r)) for r in sorted(o.results)],
        note=o.note_de if _german() and o.note_de else o.note,
        validity=_validity(o.valid_from, o.valid_to, today),
    )


def _date_or_text(value: Any) -> dt.date | str:
    """A date of ruleset.toml (TOML date or ISO text) as a date, other text as is."""
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return text


def _is_packaged(rs: RuleSet) -> bool:
    try:
        return rs.directory.resolve() == RULES_DIR.resolve()
    except OSError:
        return False


@actor_required(None)
def rules(request: HttpRequest) -> HttpResponse:
    rs = active_rule_set()
    today = timezone.localdate()
    categories = _categories(rs)
    form = RulesFilterForm(request.GET or None, categories=categories)
    chosen, on = "", None
    if form.is_bound:
        form.is_valid()  # a valid field filters even when the other one is not
        chosen = form.cleaned_data.get("category") or ""
        on = form.cleaned_data.get("on")
    tables = []
    for category in categories:
        if chosen and category != chosen:
            continue
        shown = [r for r in rs.rules.get(category, ()) if on is None or r.valid_on(on)]
        tables.append(
            CategoryTable(
                category=category,
                label=category_label(category),
                rows=[_rule_row(r, today) for r in shown],
            )
        )
    overlays = [
        _overlay_row(o, today)
        for o in rs.overlays
        if (not chosen or o.category == chosen) and (on is None or o.valid_on(on))
    ]
    meta = rs.meta
    return render(
        request,
        "eligibility/rules.html",
        {
            "rs": rs,
            "meta": {
                "name": str(meta.get("name") or ""),
                "version": str(meta.get("version") or ""),
                "publisher": str(meta.get("publisher") or ""),
                "reviewed_by": str(meta.get("reviewed_by") or ""),
                "reviewed_on": _date_or_text(meta.get("reviewed_on")),
                "note": " ".join(str(meta.get("note") or "").split()),
            },
            "packaged": _is_packaged(rs),
            "form": form,
            "tables": tables,
            "overlays": overlays,
            "on": on,
            "chosen": chosen,
            "rule_count": sum(len(t.rows) for t in tables),
            "total_rules": len(rs.all_rules()),
            "today": today,
        },
    )
