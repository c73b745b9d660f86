"""Code lists loaded once from ``rules/codes.toml`` (status codes, groups, regimes,
categories, safe countries of origin with dates)."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path

RULES_DIR = Path(__file__).parent / "rules"


@dataclass(frozen=True)
class Codes:
    statuses: dict[str, str]
    groups: dict[str, frozenset[str]]
    regimes: frozenset[str]
    categories: tuple[str, ...]
    safe_countries: dict[str, tuple[dt.date, dt.date | None]]

    @property
    def status_codes(self) -> frozenset[str]:
        return frozenset(self.statuses)

    def is_safe_country(self, code: str, on: dt.date) -> bool:
        span = self.safe_countries.get(code)
        return span is not None and span[0] <= on and (span[1] is None or on <= span[1])


def load_codes(path: Path = RULES_DIR / "codes.toml") -> Codes:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    statuses = dict(raw["statuses"])
    groups = {name: frozenset(members) for name, members in raw["groups"].items()}
    for name, members in groups.items():
        unknown = members - statuses.keys()
        if unknown:
            raise ValueError(f"group {name}: unknown status codes {sorted(unknown)}")
    safe = {
        c["code"]: (
            dt.date.fromisoformat(c["valid_from"]),
            dt.date.fromisoformat(c["valid_to"]) if c.get("valid_to") else None,
        )
        for c in raw.get("safe_countries", [])
    }
    return Codes(
        statuses=statuses,
        groups=groups,
        regimes=frozenset(raw["regimes"]),
        categories=tuple(raw["categories"]),
        safe_countries=safe,
    )


CODES = load_codes()
