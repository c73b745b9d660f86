"""Pages: "Zugang & Rechtskreis" of a case, its facts form, and the rule set."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from lotse.casework.selectors import case_get
from lotse.core.roles import Perm
from lotse.core.views import acting_membership, actor_required
from lotse.people.codes import BenefitRegime, ResidenceStatus
from lotse.privacy.access import require_case
from lotse.privacy.categories import Category

from . import selectors, services
from .forms import OnDateForm, PersonFactsForm
from .models import FLAG_FIELDS, PersonFacts


def _periods(rows: list[dict[str, Any]], key: str, labels: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "label": labels.get(r[key], r[key]),
            "from": dt.date.fromisoformat(r["from"]),
            "to": dt.date.fromisoformat(r["to"]) if r["to"] else None,
        }
        for r in rows
    ]


def _flag_rows(view: selectors.PersonEligibility) -> list[dict[str, str]]:
    """Every fact of the record with its label; "not known" where empty."""
    rows = []
    record = view.record
    for name in FLAG_FIELDS:
        value = getattr(record, name) if record is not None else None
        if value is None:
            shown = _("not known")
        elif value is True:
            shown = _("yes")
        elif value is False:
            shown = _("no")
        elif isinstance(value, dt.date):
            shown = date_format(value, "d.m.Y")
        else:
            shown = str(value)
        label = PersonFacts._meta.get_field(name).verbose_name  # type: ignore[union-attr]
        rows.append({"label": str(label), "value": shown})
    level = view.facts["flags"].get("german_level")
    rows.append({"label": _("German level"), "value": level or _("not known")})
    return rows


@actor_required(Perm.CASE_VIEW)
def case_eligibility(request: HttpRequest, case_pk: int) -> HttpResponse:
    actor = acting_membership(request)
    date_form = OnDateForm(request.GET or None)
    on = timezone.localdate()
    if date_form.is_valid() and date_form.cleaned_data["on"]:
        on = date_form.cleaned_data["on"]
    case, view, access = selectors.case_eligibility(actor=actor, case_id=case_pk, on=on)
    can_edit = access.is_lead and actor.has_perm(Perm.CASE_EDIT) and not case.is_closed
    return render(
        request,
        "eligibility/case.html",
        {
            "case": case,
            "person": case.person,
            "v": view,
            "date_form": date_form,
            "can_edit": can_edit,
            "today": timezone.localdate(),
            "status_label": ResidenceStatus(view.result.status).label
            if view.result and view.result.status
            else "",
            "status_periods": _periods(
                view.facts["status_history"],
                "status",
                {k: str(v) for k, v in ResidenceStatus.choices},
            ),
            "benefit_periods": _periods(
                view.facts["benefits_history"],
                "regime",
                {k: str(v) for k, v in BenefitRegime.choices},
            ),
            "flag_rows": _flag_rows(view),
        },
    )


@actor_required(Perm.CASE_EDIT)
def facts_edit(request: HttpRequest, case_pk: int) -> HttpResponse:
    actor = acting_membership(request)
    case = case_get(actor=actor, case_id=case_pk)
    require_case(actor, case, Perm.CASE_EDIT, Category.RESIDENCE)
    if case.is_closed:
        raise PermissionDenied
    record = PersonFacts.objects.filter(person_id=case.person_id).first()
    form = PersonFactsForm(request.POST or None, instance=record)
    if request.method == "POST" and form.is_valid():
        try:
            services.person_facts_save(actor=actor, case=case, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Facts for the eligibility check saved."))
            return redirect(reverse("eligibility:case", args=[case.pk]))
    return render(
        request,
        "eligibility/facts_form.html",
        {"case": case, "person": case.person, "form": form},
    )
