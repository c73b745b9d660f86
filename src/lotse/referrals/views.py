"""Pages of referrals and participations: thin views over selectors and services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from lotse.casework.selectors import case_get
from lotse.core.roles import Perm
from lotse.core.views import acting_membership, actor_required, page_number
from lotse.eligibility.adapter import german_level
from lotse.offers.models import Offer
from lotse.privacy.access import BASIS_LABELS, case_access
from lotse.privacy.categories import Category

from . import forms as f
from . import selectors, services
from .codes import TRANSITIONS, ReferralStatus
from .models import Referral

S = ReferralStatus


@actor_required(Perm.CASE_EDIT)
def referral_new(request: HttpRequest, case_pk: int) -> HttpResponse:
    """Refer the case's person to an offer (from the matching page) or an organisation."""
    actor = acting_membership(request)
    case = case_get(actor=actor, case_id=case_pk)
    offer = None
    offer_id = request.GET.get("offer") or request.POST.get("offer")
    if offer_id and str(offer_id).isdigit():
        offer = Offer.objects.filter(pk=int(offer_id), is_active=True).first()
    form = f.ReferralForm(request.POST or None, offer=offer)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            referral = services.referral_create(
                actor=actor,
                case=case,
                offer=data["offer"],
                receiver=data["receiver"],
                reason=data["reason"],
                need_types=data["need_types"],
                override_reason=data["override_reason"],
                send=request.POST.get("action") == "send",
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            if referral.status == S.SENT:
                messages.success(request, _("The referral has been sent."))
            else:
                messages.success(request, _("The referral has been saved as a proposal."))
            return redirect("referrals:detail", referral.pk)
    # The page is the lead organisation's (CASE_EDIT); showing the form reads the
    # person's name only, which the case page logs as well.
    case_access(actor, case)
    return render(
        request,
        "referrals/referral_form.html",
        {"case": case, "person": case.person, "form": form, "offer": offer},
    )


@actor_required()
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting_membership(request)
    view = selectors.referral_get(actor=actor, referral_id=pk)
    r = view.referral
    allowed = TRANSITIONS.get(r.status, frozenset())
    sender = view.side == selectors.SENDER and actor.has_perm(Perm.CASE_EDIT)
    receiver = view.side == selectors.RECEIVER or (
        r.receiver_id == actor.organisation_id
        and r.sent_at is not None
        and actor.has_perm(Perm.REFERRAL_RECEIVE)
    )
    participation = view.participation
    return render(
        request,
        "referrals/referral_detail.html",
        {
            "view": view,
            "r": r,
            "participation": participation,
            "can_send": sender and S.SENT in allowed,
            "can_withdraw": sender and S.WITHDRAWN in allowed,
            "can_accept": receiver and S.ACCEPTED in allowed,
            "can_waitlist": receiver and S.WAITLISTED in allowed and r.status != S.WAITLISTED,
            "can_reject": receiver and S.REJECTED in allowed,
            "can_start": receiver and S.STARTED in allowed,
            "can_record": participation is not None
            and participation.is_running
            and (receiver or sender),
            "reject_form": f.RejectForm(),
            "start_form": f.StartForm(with_offer=r.offer_id is not None),
            "note_form": f.NoteForm(),
            "end_form": f.EndForm(),
            "attendance_form": f.AttendanceForm(
                initial={
                    "attendance_percent": participation.attendance_percent,
                    "attendance_note": participation.attendance_note,
                }
                if participation
                else None
            ),
            "shared_now": _labels(view.shared_now),
            "shared_at_sending": _labels(r.shared_categories),
            "sharing_basis": BASIS_LABELS.get(r.sharing_basis, r.sharing_basis),
            "german": german_level(r.person) if view.person_shown else None,
        },
    )


def _labels(categories: list[str]) -> list[str]:
    """The categories' names in the order of the category list."""
    given = set(categories)
    return [str(label) for code, label in Category.choices if code in given]


def _step(
    request: HttpRequest,
    pk: int,
    form_class: type[Any],
    action: Callable[[Referral, dict[str, Any]], Any],
    done: str,
    side: str = selectors.RECEIVER,
) -> HttpResponse:
    """One step on a referral from a small form on its page; errors come back on the
    page with the form, nothing written. Who may take the step is checked before the
    input (404 out of scope, 403 for the other side); the services check it again."""
    actor = acting_membership(request)
    view = selectors.referral_get(actor=actor, referral_id=pk, log=False)
    referral = view.referral
    mine = view.side == side or (
        side == selectors.RECEIVER and referral.receiver_id == actor.organisation_id
    )
    if not mine:
        raise PermissionDenied
    form = form_class(request.POST)
    if form.is_valid():
        try:
            action(referral, form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, done)
            return redirect("referrals:detail", pk)
    return render(
        request,
        "referrals/referral_step_error.html",
        {"view": view, "r": view.referral, "form": form},
        status=422,
    )


def _step_view(
    perm: str,
    form_class: type[Any],
    service: Callable[..., Any],
    done: Any,
    side: str = selectors.RECEIVER,
) -> Callable[[HttpRequest, int], HttpResponse]:
    """A view for one step: the form's fields are the service's arguments."""

    @require_POST
    @actor_required(perm)
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        actor = acting_membership(request)
        return _step(
            request,
            pk,
            form_class,
            lambda r, d: service(actor=actor, referral=r, **d),
            str(done),
            side,
        )

    return view


referral_send = _step_view(
    Perm.CASE_EDIT,
    f.NoteForm,
    services.referral_send,
    gettext_lazy("The referral has been sent."),
    selectors.SENDER,
)
referral_withdraw = _step_view(
    Perm.CASE_EDIT,
    f.NoteForm,
    services.referral_withdraw,
    gettext_lazy("The referral has been withdrawn."),
    selectors.SENDER,
)
referral_accept = _step_view(
    Perm.REFERRAL_RECEIVE,
    f.NoteForm,
    services.referral_accept,
    gettext_lazy("The referral has been accepted."),
)
referral_waitlist = _step_view(
    Perm.REFERRAL_RECEIVE,
    f.NoteForm,
    services.referral_waitlist,
    gettext_lazy("The person is on the waiting list."),
)
referral_reject = _step_view(
    Perm.REFERRAL_RECEIVE,
    f.RejectForm,
    services.referral_reject,
    gettext_lazy("The referral has been rejected."),
)
participation_start = _step_view(
    Perm.REFERRAL_RECEIVE,
    f.StartForm,
    services.participation_start,
    gettext_lazy("The start has been recorded."),
)


def _participation_step(
    request: HttpRequest, pk: int, form_class: type[Any], action: Callable[..., Any], done: str
) -> HttpResponse:
    actor = acting_membership(request)
    participation = selectors.participation_get(actor=actor, participation_id=pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            action(actor=actor, participation=participation, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, done)
            if participation.referral_id:
                return redirect("referrals:detail", participation.referral_id)
            return redirect("referrals:chain", participation.case_id)
    return render(
        request,
        "referrals/participation_step_error.html",
        {"participation": participation, "form": form},
        status=422,
    )


@require_POST
@actor_required()
def participation_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    return _participation_step(
        request,
        pk,
        f.AttendanceForm,
        services.participation_attendance,
        _("The attendance has been recorded."),
    )


@require_POST
@actor_required()
def participation_end(request: HttpRequest, pk: int) -> HttpResponse:
    return _participation_step(
        request, pk, f.EndForm, services.participation_end, _("The end has been recorded.")
    )


@actor_required(Perm.CASE_EDIT)
def participation_new(request: HttpRequest, case_pk: int) -> HttpResponse:
    """The lead organisation records an earlier participation (no referral)."""
    actor = acting_membership(request)
    case = case_get(actor=actor, case_id=case_pk)
    form = f.ParticipationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.participation_record(actor=actor, case=case, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The participation has been recorded."))
            return redirect("referrals:chain", case.pk)
    return render(
        request,
        "referrals/participation_form.html",
        {"case": case, "person": case.person, "form": form},
    )


@actor_required(Perm.CASE_VIEW)
def chain(request: HttpRequest, case_pk: int) -> HttpResponse:
    """The person's integration chain: referrals, participations, status changes."""
    actor = acting_membership(request)
    case, found = selectors.case_chain(actor=actor, case_id=case_pk)
    access = case_access(actor, case)
    return render(
        request,
        "referrals/chain.html",
        {
            "case": case,
            "person": case.person,
            "chain": found,
            "can_edit": access.is_lead and actor.has_perm(Perm.CASE_EDIT),
            "master_shown": access.allows(Category.MASTER),
        },
    )


@actor_required()
def referral_list(request: HttpRequest) -> HttpResponse:
    """Incoming referrals (for providers) and outgoing ones (for the lead side)."""
    actor = acting_membership(request)
    can_in = actor.has_perm(Perm.REFERRAL_RECEIVE)
    can_out = actor.has_perm(Perm.CASE_VIEW)
    if not (can_in or can_out):
        raise PermissionDenied
    box = request.GET.get("box") or ("incoming" if can_in else "outgoing")
    if box not in ("incoming", "outgoing") or (box == "incoming" and not can_in):
        box = "outgoing"
    form = f.ReferralFilterForm(request.GET or None)
    status = open_only = None
    if form.is_valid():
        status = form.cleaned_data["status"]
        open_only = form.cleaned_data["open"]
    page = selectors.referral_list(
        actor=actor,
        filters=selectors.ReferralFilters(box=box, status=status or "", open_only=bool(open_only)),
        page=page_number(request),
    )
    return render(
        request,
        "referrals/referral_list.html",
        {
            "page": page,
            "box": box,
            "form": form,
            "can_in": can_in,
            "can_out": can_out,
            "status_labels": dict(S.choices),
        },
    )
