"""Reads of person data, scoped to what the acting membership may see, and logged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lotse.core.models import AccessAction, Membership
from lotse.core.services import access_log_record
from lotse.privacy.access import persons_with_category
from lotse.privacy.categories import Category

from .models import Person
from .names import similarity

DUPLICATE_THRESHOLD = 80.0


def timeline_mark_current(entries: Sequence[Any]) -> None:
    """Set `.current` on each timeline entry: nobody superseded it and it is no retraction.
    Computed from the loaded rows, so showing a history costs no query per entry."""
    superseded = {e.supersedes_id for e in entries if e.supersedes_id}
    for entry in entries:
        entry.current = entry.pk not in superseded and not entry.is_retraction


@dataclass(frozen=True)
class DuplicateCandidate:
    person: Person
    score: float
    matched_name: str


def person_duplicate_candidates(
    *,
    actor: Membership,
    family_name: str,
    given_names: str,
    birth_date: dt.date,
    other_names: Sequence[tuple[str, str]] = (),
) -> list[DuplicateCandidate]:
    """Persons whose master data the actor may read, with the same birth date and a
    similar name in any spelling. Others are never offered: matching on a birth date or
    another spelling the actor may not see would disclose it."""
    wanted = [f"{given_names} {family_name}"] + [f"{g} {f}" for f, g in other_names]
    candidates = (
        persons_with_category(actor, Category.MASTER)
        .filter(birth_date=birth_date)
        .prefetch_related("other_names")
    )
    found: list[DuplicateCandidate] = []
    for person in candidates:
        theirs = [person.full_name] + [str(n) for n in person.other_names.all()]
        best, best_name = 0.0, ""
        for mine in wanted:
            for name in theirs:
                score = similarity(mine, name)
                if score > best:
                    best, best_name = score, name
        if best >= DUPLICATE_THRESHOLD:
            found.append(DuplicateCandidate(person=person, score=best, matched_name=best_name))
    found.sort(key=lambda c: -c.score)
    if found:
        access_log_record(
            actor=actor,
            action=AccessAction.LIST,
            person_ids=[c.person.pk for c in found],
            categories=[Category.MASTER],
            basis="duplicate_check",
            object_type="person",
        )
    return found
