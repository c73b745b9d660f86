"""The goal system (issue #7): principle, framework and result goals in a tree; a result
goal carries an indicator of a fixed set (``indicators.PARAMS``) with its parameters, a
target value and a target date.

Written only by :func:`goal_create`, :func:`goal_update` and :func:`goal_delete`
(``Perm.GOALS_EDIT``); read through ``selectors.goal_tree_get``. Goals hold no personal
data: no access logging for writing them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from lotse.core.models import Membership
from lotse.core.roles import Perm
from lotse.offers.codes import OfferCategory
from lotse.referrals.careers_rules import default_rules

from .indicators import PARAMS, UNIT
from .models import GOAL_PARENT_LEVEL, Goal, GoalLevel, IndicatorType


def rule_codes() -> list[str]:
    """The codes of the measure-career rules a ``rules`` parameter may name."""
    return [rule.code for rule in default_rules()]


def _require(actor: Membership | None) -> None:
    if actor is None or not actor.has_perm(Perm.GOALS_EDIT):
        raise PermissionDenied


def _clean_params(
    indicator: str, params: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The indicator's parameters (defaults filled in) and the problems found, by
    parameter name ("params" for unknown ones)."""
    params = dict(params or {})
    errors: dict[str, list[str]] = {}
    spec = PARAMS.get(indicator, ())
    known = {p.name for p in spec}
    unknown = sorted(set(params) - known)
    if unknown:
        errors["params"] = [
            _("The indicator has no parameter(s) %(names)s.") % {"names": ", ".join(unknown)}
        ]
    categories = set(OfferCategory.values)
    rules = set(rule_codes())
    out: dict[str, Any] = {}
    for p in spec:
        value = params.get(p.name)
        if value is None:
            value = p.default
        problems = errors.setdefault(p.name, [])
        if p.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int) or value < p.minimum:
                problems.append(_("Enter a whole number of at least %(min)d.") % {"min": p.minimum})
                continue
        elif p.kind == "category":
            if not isinstance(value, str) or value not in categories:
                problems.append(_("“%(value)s” is not an offer category.") % {"value": value})
                continue
        elif p.kind == "categories":
            if not isinstance(value, list | tuple) or not value:
                problems.append(_("Choose at least one offer category."))
                continue
            bad = [v for v in value if not isinstance(v, str) or v not in categories]
            if bad:
                problems.append(
                    _("Not an offer category: %(values)s.")
                    % {"values": ", ".join(str(v) for v in bad)}
                )
                continue
            value = sorted(set(value))
        elif p.kind == "rules":
            if not isinstance(value, list | tuple):
                problems.append(_("The rules must be a list of measure-career rules."))
                continue
            bad = [v for v in value if not isinstance(v, str) or v not in rules]
            if bad:
                problems.append(
                    _("Not a measure-career rule: %(values)s.")
                    % {"values": ", ".join(str(v) for v in bad)}
                )
                continue
            value = sorted(set(value))
        out[p.name] = value
    return out, {name: problems for name, problems in errors.items() if problems}


def _validate(
    *,
    level: str,
    parent: Goal | None,
    title: str,
    order: int,
    indicator: str,
    params: Mapping[str, Any] | None,
    target_value: float | None,
) -> dict[str, Any]:
    """Raise ValidationError keyed by field; return the cleaned parameters."""
    errors: dict[str, list[str]] = {}
    if level not in GoalLevel.values:
        errors.setdefault("level", []).append(_("Not a level of the goal system."))
    else:
        expected = GOAL_PARENT_LEVEL[GoalLevel(level)]
        if expected is None and parent is not None:
            errors.setdefault("parent", []).append(
                _("A principle goal cannot be placed under another goal.")
            )
        elif expected is not None and (parent is None or parent.level != expected):
            errors.setdefault("parent", []).append(
                _("A %(level)s must be placed under a %(parent)s.")
                % {"level": GoalLevel(level).label, "parent": GoalLevel(expected).label}
            )
    if not title.strip():
        errors.setdefault("title", []).append(_("Enter the goal."))
    if order < 0:
        errors.setdefault("order", []).append(_("The order cannot be negative."))
    cleaned: dict[str, Any] = {}
    if level == GoalLevel.RESULT:
        if not indicator:
            errors.setdefault("indicator", []).append(
                _("A result goal needs an indicator to measure it by.")
            )
        elif indicator not in IndicatorType.values:
            errors.setdefault("indicator", []).append(_("Not an indicator."))
        else:
            cleaned, problems = _clean_params(indicator, params)
            for name, messages in problems.items():
                errors.setdefault(name, []).extend(messages)
            if target_value is not None:
                if target_value < 0:
                    errors.setdefault("target_value", []).append(
                        _("The target value cannot be negative.")
                    )
                elif UNIT[indicator] == "percent" and target_value > 100:
                    errors.setdefault("target_value", []).append(_("A share cannot exceed 100 %."))
    else:
        if indicator:
            errors.setdefault("indicator", []).append(
                _("Only result goals are measured by an indicator.")
            )
        if params:
            errors.setdefault("params", []).append(
                _("Only result goals have indicator parameters.")
            )
        if target_value is not None:
            errors.setdefault("target_value", []).append(
                _("Only result goals have a target value.")
            )
    if errors:
        raise ValidationError(errors)
    return cleaned


def goal_create(
    *,
    actor: Membership | None,
    parent: Goal | None,
    level: str,
    title: str,
    description: str = "",
    order: int = 0,
    indicator: str = "",
    params: Mapping[str, Any] | None = None,
    target_value: float | None = None,
    target_date: dt.date | None = None,
    higher_is_better: bool = True,
) -> Goal:
    """A new goal under ``parent`` (None: a principle goal). Raises PermissionDenied
    without ``GOALS_EDIT`` and ValidationError (by field) on a bad combination."""
    _require(actor)
    with transaction.atomic():
        if parent is not None:
            parent = Goal.objects.select_for_update().get(pk=parent.pk)
        cleaned = _validate(
            level=level,
            parent=parent,
            title=title,
            order=order,
            indicator=indicator,
            params=params,
            target_value=target_value,
        )
        return Goal.objects.create(
            parent=parent,
            level=level,
            title=title.strip(),
            description=description.strip(),
            order=order,
            indicator=indicator if level == GoalLevel.RESULT else "",
            params=cleaned,
            target_value=target_value,
            target_date=target_date if level == GoalLevel.RESULT else None,
            higher_is_better=higher_is_better,
        )


def goal_update(
    *,
    actor: Membership | None,
    goal: Goal,
    title: str,
    description: str = "",
    order: int = 0,
    indicator: str = "",
    params: Mapping[str, Any] | None = None,
    target_value: float | None = None,
    target_date: dt.date | None = None,
    higher_is_better: bool = True,
) -> Goal:
    """Change a goal; its place in the tree (parent, level) stays."""
    _require(actor)
    with transaction.atomic():
        # of=("self",): PostgreSQL cannot lock the nullable side of the join.
        goal = Goal.objects.select_for_update(of=("self",)).select_related("parent").get(pk=goal.pk)
        cleaned = _validate(
            level=goal.level,
            parent=goal.parent,
            title=title,
            order=order,
            indicator=indicator,
            params=params,
            target_value=target_value,
        )
        goal.title = title.strip()
        goal.description = description.strip()
        goal.order = order
        goal.indicator = indicator if goal.level == GoalLevel.RESULT else ""
        goal.params = cleaned
        goal.target_value = target_value
        goal.target_date = target_date if goal.level == GoalLevel.RESULT else None
        goal.higher_is_better = higher_is_better
        goal.save()
        return goal


def goal_delete(*, actor: Membership | None, goal: Goal) -> int:
    """Delete a goal with all goals below it; returns the number of goals deleted."""
    _require(actor)
    with transaction.atomic():
        _count, per_model = Goal.objects.filter(pk=goal.pk).delete()
    return per_model.get(Goal._meta.label, 0)
