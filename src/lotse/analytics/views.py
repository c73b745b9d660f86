"""Pages of the analytics (issue #7): aggregate, disclosure-controlled, no person."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lotse.core.roles import Perm
from lotse.core.views import acting_membership, actor_required, is_htmx
from lotse.offers.codes import OfferCategory

from . import figures
from . import selectors as sel
from .situation import POPULATIONS


@actor_required(Perm.ANALYTICS_VIEW)
def index(request: HttpRequest) -> HttpResponse:
    actor = acting_membership(request)
    return render(
        request,
        "analytics/index.html",
        {"can_manage": actor.has_perm(Perm.ANALYTICS_MANAGE)},
    )


@actor_required(Perm.ANALYTICS_VIEW)
def situation_view(request: HttpRequest) -> HttpResponse:
    actor = acting_membership(request)
    population = request.GET.get("population", "open")
    if population not in POPULATIONS:
        population = "open"
    context: dict[str, object] = {
        "population": population,
        "populations": [("open", _("persons with an open case")), ("all", _("all persons"))],
        "can_manage": actor.has_perm(Perm.ANALYTICS_MANAGE),
    }
    # Building the snapshot can take seconds on a large database: the page comes at
    # once and fetches the figures with a progress indicator.
    if not is_htmx(request) and "now" not in request.GET and not sel.snapshot_fresh(actor=actor):
        context["deferred"] = f"{reverse('analytics:situation')}?population={population}"
        return render(request, "analytics/situation.html", context)
    sit = sel.situation_get(actor=actor, population=population)
    new_title = _("New cases per quarter")
    load_title = _("Persons in case management at the end of the quarter")
    context.update(
        sit=sit,
        coverage=sel.coverage_get(actor=actor, sit=sit),
        sections=figures.situation_sections(sit),
        trends=[
            {
                "id": "new-cases",
                "title": new_title,
                "chart": figures.trend_chart("chart-new-cases", new_title, sit, True),
                "table": sit.new_cases,
                "note": _("Age when the case was opened."),
            },
            {
                "id": "caseload",
                "title": load_title,
                "chart": figures.trend_chart("chart-caseload", load_title, sit, False),
                "table": sit.caseload,
                "note": _(
                    "Age at the end of the quarter; the quarters do not add up (the same "
                    "persons are counted in several)."
                ),
            },
        ],
    )
    template = "analytics/_situation_body.html" if is_htmx(request) else "analytics/situation.html"
    return render(request, template, context)


@require_POST
@actor_required(Perm.ANALYTICS_MANAGE)
def refresh(request: HttpRequest) -> HttpResponse:
    snap = sel.snapshot_refresh(actor=acting_membership(request))
    messages.success(
        request,
        _("The statistics have been recomputed from the current data (%(n)d persons).")
        % {"n": snap.size},
    )
    target = request.POST.get("next", "")
    if target.startswith("/analytics/") and url_has_allowed_host_and_scheme(target, None):
        return redirect(target)
    return redirect("analytics:index")


@actor_required(Perm.ANALYTICS_VIEW)
def quality_view(request: HttpRequest) -> HttpResponse:
    view = sel.quality_get(actor=acting_membership(request))
    labels = dict(OfferCategory.choices)
    offers = [
        (view.offer_names.get(r.key, ("?", "?")), str(labels.get(r.category, r.category)), r)
        for r in view.quality.by_offer
    ]
    offers.sort(key=lambda o: (o[1], o[0][0]))
    providers = sorted(
        ((view.provider_names.get(r.key, "?"), r) for r in view.quality.by_provider),
        key=lambda p: p[0],
    )
    return render(
        request,
        "analytics/quality.html",
        {"q": view.quality, "offers": offers, "providers": providers},
    )
