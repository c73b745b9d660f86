"""The page of the classification of needs per target group (issue #7)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from lotse.core.roles import Perm
from lotse.core.views import acting_membership, actor_required

from .classification import classification_matrix, classification_set
from .classification_forms import ClassificationForm, classification_grid

TEMPLATE = "analytics/classification.html"


@require_http_methods(["GET", "POST"])
@actor_required(Perm.ANALYTICS_VIEW)
def classification(request: HttpRequest) -> HttpResponse:
    actor = acting_membership(request)
    can_edit = actor.has_perm(Perm.GAPS_CLASSIFY)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied
    need_types, target_groups, levels = classification_matrix()
    context = {"target_groups": target_groups, "can_edit": can_edit}
    if not can_edit:
        grid = classification_grid(need_types, target_groups, levels)
        return render(request, TEMPLATE, {**context, "domains": grid})
    data = request.POST if request.method == "POST" else None
    form = ClassificationForm(
        data, need_types=need_types, target_groups=target_groups, levels=levels
    )
    if data is None:
        return render(request, TEMPLATE, {**context, "form": form, "domains": form.domains()})
    if form.is_valid():
        try:
            changed = classification_set(actor=actor, levels=form.levels())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                ngettext("%(n)d classification changed.", "%(n)d classifications changed.", changed)
                % {"n": changed},
            )
            return redirect("analytics:classification")
    return render(
        request, TEMPLATE, {**context, "form": form, "domains": form.domains()}, status=422
    )


urlpatterns = [
    path("gaps/classification/", classification, name="classification"),
]
