"""Reads for the page "Zugang & Rechtskreis" and the API: facts of a registered person,
evaluated on a date, within the actor's scope and logged (DESIGN §5).

The person's residence data must be shared with the actor: the facts are built from
it. Benefit periods are added only if benefits are shared too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from lotse.casework.models import Case
from lotse.casework.selectors import case_get
from lotse.core.models import Membership
from lotse.core.roles import Perm
from lotse.people.codes import ResidenceStatus
from lotse.people.models import Person
from lotse.privacy.access import CaseAccess, case_access, log_person_read, person_access
from lotse.privacy.categories import Category

from . import labels
from .adapter import load_facts_for_person
from .engine import Rule, RuleSet, evaluate
from .model import AccessItem, FactsError, Result, Upcoming, parse_facts
from .models import PersonFacts
from .ruleset import active_rule_set


@dataclass
class ShownItem:
    category: str
    label: str
    result: str
    result_label: str
    badge: str
    explanation: str
    citation: str
    rule_id: str
    available: bool | None
    availability_note: str
    missing: list[str]


@dataclass
class ShownEvent:
    date: dt.date
    event: str
    text: str


@dataclass
class PersonEligibility:
    person: Person
    on: dt.date
    facts: dict[str, Any]
    result: Result | None
    errors: dict[str, str] = field(default_factory=dict)
    items: list[ShownItem] = field(default_factory=list)
    events: list[ShownEvent] = field(default_factory=list)
    regime_label: str = ""
    benefits_included: bool = False
    record: PersonFacts | None = None
    rule_set: RuleSet | None = None


def _german() -> bool:
    return (get_language() or "de").startswith("de")


def _explanation(rule: Rule | None, fallback: str) -> str:
    if rule is not None and rule.explanation_de and _german():
        return rule.explanation_de
    return rule.explanation if rule is not None else fallback


def _fact_label(name: str) -> str:
    return str(labels.FACT_LABELS.get(name, name))


def _shown_item(item: AccessItem, rs: RuleSet) -> ShownItem:
    rule = rs.by_id.get(item.rule_id)
    if item.missing:
        text = _("Cannot be decided without: %(facts)s. The rule in question: %(rule)s") % {
            "facts": ", ".join(_fact_label(m) for m in item.missing),
            "rule": _explanation(rule, item.explanation),
        }
    elif rule is None:
        text = _(
            "The rule set has no rule for these facts on this date; check the case individually."
        )
    else:
        text = _explanation(rule, item.explanation)
    note = item.availability_note or ""
    if note and _german():
        overlay = next((o for o in rs.overlays if o.note == note and o.note_de), None)
        note = overlay.note_de if overlay else note
    return ShownItem(
        category=item.category,
        label=str(labels.CATEGORY_LABELS.get(item.category, item.category)),
        result=item.result,
        result_label=str(labels.RESULT_LABELS[item.result]),
        badge=labels.RESULT_BADGES[item.result],
        explanation=text,
        citation=item.citation,
        rule_id=item.rule_id,
        available=item.available,
        availability_note=note,
        missing=[_fact_label(m) for m in item.missing],
    )


def _shown_event(u: Upcoming, rs: RuleSet, status: str | None) -> ShownEvent:
    rule = rs.by_id.get(u.rule_id)
    if u.event in labels.AGE_EVENT_LABELS:
        text = str(labels.AGE_EVENT_LABELS[u.event])
    elif u.event == "status_end":
        text = _(
            "The current residence status (%(status)s) ends; a renewal or a new status is "
            "needed. The transitions below assume it continues."
        ) % {"status": ResidenceStatus(status).label if status else "–"}
    elif u.event.startswith("benefit_") and rule is not None:
        regime = u.event.removeprefix("benefit_")
        text = _("Benefit regime becomes %(regime)s (%(citation)s): %(rule)s") % {
            "regime": labels.REGIME_LABELS.get(regime, regime),
            "citation": rule.citation,
            "rule": _explanation(rule, u.explanation),
        }
    elif rule is not None:
        category = rule.category
        label = labels.CATEGORY_LABELS.get(category, category)
        if u.event.endswith("_reachable"):
            head = _("%(category)s: the prerequisites are met") % {"category": label}
        else:
            head = _("%(category)s becomes “%(result)s”") % {
                "category": label,
                "result": labels.RESULT_LABELS.get(rule.result, rule.result),
            }
        text = f"{head} ({rule.citation}): {_explanation(rule, u.explanation)}"
    else:
        text = u.explanation
    return ShownEvent(date=u.date, event=u.event, text=text)


def _evaluate(
    actor: Membership, person: Person, access: CaseAccess, on: dt.date
) -> PersonEligibility:
    rs = active_rule_set()
    benefits_included = access.allows(Category.BENEFITS)
    facts, record = load_facts_for_person(person, with_benefits=benefits_included)
    out = PersonEligibility(
        person=person,
        on=on,
        facts=facts,
        result=None,
        benefits_included=benefits_included,
        record=record,
        rule_set=rs,
    )
    try:
        parsed = parse_facts(facts, rs.codes)
    except FactsError as exc:
        out.errors = exc.errors
    else:
        result = evaluate(parsed, on, rule_set=rs)
        out.result = result
        out.items = [_shown_item(i, rs) for i in result.access]
        out.events = [_shown_event(u, rs, result.status) for u in result.upcoming]
        if result.benefit_regime:
            out.regime_label = str(labels.REGIME_LABELS.get(result.benefit_regime, ""))
    shown = [Category.MASTER, Category.RESIDENCE] + (
        [Category.BENEFITS] if benefits_included else []
    )
    # One entry per basis, the categories read on it (master: name and birth date).
    log_person_read(actor, person.pk, access, shown, "eligibility", person.pk)
    return out


def _require_residence(actor: Membership | None, access: CaseAccess) -> Membership:
    if actor is None or not access.visible:
        raise Http404
    # The facts are the residence history plus birth date, entry and nationality.
    needed = (Category.MASTER, Category.RESIDENCE)
    if not actor.has_perm(Perm.CASE_VIEW) or not all(access.allows(c) for c in needed):
        raise PermissionDenied
    return actor


def case_eligibility(
    *, actor: Membership | None, case_id: int, on: dt.date
) -> tuple[Case, PersonEligibility, CaseAccess]:
    """The eligibility of the case's person on ``on``; 404 out of scope, 403 when the
    role may not view cases or residence data is not shared with the actor."""
    case = case_get(actor=actor, case_id=case_id)
    access = case_access(actor, case)
    actor = _require_residence(actor, access)
    return case, _evaluate(actor, case.person, access, on), access


def person_eligibility(
    *, actor: Membership | None, person_id: int, on: dt.date
) -> PersonEligibility:
    """The same for a person (API): what the actor may read over the person's cases."""
    access = person_access(actor, person_id)
    actor = _require_residence(actor, access)
    person = Person.objects.get(pk=person_id)
    return _evaluate(actor, person, access, on)
