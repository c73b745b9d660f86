"""Reads of the privacy core."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from lotse.casework.models import Case
from lotse.core.models import Membership, Organisation, User
from lotse.core.roles import Role

from .models import Consent, SharingAgreement


@dataclass
class ConsentOverview:
    consents: list[Consent]
    team_organisations: list[Organisation]
    receivers: QuerySet[Organisation]
    team_users: QuerySet[User]


def consent_state(consent: Consent, today: Any = None) -> str:
    today = today or timezone.localdate()
    if consent.withdrawn_at is not None:
        return "withdrawn"
    if consent.valid_until is not None and consent.valid_until < today:
        return "expired"
    if consent.signed_on > today:
        return "future"
    return "valid"


def consent_overview(*, actor: Membership, case: Case) -> ConsentOverview:
    """The person's consents (for the lead; callers check), newest first, with state."""
    consents = list(
        Consent.objects.filter(person_id=case.person_id)
        .select_related("recorded_by", "recorded_for", "withdrawn_by")
        .prefetch_related("receiving_organisations", "named_users")
    )
    for consent in consents:
        consent.state = consent_state(consent)  # type: ignore[attr-defined]
    team = case.team.filter(removed_at__isnull=True)
    team_org_ids = team.values("organisation_id")
    return ConsentOverview(
        consents=consents,
        team_organisations=list(Organisation.objects.filter(pk__in=team_org_ids)),
        receivers=Organisation.objects.filter(is_active=True).exclude(pk=case.lead_organisation_id),
        team_users=User.objects.filter(pk__in=team.values("user_id")).order_by("last_name"),
    )


def agreement_list(*, actor: Membership, editable: bool = False) -> QuerySet[SharingAgreement]:
    """Agreements the actor's organisation takes part in (system administrators: all)."""
    qs = SharingAgreement.objects.select_related(
        "source_organisation", "receiver_organisation", "owner"
    )
    if actor.role == Role.SYSADMIN:
        return qs
    if editable:
        return qs.filter(owner_id=actor.organisation_id)
    org = actor.organisation
    return qs.filter(
        Q(owner_id=org.pk)
        | Q(source_organisation_id=org.pk)
        | Q(receiver_organisation_id=org.pk)
        | Q(receiver_type=org.org_type)
        | Q(source_type=org.org_type)
    )
