"""Builders for eligibility facts in tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lotse.eligibility import Facts, Result, evaluate, parse_facts


def facts(
    *statuses: tuple[str, str, str | None],
    birth: str = "2003-05-20",
    entry: str | None = "2024-01-10",
    nationality: str | None = "AF",
    benefits: list[dict[str, Any]] | None = None,
    **flags: Any,
) -> Facts:
    return parse_facts(
        {
            "birth_date": birth,
            "entry_date": entry,
            "nationality": nationality,
            "status_history": [{"status": s, "from": f, "to": t} for s, f, t in statuses],
            "benefits_history": benefits or [],
            "flags": flags,
        }
    )


def on(f: Facts, day: str) -> Result:
    return evaluate(f, dt.date.fromisoformat(day))


def result(f: Facts, day: str, category: str) -> str:
    return on(f, day).item(category).result
