"""Pages of the measure-career flags (issue #6): the case manager's flagged persons,
one flag with its time line and the resolve form, the counts for coordinators."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lotse.core.roles import Perm
from lotse.core.views import acting_membership, actor_required, page_number

from . import careers_selectors as cs
from .careers_services import career_flag_resolve
from .forms import CareerFlagFilterForm, CareerFlagResolveForm


@actor_required(Perm.CASE_VIEW)
def career_flags(request: HttpRequest) -> HttpResponse:
    actor = acting_membership(request)
    rules = [(code, cs.rule_name(rule, code)) for code, rule in cs.rule_labels().items()]
    data = request.GET if "rule" in request.GET else None
    form = CareerFlagFilterForm(data, rules=rules)
    mine, rule = True, ""
    if form.is_valid():
        mine, rule = form.cleaned_data["mine"], form.cleaned_data["rule"]
    page = cs.career_flag_list(actor=actor, mine=mine, rule=rule, page=page_number(request))
    return render(request, "referrals/career_flags.html", {"form": form, "page": page})


def _detail(
    request: HttpRequest, pk: int, form: CareerFlagResolveForm, status: int = 200
) -> HttpResponse:
    view = cs.career_flag_get(actor=acting_membership(request), flag_id=pk)
    return render(
        request, "referrals/career_flag.html", {"view": view, "form": form}, status=status
    )


@actor_required(Perm.CASE_VIEW)
def career_flag(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, pk, CareerFlagResolveForm())


@require_POST
@actor_required(Perm.CASE_EDIT)
def career_flag_resolve_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting_membership(request)
    # 404 out of scope, 403 unshared; the service logs the write.
    view = cs.career_flag_get(actor=actor, flag_id=pk, log=False)
    form = CareerFlagResolveForm(request.POST)
    if form.is_valid():
        try:
            career_flag_resolve(actor=actor, flag=view.flag, note=form.cleaned_data["note"])
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The flag has been resolved."))
            return redirect("referrals:career_flags")
    return _detail(request, pk, form, status=422)


@actor_required(Perm.CAREER_STATS)
def career_overview(request: HttpRequest) -> HttpResponse:
    actor = acting_membership(request)
    counts = cs.career_flag_counts(actor=actor)
    tables = [
        (_("Rule"), counts.by_rule, "rule"),
        (_("Provider"), counts.by_provider, "provider"),
        (_("Offer category"), counts.by_category, "category"),
        (_("District"), counts.by_district, "district"),
    ]
    return render(
        request,
        "referrals/career_overview.html",
        {"counts": counts, "tables": tables, "perms_rules": actor.has_perm(Perm.CAREER_RULES)},
    )
