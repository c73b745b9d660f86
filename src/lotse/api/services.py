"""Writes of the API package: personal API tokens, and the one composite write the
API offers (register a person with a duplicate check). Keyword-only functions."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lotse.casework.models import Case
from lotse.casework.services import case_manager_set, case_phase_set, case_register
from lotse.core.models import Membership, User
from lotse.core.roles import Perm
from lotse.people.selectors import DuplicateCandidate, person_duplicate_candidates

from .models import ApiToken

logger = logging.getLogger(__name__)

TOKEN_SCHEME = "lotse"  # noqa: S105 - the token's leading word, not a secret


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_prefix_of(token: str) -> str | None:
    """The prefix of a token `lotse_<prefix>_<secret>`, or None if it has another form."""
    scheme, _sep, rest = token.partition("_")
    prefix, sep, secret = rest.partition("_")
    if scheme != TOKEN_SCHEME or not sep or not prefix or not secret:
        return None
    return prefix


def token_create(
    *, membership: Membership, name: str = "", expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token for the membership; return it with the plain token, which is
    never stored and cannot be shown again."""
    if not (
        membership.is_active and membership.user.is_active and membership.organisation.is_active
    ):
        raise ValidationError(
            {"membership": [_("The membership, its user or its organisation is inactive.")]}
        )
    if not membership.has_perm(Perm.API_TOKEN):
        raise PermissionDenied(
            _("The role %(role)s may not use API tokens.") % {"role": membership.get_role_display()}
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": [_("The expiry date must lie in the future.")]})
    name = name.strip()
    for _attempt in range(5):
        # The prefix is hex so it never contains the "_" separator.
        prefix = secrets.token_hex(5)
        plain = f"{TOKEN_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
        token = ApiToken(
            membership=membership,
            name=name,
            prefix=prefix,
            token_hash=token_hash(plain),
            expires_at=expires_at,
        )
        token.full_clean(exclude=["token_hash", "prefix"])
        try:
            with transaction.atomic():
                token.save()
        except IntegrityError:  # prefix collision: draw again
            continue
        logger.info("API token %s created for membership %s", prefix, membership.pk)
        return token, plain
    raise RuntimeError("could not draw a unique token prefix")


def token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke the token at once; revoking twice keeps the first date."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        logger.info("API token %s revoked", token.prefix)
    return token


def token_authenticate(*, plain: str) -> ApiToken | None:
    """The usable token for a plain token string, or None. Marks it as used."""
    prefix = token_prefix_of(plain)
    if prefix is None:
        return None
    token = (
        ApiToken.objects.select_related("membership__user", "membership__organisation")
        .filter(prefix=prefix)
        .first()
    )
    if token is None or not secrets.compare_digest(token.token_hash, token_hash(plain)):
        return None
    if not token.is_usable:
        return None
    now = timezone.now()
    # Record use at most once a minute, so reads do not each cost a write.
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


class DuplicateSuspected(Exception):
    """Registration stopped: persons in scope look like the one being registered."""

    def __init__(self, candidates: list[DuplicateCandidate]) -> None:
        super().__init__("possible duplicates")
        self.candidates = candidates


def person_register(
    *,
    actor: Membership,
    confirm_not_duplicate: bool = False,
    opened_on: dt.date | None = None,
    other_names: Sequence[tuple[str, str]] = (),
    languages: Sequence[tuple[str, str]] = (),
    **person_fields: Any,
) -> Case:
    """Register a person and open a case (casework.services.case_register), unless
    persons in scope look alike and the caller has not confirmed it is someone else."""
    # Checked before the duplicate search: it must not show persons to roles that
    # may not register anybody.
    if not actor.has_perm(Perm.CASE_CREATE):
        raise PermissionDenied
    if not confirm_not_duplicate:
        candidates = person_duplicate_candidates(
            actor=actor,
            family_name=person_fields.get("family_name", ""),
            given_names=person_fields.get("given_names", ""),
            birth_date=person_fields["birth_date"],
            other_names=other_names,
        )
        if candidates:
            raise DuplicateSuspected(candidates)
    return case_register(
        actor=actor,
        opened_on=opened_on,
        other_names=other_names,
        languages=languages,
        **person_fields,
    )


@transaction.atomic
def case_update(
    *,
    actor: Membership,
    case: Case,
    phase: str | None = None,
    case_manager: User | None = None,
    closing_reason: str | None = None,
    closing_note: str = "",
    closed_on: dt.date | None = None,
) -> Case:
    """PATCH of a case: case manager and/or phase, through the casework services,
    all or nothing."""
    if phase is None and case_manager is None:
        if closing_reason or closing_note or closed_on:
            raise ValidationError({"phase": [_("Set the phase to closed to close the case.")]})
        raise ValidationError({"__all__": [_("Nothing to change.")]})
    if case_manager is not None:
        case = case_manager_set(actor=actor, case=case, user=case_manager)
    if phase is not None:
        case = case_phase_set(
            actor=actor,
            case=case,
            phase=phase,
            closing_reason=closing_reason or "",
            closing_note=closing_note,
            closed_on=closed_on,
        )
    return case
