"""Pages of the offer catalogue (Angebotslandkarte): thin views over selectors and
services. Offers are not personal data: every member of the alliance reads them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lotse.core.roles import Perm
from lotse.core.views import acting_membership, actor_required, is_htmx, page_number
from lotse.people.codes import ResidenceStatus

from . import selectors, services
from .codes import ELIGIBILITY_CATEGORY
from .forms import CatalogueFilterForm, OfferForm
from .models import Offer

STATUS_LABELS = dict(ResidenceStatus.choices)


@actor_required(Perm.OFFER_VIEW)
def offer_list(request: HttpRequest) -> HttpResponse:
    actor = acting_membership(request)
    form = CatalogueFilterForm(request.GET or None, can_edit=actor.has_perm(Perm.OFFER_EDIT))
    page = selectors.catalogue_page(
        form.filters(), sort=form.sort_order(), page=page_number(request)
    )
    context = {"form": form, "page": page, "today": timezone.localdate()}
    if is_htmx(request):
        return render(request, "offers/_offer_results.html", context)
    return render(request, "offers/offer_list.html", context)


@actor_required(Perm.OFFER_VIEW)
def offer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    offer = selectors.offer_get(offer_id=pk)
    return render(
        request,
        "offers/offer_detail.html",
        {
            "offer": offer,
            "can_edit": selectors.offer_can_edit(
                actor=acting_membership(request), provider_id=offer.provider_id
            ),
            "checked_by_law": offer.category in ELIGIBILITY_CATEGORY,
            "status_labels": [STATUS_LABELS.get(code, code) for code in offer.statuses],
        },
    )


def _offer_form(request: HttpRequest, offer: Offer | None) -> HttpResponse:
    actor = acting_membership(request)
    form = OfferForm(request.POST or None, instance=offer, actor=actor)
    if request.method == "POST" and form.is_valid():
        needs = form.cleaned_data["need_types"]
        try:
            if offer is None:
                saved = services.offer_create(
                    actor=actor, need_types=needs, **form.service_values()
                )
            else:
                saved = services.offer_update(
                    actor=actor, offer=offer, need_types=needs, **form.service_values()
                )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The offer “%(title)s” has been saved.") % {"title": saved})
            return redirect("offers:detail", pk=saved.pk)
    return render(
        request,
        "offers/offer_form.html",
        {
            "form": form,
            "offer": offer,
            "fixed_provider": None if "provider" in form.fields else actor.organisation,
        },
        status=422 if form.errors else 200,
    )


@actor_required(Perm.OFFER_EDIT)
def offer_new(request: HttpRequest) -> HttpResponse:
    return _offer_form(request, None)


@actor_required(Perm.OFFER_EDIT)
def offer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    offer = selectors.offer_get(offer_id=pk)
    if not selectors.offer_can_edit(
        actor=acting_membership(request), provider_id=offer.provider_id
    ):
        raise PermissionDenied
    return _offer_form(request, offer)


@require_POST
@actor_required(Perm.OFFER_EDIT)
def offer_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    offer = services.offer_deactivate(
        actor=acting_membership(request), offer=selectors.offer_get(offer_id=pk)
    )
    messages.success(
        request,
        _("The offer “%(title)s” has been deactivated and no longer shows in the catalogue.")
        % {"title": offer},
    )
    return redirect("offers:detail", pk=offer.pk)


@require_POST
@actor_required(Perm.OFFER_EDIT)
def offer_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    offer = services.offer_reactivate(
        actor=acting_membership(request), offer=selectors.offer_get(offer_id=pk)
    )
    messages.success(
        request, _("The offer “%(title)s” is back in the catalogue.") % {"title": offer}
    )
    return redirect("offers:detail", pk=offer.pk)
