"""Offer quality (issue #7): per offer and per provider, of the participations that
ended in the window (default the last 24 months):

* **completion** — completed, with or without certificate;
* **drop-out** — aborted (a transfer to another offer is neither);
* **transition within 6 months** — of those that ended at least 6 months before the
  day: an exit recorded as what followed (apprenticeship, employment, school-leaving
  qualification, studies) or another measure, or a later participation of the person
  that started within 6 months after the end;
* **waiting time** — median days from sending a referral to the offer to the start;

each compared with the median of the offers of the same category (providers: with the
median of all providers).

Participants are persons: every count is published through the disclosure control.
Each unit's outcomes are one row — completed, aborted, transferred — with the ended
participations as its total, protected on its own (the units share no total); the
transitions likewise. A rate is shown only where both of its counts are published,
and a median waiting time only over at least k started referrals. Units with fewer
than k ended participations are left out.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable
from dataclasses import dataclass, replace

import polars as pl

from lotse.core.disclosure import Cell, Policy, protect
from lotse.referrals.codes import EXIT_NEXT_STEPS, NextStep, Outcome

from .snapshot import Snapshot, memoized

TRANSITION_DAYS = 183
WINDOW_MONTHS = 24
COMPLETED = (Outcome.COMPLETED_CERTIFICATE.value, Outcome.COMPLETED.value)
ABORTED = Outcome.ABORTED.value
FOLLOW_UPS = tuple(sorted({*(s.value for s in EXIT_NEXT_STEPS), NextStep.MEASURE.value}))


def _rate(part: Cell, whole: Cell) -> float | None:
    if part.value is None or not whole.value:
        return None
    return 100 * part.value / whole.value


@dataclass(frozen=True)
class QualityRow:
    key: int  # offer or provider id
    category: str
    ended: Cell
    completed: Cell
    aborted: Cell
    transferred: Cell
    observed: Cell  # ended at least 6 months ago
    transitions: Cell
    waiting_days: float | None  # median over ≥ k started referrals
    median_completion: float | None = None  # of the category
    median_dropout: float | None = None
    median_transition: float | None = None
    median_waiting: float | None = None

    @property
    def completion(self) -> float | None:
        return _rate(self.completed, self.ended)

    @property
    def dropout(self) -> float | None:
        return _rate(self.aborted, self.ended)

    @property
    def transition(self) -> float | None:
        return _rate(self.transitions, self.observed)


@dataclass(frozen=True)
class Quality:
    on: dt.date
    since: dt.date
    policy: Policy
    by_offer: tuple[QualityRow, ...]
    by_provider: tuple[QualityRow, ...]


def ended_with_follow_up(snapshot: Snapshot) -> pl.DataFrame:
    """The ended participations, each with ``transition``: an exit or another measure
    recorded as what followed, or a participation of the person starting within
    ``TRANSITION_DAYS`` after the end. Once per snapshot (an as-of join: the person's
    first start after the end)."""

    def compute() -> pl.DataFrame:
        parts = snapshot.participations
        ended = parts.filter(pl.col("ended_on").is_not_null()).with_columns(
            after=pl.col("ended_on") + pl.duration(days=1)
        )
        starts = parts.select("pkey", next_start="started_on").sort("next_start")
        return (
            ended.sort("after")
            .join_asof(
                starts,
                left_on="after",
                right_on="next_start",
                by="pkey",
                strategy="forward",
                # Both sides are sorted by date as a whole, so within every person too.
                check_sortedness=False,
            )
            .with_columns(
                transition=(
                    pl.col("next_start").is_not_null()
                    & (
                        pl.col("next_start")
                        <= pl.col("ended_on") + pl.duration(days=TRANSITION_DAYS)
                    )
                )
                | pl.col("next_step").is_in(FOLLOW_UPS)
            )
            .drop("after", "next_start")
        )

    return memoized(snapshot, "ended_with_follow_up", compute)


def _ended_in_window(snapshot: Snapshot, since: dt.date) -> pl.DataFrame:
    horizon = snapshot.on - dt.timedelta(days=TRANSITION_DAYS)
    return (
        ended_with_follow_up(snapshot)
        .filter(pl.col("ended_on") >= since)
        .with_columns(observed=pl.col("ended_on") <= horizon)
    )


def _units(
    frame: pl.DataFrame, key: str, waits: dict[int, float], policy: Policy
) -> list[QualityRow]:
    per_unit = (
        frame.filter(pl.col(key).is_not_null())
        .group_by(key)
        .agg(
            pl.col("category").mode().first(),
            pl.len().alias("ended"),
            pl.col("outcome").is_in(COMPLETED).sum().alias("completed"),
            (pl.col("outcome") == ABORTED).sum().alias("aborted"),
            pl.col("observed").sum().alias("observed"),
            (pl.col("observed") & pl.col("transition")).sum().alias("transitions"),
        )
        .filter(pl.col("ended") >= policy.k)
        .sort(key)
    )
    rows = []
    for unit, category, ended, completed, aborted, observed, transitions in per_unit.rows():
        outcome = protect(
            [[completed, aborted, ended - completed - aborted]],
            row_labels=["*"],
            col_labels=["completed", "aborted", "other"],
            col_totals=False,
            policy=policy,
        )
        after = protect(
            [[transitions, observed - transitions]],
            row_labels=["*"],
            col_labels=["yes", "no"],
            col_totals=False,
            policy=policy,
        )
        (c, a, t), (y, _n) = outcome.cells[0], after.cells[0]
        assert outcome.row_totals is not None and after.row_totals is not None
        rows.append(
            QualityRow(
                key=unit,
                category=category,
                ended=outcome.row_totals[0],
                completed=c,
                aborted=a,
                transferred=t,
                observed=after.row_totals[0],
                transitions=y,
                waiting_days=waits.get(unit),
            )
        )
    return rows


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _with_medians(rows: list[QualityRow]) -> tuple[QualityRow, ...]:
    by_category: dict[str, list[QualityRow]] = {}
    for r in rows:
        by_category.setdefault(r.category, []).append(r)
    medians: dict[str, tuple[float | None, ...]] = {}
    metrics: tuple[Callable[[QualityRow], float | None], ...] = (
        lambda r: r.completion,
        lambda r: r.dropout,
        lambda r: r.transition,
        lambda r: r.waiting_days,
    )
    for category, members in by_category.items():
        medians[category] = tuple(_median([m(r) for r in members]) for m in metrics)
    out = []
    for r in rows:
        c, d, t, w = medians[r.category]
        out.append(
            replace(r, median_completion=c, median_dropout=d, median_transition=t, median_waiting=w)
        )
    return tuple(out)


def _waits(snapshot: Snapshot, since: dt.date, by: pl.Expr, k: int) -> dict[int, float]:
    started = snapshot.referrals.filter(
        pl.col("started_on").is_not_null() & (pl.col("started_on") >= since)
    )
    if started.is_empty():
        return {}
    frame = started.with_columns(unit=by).filter(pl.col("unit").is_not_null())
    per = (
        frame.group_by("unit")
        .agg(
            ((pl.col("started_on") - pl.col("sent_on")).dt.total_days()).median().alias("days"),
            pl.len().alias("n"),
        )
        .filter(pl.col("n") >= k)
    )
    return {unit: float(days) for unit, days, _n in per.rows()}


def quality(
    snapshot: Snapshot,
    *,
    policy: Policy,
    offer_provider: dict[int, int],
    window_months: int = WINDOW_MONTHS,
) -> Quality:
    """``offer_provider``: the provider of each offer (for the providers' waiting
    times, which come from referrals to their offers)."""
    since = snapshot.on - dt.timedelta(days=round(window_months * 30.44))
    ended = _ended_in_window(snapshot, since)
    provider_of = pl.col("offer_id").replace_strict(
        offer_provider, default=None, return_dtype=pl.Int64()
    )
    by_offer = _units(
        ended, "offer_id", _waits(snapshot, since, pl.col("offer_id"), policy.k), policy
    )
    # Providers are compared with all providers (they offer several categories).
    by_provider = [
        replace(r, category="")
        for r in _units(
            ended, "provider_id", _waits(snapshot, since, provider_of, policy.k), policy
        )
    ]
    return Quality(
        on=snapshot.on,
        since=since,
        policy=policy,
        by_offer=_with_medians(by_offer),
        by_provider=_with_medians(by_provider),
    )
