"""Writes of the privacy core: consents, sharing agreements, break-glass access.
Keyword-only `<thing>_<verb>` functions; each checks role and scope, validates,
writes atomically and records the access log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from lotse.casework.models import Case, FollowUp
from lotse.core.models import AccessAction, Membership, Organisation, User
from lotse.core.roles import CASEWORK_ROLES, Perm, Role
from lotse.core.services import access_log_record

from .access import ALL_CATEGORIES, Basis, require_case
from .categories import Category, Purpose
from .models import BreakGlassAccess, Consent, SharingAgreement

REMIND_DAYS_BEFORE_EXPIRY = 30
BREAK_GLASS_HOURS = 4
BREAK_GLASS_MIN_REASON = 20


def _clean_categories(categories: Sequence[str], field: str = "categories") -> list[str]:
    chosen = sorted(set(categories))
    if not chosen:
        raise ValidationError({field: _("Please choose at least one data category.")})
    unknown = [c for c in chosen if c not in ALL_CATEGORIES]
    if unknown:
        raise ValidationError(
            {field: _("Unknown data category: %(codes)s.") % {"codes": ", ".join(unknown)}}
        )
    return chosen


@transaction.atomic
def consent_record(
    *,
    actor: Membership,
    case: Case,
    purpose: str,
    categories: Sequence[str],
    receiving_organisations: Sequence[Organisation],
    signed_on: dt.date,
    valid_until: dt.date | None = None,
    named_users: Sequence[User] = (),
    interpreter_language: str = "",
    form_language: str = "de",
) -> Consent:
    """Record a consent the person has signed. The lead organisation records it; a
    follow-up reminds the case manager 30 days before it expires."""
    basis = require_case(actor, case, Perm.CASE_EDIT)
    errors: dict[str, list[str]] = {}
    if purpose not in Purpose.values:
        errors["purpose"] = [_("Unknown purpose.")]
    try:
        chosen = _clean_categories(categories)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        chosen = []
    receivers = list(receiving_organisations)
    if not receivers:
        errors["receiving_organisations"] = [_("Please choose at least one organisation.")]
    elif any(o.pk == case.lead_organisation_id for o in receivers):
        errors["receiving_organisations"] = [
            _("The lead organisation needs no consent to see its own case.")
        ]
    today = timezone.localdate()
    if signed_on > today:
        errors["signed_on"] = [_("The consent cannot be signed in the future.")]
    if valid_until is not None and valid_until < signed_on:
        errors["valid_until"] = [_("The end lies before the date of signing.")]
    elif valid_until is not None and valid_until < today:
        errors["valid_until"] = [_("This consent has already expired.")]
    receiver_ids = {o.pk for o in receivers}
    for user in named_users:
        if not user.memberships.filter(organisation_id__in=receiver_ids, is_active=True).exists():
            errors["named_users"] = [
                _("%(user)s does not work for a receiving organisation.") % {"user": user}
            ]
    if errors:
        raise ValidationError(errors)
    consent = Consent(
        person_id=case.person_id,
        purpose=purpose,
        categories=chosen,
        signed_on=signed_on,
        valid_until=valid_until,
        interpreter_language=interpreter_language,
        form_language=form_language or "de",
        recorded_by=actor.user,
        recorded_for_id=actor.organisation_id,
    )
    consent.full_clean(exclude=["categories"])
    consent.save()
    consent.receiving_organisations.set(receivers)
    consent.named_users.set(named_users)
    if valid_until is not None:
        FollowUp.objects.create(
            case=case,
            title=_("Consent expires on %(date)s: renew it with the person?")
            % {"date": date_format(valid_until, "SHORT_DATE_FORMAT")},
            due_on=max(today, valid_until - dt.timedelta(days=REMIND_DAYS_BEFORE_EXPIRY)),
            owner_id=case.case_manager_id,
            organisation_id=case.lead_organisation_id,
            created_by=actor.user,
        )
    Case.objects.filter(pk=case.pk).update(updated_at=timezone.now())
    access_log_record(
        actor=actor,
        action=AccessAction.CREATE,
        person_ids=[case.person_id],
        categories=[Category.MASTER],
        basis=basis,
        object_type="consent",
        object_id=consent.pk,
    )
    return consent


@transaction.atomic
def consent_withdraw(*, actor: Membership, case: Case, consent: Consent, note: str = "") -> Consent:
    """The person withdraws: effective at once for all future access; kept as history."""
    basis = require_case(actor, case, Perm.CASE_EDIT)
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if consent.person_id != case.person_id:
        raise PermissionDenied
    if consent.withdrawn_at is not None:
        raise ValidationError({"note": _("This consent has already been withdrawn.")})
    consent.withdrawn_at = timezone.now()
    consent.withdrawn_by = actor.user
    consent.withdrawal_note = note.strip()[:300]
    consent.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_note"])
    Case.objects.filter(pk=case.pk).update(updated_at=timezone.now())
    access_log_record(
        actor=actor,
        action=AccessAction.UPDATE,
        person_ids=[case.person_id],
        categories=[Category.MASTER],
        basis=basis,
        object_type="consent",
        object_id=consent.pk,
    )
    return consent


def agreement_save(
    *, actor: Membership, agreement: SharingAgreement | None = None, **values: Any
) -> SharingAgreement:
    """Org admins maintain agreements about their own organisation's data (they are the
    source); system administrators also configure legal bases by organisation type."""
    if not actor.has_perm(Perm.AGREEMENT_EDIT):
        raise PermissionDenied
    if (
        agreement is not None
        and actor.role != Role.SYSADMIN
        and (agreement.owner_id != actor.organisation_id)
    ):
        raise PermissionDenied
    agreement = agreement or SharingAgreement(owner_id=actor.organisation_id)
    for key, value in values.items():
        setattr(agreement, key, value)
    errors: dict[str, list[str]] = {}
    if actor.role != Role.SYSADMIN and (
        agreement.source_organisation_id != actor.organisation_id or agreement.source_type
    ):
        errors["source_organisation"] = [_("You can only share your own organisation's data.")]
    if agreement.receiver_organisation_id is None and not agreement.receiver_type:
        errors["receiver_organisation"] = [_("Please name the receiving organisation or type.")]
    if agreement.receiver_organisation_id is not None and agreement.receiver_type:
        errors["receiver_type"] = [_("Name either an organisation or a type, not both.")]
    if agreement.source_organisation_id is not None and agreement.source_type:
        errors["source_type"] = [_("Name either an organisation or a type, not both.")]
    try:
        agreement.categories = _clean_categories(agreement.categories)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    purposes = sorted(set(agreement.purposes))
    if not purposes or any(p not in Purpose.values for p in purposes):
        errors["purposes"] = [_("Please choose at least one valid purpose.")]
    agreement.purposes = purposes
    if agreement.valid_to and agreement.valid_from and agreement.valid_to < agreement.valid_from:
        errors["valid_to"] = [_("The end lies before the start.")]
    if errors:
        raise ValidationError(errors)
    agreement.full_clean()
    agreement.save()
    return agreement


@transaction.atomic
def break_glass_open(*, actor: Membership, case: Case, reason: str) -> BreakGlassAccess:
    """Emergency access for a member of the case team: every category for a few hours.
    Needs a reason; the lead case manager gets a follow-up about it at once."""
    if not actor.has_perm(Perm.BREAK_GLASS) or actor.role not in CASEWORK_ROLES:
        raise PermissionDenied
    if case.lead_organisation_id == actor.organisation_id:
        raise ValidationError({"reason": _("The lead organisation sees the whole case already.")})
    if not case.team.filter(
        organisation_id=actor.organisation_id, removed_at__isnull=True
    ).exists():
        raise PermissionDenied
    reason = reason.strip()
    if len(reason) < BREAK_GLASS_MIN_REASON:
        raise ValidationError(
            {
                "reason": _("Please describe the emergency (at least %(n)s characters).")
                % {"n": BREAK_GLASS_MIN_REASON}
            }
        )
    now = timezone.now()
    grant = BreakGlassAccess.objects.create(
        case=case,
        user=actor.user,
        organisation_id=actor.organisation_id,
        reason=reason,
        expires_at=now + dt.timedelta(hours=BREAK_GLASS_HOURS),
    )
    FollowUp.objects.create(
        case=case,
        title=_("Emergency access by %(user)s (%(org)s): %(reason)s")
        % {"user": actor.user, "org": actor.organisation, "reason": reason[:200]},
        due_on=timezone.localdate(),
        owner_id=case.case_manager_id,
        organisation_id=case.lead_organisation_id,
        created_by=actor.user,
    )
    access_log_record(
        actor=actor,
        action=AccessAction.CREATE,
        person_ids=[case.person_id],
        categories=sorted(ALL_CATEGORIES),
        basis=Basis.BREAK_GLASS,
        purpose="emergency",
        object_type="break_glass",
        object_id=grant.pk,
    )
    return grant
