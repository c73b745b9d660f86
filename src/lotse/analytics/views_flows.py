"""The page of the flows (issue #7): the integration chains as a Sankey diagram, from
the residence status at arrival through the measures to where the persons are now,
filterable by target group and age; beside it the protected tables of every
transition."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path

from lotse.core.roles import Perm
from lotse.core.views import acting_membership, actor_required

from . import figures
from .flows import flows_get


@actor_required(Perm.ANALYTICS_VIEW)
def flows_view(request: HttpRequest) -> HttpResponse:
    actor = acting_membership(request)
    code = request.GET.get("target_group", "")
    young = request.GET.get("young") == "1"
    try:
        view = flows_get(actor=actor, target_group=code or None, young=young)
    except KeyError:
        raise Http404 from None
    result = view.flows
    tables = [
        {
            "id": f"flows-{s}",
            "caption": f"{result.titles[s]} → {result.titles[s + 1]}",
            "head": result.titles[s],
            "table": table,
        }
        for s, table in enumerate(result.transitions)
        if table.row_labels
    ]
    return render(
        request,
        "analytics/flows.html",
        {
            "view": view,
            "flows": result,
            "selected": view.group.code if view.group else "",
            "chart": figures.flows_sankey(result) if result.transitions[0].row_labels else None,
            "tables": tables,
        },
    )


urlpatterns: list[URLPattern] = [
    path("flows/", flows_view, name="flows"),
]
