"""Writes of referrals and participations (issue #5): keyword-only, atomic, checked.

The sending side is the lead organisation of the case (Perm.CASE_EDIT): it proposes,
sends and withdraws. The receiving organisation (Perm.REFERRAL_RECEIVE) accepts,
puts on the waiting list, rejects, records the start, the attendance and the end.
Sending checks the person's consent (or an agreement) for the purpose ``referral``
first; nothing goes to the receiver without it. Each step is a ReferralEvent (who,
when, why) and an access-log entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, NoReturn

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from lotse.casework.models import Case
from lotse.core.models import AccessAction, Membership, NeedType, Organisation
from lotse.core.roles import Perm
from lotse.core.services import access_log_record
from lotse.offers.codes import OfferCategory
from lotse.offers.models import Offer
from lotse.offers.reasons import need_names, reason_text
from lotse.offers.selectors_matching import offer_match
from lotse.privacy.access import Basis, CaseAccess, case_access, receiver_access, require_case
from lotse.privacy.categories import Category, Purpose

from .careers_services import careers_person_update
from .codes import (
    OPEN_STATUSES,
    OUTCOME_STATUS,
    TRANSITIONS,
    AbortReason,
    NextStep,
    Outcome,
    ReferralStatus,
    RejectReason,
)
from .models import Participation, Referral, ReferralEvent

S = ReferralStatus


def DUPLICATE() -> str:
    return _("There is already an open referral of this case to it.")


# Reasons of a match that exclude the person (the rest only warn).
EXCLUDING = frozenset({"legal", "status", "age", "german"})


# --- helpers -------------------------------------------------------------------------


def _event(actor: Membership, referral: Referral, status: str, note: str = "") -> None:
    ReferralEvent.objects.create(
        referral=referral,
        status=status,
        by=actor.user,
        by_organisation_id=actor.organisation_id,
        note=note,
    )


def _move(actor: Membership, referral: Referral, status: str, note: str = "") -> None:
    if status not in TRANSITIONS.get(referral.status, frozenset()):
        raise ValidationError(
            {
                "status": [
                    _("A referral that is “%(now)s” cannot become “%(next)s”.")
                    % {"now": S(referral.status).label, "next": S(status).label}
                ]
            }
        )
    referral.status = status
    _event(actor, referral, status, note)


def _log(
    actor: Membership,
    referral: Referral,
    action: str,
    basis: str,
    categories: Iterable[str] = (Category.PARTICIPATIONS,),
    *,
    purpose: str = Purpose.REFERRAL,
    obj: Any = None,
) -> None:
    obj = obj or referral
    access_log_record(
        actor=actor,
        action=action,
        person_ids=[referral.person_id],
        categories=list(categories),
        basis=basis,
        purpose=purpose,
        object_type=obj.__class__.__name__.lower(),
        object_id=obj.pk,
    )


def _lock(referral: Referral) -> Referral:
    """The stored referral, locked until the end of the transaction (two staff members
    answering at once see each other's step)."""
    # `of=("self",)`: PostgreSQL locks no row of a nullable join (the offer).
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("case", "offer")
        .get(pk=referral.pk)
    )


def _require_sender(actor: Membership, referral: Referral) -> str:
    return require_case(actor, referral.case, Perm.CASE_EDIT)


def _require_receiver(actor: Membership, referral: Referral) -> str:
    """The acting organisation is the receiver and may handle referrals; 404 for
    everybody else (a referral to another organisation does not exist for them).
    Returns the basis of the receiver's access to the person."""
    if actor.organisation_id != referral.receiver_id or referral.sent_at is None:
        _not_yours(actor, referral.case)
    if not actor.has_perm(Perm.REFERRAL_RECEIVE):
        raise PermissionDenied
    if actor.organisation_id == referral.case.lead_organisation_id:
        return Basis.LEAD_ORGANISATION
    access = receiver_access(referral.case, actor.organisation, user_id=actor.user_id)
    return access.basis(Category.MASTER) or access.basis() or Basis.CONSENT


def _not_yours(actor: Membership, case: Case) -> NoReturn:
    """A step that is not the actor's to take: 403 for whoever sees the case, 404 for
    everybody else (the case does not exist for them)."""
    if case_access(actor, case).visible:
        raise PermissionDenied
    raise Http404


def _snapshot_org(org: Organisation) -> dict[str, str]:
    return {
        "organisation": org.name,
        "org_type": org.org_type,
        "email": org.email,
        "phone": org.phone,
        "address": org.address,
    }


def _offer_full(offer: Offer | None) -> bool:
    return offer is not None and offer.capacity is not None and offer.occupied >= offer.capacity


def _bump_occupied(offer_id: int | None, delta: int) -> None:
    """Places taken follow the participations; updated_at moves so that the matching's
    cached catalogue rows notice."""
    if offer_id is None:
        return
    Offer.objects.filter(pk=offer_id).update(
        occupied=F("occupied") + delta,
        updated_at=timezone.now(),
    )


# --- sending side --------------------------------------------------------------------


def _exclusion(case: Case, access: CaseAccess, offer: Offer) -> list[str]:
    """Why the matching excludes the person from the offer (empty: it does not)."""
    found = offer_match(person=case.person, access=access, offer_id=offer.pk)
    if found is None:
        return []
    match, reasons = found
    if not match.excluded:
        return []
    names = need_names([reasons])
    return [reason_text(r, names) for r in reasons if not r.fit and r.code in EXCLUDING]


@transaction.atomic
def referral_create(
    *,
    actor: Membership,
    case: Case,
    reason: str,
    offer: Offer | None = None,
    receiver: Organisation | None = None,
    need_types: Iterable[NeedType] = (),
    override_reason: str = "",
    send: bool = False,
) -> Referral:
    """A referral from the case to an offer (its provider receives it) or to an
    organisation. An offer the person is excluded from needs ``override_reason``; a
    second open referral to the same offer or organisation is refused. ``send``: send
    it at once (the consent check of :func:`referral_send`)."""
    basis = require_case(actor, case, Perm.CASE_EDIT)
    errors: dict[str, list[str]] = {}
    if case.is_closed:
        raise ValidationError(_("The case is closed; no new referrals."))
    reason = (reason or "").strip()
    override_reason = (override_reason or "").strip()
    if not reason:
        errors["reason"] = [_("Say why the person is referred (the receiver reads this).")]
    exclusion: list[str] = []
    if offer is not None:
        receiver = offer.provider
        today = timezone.localdate()
        if not offer.is_active or (offer.ends_on is not None and offer.ends_on < today):
            errors["offer"] = [_("This offer is no longer in the catalogue.")]
        else:
            exclusion = _exclusion(case, case_access(actor, case), offer)
            if exclusion and not override_reason:
                errors["override_reason"] = [
                    _(
                        "The person is excluded from this offer (%(why)s). Refer only with "
                        "a reason why it should be tried anyway."
                    )
                    % {"why": "; ".join(exclusion)}
                ]
    if receiver is None:
        errors.setdefault("offer", []).append(_("Choose an offer or a receiving organisation."))
    elif not receiver.is_active:
        errors["receiver"] = [_("This organisation is no longer active.")]
    if receiver is not None and not errors:
        duplicate = Referral.objects.filter(case=case, status__in=sorted(OPEN_STATUSES))
        duplicate = (
            duplicate.filter(offer=offer)
            if offer is not None
            else duplicate.filter(offer__isnull=True, receiver=receiver)
        )
        if duplicate.exists():
            field = "offer" if offer is not None else "receiver"
            errors[field] = [DUPLICATE()]
    if errors:
        raise ValidationError(errors)
    assert receiver is not None
    referral = Referral(
        case=case,
        person_id=case.person_id,
        offer=offer,
        receiver=receiver,
        sender_id=actor.organisation_id,
        reason=reason,
        override_reason=override_reason if exclusion else "",
        exclusion_reasons=exclusion,
        created_by=actor.user,
    )
    try:
        with transaction.atomic():
            referral.save()
    except IntegrityError as exc:  # a second request at the same moment
        raise ValidationError({"offer": [DUPLICATE()]}) from exc
    referral.need_types.set(list(need_types))
    note = ""
    if exclusion:
        note = _("Referred despite the exclusion (%(why)s): %(reason)s") % {
            "why": "; ".join(exclusion),
            "reason": override_reason,
        }
    _event(actor, referral, S.PROPOSED, note)
    _log(actor, referral, AccessAction.CREATE, basis, purpose=Purpose.CASEWORK)
    Case.objects.filter(pk=case.pk).update(updated_at=timezone.now())
    if send:
        referral_send(actor=actor, referral=referral)
    return referral


def sharing_for(case: Case, receiver: Organisation) -> CaseAccess:
    """What the receiving organisation may read of the person for the referral."""
    if receiver.pk == case.lead_organisation_id:
        access = CaseAccess(case_id=case.pk)
        access.categories = {c.value: Basis.LEAD_ORGANISATION for c in Category}
        return access
    return receiver_access(case, receiver)


@transaction.atomic
def referral_send(*, actor: Membership, referral: Referral, note: str = "") -> Referral:
    """Send a proposed referral. Nothing goes to the receiver unless the person's
    consent (or an agreement) covers at least their master data for the purpose
    ``referral``; the categories it covers are what the receiver will see."""
    referral = _lock(referral)
    _require_sender(actor, referral)
    if referral.status != S.PROPOSED:
        _move(actor, referral, S.SENT)  # raises with the message
    receiver = referral.receiver
    sharing = sharing_for(referral.case, receiver)
    if not sharing.allows(Category.MASTER):
        raise ValidationError(
            _(
                "There is no valid consent of the person (nor an agreement) to pass their "
                "data to %(org)s for a referral. Record the consent first; nothing was sent."
            )
            % {"org": receiver.name}
        )
    now = timezone.now()
    referral.sent_at = now
    referral.shared_categories = sorted(sharing.categories)
    referral.sharing_basis = sharing.basis(Category.MASTER)
    consent_id = sharing.details.get(Category.MASTER, "")
    referral.consent_id = (
        int(consent_id) if referral.sharing_basis == Basis.CONSENT and consent_id else None
    )
    sender = actor.organisation
    referral.sender_snapshot = {
        **_snapshot_org(sender),
        "user": actor.user.get_full_name() or actor.user.get_username(),
        "user_email": actor.user.email,
    }
    snap = _snapshot_org(receiver)
    if referral.offer is not None:
        o = referral.offer
        snap |= {
            "offer": o.title,
            "category": o.category,
            "level": o.level,
            "contact": o.contact_name,
            "contact_email": o.contact_email,
            "contact_phone": o.contact_phone,
        }
    referral.receiver_snapshot = snap
    _move(actor, referral, S.SENT, note)
    referral.save()
    _log(
        actor,
        referral,
        AccessAction.DISCLOSE,
        referral.sharing_basis,
        referral.shared_categories,
    )
    careers_person_update(referral.person_id)
    return referral


@transaction.atomic
def referral_withdraw(*, actor: Membership, referral: Referral, note: str = "") -> Referral:
    """The sender takes back a referral that has not started."""
    referral = _lock(referral)
    basis = _require_sender(actor, referral)
    _move(actor, referral, S.WITHDRAWN, note)
    _leave_waiting_list(referral)
    referral.closed_at = timezone.now()
    referral.save()
    _log(actor, referral, AccessAction.UPDATE, basis, purpose=Purpose.CASEWORK)
    careers_person_update(referral.person_id)
    return referral


# --- receiving side ------------------------------------------------------------------


def _leave_waiting_list(referral: Referral, on: dt.date | None = None) -> None:
    if referral.waitlisted_on is not None and referral.days_waited is None:
        on = on or timezone.localdate()
        referral.days_waited = max((on - referral.waitlisted_on).days, 0)


@transaction.atomic
def referral_accept(*, actor: Membership, referral: Referral, note: str = "") -> Referral:
    """The receiver accepts. When the offer has no free place the person goes onto the
    waiting list (the days waited are kept when they leave it)."""
    referral = _lock(referral)
    basis = _require_receiver(actor, referral)
    offer = (
        Offer.objects.select_for_update().get(pk=referral.offer_id) if referral.offer_id else None
    )
    if _offer_full(offer) and referral.status != S.WAITLISTED:
        _move(actor, referral, S.WAITLISTED, note)
        referral.waitlisted_on = timezone.localdate()
    else:
        _move(actor, referral, S.ACCEPTED, note)
        _leave_waiting_list(referral)
    referral.decided_at = referral.decided_at or timezone.now()
    referral.save()
    _log(actor, referral, AccessAction.UPDATE, basis)
    careers_person_update(referral.person_id)
    return referral


@transaction.atomic
def referral_waitlist(*, actor: Membership, referral: Referral, note: str = "") -> Referral:
    """The receiver puts the person on the waiting list (e.g. the next course)."""
    referral = _lock(referral)
    basis = _require_receiver(actor, referral)
    _move(actor, referral, S.WAITLISTED, note)
    referral.waitlisted_on = timezone.localdate()
    referral.decided_at = referral.decided_at or timezone.now()
    referral.save()
    _log(actor, referral, AccessAction.UPDATE, basis)
    careers_person_update(referral.person_id)
    return referral


@transaction.atomic
def referral_reject(
    *, actor: Membership, referral: Referral, reject_reason: str, note: str = ""
) -> Referral:
    referral = _lock(referral)
    basis = _require_receiver(actor, referral)
    if reject_reason not in RejectReason.values:
        raise ValidationError({"reject_reason": [_("Choose a reason for rejecting.")]})
    if reject_reason == RejectReason.OTHER and not note.strip():
        raise ValidationError({"note": [_("Describe the reason.")]})
    _move(actor, referral, S.REJECTED, note)
    _leave_waiting_list(referral)
    referral.reject_reason = reject_reason
    referral.decided_at = timezone.now()
    referral.closed_at = referral.decided_at
    referral.save()
    _log(actor, referral, AccessAction.UPDATE, basis)
    careers_person_update(referral.person_id)
    return referral


@transaction.atomic
def participation_start(
    *,
    actor: Membership,
    referral: Referral,
    started_on: dt.date,
    note: str = "",
    title: str = "",
    category: str = "",
    level: str = "",
) -> Participation:
    """The receiver records the start: a participation, a place taken. For a referral
    to an organisation (no offer) the receiver names what the person takes part in:
    ``category`` is required then, ``title`` defaults to the organisation."""
    referral = _lock(referral)
    basis = _require_receiver(actor, referral)
    if referral.offer_id is None and category not in OfferCategory.values:
        raise ValidationError(
            {"category": [_("Choose the category of what the person takes part in.")]}
        )
    today = timezone.localdate()
    if started_on > today:
        raise ValidationError({"started_on": [_("The start cannot lie in the future.")]})
    if started_on < referral.case.person.birth_date:
        raise ValidationError({"started_on": [_("The start cannot lie before the date of birth.")]})
    offer = (
        Offer.objects.select_for_update().get(pk=referral.offer_id) if referral.offer_id else None
    )
    if _offer_full(offer):
        raise ValidationError(
            {
                "started_on": [
                    _(
                        "The offer has no free place (%(taken)s of %(places)s taken). Put the "
                        "person on the waiting list or end another participation first."
                    )
                    % {"taken": offer.occupied, "places": offer.capacity}  # type: ignore[union-attr]
                ]
            }
        )
    _move(actor, referral, S.STARTED, note)
    _leave_waiting_list(referral, started_on)
    referral.save()
    snap = referral.receiver_snapshot or {}
    participation = Participation.objects.create(
        person_id=referral.person_id,
        case=referral.case,
        referral=referral,
        offer=offer,
        provider=referral.receiver,
        title=str(snap.get("offer") or offer.title)
        if offer
        else (title.strip() or referral.receiver.name),
        category=offer.category if offer else category,
        level=offer.level if offer else level,
        started_on=started_on,
        recorded_by_id=actor.organisation_id,
        created_by=actor.user,
    )
    _bump_occupied(referral.offer_id, +1)
    _log(actor, referral, AccessAction.CREATE, basis, obj=participation)
    careers_person_update(participation.person_id)
    return participation


def _participation_side(actor: Membership, participation: Participation) -> tuple[str, str]:
    """(basis, purpose) of who may record on a participation: the receiver of its
    referral, or the lead organisation of the case."""
    case = participation.case
    if actor.organisation_id == case.lead_organisation_id:
        return require_case(actor, case, Perm.CASE_EDIT), Purpose.CASEWORK
    referral = participation.referral
    if referral is None:
        _not_yours(actor, case)
    return _require_receiver(actor, referral), Purpose.REFERRAL


@transaction.atomic
def participation_attendance(
    *,
    actor: Membership,
    participation: Participation,
    attendance_percent: int | None,
    attendance_note: str = "",
) -> Participation:
    participation = Participation.objects.select_for_update().get(pk=participation.pk)
    basis, purpose = _participation_side(actor, participation)
    if attendance_percent is not None and not 0 <= attendance_percent <= 100:
        raise ValidationError(
            {"attendance_percent": [_("Enter a share between 0 and 100 per cent.")]}
        )
    participation.attendance_percent = attendance_percent
    participation.attendance_note = attendance_note.strip()
    participation.save()
    _log_participation(actor, participation, AccessAction.UPDATE, basis, purpose)
    return participation


def _log_participation(
    actor: Membership, participation: Participation, action: str, basis: str, purpose: str
) -> None:
    access_log_record(
        actor=actor,
        action=action,
        person_ids=[participation.person_id],
        categories=[Category.PARTICIPATIONS],
        basis=basis,
        purpose=purpose,
        object_type="participation",
        object_id=participation.pk,
    )


def _outcome_errors(
    *,
    started_on: dt.date,
    ended_on: dt.date | None,
    outcome: str,
    abort_reason: str,
    level_reached: str,
    today: dt.date,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if ended_on is None:
        if outcome:
            errors["ended_on"] = [_("An outcome needs the day the participation ended.")]
        return errors
    if ended_on < started_on:
        errors["ended_on"] = [_("The participation cannot end before it started.")]
    elif ended_on > today:
        errors["ended_on"] = [_("The end cannot lie in the future.")]
    if outcome not in Outcome.values:
        errors["outcome"] = [_("Choose the outcome.")]
    if outcome == Outcome.ABORTED and abort_reason not in AbortReason.values:
        errors["abort_reason"] = [_("Choose why the participation was aborted.")]
    if outcome != Outcome.ABORTED and abort_reason:
        errors["abort_reason"] = [_("A reason for aborting belongs to an aborted participation.")]
    if level_reached and outcome == Outcome.ABORTED:
        errors["level_reached"] = [_("An aborted participation reaches no level.")]
    return errors


@transaction.atomic
def participation_end(
    *,
    actor: Membership,
    participation: Participation,
    ended_on: dt.date,
    outcome: str,
    abort_reason: str = "",
    outcome_note: str = "",
    level_reached: str = "",
    next_step: str = "",
    attendance_percent: int | None = None,
    attendance_note: str | None = None,
) -> Participation:
    """End a running participation with its outcome and what followed (``next_step``,
    optional: it may not be known yet); the place becomes free and the referral
    completes (or is aborted)."""
    participation = (
        Participation.objects.select_for_update(of=("self",))
        .select_related("case", "referral")
        .get(pk=participation.pk)
    )
    basis, purpose = _participation_side(actor, participation)
    if participation.ended_on is not None:
        raise ValidationError({"ended_on": [_("This participation has already ended.")]})
    if ended_on is None:
        raise ValidationError({"ended_on": [_("Enter the day the participation ended.")]})
    errors = _outcome_errors(
        started_on=participation.started_on,
        ended_on=ended_on,
        outcome=outcome,
        abort_reason=abort_reason,
        level_reached=level_reached,
        today=timezone.localdate(),
    )
    if attendance_percent is not None and not 0 <= attendance_percent <= 100:
        errors["attendance_percent"] = [_("Enter a share between 0 and 100 per cent.")]
    if next_step and next_step not in NextStep.values:
        errors["next_step"] = [_("Choose what followed from the list.")]
    if errors:
        raise ValidationError(errors)
    participation.ended_on = ended_on
    participation.next_step = next_step
    participation.outcome = outcome
    participation.abort_reason = abort_reason if outcome == Outcome.ABORTED else ""
    participation.outcome_note = outcome_note.strip()
    participation.level_reached = level_reached
    if attendance_percent is not None:
        participation.attendance_percent = attendance_percent
    if attendance_note is not None:
        participation.attendance_note = attendance_note.strip()
    participation.save()
    _bump_occupied(participation.offer_id, -1)
    referral = participation.referral
    if referral is not None:
        referral = _lock(referral)
        label = Outcome(outcome).label
        _move(actor, referral, OUTCOME_STATUS[Outcome(outcome)], f"{label}. {outcome_note}".strip())
        referral.closed_at = timezone.now()
        referral.save()
    _log_participation(actor, participation, AccessAction.UPDATE, basis, purpose)
    careers_person_update(participation.person_id)
    return participation


@transaction.atomic
def participation_record(
    *,
    actor: Membership,
    case: Case,
    title: str,
    category: str,
    started_on: dt.date,
    level: str = "",
    offer: Offer | None = None,
    provider: Organisation | None = None,
    ended_on: dt.date | None = None,
    outcome: str = "",
    abort_reason: str = "",
    outcome_note: str = "",
    level_reached: str = "",
    next_step: str = "",
    attendance_percent: int | None = None,
) -> Participation:
    """The lead organisation records a participation without a referral (an earlier
    course, one the person found themselves). A running one in a catalogue offer
    takes a place."""
    basis = require_case(actor, case, Perm.CASE_EDIT)
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    if offer is not None:
        offer = (
            Offer.objects.select_for_update(of=("self",))
            .select_related("provider")
            .get(pk=offer.pk)
        )
        title = title or offer.title
        category = category or offer.category
        level = level or offer.level
        provider = provider or offer.provider
        if ended_on is None and _offer_full(offer):
            errors["offer"] = [_("The offer has no free place.")]
    title = (title or "").strip()
    if not title:
        errors["title"] = [_("Name the offer.")]
    if category not in OfferCategory.values:
        errors["category"] = [_("Choose the category.")]
    if started_on > today:
        errors["started_on"] = [_("The start cannot lie in the future.")]
    if started_on < case.person.birth_date:
        errors["started_on"] = [_("The start cannot lie before the date of birth.")]
    errors |= _outcome_errors(
        started_on=started_on,
        ended_on=ended_on,
        outcome=outcome,
        abort_reason=abort_reason,
        level_reached=level_reached,
        today=today,
    )
    if ended_on is not None and not outcome and "outcome" not in errors:
        errors["outcome"] = [_("Choose the outcome.")]
    if next_step and (ended_on is None or next_step not in NextStep.values):
        errors["next_step"] = [_("What followed belongs to an ended participation.")]
    if errors:
        raise ValidationError(errors)
    participation = Participation.objects.create(
        person_id=case.person_id,
        case=case,
        offer=offer,
        provider=provider,
        title=title,
        category=category,
        level=level,
        started_on=started_on,
        ended_on=ended_on,
        outcome=outcome,
        abort_reason=abort_reason if outcome == Outcome.ABORTED else "",
        outcome_note=outcome_note.strip(),
        level_reached=level_reached,
        next_step=next_step,
        attendance_percent=attendance_percent,
        recorded_by_id=actor.organisation_id,
        created_by=actor.user,
    )
    if offer is not None and ended_on is None:
        _bump_occupied(offer.pk, +1)
    _log_participation(actor, participation, AccessAction.CREATE, basis, Purpose.CASEWORK)
    careers_person_update(participation.person_id)
    return participation
