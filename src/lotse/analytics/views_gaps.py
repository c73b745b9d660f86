"""Pages of the gap analysis (issue #7): the heat map with the sorted report, and the
drill-down of one cell (demand by district, the accessible offers, and — for users
who may see cases — the link to their own cases with that need)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from lotse.core.roles import Perm
from lotse.core.views import acting_membership, actor_required

from . import figures
from . import selectors as sel
from .models import NeedLevel


@actor_required(Perm.ANALYTICS_VIEW)
def gaps(request: HttpRequest) -> HttpResponse:
    actor = acting_membership(request)
    matrix = sel.gaps_get(actor=actor)
    return render(
        request,
        "analytics/gaps.html",
        {
            "matrix": matrix,
            "chart": figures.gap_heat_map(matrix),
            "report": matrix.report(),
            "levels": dict(NeedLevel.choices),
            "can_classify": actor.has_perm(Perm.GAPS_CLASSIFY),
        },
    )


@actor_required(Perm.ANALYTICS_VIEW)
def gap_detail(request: HttpRequest, need: str, group: str) -> HttpResponse:
    actor = acting_membership(request)
    try:
        detail = sel.gap_detail_get(actor=actor, need_code=need, group_code=group)
    except KeyError:
        raise Http404 from None
    cases_url = ""
    if actor.has_perm(Perm.CASE_VIEW):
        query = urlencode({"need": need, "target_group": group})
        cases_url = f"{reverse('casework:list')}?{query}"
    return render(
        request,
        "analytics/gap_detail.html",
        {
            "detail": detail,
            "cell": detail.cell,
            "levels": dict(NeedLevel.choices),
            "cases_url": cases_url,
        },
    )
