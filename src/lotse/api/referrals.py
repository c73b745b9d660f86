"""/referrals, /participations and /cases/{id}/referrals, /chain, /participations:
referrals from a case to an offer or organisation, participations, the integration chain.

Scoped like the pages (referrals.selectors): the lead organisation of the case sees its
referrals; a case team member sees them where participations are shared with it (403
otherwise: the case exists for it); the receiving organisation sees the referrals sent
to it, and of the person only what the consent (or an agreement) shares with it for the
purpose "referral", decided at every read. For everybody else a referral or
participation does not exist (404), on every operation and whatever their role; a role
without any casework right gets 403. Writes go through referrals.services, which check
side, role and input and log the step; a step of the other side is 403.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from lotse.casework.selectors import case_get
from lotse.core.models import Membership, NeedType, Organisation
from lotse.core.roles import Perm
from lotse.offers.codes import Level, OfferCategory
from lotse.offers.models import Offer
from lotse.privacy.access import CaseAccess, case_access
from lotse.privacy.categories import Category
from lotse.referrals import selectors as rs
from lotse.referrals import services
from lotse.referrals.codes import AbortReason, NextStep, Outcome, ReferralStatus, RejectReason
from lotse.referrals.models import Participation, Referral

from . import selectors
from .auth import acting
from .errors import ERRORS
from .schemas import InputSchema, OrganisationRef, Page, PersonRef

router = Router(tags=["referrals"])

T = TypeVar("T")

NOT_SHARED_MASTER = "null unless master data of the person are shared with you"


# --- output --------------------------------------------------------------------


class ReferralItemOut(Schema):
    id: int
    status: ReferralStatus
    side: Literal["sender", "receiver", "team"] = Field(
        description="how you see the referral: sender (your organisation leads the case), "
        "receiver (it was sent to your organisation) or team (case team member)"
    )
    title: str = Field(description="the offer's title, or the receiving organisation")
    case_id: int | None = Field(description="the case; null for the receiving side")
    offer_id: int | None
    offer_title: str | None = Field(description="as when sent (or the offer's current title)")
    receiver: OrganisationRef
    sender: OrganisationRef
    reason: str = Field(description="why the person is referred (the receiver reads it)")
    person: PersonRef | None = Field(description=NOT_SHARED_MASTER)
    shared_categories: list[str] = Field(
        description="categories of the person shared with you now (for the receiver: by "
        "consent or agreement for the purpose referral; a withdrawn consent ends it)"
    )
    created_at: dt.datetime
    sent_at: dt.datetime | None
    decided_at: dt.datetime | None
    closed_at: dt.datetime | None
    waitlisted_on: dt.date | None
    days_waited: int | None = Field(
        description="days on the waiting list, set when the person leaves it"
    )
    reject_reason: RejectReason | Literal[""]


class ReferralPage(Page):
    items: list[ReferralItemOut]


class ReferralStepOut(Schema):
    status: ReferralStatus
    at: dt.datetime
    by: str = Field(description="the user's display name")
    by_organisation: OrganisationRef
    note: str


class ParticipationOut(Schema):
    id: int
    referral_id: int | None
    offer_id: int | None
    provider: OrganisationRef | None
    title: str = Field(description="the offer as recorded")
    category: OfferCategory
    level: Level
    started_on: dt.date
    ended_on: dt.date | None
    running: bool
    attendance_percent: int | None
    attendance_note: str
    outcome: Outcome | Literal[""]
    abort_reason: AbortReason | Literal[""]
    outcome_note: str
    level_reached: Level
    next_step: NextStep | Literal[""] = Field(description="what followed (Verbleib)")
    recorded_by: OrganisationRef
    created_at: dt.datetime
    updated_at: dt.datetime


class ReferralOut(ReferralItemOut):
    need_types: list[str] = Field(description="need type codes")
    sent_categories: list[str] = Field(
        description="categories passed to the receiver when the referral was sent"
    )
    sharing_basis: str = Field(description="consent, agreement or lead_organisation; empty")
    sender_snapshot: dict[str, Any] = Field(description="the sender as it was when sent")
    receiver_snapshot: dict[str, Any] = Field(
        description="the receiver (and offer) as it was when sent"
    )
    override_reason: str = Field(description="why referred although the person is excluded")
    exclusion_reasons: list[str] = Field(description="why the matching excluded the person")
    steps: list[ReferralStepOut]
    participation: ParticipationOut | None


class ChainEntryOut(Schema):
    on: dt.date
    until: dt.date | None
    kind: Literal["participation", "referral", "residence", "benefit"]
    title: str
    detail: str = Field(description="provider or receiving organisation")
    status: str = Field(
        description="referral status; outcome of a participation or `running`; empty for "
        "residence and benefit periods"
    )
    participation_id: int | None
    referral_id: int | None


class ChainOut(Schema):
    case_id: int
    entries: list[ChainEntryOut] = Field(description="oldest first")
    residence_shown: bool = Field(description="residence periods are part of the chain")


# --- input ---------------------------------------------------------------------


class ReferralListQuery(InputSchema):
    box: Literal["incoming", "outgoing"] = Field(
        "incoming",
        description="incoming: sent to your organisation; outgoing: from cases your "
        "organisation leads",
    )
    status: ReferralStatus | None = None
    open: bool = Field(False, description="only open referrals (ignored with status)")
    page: int = Field(1, ge=1)


class ReferralIn(InputSchema):
    offer_id: int | None = Field(None, description="the offer; its provider receives it")
    receiver_id: int | None = Field(None, description="organisation id, without an offer")
    reason: str = Field(max_length=5000)
    need_type_ids: list[int] = Field(default_factory=list)
    override_reason: str = Field(
        "", max_length=2000, description="needed when the person is excluded from the offer"
    )
    send: bool = Field(False, description="send at once (needs the person's consent)")


class ReferralStepIn(InputSchema):
    note: str = Field("", max_length=2000)


class ReferralRejectIn(InputSchema):
    reject_reason: RejectReason
    note: str = Field("", max_length=2000, description="required for reject_reason other")


class ParticipationStartIn(InputSchema):
    started_on: dt.date
    note: str = Field("", max_length=2000)
    title: str = Field("", max_length=200, description="referral to an organisation only")
    category: str = Field("", description="referral to an organisation only: required")
    level: str = Field("", description="referral to an organisation only")


class AttendanceIn(InputSchema):
    attendance_percent: int | None = Field(description="0–100; null: not known")
    attendance_note: str = Field("", max_length=300)


class ParticipationEndIn(InputSchema):
    ended_on: dt.date
    outcome: Outcome
    abort_reason: AbortReason | None = Field(None, description="required for outcome aborted")
    outcome_note: str = Field("", max_length=300)
    level_reached: Level = Level.NONE
    next_step: NextStep | None = Field(None, description="what followed, if known")
    attendance_percent: int | None = Field(None, description="0–100; not sent: unchanged")
    attendance_note: str | None = Field(None, max_length=300, description="not sent: unchanged")


class ParticipationIn(InputSchema):
    title: str = Field("", max_length=200, description="default: the offer's title")
    category: OfferCategory | None = Field(None, description="default: the offer's category")
    level: Level = Level.NONE
    offer_id: int | None = Field(None, description="a catalogue offer, if it was one")
    provider_id: int | None = Field(None, description="organisation id; default: the offer's")
    started_on: dt.date
    ended_on: dt.date | None = None
    outcome: Outcome | None = Field(None, description="required with ended_on")
    abort_reason: AbortReason | None = None
    outcome_note: str = Field("", max_length=300)
    level_reached: Level = Level.NONE
    next_step: NextStep | None = Field(None, description="what followed; with ended_on only")
    attendance_percent: int | None = Field(None, ge=0, le=100)


# --- helpers -------------------------------------------------------------------


def _caseworker(request: HttpRequest) -> Membership:
    """A role that works with referrals: sees cases or receives referrals (403 else)."""
    try:
        return acting(request, Perm.CASE_VIEW)
    except PermissionDenied:
        return acting(request, Perm.REFERRAL_RECEIVE)


def _renamed(exc: ValidationError, names: dict[str, str]) -> ValidationError:
    """A service's errors under the field names the client sent (offer → offer_id)."""
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError({names.get(f, f): msgs for f, msgs in exc.message_dict.items()})


def _other_side(fn: Callable[[], T], message: str) -> T:
    """Run a step on a referral the actor may see: a service's 404 then means the step
    belongs to the other side of the referral (403, with a detail)."""
    try:
        return fn()
    except Http404:
        raise PermissionDenied(message) from None


def _step(
    request: HttpRequest,
    referral_id: int,
    service: Callable[..., Any],
    other_side: str,
    **arguments: Any,
) -> dict[str, Any]:
    """One step on a referral the actor may see (404 otherwise), by the service with
    ``arguments``; the referral as it is afterwards."""
    actor = _caseworker(request)
    referral = _visible(actor, referral_id)
    _other_side(lambda: service(actor=actor, referral=referral, **arguments), other_side)
    return _shown(actor, referral_id)


def _sender_only() -> str:
    return _("Only the organisation that leads the case may do this with a referral.")


def _receiver_only() -> str:
    return _("Only the organisation the referral was sent to may do this.")


def _recorder_only() -> str:
    return _(
        "Only the organisation that leads the case, or the provider the person was "
        "referred to, may record on this participation."
    )


def _org(org: Organisation) -> dict[str, Any]:
    return {"id": org.pk, "name": org.name, "short_name": org.short_name}


def _referral_item(r: Referral, side: str, access: CaseAccess) -> dict[str, Any]:
    person = r.person
    snap = r.receiver_snapshot or {}
    offer_title = snap.get("offer") or (r.offer.title if r.offer_id and r.offer else None)
    return {
        "id": r.pk,
        "status": r.status,
        "side": side,
        "title": r.title,
        # The receiving side gets no case id: the case is the lead organisation's.
        "case_id": r.case_id if side != rs.RECEIVER or access.is_lead else None,
        "offer_id": r.offer_id,
        "offer_title": offer_title,
        "receiver": _org(r.receiver),
        "sender": _org(r.sender),
        "reason": r.reason,
        "person": {
            "id": person.pk,
            "family_name": person.family_name,
            "given_names": person.given_names,
            "birth_date": person.birth_date,
        }
        if access.allows(Category.MASTER)
        else None,
        "shared_categories": sorted(access.categories),
        "created_at": r.created_at,
        "sent_at": r.sent_at,
        "decided_at": r.decided_at,
        "closed_at": r.closed_at,
        "waitlisted_on": r.waitlisted_on,
        "days_waited": r.days_waited,
        "reject_reason": r.reject_reason,
    }


PARTICIPATION_FIELDS = (
    "id",
    "referral_id",
    "offer_id",
    "title",
    "category",
    "level",
    "started_on",
    "ended_on",
    "attendance_percent",
    "attendance_note",
    "outcome",
    "abort_reason",
    "outcome_note",
    "level_reached",
    "next_step",
    "created_at",
    "updated_at",
)


def _participation(p: Participation) -> dict[str, Any]:
    """Needs provider and recorded_by loaded."""
    return {
        **{f: getattr(p, f) for f in PARTICIPATION_FIELDS},
        "provider": _org(p.provider) if p.provider_id and p.provider else None,
        "running": p.is_running,
        "recorded_by": _org(p.recorded_by),
    }


def _referral_detail(view: rs.ReferralView) -> dict[str, Any]:
    r = view.referral
    return {
        **_referral_item(r, view.side, view.access),
        "need_types": [n.code for n in r.need_types.all()],
        "sent_categories": list(r.shared_categories),
        "sharing_basis": r.sharing_basis,
        "sender_snapshot": r.sender_snapshot,
        "receiver_snapshot": r.receiver_snapshot,
        "override_reason": r.override_reason,
        "exclusion_reasons": list(r.exclusion_reasons),
        "steps": [
            {
                "status": e.status,
                "at": e.at,
                "by": e.by.get_full_name() or e.by.get_username(),
                "by_organisation": _org(e.by_organisation),
                "note": e.note,
            }
            for e in view.events
        ],
        "participation": _participation(view.participation) if view.participation else None,
    }


def _visible(actor: Membership, referral_id: int) -> Referral:
    """The referral, if the actor may see it (404 otherwise); not logged, the service
    logs the step."""
    rs.referral_get(actor=actor, referral_id=referral_id, log=False)
    referral = Referral.objects.filter(pk=referral_id).first()
    if referral is None:
        raise Http404
    return referral


def _shown(actor: Membership, referral_id: int) -> dict[str, Any]:
    """The referral as the actor sees it after a logged step (not logged again)."""
    return _referral_detail(rs.referral_get(actor=actor, referral_id=referral_id, log=False))


def _participation_shown(p: Participation) -> dict[str, Any]:
    p = Participation.objects.select_related("provider", "recorded_by").get(pk=p.pk)
    return _participation(p)


def _participations_shared(actor: Membership, case_id: int) -> rs.Chain:
    """The participations of the case's person, if the category is shared (403) with
    the actor (404 out of scope); logged with that category only."""
    case = case_get(actor=actor, case_id=case_id)
    access = case_access(actor, case)
    if not access.allows(Category.PARTICIPATIONS):
        raise selectors.not_shared(Category.PARTICIPATIONS)
    only = CaseAccess(
        case_id=case.pk,
        categories=access.by_basis_map([Category.PARTICIPATIONS]),
        details={k: v for k, v in access.details.items() if k == Category.PARTICIPATIONS},
    )
    return rs.chain_for(actor, case, only)


# --- referrals -----------------------------------------------------------------


@router.get("/referrals", response={200: ReferralPage, **ERRORS})
def referral_index(request: HttpRequest, filters: Query[ReferralListQuery]) -> dict[str, Any]:
    """Referrals as the referral list of the pages: `box=incoming` those sent to your
    organisation (needs the right to receive referrals), `box=outgoing` those from
    cases your organisation leads, newest first. `status` filters by status, `open`
    keeps open ones (proposed to started). Per referral, `person` is null unless master
    data are shared with you: for incoming referrals, by the person's consent (or an
    agreement) for the purpose referral, decided at every read, so a withdrawn consent
    hides the person at once. The receiving side gets no `case_id`. Logged as "list"
    (purpose referral for incoming, casework for outgoing)."""
    perm = Perm.REFERRAL_RECEIVE if filters.box == "incoming" else Perm.CASE_VIEW
    actor = acting(request, perm)
    page = rs.referral_list(
        actor=actor,
        filters=rs.ReferralFilters(
            box=filters.box,
            status=filters.status or "",
            open_only=filters.open,
        ),
        page=filters.page,
    )
    data = selectors.page_data(page)
    data["items"] = [_referral_item(row.referral, row.side, row.access) for row in data["items"]]
    return data


@router.get("/referrals/{referral_id}", response={200: ReferralOut, **ERRORS})
def referral_show(request: HttpRequest, referral_id: int) -> dict[str, Any]:
    """One referral with its steps (who, when, why), its participation and the
    snapshots of sender and receiver as they were when sent. `side` says how you see
    it. Your organisation sees it if it leads the case, is on the case team (403 unless
    participations are shared with it) or received the referral (once sent); 404 for
    everybody else. Logged as "read" (purpose referral for the receiver)."""
    actor = _caseworker(request)
    return _referral_detail(rs.referral_get(actor=actor, referral_id=referral_id))


@router.post("/cases/{case_id}/referrals", response={201: ReferralOut, **ERRORS})
def referral_add(request: HttpRequest, case_id: int, payload: ReferralIn) -> Status[Any]:
    """Refer the case's person to an offer (`offer_id`; its provider receives it) or to
    an organisation (`receiver_id`), lead organisation only. A second open referral of
    the case to the same offer or organisation is 422; so is an offer the matching
    excludes the person from, unless `override_reason` says why it should be tried.
    `send: true` sends it at once: then the person's consent for the purpose referral
    must cover master data for the receiver (422 otherwise, nothing is saved).
    Otherwise the referral stays proposed until POST /referrals/{id}/send."""
    actor = acting(request, Perm.CASE_EDIT)
    case = case_get(actor=actor, case_id=case_id)
    errors: dict[str, list[str]] = {}
    offer = None
    if payload.offer_id is not None:
        offer = Offer.objects.select_related("provider").filter(pk=payload.offer_id).first()
        if offer is None:
            errors["offer_id"] = [_("Unknown offer.")]
    receiver = None
    if payload.receiver_id is not None:
        receiver = Organisation.objects.filter(pk=payload.receiver_id).first()
        if receiver is None:
            errors["receiver_id"] = [_("Unknown organisation.")]
    wanted = set(payload.need_type_ids)
    need_types = list(NeedType.objects.filter(pk__in=wanted))
    if len(need_types) != len(wanted):
        errors["need_type_ids"] = [_("Unknown need type.")]
    if errors:
        raise ValidationError(errors)
    try:
        referral = services.referral_create(
            actor=actor,
            case=case,
            reason=payload.reason,
            offer=offer,
            receiver=receiver,
            need_types=need_types,
            override_reason=payload.override_reason,
            send=payload.send,
        )
    except ValidationError as exc:
        raise _renamed(
            exc, {"offer": "offer_id", "receiver": "receiver_id", "need_types": "need_type_ids"}
        ) from None
    return Status(201, _shown(actor, referral.pk))


@router.post("/referrals/{referral_id}/send", response={200: ReferralOut, **ERRORS})
def referral_send(request: HttpRequest, referral_id: int, payload: ReferralStepIn) -> Any:
    """Send a proposed referral (lead organisation of the case). Nothing goes to the
    receiver unless the person's consent (or an agreement) for the purpose referral
    covers at least their master data: 422 otherwise, and nothing is sent. The
    categories covered are what the receiver will see; the disclosure is logged.
    404 unless you may see the referral; 403 for anybody but the lead organisation's
    case workers."""
    return _step(request, referral_id, services.referral_send, _sender_only(), note=payload.note)


@router.post("/referrals/{referral_id}/withdraw", response={200: ReferralOut, **ERRORS})
def referral_withdraw(request: HttpRequest, referral_id: int, payload: ReferralStepIn) -> Any:
    """Take back a referral that has not started (lead organisation of the case);
    422 once the participation started or the referral is closed. 404 unless you may
    see the referral; 403 for anybody but the lead organisation's case workers."""
    return _step(
        request, referral_id, services.referral_withdraw, _sender_only(), note=payload.note
    )


@router.post("/referrals/{referral_id}/accept", response={200: ReferralOut, **ERRORS})
def referral_accept(request: HttpRequest, referral_id: int, payload: ReferralStepIn) -> Any:
    """Accept a referral sent to your organisation. When the offer has no free place,
    the person goes onto the waiting list instead (status waitlisted); accepting from
    the waiting list later keeps the days waited. 404 unless you may see the referral;
    403 for the sending side and the case team."""
    return _step(
        request, referral_id, services.referral_accept, _receiver_only(), note=payload.note
    )


@router.post("/referrals/{referral_id}/waitlist", response={200: ReferralOut, **ERRORS})
def referral_waitlist(request: HttpRequest, referral_id: int, payload: ReferralStepIn) -> Any:
    """Put the person of a referral sent to your organisation on the waiting list
    (e.g. for the next course). 404 unless you may see the referral; 403 for the
    sending side and the case team."""
    return _step(
        request, referral_id, services.referral_waitlist, _receiver_only(), note=payload.note
    )


@router.post("/referrals/{referral_id}/reject", response={200: ReferralOut, **ERRORS})
def referral_reject(request: HttpRequest, referral_id: int, payload: ReferralRejectIn) -> Any:
    """Reject a referral sent to your organisation, with a `reject_reason` (and a
    `note` for the reason other). The case may then be referred there again. 404
    unless you may see the referral; 403 for the sending side and the case team."""
    return _step(
        request,
        referral_id,
        services.referral_reject,
        _receiver_only(),
        reject_reason=payload.reject_reason,
        note=payload.note,
    )


@router.post("/referrals/{referral_id}/start", response={201: ParticipationOut, **ERRORS})
def participation_start(
    request: HttpRequest, referral_id: int, payload: ParticipationStartIn
) -> Status[Any]:
    """Record the start of an accepted (or waitlisted) referral sent to your
    organisation: creates the participation and takes a place of the offer. 422 when
    the start lies in the future or the offer has no free place. 404 unless you may
    see the referral; 403 for the sending side and the case team."""
    actor = _caseworker(request)
    referral = _visible(actor, referral_id)
    participation = _other_side(
        lambda: services.participation_start(
            actor=actor,
            referral=referral,
            started_on=payload.started_on,
            note=payload.note,
            title=payload.title,
            category=payload.category,
            level=payload.level,
        ),
        _receiver_only(),
    )
    return Status(201, _participation_shown(participation))


# --- participations and the chain -------------------------------------------------


@router.get("/cases/{case_id}/chain", response={200: ChainOut, **ERRORS})
def chain_show(request: HttpRequest, case_id: int) -> dict[str, Any]:
    """The person's integration chain, oldest first: referrals (those that led to a
    participation are represented by it), participations, and residence and benefit
    periods as far as those categories are shared with you. 403 unless the category
    participations is shared with you; 404 out of scope. Logged as "read" with the
    categories shown."""
    actor = acting(request, Perm.CASE_VIEW)
    case, chain = rs.case_chain(actor=actor, case_id=case_id)
    if not chain.shared:
        raise selectors.not_shared(Category.PARTICIPATIONS)
    entries = []
    for e in chain.entries:
        participation_id = referral_id = None
        if isinstance(e.obj, Participation):
            participation_id, referral_id = e.obj.pk, e.obj.referral_id
        elif isinstance(e.obj, Referral):
            referral_id = e.obj.pk
        entries.append(
            {
                "on": e.on,
                "until": e.until,
                "kind": e.kind,
                "title": e.title,
                "detail": e.detail,
                "status": e.status,
                "participation_id": participation_id,
                "referral_id": referral_id,
            }
        )
    return {"case_id": case.pk, "entries": entries, "residence_shown": chain.residence_shown}


@router.get("/cases/{case_id}/participations", response={200: list[ParticipationOut], **ERRORS})
def participation_index(request: HttpRequest, case_id: int) -> list[dict[str, Any]]:
    """The participations of the case's person (from referrals and recorded ones),
    newest first. 403 unless the category participations is shared with you; 404 out
    of scope. Logged as "read" (participations)."""
    chain = _participations_shared(acting(request, Perm.CASE_VIEW), case_id)
    prefetch_related_objects(chain.participations, "recorded_by")
    return [_participation(p) for p in chain.participations]


@router.post("/cases/{case_id}/participations", response={201: ParticipationOut, **ERRORS})
def participation_add(request: HttpRequest, case_id: int, payload: ParticipationIn) -> Status[Any]:
    """Record a participation without a referral, e.g. an earlier course or one the
    person found themselves (lead organisation only). With `offer_id`, title,
    category, level and provider default to the offer's, and a running participation
    takes a place. An end needs an outcome (and an abort_reason for aborted)."""
    actor = acting(request, Perm.CASE_EDIT)
    case = case_get(actor=actor, case_id=case_id)
    errors: dict[str, list[str]] = {}
    offer = None
    if payload.offer_id is not None:
        offer = Offer.objects.filter(pk=payload.offer_id).first()
        if offer is None:
            errors["offer_id"] = [_("Unknown offer.")]
    provider = None
    if payload.provider_id is not None:
        provider = Organisation.objects.filter(pk=payload.provider_id).first()
        if provider is None:
            errors["provider_id"] = [_("Unknown organisation.")]
    if errors:
        raise ValidationError(errors)
    try:
        participation = services.participation_record(
            actor=actor,
            case=case,
            title=payload.title,
            category=payload.category or "",
            started_on=payload.started_on,
            level=payload.level,
            offer=offer,
            provider=provider,
            ended_on=payload.ended_on,
            outcome=payload.outcome or "",
            abort_reason=payload.abort_reason or "",
            outcome_note=payload.outcome_note,
            level_reached=payload.level_reached,
            next_step=payload.next_step or "",
            attendance_percent=payload.attendance_percent,
        )
    except ValidationError as exc:
        raise _renamed(exc, {"offer": "offer_id", "provider": "provider_id"}) from None
    return Status(201, _participation_shown(participation))


@router.post(
    "/participations/{participation_id}/attendance",
    response={200: ParticipationOut, **ERRORS},
)
def participation_attendance(
    request: HttpRequest, participation_id: int, payload: AttendanceIn
) -> dict[str, Any]:
    """Record the attendance so far (per cent, and a short summary): the provider the
    person was referred to, or the organisation that leads the case. 404 unless you
    may see the participation; 403 for the case team."""
    actor = _caseworker(request)
    participation = rs.participation_get(actor=actor, participation_id=participation_id)
    saved = _other_side(
        lambda: services.participation_attendance(
            actor=actor,
            participation=participation,
            attendance_percent=payload.attendance_percent,
            attendance_note=payload.attendance_note,
        ),
        _recorder_only(),
    )
    return _participation_shown(saved)


@router.post("/participations/{participation_id}/end", response={200: ParticipationOut, **ERRORS})
def participation_end(
    request: HttpRequest, participation_id: int, payload: ParticipationEndIn
) -> dict[str, Any]:
    """End a running participation with its outcome (the provider the person was
    referred to, or the organisation that leads the case): the place becomes free and
    the referral completes (aborted: is aborted). 422 for an end before the start or
    in the future, an aborted one without abort_reason, or one that already ended.
    404 unless you may see the participation; 403 for the case team."""
    actor = _caseworker(request)
    participation = rs.participation_get(actor=actor, participation_id=participation_id)
    saved = _other_side(
        lambda: services.participation_end(
            actor=actor,
            participation=participation,
            ended_on=payload.ended_on,
            outcome=payload.outcome,
            abort_reason=payload.abort_reason or "",
            outcome_note=payload.outcome_note,
            level_reached=payload.level_reached,
            next_step=payload.next_step or "",
            attendance_percent=payload.attendance_percent,
            attendance_note=payload.attendance_note,
        ),
        _recorder_only(),
    )
    return _participation_shown(saved)
