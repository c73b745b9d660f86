"""The access decision (DESIGN §5.2): who may see which category of which person.

A user acting in a membership with a casework role may read category C of a case
(and of its person) if the acting organisation

  (a) leads the case — every category, basis ``lead_organisation``; or
  (b) is on the case's active team **and** has
      - a valid, unwithdrawn consent of the person covering C, the purpose and the
        organisation (and, if the consent names staff, the user) — basis ``consent``,
      - or a sharing agreement / configured legal basis from the lead organisation
        (or its type, or anyone) to the acting organisation (or its type) covering C
        and the purpose — basis ``agreement``;
  (c) or the user holds an unexpired break-glass access to the case — basis
      ``break_glass`` (every category, logged and reported).

A case with no category allowed does not exist for the user: lists, search, counts,
exports and the API start from ``visible_cases`` / ``visible_persons``, whose SQL
mirrors ``decide`` (a property test keeps the two in step).

``decide`` is pure (facts in, decision out); the functions below it load the facts
for one or many cases in a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lotse.casework.models import Case, CaseTeamMember
from lotse.core.models import Membership, Organisation
from lotse.core.roles import Perm
from lotse.people.models import Person

from .categories import Category, Purpose
from .models import BreakGlassAccess, Consent, SharingAgreement

ALL_CATEGORIES: frozenset[str] = frozenset(c.value for c in Category)


class Basis:
    LEAD_ORGANISATION = "lead_organisation"
    CONSENT = "consent"
    AGREEMENT = "agreement"
    BREAK_GLASS = "break_glass"
    # Kept for log entries written before category-level access (issue #2).
    CASE_TEAM = "case_team"


BASIS_LABELS = {
    Basis.LEAD_ORGANISATION: _("lead organisation"),
    Basis.CONSENT: _("consent"),
    Basis.AGREEMENT: _("agreement / legal basis"),
    Basis.BREAK_GLASS: _("emergency access"),
    Basis.CASE_TEAM: _("case team"),
}

# When several bases allow a category, the strongest is recorded.
_STRENGTH = {
    Basis.LEAD_ORGANISATION: 4,
    Basis.BREAK_GLASS: 3,
    Basis.CONSENT: 2,
    Basis.AGREEMENT: 1,
}


# --- facts and the pure decision ----------------------------------------------------


@dataclass(frozen=True)
class ConsentFact:
    categories: frozenset[str]
    purpose: str
    organisation_ids: frozenset[int]
    user_ids: frozenset[int]  # empty: every staff member of the receiving organisations
    signed_on: dt.date
    valid_until: dt.date | None
    withdrawn_at: dt.datetime | None
    id: int | None = None

    def covers(
        self, *, org_id: int, user_id: int, category: str, purpose: str, now: dt.datetime
    ) -> bool:
        today = timezone.localdate(now) if timezone.is_aware(now) else now.date()
        return (
            category in self.categories
            and purpose == self.purpose
            and org_id in self.organisation_ids
            and (not self.user_ids or user_id in self.user_ids)
            and self.signed_on <= today
            and (self.valid_until is None or today <= self.valid_until)
            and (self.withdrawn_at is None or self.withdrawn_at > now)
        )


@dataclass(frozen=True)
class AgreementFact:
    categories: frozenset[str]
    purposes: frozenset[str]
    source_org_id: int | None
    source_type: str
    receiver_org_id: int | None
    receiver_type: str
    valid_from: dt.date
    valid_to: dt.date | None
    legal_basis: str = ""
    id: int | None = None

    def receiver_matches(self, org_id: int, org_type: str) -> bool:
        if self.receiver_org_id is not None:
            return self.receiver_org_id == org_id
        return self.receiver_type == org_type

    def source_matches(self, lead_org_id: int, lead_type: str) -> bool:
        if self.source_org_id is not None:
            return self.source_org_id == lead_org_id
        return not self.source_type or self.source_type == lead_type

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Situation:
    """Everything the decision needs about one actor and one case."""

    actor_org_id: int
    actor_org_type: str
    actor_user_id: int
    may_view: bool
    lead_org_id: int
    lead_org_type: str
    on_team: bool
    consents: tuple[ConsentFact, ...] = ()
    agreements: tuple[AgreementFact, ...] = ()
    break_glass_until: dt.datetime | None = None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    basis: str = ""
    detail: str = ""  # consent id, legal basis, …


DENY = Decision(False)


def decide(situation: Situation, category: str, purpose: str, now: dt.datetime) -> Decision:
    """Allow or deny one category of one case, with the basis (pure; DESIGN §5.2)."""
    s = situation
    if not s.may_view or category not in ALL_CATEGORIES:
        return DENY
    if s.actor_org_id == s.lead_org_id:
        return Decision(True, Basis.LEAD_ORGANISATION)
    if s.break_glass_until is not None and s.break_glass_until > now:
        return Decision(True, Basis.BREAK_GLASS)
    if not s.on_team:
        return DENY
    for consent in s.consents:
        if consent.covers(
            org_id=s.actor_org_id,
            user_id=s.actor_user_id,
            category=category,
            purpose=purpose,
            now=now,
        ):
            return Decision(True, Basis.CONSENT, str(consent.id or ""))
    today = timezone.localdate(now) if timezone.is_aware(now) else now.date()
    for agreement in s.agreements:
        if (
            category in agreement.categories
            and purpose in agreement.purposes
            and agreement.valid_on(today)
            and agreement.receiver_matches(s.actor_org_id, s.actor_org_type)
            and agreement.source_matches(s.lead_org_id, s.lead_org_type)
        ):
            return Decision(True, Basis.AGREEMENT, agreement.legal_basis)
    return DENY


# --- what one actor may see of one case ------------------------------------------------


@dataclass
class CaseAccess:
    """The categories of one case the actor may read, each with its basis."""

    case_id: int
    categories: dict[str, str] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)

    def allows(self, category: str) -> bool:
        return category in self.categories

    def basis(self, category: str | None = None) -> str:
        """The basis for a category, or the strongest basis overall."""
        if category is not None:
            return self.categories.get(category, "")
        if not self.categories:
            return ""
        return max(self.categories.values(), key=lambda b: _STRENGTH.get(b, 0))

    @property
    def is_lead(self) -> bool:
        return self.basis() == Basis.LEAD_ORGANISATION

    @property
    def visible(self) -> bool:
        return bool(self.categories)

    def by_basis_map(self, categories: Iterable[str]) -> dict[str, str]:
        """The given categories that are allowed, with their basis."""
        return {c: self.categories[c] for c in categories if c in self.categories}

    def merge(self, other: CaseAccess) -> None:
        for category, basis in other.categories.items():
            if _STRENGTH.get(basis, 0) > _STRENGTH.get(self.categories.get(category, ""), 0):
                self.categories[category] = basis
                if category in other.details:
                    self.details[category] = other.details[category]


def _may_see_cases(actor: Membership | None) -> bool:
    return actor is not None and actor.has_perm(Perm.CASE_VIEW)


def _agreement_facts(actor: Membership, today: dt.date, purpose: str | None) -> list[AgreementFact]:
    """Agreements in force today whose receiving side is the actor's organisation."""
    return _org_agreement_facts(actor.organisation, today, purpose)


def _org_agreement_facts(
    org: Organisation, today: dt.date, purpose: str | None
) -> list[AgreementFact]:
    rows = SharingAgreement.objects.filter(
        Q(receiver_organisation_id=org.pk)
        | Q(receiver_organisation__isnull=True, receiver_type=org.org_type),
        valid_from__lte=today,
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
    facts = [
        AgreementFact(
            categories=frozenset(a.categories) & ALL_CATEGORIES,
            purposes=frozenset(a.purposes),
            source_org_id=a.source_organisation_id,
            source_type=a.source_type,
            receiver_org_id=a.receiver_organisation_id,
            receiver_type=a.receiver_type,
            valid_from=a.valid_from,
            valid_to=a.valid_to,
            legal_basis=a.legal_basis,
            id=a.pk,
        )
        for a in rows
    ]
    return [f for f in facts if f.categories and (purpose is None or purpose in f.purposes)]


def _decide_all(access: CaseAccess, situation: Situation, purpose: str, now: dt.datetime) -> None:
    """Fill ``access`` with every category ``decide`` allows, with basis and detail."""
    for category in ALL_CATEGORIES:
        decision = decide(situation, category, purpose, now)
        if decision.allowed:
            access.categories[category] = decision.basis
            if decision.detail:
                access.details[category] = decision.detail


def case_access_bulk(
    actor: Membership | None,
    cases: Iterable[Case],
    *,
    purpose: str = Purpose.CASEWORK,
    now: dt.datetime | None = None,
) -> dict[int, CaseAccess]:
    """What the actor may read of each case, in a fixed number of queries."""
    cases = list(cases)
    result = {c.pk: CaseAccess(case_id=c.pk) for c in cases}
    if not _may_see_cases(actor) or not cases:
        return result
    assert actor is not None
    now = now or timezone.now()
    today = timezone.localdate(now)
    org = actor.organisation
    foreign = [c for c in cases if c.lead_organisation_id != org.pk]
    team: set[int] = set()
    consents: dict[int, list[ConsentFact]] = {}
    glass: dict[int, dt.datetime] = {}
    agreements: list[AgreementFact] = []
    lead_types: dict[int, str] = {}
    if foreign:
        ids = [c.pk for c in foreign]
        team = set(
            CaseTeamMember.objects.filter(
                case_id__in=ids, organisation_id=org.pk, removed_at__isnull=True
            ).values_list("case_id", flat=True)
        )
        for row in BreakGlassAccess.objects.filter(
            case_id__in=ids, user_id=actor.user_id, organisation_id=org.pk, expires_at__gt=now
        ).values("case_id", "expires_at"):
            glass[row["case_id"]] = max(row["expires_at"], glass.get(row["case_id"], now))
        person_ids = {c.person_id for c in foreign if c.pk in team}
        if person_ids:
            rows = Consent.objects.filter(
                person_id__in=person_ids,
                receiving_organisations=org.pk,
                withdrawn_at__isnull=True,
            ).prefetch_related("named_users")
            for c in rows:
                consents.setdefault(c.person_id, []).append(
                    ConsentFact(
                        categories=frozenset(c.categories),
                        purpose=c.purpose,
                        organisation_ids=frozenset({org.pk}),
                        user_ids=frozenset(u.pk for u in c.named_users.all()),
                        signed_on=c.signed_on,
                        valid_until=c.valid_until,
                        withdrawn_at=c.withdrawn_at,
                        id=c.pk,
                    )
                )
            agreements = _agreement_facts(actor, today, purpose)
            lead_types = dict(
                Case.objects.filter(pk__in=[c.pk for c in foreign]).values_list(
                    "pk", "lead_organisation__org_type"
                )
            )
    for case in cases:
        situation = Situation(
            actor_org_id=org.pk,
            actor_org_type=org.org_type,
            actor_user_id=actor.user_id,
            may_view=True,
            lead_org_id=case.lead_organisation_id,
            lead_org_type=lead_types.get(case.pk, ""),
            on_team=case.pk in team,
            consents=tuple(consents.get(case.person_id, ())),
            agreements=tuple(agreements),
            break_glass_until=glass.get(case.pk),
        )
        _decide_all(result[case.pk], situation, purpose, now)
    return result


def case_access(
    actor: Membership | None,
    case: Case,
    *,
    purpose: str = Purpose.CASEWORK,
    now: dt.datetime | None = None,
) -> CaseAccess:
    return case_access_bulk(actor, [case], purpose=purpose, now=now)[case.pk]


def receiver_access_bulk(
    cases: Iterable[Case],
    organisation: Organisation,
    *,
    user_id: int | None = None,
    purpose: str = Purpose.REFERRAL,
    now: dt.datetime | None = None,
) -> dict[int, CaseAccess]:
    """What an organisation that referrals address may read of each case for
    ``purpose``: as a member of the case team (DESIGN §5.2 b), by consent or agreement,
    in a fixed number of queries. ``user_id`` None asks for the organisation as a whole
    (the check before sending: a consent that names some of its staff counts)."""
    cases = list(cases)
    now = now or timezone.now()
    result = {c.pk: CaseAccess(case_id=c.pk) for c in cases}
    if not cases:
        return result
    lead_types = dict(
        Case.objects.filter(pk__in=list(result)).values_list("pk", "lead_organisation__org_type")
    )
    consents: dict[int, list[ConsentFact]] = {}
    for c in Consent.objects.filter(
        person_id__in={case.person_id for case in cases},
        purpose=purpose,
        receiving_organisations=organisation.pk,
        withdrawn_at__isnull=True,
    ).prefetch_related("named_users"):
        consents.setdefault(c.person_id, []).append(
            ConsentFact(
                categories=frozenset(c.categories),
                purpose=c.purpose,
                organisation_ids=frozenset({organisation.pk}),
                user_ids=frozenset(u.pk for u in c.named_users.all()) if user_id else frozenset(),
                signed_on=c.signed_on,
                valid_until=c.valid_until,
                withdrawn_at=c.withdrawn_at,
                id=c.pk,
            )
        )
    agreements = tuple(_org_agreement_facts(organisation, timezone.localdate(now), purpose))
    for case in cases:
        situation = Situation(
            actor_org_id=organisation.pk,
            actor_org_type=organisation.org_type,
            actor_user_id=user_id or 0,
            may_view=True,
            lead_org_id=case.lead_organisation_id,
            lead_org_type=lead_types.get(case.pk, ""),
            on_team=True,
            consents=tuple(consents.get(case.person_id, ())),
            agreements=agreements,
        )
        _decide_all(result[case.pk], situation, purpose, now)
    return result


def receiver_access(
    case: Case,
    organisation: Organisation,
    *,
    user_id: int | None = None,
    purpose: str = Purpose.REFERRAL,
    now: dt.datetime | None = None,
) -> CaseAccess:
    return receiver_access_bulk([case], organisation, user_id=user_id, purpose=purpose, now=now)[
        case.pk
    ]


def person_access(actor: Membership | None, person_id: int) -> CaseAccess:
    """What the actor may read of a person: the union over the person's cases."""
    merged = CaseAccess(case_id=0)
    if not _may_see_cases(actor):
        return merged
    cases = list(Case.objects.filter(person_id=person_id))
    for access in case_access_bulk(actor, cases).values():
        merged.merge(access)
    return merged


# --- the same decision as SQL, for lists, search and counts ----------------------------


def _json_list_has(field_name: str, code: str) -> Q:
    # JSON text contains the quoted code; portable across SQLite and PostgreSQL, and
    # category codes are plain words none of which contains another in quotes.
    return Q(**{f"{field_name}__icontains": f'"{code}"'})


def _consent_exists(
    actor: Membership, purpose: str, category: str | None, now: dt.datetime
) -> Exists:
    today = timezone.localdate(now)
    consents = Consent.objects.filter(
        person=OuterRef("person_id"),
        purpose=purpose,
        receiving_organisations=actor.organisation_id,
        withdrawn_at__isnull=True,
        signed_on__lte=today,
    ).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today),
        Q(named_users__isnull=True) | Q(named_users=actor.user_id),
    )
    if category is not None:
        consents = consents.filter(_json_list_has("categories", category))
    return Exists(consents)


def _agreement_q(actor: Membership, purpose: str, category: str | None, now: dt.datetime) -> Q:
    facts = [
        f
        for f in _agreement_facts(actor, timezone.localdate(now), purpose)
        if category is None or category in f.categories
    ]
    if any(f.source_org_id is None and not f.source_type for f in facts):
        # An agreement from anyone covers every case the actor is on the team of. Not
        # `Q()`: an empty Q vanishes when OR-ed with another condition.
        return Q(pk__isnull=False)
    org_ids = {f.source_org_id for f in facts if f.source_org_id is not None}
    types = {f.source_type for f in facts if f.source_org_id is None and f.source_type}
    if not org_ids and not types:
        return Q(pk__in=[])
    return Q(lead_organisation_id__in=org_ids) | Q(lead_organisation__org_type__in=types)


def _team_exists(actor: Membership) -> Exists:
    return Exists(
        CaseTeamMember.objects.filter(
            case=OuterRef("pk"), organisation_id=actor.organisation_id, removed_at__isnull=True
        )
    )


def _glass_exists(actor: Membership, now: dt.datetime) -> Exists:
    return Exists(
        BreakGlassAccess.objects.filter(
            case=OuterRef("pk"),
            user_id=actor.user_id,
            organisation_id=actor.organisation_id,
            expires_at__gt=now,
        )
    )


def category_q(
    actor: Membership,
    category: str | None = None,
    purpose: str = Purpose.CASEWORK,
    now: dt.datetime | None = None,
) -> Q:
    """SQL twin of ``decide`` on Case rows: the actor may read `category` (any one
    category when None)."""
    now = now or timezone.now()
    via_team = _team_exists(actor) & (
        Q(_consent_exists(actor, purpose, category, now))
        | _agreement_q(actor, purpose, category, now)
    )
    return Q(lead_organisation_id=actor.organisation_id) | Q(_glass_exists(actor, now)) | via_team


def visible_cases(actor: Membership | None, *, purpose: str = Purpose.CASEWORK) -> QuerySet[Case]:
    """Cases of which the actor may read at least one category."""
    if not _may_see_cases(actor):
        return Case.objects.none()
    assert actor is not None
    return Case.objects.filter(category_q(actor, None, purpose))


def visible_persons(actor: Membership | None) -> QuerySet[Person]:
    if not _may_see_cases(actor):
        return Person.objects.none()
    return Person.objects.filter(Exists(visible_cases(actor).filter(person=OuterRef("pk"))))


def persons_with_category(actor: Membership | None, category: str) -> QuerySet[Person]:
    """Persons of which the actor may read `category` on at least one case."""
    if not _may_see_cases(actor):
        return Person.objects.none()
    assert actor is not None
    cases = Case.objects.filter(category_q(actor, category), person=OuterRef("pk"))
    return Person.objects.filter(Exists(cases))


# --- guards for views and services --------------------------------------------------------


def case_basis(actor: Membership | None, case: Case) -> str | None:
    """The strongest basis on which the actor sees this case, or None."""
    return case_access(actor, case).basis() or None


def person_basis(actor: Membership | None, person_id: int) -> str | None:
    """The strongest basis on which the actor sees the person, or None."""
    return person_access(actor, person_id).basis() or None


def require_person_edit(actor: Membership, person_id: int) -> str:
    """Person master data and timelines are kept by the lead organisation's casework roles."""
    if not actor.has_perm(Perm.CASE_EDIT):
        raise PermissionDenied
    basis = person_basis(actor, person_id)
    if basis is None:
        raise Http404
    if basis != Basis.LEAD_ORGANISATION:
        raise PermissionDenied
    return basis


def require_case(actor: Membership, case: Case, perm: str, category: str | None = None) -> str:
    """Raise 404 when the case is out of scope, 403 when the role lacks `perm` or the
    category is not shared with the actor; return the basis. Editing (CASE_EDIT) is for
    the lead organisation only."""
    access = case_access(actor, case)
    if not access.visible:
        raise Http404
    if not actor.has_perm(perm):
        raise PermissionDenied
    if perm == Perm.CASE_EDIT and not access.is_lead:
        raise PermissionDenied
    if category is not None:
        if not access.allows(category):
            raise PermissionDenied
        return access.basis(category)
    return access.basis()


def log_person_read(
    actor: Membership,
    person_id: int,
    access: CaseAccess,
    categories: Iterable[str],
    object_type: str,
    object_id: int | str,
    *,
    purpose: str = Purpose.CASEWORK,
) -> None:
    """Log a read of one person: one entry per basis with the categories read on it
    (of ``categories``, those the access allows)."""
    from lotse.core.models import AccessAction
    from lotse.core.services import access_log_record

    by_basis: dict[str, list[str]] = {}
    for category, basis in access.by_basis_map(categories).items():
        by_basis.setdefault(basis, []).append(category)
    for basis, shown in by_basis.items():
        access_log_record(
            actor=actor,
            action=AccessAction.READ,
            person_ids=[person_id],
            categories=shown,
            basis=basis,
            purpose=purpose,
            object_type=object_type,
            object_id=object_id,
        )
