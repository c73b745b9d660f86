"""Reads of referrals, participations and the integration chain (DESIGN §5).

Three ways to see a referral:

* the **lead organisation** of the case sees its referrals and the person's chain
  (every category);
* a **case team member** sees them where ``participations`` is shared with them
  (read only);
* the **receiving organisation** sees the referrals addressed to it once sent, and of
  the person only the categories the consent (or an agreement) shares with it for the
  purpose ``referral`` (privacy.access.receiver_access), decided at every read.

Everybody else: the referral does not exist (404). Every read is logged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from lotse.casework.models import Case
from lotse.casework.selectors import case_get
from lotse.core.models import AccessAction, Membership
from lotse.core.roles import Perm
from lotse.core.services import access_log_record
from lotse.people.codes import ResidenceStatus
from lotse.people.models import BenefitPeriod, ResidenceStatusPeriod
from lotse.people.selectors import timeline_mark_current
from lotse.privacy.access import (
    Basis,
    CaseAccess,
    case_access,
    case_access_bulk,
    log_person_read,
    receiver_access,
    receiver_access_bulk,
)
from lotse.privacy.categories import Category, Purpose

from .codes import OPEN_STATUSES, ReferralStatus
from .models import Participation, Referral, ReferralEvent

SENDER = "sender"
RECEIVER = "receiver"
TEAM = "team"


@dataclass
class ReferralView:
    referral: Referral
    side: str  # SENDER, RECEIVER or TEAM
    access: CaseAccess  # what the reader may see of the person
    events: list[ReferralEvent]
    participation: Participation | None

    @property
    def person_shown(self) -> bool:
        return self.access.allows(Category.MASTER)

    @property
    def shared_now(self) -> list[str]:
        return sorted(self.access.categories)


def _referral_qs() -> QuerySet[Referral]:
    return Referral.objects.select_related(
        "case__lead_organisation", "person", "offer__provider", "receiver", "sender", "created_by"
    )


def _side(actor: Membership, referral: Referral) -> tuple[str, CaseAccess]:
    """Which side the actor reads from, and what of the person; 404 if none."""
    case = referral.case
    access = case_access(actor, case) if actor.has_perm(Perm.CASE_VIEW) else None
    if access is not None and access.is_lead:
        return SENDER, access
    if (
        actor.organisation_id == referral.receiver_id
        and referral.sent_at is not None
        and actor.has_perm(Perm.REFERRAL_RECEIVE)
    ):
        return RECEIVER, receiver_access(case, actor.organisation, user_id=actor.user_id)
    if access is not None and access.visible:
        # A member of the case team: only where participations are shared with them.
        if not access.allows(Category.PARTICIPATIONS):
            raise PermissionDenied
        return TEAM, access
    raise Http404


def _for_receiver(referral: Referral, events: list[ReferralEvent]) -> None:
    """What stays with the sender: why the matching excluded the person (it names the
    status, age or German level, which the consent may not cover), the reason for the
    override and the note of the proposal. Blanked on the loaded objects only."""
    referral.exclusion_reasons = []
    referral.override_reason = ""
    for event in events:
        if event.status == ReferralStatus.PROPOSED:
            event.note = ""


def referral_get(*, actor: Membership | None, referral_id: int, log: bool = True) -> ReferralView:
    """One referral with its steps and participation, as the actor may see it."""
    if actor is None:
        raise Http404
    referral = _referral_qs().filter(pk=referral_id).first()
    if referral is None:
        raise Http404
    side, access = _side(actor, referral)
    events = list(referral.events.select_related("by", "by_organisation"))
    if side == RECEIVER:
        _for_receiver(referral, events)
    view = ReferralView(
        referral=referral,
        side=side,
        access=access,
        events=events,
        participation=Participation.objects.filter(referral=referral).first(),
    )
    if log:
        log_person_read(
            actor,
            referral.person_id,
            access,
            [Category.MASTER, Category.PARTICIPATIONS],
            "referral",
            referral.pk,
            purpose=Purpose.REFERRAL if side == RECEIVER else Purpose.CASEWORK,
        )
        if side == RECEIVER and not access.allows(Category.PARTICIPATIONS):
            # The referral itself was sent to the receiver: its reading is logged
            # even where no further category is shared.
            access_log_record(
                actor=actor,
                action=AccessAction.READ,
                person_ids=[referral.person_id],
                categories=[Category.PARTICIPATIONS],
                basis=referral.sharing_basis or Basis.CONSENT,
                purpose=Purpose.REFERRAL,
                object_type="referral",
                object_id=referral.pk,
            )
    return view


def participation_get(*, actor: Membership | None, participation_id: int) -> Participation:
    """A participation the actor may record on (receiver or lead organisation); not
    logged (the services log the write)."""
    if actor is None:
        raise Http404
    p = (
        Participation.objects.select_related("case", "referral", "offer", "person")
        .filter(pk=participation_id)
        .first()
    )
    if p is None:
        raise Http404
    if p.referral is not None:
        _side(actor, p.referral)
    else:
        access = case_access(actor, p.case)
        if not access.visible:
            raise Http404
        if not access.allows(Category.PARTICIPATIONS):
            raise PermissionDenied
    return p


# --- lists ---------------------------------------------------------------------------


@dataclass
class ReferralFilters:
    box: str = "incoming"  # "incoming" (addressed to the actor's organisation) or "outgoing"
    status: str = ""
    open_only: bool = False


def referrals_filtered(*, actor: Membership | None, filters: ReferralFilters) -> QuerySet[Referral]:
    """Incoming: referrals sent to the actor's organisation. Outgoing: referrals from
    cases the actor's organisation leads."""
    if actor is None:
        return Referral.objects.none()
    if filters.box == "outgoing":
        if not actor.has_perm(Perm.CASE_VIEW):
            return Referral.objects.none()
        qs = Referral.objects.filter(case__lead_organisation_id=actor.organisation_id)
    else:
        if not actor.has_perm(Perm.REFERRAL_RECEIVE):
            return Referral.objects.none()
        qs = Referral.objects.filter(receiver_id=actor.organisation_id, sent_at__isnull=False)
    if filters.status:
        qs = qs.filter(status=filters.status)
    elif filters.open_only:
        qs = qs.filter(status__in=sorted(OPEN_STATUSES))
    return qs


@dataclass
class ReferralRow:
    referral: Referral
    access: CaseAccess
    side: str

    @property
    def person_shown(self) -> bool:
        return self.access.allows(Category.MASTER)


def referral_list(
    *, actor: Membership | None, filters: ReferralFilters, page: int = 1
) -> Page[Any]:
    """One page of referrals with what the actor may see of each person (one access
    decision for the page, not per row), logged as a list."""
    qs = (
        referrals_filtered(actor=actor, filters=filters)
        .select_related("person", "offer", "receiver", "sender", "case")
        .order_by("-sent_at", "-created_at", "-pk")
    )
    result = Paginator(qs, settings.LOTSE_PAGE_SIZE).get_page(page)
    referrals: list[Referral] = list(result.object_list)
    rows: list[ReferralRow] = []
    if actor is not None and referrals:
        cases = {r.case_id: r.case for r in referrals}
        if filters.box == "outgoing":
            accesses = case_access_bulk(actor, cases.values())
            side = SENDER
        else:
            accesses = receiver_access_bulk(
                cases.values(), actor.organisation, user_id=actor.user_id
            )
            side = RECEIVER
            # A referral within the lead organisation: it sees the case as lead.
            own = [c for c in cases.values() if c.lead_organisation_id == actor.organisation_id]
            accesses |= case_access_bulk(actor, own)
        for r in referrals:
            rows.append(ReferralRow(referral=r, access=accesses[r.case_id], side=side))
        _log_list(actor, rows, Purpose.REFERRAL if side == RECEIVER else Purpose.CASEWORK)
    result.object_list = rows  # type: ignore[assignment]
    return result


def _log_list(actor: Membership, rows: list[ReferralRow], purpose: str) -> None:
    groups: dict[str, set[int]] = {}
    for row in rows:
        basis = row.access.basis(Category.MASTER) or row.referral.sharing_basis or Basis.CONSENT
        groups.setdefault(basis, set()).add(row.referral.person_id)
    for basis, person_ids in groups.items():
        access_log_record(
            actor=actor,
            action=AccessAction.LIST,
            person_ids=sorted(person_ids),
            categories=[Category.MASTER, Category.PARTICIPATIONS],
            basis=basis,
            purpose=purpose,
            object_type="referral_list",
        )


def open_incoming_count(*, actor: Membership | None) -> int:
    """Referrals waiting for the actor's organisation to answer (navigation badge; no
    personal data, not logged)."""
    if actor is None or not actor.has_perm(Perm.REFERRAL_RECEIVE):
        return 0
    return Referral.objects.filter(receiver_id=actor.organisation_id, status="sent").count()


# --- the chain -----------------------------------------------------------------------


@dataclass
class ChainEntry:
    on: dt.date
    kind: str  # "participation", "referral", "residence", "benefit"
    title: str
    detail: str = ""
    status: str = ""
    until: dt.date | None = None
    obj: Any = None
    link: str = ""


@dataclass
class Chain:
    entries: list[ChainEntry] = field(default_factory=list)
    participations: list[Participation] = field(default_factory=list)
    shared: bool = True
    residence_shown: bool = False


def case_chain(*, actor: Membership | None, case_id: int) -> tuple[Case, Chain]:
    """The person's integration chain: referrals, participations and residence and
    benefit changes on one time line, oldest first — as far as the categories are
    shared with the actor (participations needed; residence and benefits each)."""
    case = case_get(actor=actor, case_id=case_id)
    assert actor is not None
    access = case_access(actor, case)
    if not access.allows(Category.PARTICIPATIONS):
        raise PermissionDenied
    return case, chain_for(actor, case, access)


def _current(entries: list[Any]) -> list[Any]:
    timeline_mark_current(entries)
    return [e for e in entries if e.current]


def participation_cases(actor: Membership, case: Case) -> set[int]:
    """The case and those other cases of its person whose participations are shared
    with the actor: another organisation's referrals are that organisation's data."""
    others = list(Case.objects.filter(person_id=case.person_id).exclude(pk=case.pk))
    return {case.pk} | {
        pk for pk, a in case_access_bulk(actor, others).items() if a.allows(Category.PARTICIPATIONS)
    }


def chain_for(
    actor: Membership,
    case: Case,
    access: CaseAccess,
    *,
    residence: list[Any] | None = None,
    benefits: list[Any] | None = None,
    log: bool = True,
) -> Chain:
    """The chain of the case's person as far as shared with the actor. ``residence``
    and ``benefits``: the current timeline entries when the caller has loaded them
    already (the case page, which also logs the read: ``log`` False), so they are not
    read twice. Corrected entries never show."""
    if not access.allows(Category.PARTICIPATIONS):
        return Chain(shared=False)
    person_id = case.person_id
    shared = participation_cases(actor, case)
    participations = list(
        Participation.objects.filter(person_id=person_id, case_id__in=shared).select_related(
            "provider", "referral"
        )
    )
    referrals = list(
        Referral.objects.filter(person_id=person_id, case_id__in=shared).select_related(
            "receiver", "offer"
        )
    )
    entries: list[ChainEntry] = []
    by_referral = {p.referral_id for p in participations if p.referral_id}
    for r in referrals:
        if r.pk in by_referral:
            continue  # the participation stands for it
        entries.append(
            ChainEntry(
                on=timezone.localdate(r.sent_at or r.created_at),
                kind="referral",
                title=r.title,
                detail=r.receiver.name,
                status=r.status,
                obj=r,
            )
        )
    for p in participations:
        entries.append(
            ChainEntry(
                on=p.started_on,
                until=p.ended_on,
                kind="participation",
                title=p.title,
                detail=p.provider.name if p.provider else "",
                status=p.outcome or "running",
                obj=p,
            )
        )
    shown = [Category.PARTICIPATIONS]
    if access.allows(Category.RESIDENCE):
        shown.append(Category.RESIDENCE)
        if residence is None:
            residence = _current(list(ResidenceStatusPeriod.objects.filter(person_id=person_id)))
        labels = dict(ResidenceStatus.choices)
        for period in residence:
            entries.append(
                ChainEntry(
                    on=period.valid_from,
                    until=period.valid_to,
                    kind="residence",
                    title=str(labels.get(period.status, period.status)),
                    obj=period,
                )
            )
    if access.allows(Category.BENEFITS):
        shown.append(Category.BENEFITS)
        if benefits is None:
            benefits = _current(list(BenefitPeriod.objects.filter(person_id=person_id)))
        for benefit in benefits:
            entries.append(
                ChainEntry(
                    on=benefit.valid_from,
                    until=benefit.valid_to,
                    kind="benefit",
                    title=str(benefit.get_regime_display()),
                    obj=benefit,
                )
            )
    entries.sort(key=lambda e: (e.on, e.kind))
    if log:
        log_person_read(actor, person_id, access, shown, "chain", case.pk)
    return Chain(
        entries=entries,
        participations=participations,
        shared=True,
        residence_shown=Category.RESIDENCE in shown,
    )


__all__ = [
    "Chain",
    "ChainEntry",
    "ReferralFilters",
    "ReferralView",
    "case_chain",
    "chain_for",
    "open_incoming_count",
    "participation_cases",
    "participation_get",
    "referral_get",
    "referral_list",
]
