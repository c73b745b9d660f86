"""Facts in, result out: the data model of the eligibility engine (DESIGN §6).

Pure dataclasses; :func:`parse_facts` validates a JSON-like dict and raises
:class:`FactsError` with a message per field.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from .codes import CODES, Codes


class FactsError(ValueError):
    """Invalid facts; ``errors`` maps a field path to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


@dataclass(frozen=True, slots=True)
class StatusPeriod:
    status: str
    start: dt.date
    end: dt.date | None  # inclusive; None = open


@dataclass(frozen=True, slots=True)
class BenefitPeriod:
    regime: str
    start: dt.date
    end: dt.date | None


@dataclass(frozen=True, slots=True)
class Facts:
    birth_date: dt.date
    entry_date: dt.date | None = None
    nationality: str | None = None
    status_history: tuple[StatusPeriod, ...] = ()
    benefits_history: tuple[BenefitPeriod, ...] = ()
    flags: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AccessItem:
    category: str
    result: str
    rule_id: str
    citation: str
    explanation: str
    available: bool | None = None
    availability_note: str | None = None
    missing: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "category": self.category,
            "result": self.result,
            "rule_id": self.rule_id,
            "citation": self.citation,
            "explanation": self.explanation,
        }
        if self.available is not None:
            out["available"] = self.available
            out["availability_note"] = self.availability_note or ""
        if self.missing:
            out["missing"] = list(self.missing)
        return out


@dataclass(frozen=True, slots=True)
class Upcoming:
    date: dt.date
    event: str
    explanation: str
    rule_id: str = ""  # the rule behind the change, if any (not part of the JSON contract)

    def to_json(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "event": self.event, "explanation": self.explanation}


@dataclass(frozen=True, slots=True)
class Result:
    on: dt.date
    status: str | None
    benefit_regime: str | None
    access: tuple[AccessItem, ...]
    upcoming: tuple[Upcoming, ...] = ()

    def item(self, category: str) -> AccessItem:
        for it in self.access:
            if it.category == category:
                return it
        raise KeyError(category)

    def to_json(self) -> dict[str, Any]:
        return {
            "on": self.on.isoformat(),
            "status": self.status,
            "benefit_regime": self.benefit_regime,
            "access": [a.to_json() for a in self.access],
            "upcoming": [u.to_json() for u in self.upcoming],
        }


RESULTS = ("entitled", "admissible", "needs_permission", "excluded", "unknown")

# Optional flags (DESIGN §6) and their types; other flags pass through untyped.
FLAG_TYPES: dict[str, type] = {
    "reception_centre": bool,
    "asylum_application_date": dt.date,
    "rejected_manifestly_unfounded": bool,
    "identity_clarified": bool,
    "work_ban_60a6": bool,
    "weekly_hours_employed": float,
    "german_level": str,
    "in_training": bool,
    "training_since": dt.date,
    "sgb8_help_before_21": bool,
    "employed_since": dt.date,
    "livelihood_secured_since": dt.date,
    "labour_market_proximity": bool,
}
GERMAN_LEVELS = ("none", "A1", "A2", "B1", "B2", "C1", "C2")


def _date(value: Any, name: str, errors: dict[str, str], *, required: bool) -> dt.date | None:
    if value is None:
        if required:
            errors[name] = "is required (YYYY-MM-DD)"
        return None
    if not isinstance(value, str):
        errors[name] = "must be a date string YYYY-MM-DD"
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors[name] = f"is not a valid date (YYYY-MM-DD): {value!r}"
        return None


def _periods(
    raw: Any, name: str, key: str, codes: frozenset[str], errors: dict[str, str]
) -> list[tuple[str, dt.date, dt.date | None]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors[name] = "must be a list"
        return []
    out = []
    for i, entry in enumerate(raw):
        where = f"{name}[{i}]"
        if not isinstance(entry, dict):
            errors[where] = "must be an object"
            continue
        code = entry.get(key)
        if code not in codes:
            errors[f"{where}.{key}"] = f"unknown code {code!r}"
        start = _date(entry.get("from"), f"{where}.from", errors, required=True)
        end = _date(entry.get("to"), f"{where}.to", errors, required=False)
        if start and end and end < start:
            errors[f"{where}.to"] = f"period ends ({end}) before it starts ({start})"
        if code in codes and start and f"{where}.to" not in errors:
            out.append((str(code), start, end))
    out.sort(key=lambda p: p[1])
    for a, b in itertools.pairwise(out):
        if a[2] is None or a[2] >= b[1]:
            errors[name] = f"periods overlap ({a[0]} from {a[1]} and {b[0]} from {b[1]})"
            break
    return out


def parse_facts(data: Any, codes: Codes = CODES) -> Facts:
    """Validate a facts dict (DESIGN §6) against ``codes`` and build :class:`Facts`."""
    if not isinstance(data, dict):
        raise FactsError({"facts": "must be a JSON object"})
    errors: dict[str, str] = {}
    birth = _date(data.get("birth_date"), "birth_date", errors, required=True)
    entry = _date(data.get("entry_date"), "entry_date", errors, required=False)
    if birth and entry and entry < birth:
        errors["entry_date"] = f"entry ({entry}) is before birth ({birth})"
    nationality = data.get("nationality")
    if nationality is not None and (
        not isinstance(nationality, str) or len(nationality) != 2 or not nationality.isalpha()
    ):
        errors["nationality"] = "must be an ISO 3166-1 alpha-2 code such as 'AF'"
    statuses = _periods(
        data.get("status_history"), "status_history", "status", codes.status_codes, errors
    )
    benefits = _periods(
        data.get("benefits_history"), "benefits_history", "regime", codes.regimes, errors
    )
    for kind, periods in (("status_history", statuses), ("benefits_history", benefits)):
        if birth and periods and periods[0][1] < birth:
            errors.setdefault(kind, f"a period starts ({periods[0][1]}) before birth ({birth})")
    flags_raw = data.get("flags") or {}
    flags: dict[str, Any] = {}
    if not isinstance(flags_raw, dict):
        errors["flags"] = "must be an object"
        flags_raw = {}
    for key, value in flags_raw.items():
        want = FLAG_TYPES.get(key)
        name = f"flags.{key}"
        if value is None:
            continue  # explicit null = not known
        if want is dt.date:
            flags[key] = _date(value, name, errors, required=True)
        elif want is bool and not isinstance(value, bool):
            errors[name] = "must be true or false"
        elif want is float:
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                errors[name] = "must be a non-negative number"
            else:
                flags[key] = float(value)
        elif key == "german_level" and value not in GERMAN_LEVELS:
            errors[name] = f"must be one of {', '.join(GERMAN_LEVELS)}"
        else:
            flags[key] = value
    if errors:
        raise FactsError(errors)
    assert birth is not None
    return Facts(
        birth_date=birth,
        entry_date=entry,
        nationality=nationality.upper() if isinstance(nationality, str) else None,
        status_history=tuple(StatusPeriod(*p) for p in statuses),
        benefits_history=tuple(BenefitPeriod(*p) for p in benefits),
        flags=flags,
    )
