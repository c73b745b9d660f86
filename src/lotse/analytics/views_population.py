"""Pages of the authorities' aggregate lists (issue #7): list, import, delete."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lotse.core.roles import Perm
from lotse.core.views import acting_membership, actor_required

from . import population
from .models import PopulationList
from .population_forms import PopulationImportForm


@actor_required(Perm.ANALYTICS_VIEW)
def population_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "analytics/population_list.html",
        {
            "summaries": population.population_list_summaries(),
            "can_manage": acting_membership(request).has_perm(Perm.ANALYTICS_MANAGE),
        },
    )


@actor_required(Perm.ANALYTICS_MANAGE)
def population_import(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        form = PopulationImportForm()
        return render(request, "analytics/population_import.html", {"form": form})
    form = PopulationImportForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            imported = population.population_list_import(
                actor=acting_membership(request),
                source=data["source"],
                reference_date=data["reference_date"],
                note=data["note"],
                file=data["file"],
                filename=data["file"].name,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                _("The list “%(list)s” was imported.") % {"list": imported},
            )
            return redirect("analytics:population_list")
    return render(request, "analytics/population_import.html", {"form": form}, status=422)


@require_POST
@actor_required(Perm.ANALYTICS_MANAGE)
def population_delete(request: HttpRequest, pk: int) -> HttpResponse:
    population_list = get_object_or_404(PopulationList, pk=pk)
    population.population_list_delete(
        actor=acting_membership(request), population_list=population_list
    )
    messages.success(request, _("The list “%(list)s” was deleted.") % {"list": population_list})
    return redirect("analytics:population_list")


urlpatterns = [
    path("population/", population_list, name="population_list"),
    path("population/import/", population_import, name="population_import"),
    path("population/<int:pk>/delete/", population_delete, name="population_delete"),
]
