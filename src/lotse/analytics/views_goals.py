"""Pages of the goal system (issue #7): the goal tree with every result goal's current
value, target, status and trend; creating, editing and deleting goals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from lotse.core.disclosure import current_policy
from lotse.core.roles import Perm
from lotse.core.views import acting_membership, actor_required
from lotse.offers.codes import OfferCategory

from . import selectors as sel
from .goals import goal_create, goal_delete, goal_update
from .goals_forms import PARAM_TEXT, GoalForm, rule_choices
from .indicators import PARAMS, params_with_defaults
from .models import GOAL_PARENT_LEVEL, Goal, GoalLevel, IndicatorType
from .selectors import GoalNode

# The level of a goal's children (none below a result goal).
CHILD_LEVEL: dict[str, str] = {
    str(parent): str(level) for level, parent in GOAL_PARENT_LEVEL.items() if parent is not None
}
HEADING = {GoalLevel.PRINCIPLE: 2, GoalLevel.FRAMEWORK: 3, GoalLevel.RESULT: 4}
FORM_TEMPLATE = "analytics/goal_form.html"


def format_value(value: float | None, unit: str) -> str:
    """A value as read: "42 %", "37 days"; "•" when withheld or not measurable."""
    if value is None:
        return "•"
    number = number_format(value, decimal_pos=0 if float(value).is_integer() else 1)
    if unit == "percent":
        return f"{number} %"
    return ngettext("%(n)s day", "%(n)s days", round(value)) % {"n": number}


def params_in_words(indicator: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """The indicator's parameters as (label, value in words)."""
    categories = dict(OfferCategory.choices)
    rules = dict(rule_choices())
    words: list[tuple[str, str]] = []
    values = params_with_defaults(indicator, params)
    for param in PARAMS[indicator]:
        value = values[param.name]
        if param.kind == "categories":
            text = ", ".join(str(categories.get(v, v)) for v in value)
        elif param.kind == "category":
            text = str(categories.get(value, value))
        elif param.kind == "rules":
            text = ", ".join(rules.get(v, v) for v in value) or _("all rules")
        else:
            text = str(value)
        words.append((str(PARAM_TEXT[param.name][0]), text))
    return words


@dataclass(frozen=True)
class GoalItem:
    """One goal of the tree, ready for the template."""

    goal: Goal
    level_label: str
    heading: int
    children: list[GoalItem]
    can_add_child: bool
    indicator_label: str = ""
    params: tuple[tuple[str, str], ...] = ()
    value: str = ""
    target: str = ""
    status: str = ""
    met: bool | None = None
    trend: tuple[tuple[dt.date, str], ...] = ()


def _item(node: GoalNode) -> GoalItem:
    goal = node.goal
    level = GoalLevel(goal.level)
    base: dict[str, Any] = {
        "goal": goal,
        "level_label": str(level.label),
        "heading": HEADING[level],
        "children": [_item(child) for child in node.children],
        "can_add_child": str(level) in CHILD_LEVEL,
    }
    if not goal.indicator:
        return GoalItem(**base)
    value = node.value.value if node.value is not None else None
    if value is None:
        status = _("cannot be measured")
    elif goal.target_value is None:
        status = _("no target value set")
    elif node.met:
        status = _("target reached")
    else:
        status = _("not reached yet")
    target = ""
    if goal.target_value is not None:
        target = format_value(goal.target_value, node.unit)
        target = (_("at least %(v)s") if goal.higher_is_better else _("at most %(v)s")) % {
            "v": target
        }
    return GoalItem(
        **base,
        indicator_label=str(IndicatorType(goal.indicator).label),
        params=tuple(params_in_words(goal.indicator, goal.params)),
        value=format_value(value, node.unit),
        target=target,
        status=status,
        met=node.met,
        trend=tuple((day, format_value(v, node.unit)) for day, v in node.trend),
    )


@actor_required(Perm.ANALYTICS_VIEW)
def goals(request: HttpRequest) -> HttpResponse:
    actor = acting_membership(request)
    tree = sel.goal_tree_get(actor=actor)
    return render(
        request,
        "analytics/goals.html",
        {
            "items": [_item(node) for node in tree],
            "can_edit": actor.has_perm(Perm.GOALS_EDIT),
            "policy": current_policy(),
        },
    )


def _form_page(
    request: HttpRequest, form: GoalForm, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(request, FORM_TEMPLATE, {**context, "form": form}, status=status)


@require_http_methods(["GET", "POST"])
@actor_required(Perm.GOALS_EDIT)
def goal_new(request: HttpRequest) -> HttpResponse:
    actor = acting_membership(request)
    parent: Goal | None = None
    level = str(GoalLevel.PRINCIPLE)
    if request.GET.get("parent"):
        try:
            parent = get_object_or_404(Goal, pk=int(request.GET["parent"]))
        except ValueError:
            raise Http404 from None
        if parent.level not in CHILD_LEVEL:
            raise Http404  # nothing below a result goal
        level = CHILD_LEVEL[parent.level]
    context = {"parent": parent, "level_label": GoalLevel(level).label, "goal": None}
    if request.method != "POST":
        return _form_page(request, GoalForm(level=level), context)
    form = GoalForm(request.POST, level=level)
    if form.is_valid():
        try:
            goal = goal_create(actor=actor, parent=parent, level=level, **form.service_values())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Goal “%(title)s” created.") % {"title": goal.title})
            return redirect("analytics:goals")
    return _form_page(request, form, context, status=422)


@require_http_methods(["GET", "POST"])
@actor_required(Perm.GOALS_EDIT)
def goal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting_membership(request)
    goal = get_object_or_404(Goal.objects.select_related("parent"), pk=pk)
    context = {"parent": goal.parent, "level_label": GoalLevel(goal.level).label, "goal": goal}
    if request.method != "POST":
        return _form_page(request, GoalForm(level=goal.level, goal=goal), context)
    form = GoalForm(request.POST, level=goal.level, goal=goal)
    if form.is_valid():
        try:
            goal = goal_update(actor=actor, goal=goal, **form.service_values())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Goal “%(title)s” saved.") % {"title": goal.title})
            return redirect("analytics:goals")
    return _form_page(request, form, context, status=422)


@require_POST
@actor_required(Perm.GOALS_EDIT)
def goal_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting_membership(request)
    goal = get_object_or_404(Goal, pk=pk)
    title = goal.title
    deleted = goal_delete(actor=actor, goal=goal)
    below = deleted - 1
    if below:
        text = ngettext(
            "Goal “%(title)s” and %(n)d goal below it deleted.",
            "Goal “%(title)s” and %(n)d goals below it deleted.",
            below,
        ) % {"title": title, "n": below}
    else:
        text = _("Goal “%(title)s” deleted.") % {"title": title}
    messages.success(request, text)
    return redirect("analytics:goals")


urlpatterns: list[URLPattern] = [
    path("goals/", goals, name="goals"),
    path("goals/new/", goal_new, name="goal_new"),
    path("goals/<int:pk>/edit/", goal_edit, name="goal_edit"),
    path("goals/<int:pk>/delete/", goal_delete_view, name="goal_delete"),
]
