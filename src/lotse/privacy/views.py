"""Pages of the privacy core: consents of a case, break-glass access, sharing agreements."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lotse.casework.selectors import case_get
from lotse.core.roles import Perm
from lotse.core.views import acting_membership, actor_required

from . import selectors, services
from .access import require_case
from .forms import AgreementForm, BreakGlassForm, ConsentForm, WithdrawForm
from .models import Consent


@actor_required(Perm.CASE_EDIT)
def consents(request: HttpRequest, case_pk: int) -> HttpResponse:
    """The person's consents (history included) and the form to record a new one."""
    actor = acting_membership(request)
    case = case_get(actor=actor, case_id=case_pk)
    require_case(actor, case, Perm.CASE_EDIT)
    data = selectors.consent_overview(actor=actor, case=case)
    form = ConsentForm(
        request.POST or None,
        organisations=data.receivers,
        users=data.team_users,
        initial={
            "signed_on": timezone.localdate(),
            "receiving_organisations": [o.pk for o in data.team_organisations],
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_record(actor=actor, case=case, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The consent has been recorded."))
            return redirect("privacy:consents", case_pk=case.pk)
    return render(
        request,
        "privacy/consents.html",
        {
            "case": case,
            "person": case.person,
            "data": data,
            "form": form,
            "withdraw_form": WithdrawForm(),
        },
        status=422 if form.errors else 200,
    )


@require_POST
@actor_required(Perm.CASE_EDIT)
def consent_withdraw(request: HttpRequest, case_pk: int, pk: int) -> HttpResponse:
    actor = acting_membership(request)
    case = case_get(actor=actor, case_id=case_pk)
    consent = get_object_or_404(Consent, pk=pk, person_id=case.person_id)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            services.consent_withdraw(
                actor=actor, case=case, consent=consent, note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, _("The consent has been withdrawn; it grants no access from now on.")
            )
    return redirect("privacy:consents", case_pk=case.pk)


@actor_required(Perm.BREAK_GLASS)
def break_glass(request: HttpRequest, case_pk: int) -> HttpResponse:
    actor = acting_membership(request)
    case = case_get(actor=actor, case_id=case_pk)
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.break_glass_open(actor=actor, case=case, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.warning(
                request,
                _(
                    "Emergency access granted for %(h)s hours. The lead "
                    "case manager has been informed."
                )
                % {"h": services.BREAK_GLASS_HOURS},
            )
            return redirect(reverse("casework:detail", args=[case.pk]))
    return render(
        request,
        "privacy/break_glass.html",
        {"case": case, "person": case.person, "form": form},
        status=422 if form.errors else 200,
    )


@actor_required(Perm.AGREEMENT_EDIT)
def agreements(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "privacy/agreements.html",
        {"agreements": selectors.agreement_list(actor=acting_membership(request))},
    )


@actor_required(Perm.AGREEMENT_EDIT)
def agreement_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor = acting_membership(request)
    agreement = None
    if pk is not None:
        agreement = get_object_or_404(selectors.agreement_list(actor=actor, editable=True), pk=pk)
    form = AgreementForm(
        request.POST or None,
        instance=agreement,
        actor_role=actor.role,
        actor_org_id=actor.organisation_id,
    )
    if request.method == "POST" and form.is_valid():
        values: dict[str, Any] = {f: form.cleaned_data.get(f) for f in AgreementForm.Meta.fields}
        values["source_type"] = values.get("source_type") or ""
        values["receiver_type"] = values.get("receiver_type") or ""
        try:
            services.agreement_save(actor=actor, agreement=agreement, **values)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Agreement saved."))
            return redirect("privacy:agreements")
    return render(
        request,
        "privacy/agreement_form.html",
        {"form": form, "agreement": agreement},
        status=422 if form.errors else 200,
    )
