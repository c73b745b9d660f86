"""The coordinators' pages for the measure-career detection rules (issue #6): the six
rules as configured, and the form for one. Thin views over the careers services. No
personal data here, so no access log."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from lotse.core.roles import Perm
from lotse.core.views import acting_membership, actor_required

from .careers_forms import CareerRuleForm, param_value
from .careers_rules import Rule
from .careers_rules_services import career_rule_reset
from .careers_services import career_rule_update, careers_rules_active
from .models_careers import CareerRuleSetting


def _display(rule: Rule) -> dict[str, str]:
    """Name and explanation as shown: the defaults translated, parameters filled in."""
    return {"name": _(rule.name), "explanation": rule.explain(_(rule.explanation), param_value)}


@actor_required(Perm.CAREER_RULES)
def career_rules(request: HttpRequest) -> HttpResponse:
    settings = {s.code: s for s in CareerRuleSetting.objects.select_related("updated_by")}
    rows: list[dict[str, Any]] = [
        {"rule": rule, "setting": settings.get(rule.code), **_display(rule)}
        for rule in careers_rules_active()
    ]
    return render(request, "referrals/career_rules.html", {"rows": rows})


@actor_required(Perm.CAREER_RULES)
def career_rule_edit(request: HttpRequest, code: str) -> HttpResponse:
    actor = acting_membership(request)
    rule = next((r for r in careers_rules_active() if r.code == code), None)
    if rule is None:
        raise Http404
    shown = _display(rule)
    if request.method == "POST" and request.POST.get("action") == "reset":
        career_rule_reset(actor=actor, code=code)
        messages.success(
            request,
            _("The rule “%(name)s” has been reset to its defaults.")
            % {"name": _(type(rule).default_name)},
        )
        return redirect("referrals:career_rules")
    setting = CareerRuleSetting.objects.filter(code=code).select_related("updated_by").first()
    form = CareerRuleForm(request.POST or None, rule=rule, setting=setting)
    if request.method == "POST" and form.is_valid():
        try:
            career_rule_update(actor=actor, code=code, **form.service_values())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            saved = next(r for r in careers_rules_active() if r.code == code)
            messages.success(
                request, _("The rule “%(name)s” has been saved.") % {"name": _(saved.name)}
            )
            return redirect("referrals:career_rules")
    return render(
        request,
        "referrals/career_rule_edit.html",
        {"form": form, "rule": rule, "setting": setting, **shown},
        status=422 if form.errors else 200,
    )
