"""Facts for the engine from a registered person's records (DESIGN §6 shape).

Only the *current* timeline entries count (nobody superseded them, no retraction).
Benefit periods go in only when the caller may read the benefits category; the
engine does not need them to decide, it derives the regime from the residence
history. German level: the person's recorded German (first language counts as C2).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from lotse.people.models import BenefitPeriod, Person, ResidenceStatusPeriod
from lotse.people.selectors import timeline_mark_current

from .models import FLAG_FIELDS, PersonFacts

CEFR_FOR_ENGINE = {"native": "C2"}


def _current(entries: Iterable[Any]) -> list[Any]:
    entries = list(entries)
    timeline_mark_current(entries)
    return [e for e in entries if e.current]


def _periods(entries: Iterable[Any], key: str) -> list[dict[str, Any]]:
    return [
        {
            key: getattr(e, key),
            "from": e.valid_from.isoformat(),
            "to": e.valid_to.isoformat() if e.valid_to else None,
        }
        for e in sorted(_current(entries), key=lambda e: e.valid_from)
    ]


def german_level(person: Person) -> str | None:
    for lang in person.languages.all():
        if lang.language == "de":
            return CEFR_FOR_ENGINE.get(lang.level, lang.level)
    return None


def flags_of(record: PersonFacts | None) -> dict[str, Any]:
    if record is None:
        return {}
    out: dict[str, Any] = {}
    for name in FLAG_FIELDS:
        value = getattr(record, name)
        if value is None:
            continue
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = float(value)
        out[name] = value
    return out


def facts_for_person(
    person: Person,
    *,
    residence: Iterable[ResidenceStatusPeriod],
    benefits: Iterable[BenefitPeriod] | None,
    record: PersonFacts | None,
) -> dict[str, Any]:
    """The facts JSON of DESIGN §6 for ``person`` (validate with ``parse_facts``)."""
    flags = flags_of(record)
    level = german_level(person)
    if level is not None:
        flags["german_level"] = level
    return {
        "birth_date": person.birth_date.isoformat(),
        "entry_date": person.entry_date.isoformat() if person.entry_date else None,
        "nationality": str(person.nationality) or None,
        "status_history": _periods(residence, "status"),
        "benefits_history": _periods(benefits, "regime") if benefits is not None else [],
        "flags": flags,
    }


def load_facts_for_person(
    person: Person, *, with_benefits: bool
) -> tuple[dict[str, Any], PersonFacts | None]:
    """Read the person's records and build the facts (callers check scope and log)."""
    record = PersonFacts.objects.filter(person=person).first()
    facts = facts_for_person(
        person,
        residence=ResidenceStatusPeriod.objects.filter(person=person),
        benefits=BenefitPeriod.objects.filter(person=person) if with_benefits else None,
        record=record,
    )
    return facts, record
