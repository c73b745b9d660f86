"""Matching for a registered person: scoped, consent-checked and logged (DESIGN §5).

What the reader may see decides what the matching may use: master data (age, German,
district) are required; the residence history feeds the legal check only if residence
data are shared, otherwise the legal check says "not shared"; open needs count only
from life domains whose category is shared. The access log records exactly those
categories.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from lotse.casework.codes import ItemKind, NeedStatus
from lotse.casework.models import AssessmentItem, Case
from lotse.casework.selectors import case_get
from lotse.core.models import Membership
from lotse.core.roles import Perm
from lotse.eligibility.adapter import german_level, load_facts_for_person
from lotse.eligibility.model import FactsError, parse_facts
from lotse.eligibility.ruleset import active_rule_set
from lotse.people.models import Person
from lotse.privacy.access import CaseAccess, case_access, log_person_read, person_access
from lotse.privacy.categories import LIFE_DOMAIN_CATEGORY, Category

from .matching import Match, Matcher, Profile, Ranked, Reason
from .selectors import offer_rows


@dataclass
class PersonMatches:
    person: Person
    ranked: Ranked
    matcher: Matcher
    residence_shared: bool
    facts_errors: dict[str, str]
    needs_used: dict[int, str]


def _profile(person: Person, access: CaseAccess, today: dt.date) -> tuple[Profile, dict[str, str]]:
    facts = None
    errors: dict[str, str] = {}
    if access.allows(Category.RESIDENCE):
        raw, _record = load_facts_for_person(person, with_benefits=False)
        try:
            facts = parse_facts(raw, active_rule_set().codes)
        except FactsError as exc:
            errors = exc.errors
    domains = [d for d, c in LIFE_DOMAIN_CATEGORY.items() if access.allows(c)]
    needs: dict[int, str] = {}
    items = AssessmentItem.objects.filter(
        assessment__case__person=person,
        kind=ItemKind.NEED,
        status__in=[NeedStatus.OPEN, NeedStatus.IN_PROGRESS],
        need_type__isnull=False,
        life_domain__in=domains,
    ).values_list("need_type_id", "priority")
    for need_id, priority in items:
        needs[need_id] = priority or needs.get(need_id, "")
    return (
        Profile(
            birth_date=person.birth_date,
            german_level=german_level(person),
            district_id=person.district_id,
            open_needs=needs,
            facts=facts,
            today=today,
        ),
        errors,
    )


def _log(actor: Membership, person: Person, access: CaseAccess, needs_shown: bool) -> None:
    categories: list[str] = [Category.MASTER, Category.RESIDENCE]
    if needs_shown:
        categories += sorted({c for d, c in LIFE_DOMAIN_CATEGORY.items() if access.allows(c)})
    log_person_read(actor, person.pk, access, categories, "offer_matching", person.pk)


def _matches(
    actor: Membership | None, person: Person, access: CaseAccess, only_needs: bool, limit: int
) -> PersonMatches:
    if actor is None or not access.visible:
        raise Http404
    if not actor.has_perm(Perm.CASE_VIEW) or not access.allows(Category.MASTER):
        raise PermissionDenied
    today = timezone.localdate()
    profile, errors = _profile(person, access, today)
    matcher = Matcher(profile, offer_rows(today=today), active_rule_set())
    found = matcher.ranked(limit, only_needs=only_needs)
    _log(actor, person, access, needs_shown=bool(profile.open_needs))
    return PersonMatches(
        person=person,
        ranked=found,
        matcher=matcher,
        residence_shared=access.allows(Category.RESIDENCE),
        facts_errors=errors,
        needs_used=profile.open_needs,
    )


def case_matches(
    *, actor: Membership | None, case_id: int, only_needs: bool = False, limit: int = 50
) -> tuple[Case, PersonMatches]:
    """The best ``limit`` accessible and excluded offers for the case's person."""
    case = case_get(actor=actor, case_id=case_id)
    return case, _matches(actor, case.person, case_access(actor, case), only_needs, limit)


def person_matches(
    *, actor: Membership | None, person_id: int, only_needs: bool = False, limit: int = 50
) -> PersonMatches:
    access = person_access(actor, person_id)
    if not access.visible:
        raise Http404
    person = Person.objects.select_related("district").get(pk=person_id)
    return _matches(actor, person, access, only_needs, limit)


def offer_match(
    *, person: Person, access: CaseAccess, offer_id: int, today: dt.date | None = None
) -> tuple[Match, tuple[Reason, ...]] | None:
    """The match of one current offer for the person with its reasons (None: the offer
    is not active or has ended): the check before a referral. The caller has checked
    the access and logs the read."""
    today = today or timezone.localdate()
    rows = [r for r in offer_rows(today=today) if r.id == offer_id]
    if not rows:
        return None
    profile, _errors = _profile(person, access, today)
    matcher = Matcher(profile, rows, active_rule_set())
    found = matcher.match()
    if not found:
        return None
    return found[0], matcher.explain(found[0])
