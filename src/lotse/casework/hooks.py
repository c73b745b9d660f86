"""Apps that derive something from a person's casework (the measure-career scan of
referrals, issue #6) register here; casework calls them when a plan step or a case of
the person changes, inside the service's transaction. An explicit call from the
services, not a signal: what runs, and when, stays readable in the service.
"""

from __future__ import annotations

from collections.abc import Callable

PersonChanged = Callable[[int], object]

_person_changed: list[PersonChanged] = []


def register_person_changed(fn: PersonChanged) -> None:
    if fn not in _person_changed:
        _person_changed.append(fn)


def person_changed(person_id: int) -> None:
    for fn in _person_changed:
        fn(person_id)
