"""The indicators of the goal system (issue #7): a small fixed set of types, each with
parameters, computed from the pseudonymised snapshot for a day — today for the
current value, the ends of past quarters for the trend.

Shares count persons (or referrals): a share is published only when its count and
the rest of the whole are both at least k (else "all but two" would name a small
group); a median only over at least k values.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from lotse.core.disclosure import Policy

from .models import IndicatorType
from .quality import TRANSITION_DAYS, ended_with_follow_up
from .snapshot import TARGET_AGES, Snapshot

TRAINING_OR_WORK = ["ausbildung", "eq", "bvb", "asa_flex", "arbeit"]


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "int", "category", "categories", "rules"
    default: Any
    minimum: int = 1


PARAMS: dict[str, tuple[Param, ...]] = {
    IndicatorType.OFFER_SHARE: (
        Param("categories", "categories", TRAINING_OR_WORK),
        Param("months", "int", 12),
    ),
    IndicatorType.REFERRAL_DAYS: (
        Param("category", "category", "integrationskurs"),
        Param("months", "int", 12),
    ),
    IndicatorType.STARTED_WITHIN: (
        Param("category", "category", "integrationskurs"),
        Param("weeks", "int", 8),
        Param("months", "int", 12),
    ),
    IndicatorType.TRANSITION_RATE: (Param("months", "int", 24),),
    IndicatorType.FLAGGED_SHARE: (Param("rules", "rules", []),),
    IndicatorType.PLAN_SHARE: (Param("months", "int", 12),),
}
UNIT: dict[str, str] = {
    IndicatorType.OFFER_SHARE: "percent",
    IndicatorType.REFERRAL_DAYS: "days",
    IndicatorType.STARTED_WITHIN: "percent",
    IndicatorType.TRANSITION_RATE: "percent",
    IndicatorType.FLAGGED_SHARE: "percent",
    IndicatorType.PLAN_SHARE: "percent",
}


def params_with_defaults(indicator: str, params: Mapping[str, Any]) -> dict[str, Any]:
    return {p.name: params.get(p.name, p.default) for p in PARAMS[indicator]}


@dataclass(frozen=True)
class Value:
    value: float | None  # None: withheld or nothing to measure
    base: int  # persons or referrals measured (for the reader: not published when < k)


def _share(part: int, whole: int, k: int) -> Value:
    if whole == 0 or part < k or whole - part < k:
        return Value(None, whole)
    return Value(100 * part / whole, whole)


def _months_before(day: dt.date, months: int) -> dt.date:
    return day - dt.timedelta(days=round(months * 30.44))


def _target_persons(snapshot: Snapshot, on: dt.date) -> pl.DataFrame:
    """Pseudonyms of the persons 18–27 with a case open on ``on``."""
    back = (snapshot.on.year - on.year) * 12 + snapshot.on.month - on.month
    quarter = pl.lit(on).dt.truncate("1q")
    open_then = (
        snapshot.cases.filter(
            (pl.col("opened_quarter") <= quarter)
            & (pl.col("closed_quarter").is_null() | (pl.col("closed_quarter") > quarter))
        )
        .select("pkey")
        .unique()
    )
    ages = snapshot.persons.select("pkey", years=(pl.col("age_months") - back) // 12)
    return (
        open_then.join(ages, on="pkey")
        .filter(pl.col("years").is_between(*TARGET_AGES))
        .select("pkey")
    )


def _offer_share(snapshot: Snapshot, on: dt.date, p: dict[str, Any], k: int) -> Value:
    persons = _target_persons(snapshot, on)
    since = _months_before(on, p["months"])
    parts = snapshot.participations.filter(
        pl.col("category").is_in(p["categories"])
        & (pl.col("started_on") <= on)
        & (pl.col("ended_on").is_null() | (pl.col("ended_on") >= since))
    )
    with_offer = persons.join(parts.select("pkey").unique(), on="pkey").height
    return _share(with_offer, persons.height, k)


def _started(snapshot: Snapshot, on: dt.date, p: dict[str, Any]) -> pl.DataFrame:
    since = _months_before(on, p["months"])
    refs = snapshot.referrals
    if "category" in refs.columns:
        refs = refs.filter(pl.col("category") == p["category"])
    return refs.filter((pl.col("sent_on") >= since) & (pl.col("sent_on") <= on)).with_columns(
        days=pl.when(pl.col("started_on") <= on)
        .then((pl.col("started_on") - pl.col("sent_on")).dt.total_days())
        .otherwise(None)
    )


def _referral_days(snapshot: Snapshot, on: dt.date, p: dict[str, Any], k: int) -> Value:
    days = [d for d in _started(snapshot, on, p)["days"].to_list() if d is not None]
    if len(days) < k:
        return Value(None, len(days))
    return Value(float(statistics.median(days)), len(days))


def _started_within(snapshot: Snapshot, on: dt.date, p: dict[str, Any], k: int) -> Value:
    refs = _started(snapshot, on, p)
    # Referrals whose N weeks are over (or that started): the others cannot tell yet.
    limit = p["weeks"] * 7
    due = refs.filter(
        pl.col("days").is_not_null() | (pl.col("sent_on") <= on - dt.timedelta(days=limit))
    )
    within = due.filter(pl.col("days") <= limit).height
    return _share(within, due.height, k)


def _transition_rate(snapshot: Snapshot, on: dt.date, p: dict[str, Any], k: int) -> Value:
    """Of the participations that ended in the window and at least 6 months before
    ``on``: the share followed by an exit or a next step (``quality``'s definition)."""
    horizon = on - dt.timedelta(days=TRANSITION_DAYS)
    ended = ended_with_follow_up(snapshot).filter(
        (pl.col("ended_on") <= horizon) & (pl.col("ended_on") >= _months_before(on, p["months"]))
    )
    return _share(int(ended["transition"].sum()), ended.height, k)


def _flagged_share(snapshot: Snapshot, on: dt.date, p: dict[str, Any], k: int) -> Value:
    persons = _target_persons(snapshot, on)
    flags = snapshot.flags.filter(
        (pl.col("raised_on") <= on)
        & (pl.col("resolved_on").is_null() | (pl.col("resolved_on") > on))
    )
    if p["rules"]:
        flags = flags.filter(pl.col("rule").is_in(p["rules"]))
    flagged = persons.join(flags.select("pkey").unique(), on="pkey").height
    return _share(flagged, persons.height, k)


def _plan_share(snapshot: Snapshot, on: dt.date, p: dict[str, Any], k: int) -> Value:
    persons = _target_persons(snapshot, on)
    since = _months_before(on, p["months"])
    current = snapshot.plans.filter(
        (pl.col("agreed_on") <= on) & (pl.col("agreed_on") >= since)
    ).select("pkey")
    with_plan = persons.join(current.unique(), on="pkey").height
    return _share(with_plan, persons.height, k)


COMPUTE: dict[str, Callable[[Snapshot, dt.date, dict[str, Any], int], Value]] = {
    IndicatorType.OFFER_SHARE: _offer_share,
    IndicatorType.REFERRAL_DAYS: _referral_days,
    IndicatorType.STARTED_WITHIN: _started_within,
    IndicatorType.TRANSITION_RATE: _transition_rate,
    IndicatorType.FLAGGED_SHARE: _flagged_share,
    IndicatorType.PLAN_SHARE: _plan_share,
}


def compute(
    snapshot: Snapshot, indicator: str, params: Mapping[str, Any], on: dt.date, policy: Policy
) -> Value:
    return COMPUTE[indicator](snapshot, on, params_with_defaults(indicator, params), policy.k)


def trend_days(on: dt.date, quarters: int = 4) -> list[dt.date]:
    """The ends of the last ``quarters`` quarters before ``on``, oldest first, then ``on``."""
    days = []
    start = dt.date(on.year, (on.month - 1) // 3 * 3 + 1, 1)
    for _i in range(quarters):
        start_prev = dt.date(start.year - (start.month == 1), (start.month - 4) % 12 + 1, 1)
        days.append(start - dt.timedelta(days=1))
        start = start_prev
    return [*days[::-1], on]
