"""Measure-career detection over many persons at once (issue #6), set-based with polars.

Data in, data out: the detection never touches the database. The rules and their
exact meaning are in :mod:`lotse.referrals.careers_rules`, together with the reference
engine for one person in plain Python (:func:`~lotse.referrals.careers_rules.scan_person`).
This module runs the same rules over all persons at once:

- :func:`scan_frames` — the full scan: one sort of the participations, then shifts,
  running maxima, as-of joins and group-bys over narrow columns; no Python loop per
  person. The rules run side by side in threads (polars releases the GIL).
- :func:`scan` — the entry point: polars for large inputs, the plain-Python engine
  for small ones (one person's update: polars' fixed cost per query is larger than
  the few milliseconds such an update may take). Both give the same frame; a test
  holds them equal on random data.
- :func:`load_frames` / :func:`load_person` — the input from the database: one SQL
  query per table, fetched in batches straight into polars (``core.frames``; the
  only database code here).
- :func:`bench_scan` — the benchmark over synthetic frames (:func:`bench_frames`).

    frames = load_frames()
    flags = scan(frames, default_rules(), timezone.localdate())

Input (:class:`CareerFrames`, columns as in the ``*_SCHEMA`` dicts):

- participations: ``person_id, id, category, level, started_on, ended_on, outcome,
  level_reached, next_step`` (``ended_on`` null and ``outcome`` "" while running);
- plan_steps: ``person_id, id, status, created_on, due_date``;
- referrals: ``person_id, id, category`` (of the offer, or null), ``sent_on, status,
  started_on`` (start of its participation, or null);
- open_persons: ``person_id`` of persons with a case that is not closed, or ``None``
  for "every person" (rules ``gap`` and ``waiting`` flag only these).

Output (``FLAG_SCHEMA``): one row per flag with ``person_id``, ``rule`` (the rule's
code), ``params`` (JSON of the parameters used), ``evidence_key`` (stable: the same
evidence gives the same key, so a resolved flag recurs only on new evidence) and
``evidence`` (JSON: the participations or the referral and the dates that made it
fire, for a time line); ordered by rule (as given), person and evidence key.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from lotse.core.frames import conform, read_frame

from .careers_rules import (
    ABORTED,
    ACTIVE_STEP_STATUSES,
    CANCELLED_STEP,
    CERTIFICATE,
    FAR_FUTURE,
    LANGUAGE_LEVELS,
    LEVEL_RANK,
    LEVEL_TRACK,
    P_FIELDS,
    QUALIFICATION_LEVELS,
    TRANSFERRED,
    WAITING_REFERRAL_STATUSES,
    CycleRule,
    DropoutChainRule,
    Flag,
    GapRule,
    NoProgressionRule,
    ParticipationRow,
    PersonRecords,
    PlanStepRow,
    ReferralRow,
    RepetitionRule,
    Rule,
    WaitingRule,
    add_months,
    default_rules,
    rules_in_order,
    scan_person,
    scan_records,
)

if TYPE_CHECKING:
    from django.db.models import QuerySet

# --- input and output shapes ------------------------------------------------------------

PARTICIPATION_SCHEMA: dict[str, pl.DataType] = {
    "person_id": pl.Int64(),
    "id": pl.Int64(),
    "category": pl.String(),
    "level": pl.String(),
    "started_on": pl.Date(),
    "ended_on": pl.Date(),
    "outcome": pl.String(),
    "level_reached": pl.String(),
    "next_step": pl.String(),
}
PLAN_STEP_SCHEMA: dict[str, pl.DataType] = {
    "person_id": pl.Int64(),
    "id": pl.Int64(),
    "status": pl.String(),
    "created_on": pl.Date(),
    "due_date": pl.Date(),
}
REFERRAL_SCHEMA: dict[str, pl.DataType] = {
    "person_id": pl.Int64(),
    "id": pl.Int64(),
    "category": pl.String(),
    "sent_on": pl.Date(),
    "status": pl.String(),
    "started_on": pl.Date(),
}
PERSON_SCHEMA: dict[str, pl.DataType] = {"person_id": pl.Int64()}
FLAG_SCHEMA: dict[str, pl.DataType] = {
    "person_id": pl.Int64(),
    "rule": pl.String(),
    "params": pl.String(),
    "evidence_key": pl.String(),
    "evidence": pl.String(),
}
# What each detector returns; the scan adds the rule and its parameters.
FLAG_KEYS = ("person_id", "evidence_key", "evidence")
# Text columns where "" means "none" (nulls are read as "").
_TEXT = {
    "participations": ("category", "level", "outcome", "level_reached", "next_step"),
    "plan_steps": ("status",),
    "referrals": ("status",),
}


def _empty(schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=dict(schema))


@dataclass
class CareerFrames:
    """The input of the full scan. Missing tables are empty; ``open_persons=None``
    means every person counts as having an open case."""

    participations: pl.DataFrame = field(default_factory=lambda: _empty(PARTICIPATION_SCHEMA))
    plan_steps: pl.DataFrame = field(default_factory=lambda: _empty(PLAN_STEP_SCHEMA))
    referrals: pl.DataFrame = field(default_factory=lambda: _empty(REFERRAL_SCHEMA))
    open_persons: pl.DataFrame | None = None

    def normalized(self) -> CareerFrames:
        """Columns of the schemas, in their types; null text as "" (a referral's
        missing category as null)."""
        refs = conform(self.referrals, REFERRAL_SCHEMA, _TEXT["referrals"]).with_columns(
            category=pl.when(pl.col("category") != "").then(pl.col("category"))
        )
        return CareerFrames(
            participations=conform(
                self.participations, PARTICIPATION_SCHEMA, _TEXT["participations"]
            ),
            plan_steps=conform(self.plan_steps, PLAN_STEP_SCHEMA, _TEXT["plan_steps"]),
            referrals=refs,
            open_persons=None
            if self.open_persons is None
            else conform(self.open_persons, PERSON_SCHEMA, ()).unique(),
        )


# --- the full scan (polars) -------------------------------------------------------------
#
# The participations are sorted once by person, start and id. All detection then runs
# on a few narrow columns of that order: "the previous row of the same person" is a
# shift, and a per-person running maximum is one cumulative maximum over a composite
# integer key ``person_id · 2²³ + day`` (every key of a person lies above every key of
# the persons before); "the person's next exit on or after a date" is an as-of join
# on such keys. No ``over()`` (hash grouping), no hash joins and no sorts of wide rows
# over the millions of participations: the rows that fired are picked out by their
# position in the sorted frame (``seq``), and only they are turned into evidence.
# Hash joins run only on candidates (gaps against plan steps and exits).

_pid = pl.col("person_id")
DAY_BITS = 23  # days since 1970 + 2²² fit in 23 bits up to the year 9999
DAY_OFFSET = 1 << (DAY_BITS - 1)
MAX_PERSON_ID = 1 << 40  # person_id · 2²³ stays inside Int64
# Shifts, cumulative maxima and fills over sorted frames: the in-memory engine runs
# them faster than the streaming one (polars 2's default).
ENGINE: Literal["in-memory"] = "in-memory"
# Levels as small integers: 10 · track + 1 + rank (CEFR 1…5, qualification 11…14).
LEVEL_CODE: dict[str, int] = {
    lv: 10 * (track != "language") + 1 + LEVEL_RANK[lv] for lv, track in LEVEL_TRACK.items()
}


def _day_key(date: pl.Expr) -> pl.Expr:
    """A date as a non-negative day number below 2²³."""
    return date.cast(pl.Int32).cast(pl.Int64) + DAY_OFFSET


def _person_key(date: pl.Expr) -> pl.Expr:
    """Sorts by person, then by the date; increasing across persons in person order."""
    return _pid * (1 << DAY_BITS) + _day_key(date)


def _key_date(key: pl.Expr) -> pl.Expr:
    return (key - _pid * (1 << DAY_BITS) - DAY_OFFSET).cast(pl.Int32).cast(pl.Date)


def _same_as(offset: int) -> pl.Expr:
    """The row ``offset`` rows back (forward when negative) is of the same person."""
    return (_pid.shift(offset) == _pid).fill_null(False)


def _level_code(col: str) -> pl.Expr:
    return pl.col(col).replace_strict(LEVEL_CODE, default=None, return_dtype=pl.Int8())


def _pstruct() -> pl.Expr:
    """A participation as the evidence shows it (dates as ISO text: cheaper to encode)."""
    return pl.struct(
        [pl.col(f).cast(pl.String) if f.endswith("_on") else pl.col(f) for f in P_FIELDS]
    )


def _iso_col(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.String)


class _Base:
    """The participations started by ``today``, sorted by person, start and id, numbered
    ``seq``; with the running end ``end_c`` and level codes ``lv``, ``lr``."""

    def __init__(self, participations: pl.DataFrame, today: dt.date) -> None:
        # Codes as categoricals: filters and comparisons over millions of rows run on
        # small integers instead of strings.
        df = participations.with_columns(pl.col(_TEXT["participations"]).cast(pl.Categorical()))
        if df.height:
            low, high = df["person_id"].min(), df["person_id"].max()
            if not (low >= 0 and high < MAX_PERSON_ID):  # type: ignore[operator]
                raise ValueError(f"person ids must lie in [0, {MAX_PERSON_ID})")
        if df.height and df["started_on"].max() > today:  # type: ignore[operator]
            df = df.filter(pl.col("started_on") <= today)
        key = _person_key(pl.col("started_on"))
        ordered = df.select(
            ((key.diff() > 0) | ((key.diff() == 0) & (pl.col("id").diff() > 0)))
            .fill_null(True)
            .all()
        ).item()
        lf = df.lazy() if ordered else df.lazy().sort(key, "id")
        self.today = today
        self.df = (
            lf.with_row_index("seq")
            .with_columns(
                end_c=pl.col("ended_on").fill_null(today),
                lv=_level_code("level"),
                lr=_level_code("level_reached"),
            )
            .collect(engine=ENGINE)
        )

    def lazy(self) -> pl.LazyFrame:
        return self.df.lazy()

    def rows(self, members: pl.DataFrame) -> pl.DataFrame:
        """The participations at the positions ``members["seq"]``, beside ``members``."""
        rows = self.df.select(P_FIELDS)[members["seq"]]
        return pl.concat(
            [members, rows.drop([c for c in rows.columns if c in members.columns])],
            how="horizontal",
        )

    def exit_keys(self, next_steps, levels, categories) -> pl.LazyFrame:
        """The person's exit events as sorted person keys (``xkey``)."""
        base = self.lazy()
        ended = base.filter(
            pl.col("ended_on").is_not_null()
            & (
                pl.col("next_step").is_in(sorted(next_steps))
                | pl.col("level_reached").is_in(sorted(levels))
            )
        ).select(xkey=_person_key(pl.col("ended_on")))
        started = base.filter(pl.col("category").is_in(sorted(categories))).select(
            xkey=_person_key(pl.col("started_on"))
        )
        return pl.concat([ended, started]).unique().sort("xkey")


def _next_exit(lf: pl.LazyFrame, exits: pl.LazyFrame, on: str) -> pl.LazyFrame:
    """Adds ``xkey``: the first exit key at or after the key ``on`` — the person's own,
    or a later person's, which is above every key of this person — or null."""
    return lf.join_asof(
        exits, left_on=on, right_on="xkey", strategy="forward", check_sortedness=False
    )


def _grouped_evidence(
    rows: pl.DataFrame,
    group: str,
    evidence: pl.Expr,
    aggs: Sequence[pl.Expr] = (),
) -> pl.DataFrame:
    """One flag per value of ``group`` over ``rows`` (participations in ``seq`` order):
    ``person_id``, ``evidence_key`` (``p:`` and the sorted ids) and ``evidence`` (JSON
    of ``evidence`` over the aggregates, ``participations`` among them), in the order of
    the groups' first rows."""
    keys = (
        rows.select(group, "id")
        .sort(group, "id")
        .group_by(group, maintain_order=True)
        .agg(ids=pl.col("id"))
        .select(
            group,
            evidence_key=pl.lit("p:") + pl.col("ids").cast(pl.List(pl.String())).list.join(","),
        )
    )
    person = [] if group == "person_id" else [_pid.first()]
    return (
        rows.group_by(group, maintain_order=True)
        .agg(*person, *aggs, participations=_pstruct())
        .join(keys, on=group, how="left", maintain_order="left")
        .select("person_id", "evidence_key", evidence=evidence.struct.json_encode())
    )


def _pl_cycle(b: _Base, rule: CycleRule) -> pl.DataFrame:
    n = rule.min_count
    exits = b.exit_keys(rule.exit_next_steps, rule.exit_levels, rule.exit_categories)
    same = _same_as(n - 1)
    first = pl.col("started_on").shift(n - 1)
    lower = pl.col("started_on").dt.offset_by(f"-{rule.months}mo")
    ms = (
        b.lazy()
        .filter(pl.col("category").is_in(sorted(rule.categories)))
        .select("person_id", "seq", "started_on", "end_c")
        .with_columns(
            lower=lower,
            cand=same & (first >= lower),
            # Non-decreasing along the frame (as join_asof needs): the person's lowest
            # key where there is no window of n rows yet.
            qkey=pl.when(same).then(_person_key(first)).otherwise(_pid * (1 << DAY_BITS)),
            skey=_person_key(pl.max_horizontal([pl.col("end_c").shift(s) for s in range(n)])),
        )
    )
    ms = _next_exit(ms, exits, "qkey").with_columns(
        ok=pl.col("cand") & (pl.col("xkey").is_null() | (pl.col("xkey") > pl.col("skey")))
    )
    # The latest qualifying row of a person anchors the flag; its person and bounds
    # are carried back over the person's earlier rows.
    ms = ms.with_columns(
        anchor=pl.col("ok")
        & (pl.when("ok").then(_pid).shift(-1).backward_fill() != _pid).fill_null(True)
    ).with_columns(
        a_pid=pl.when("anchor").then(_pid).backward_fill(),
        a_seq=pl.when("anchor").then(pl.col("seq")).backward_fill(),
        a_lower=pl.when("anchor").then(pl.col("lower")).backward_fill(),
    )
    members = ms.filter(
        (pl.col("a_pid") == _pid)
        & (pl.col("seq") <= pl.col("a_seq"))
        & (pl.col("started_on") >= pl.col("a_lower"))
    ).select(
        "person_id",
        "seq",
        jkey=_person_key(pl.col("started_on")),
        # The latest end from this member to the anchor: a running maximum from the
        # end over keys that fall from person to person.
        smkey=(-_pid * (1 << DAY_BITS) + _day_key(pl.col("end_c"))).cum_max(reverse=True)
        + 2 * _pid * (1 << DAY_BITS),
    )
    members_df = (
        _next_exit(members, exits, "jkey")
        .filter(pl.col("xkey").is_null() | (pl.col("xkey") > pl.col("smkey")))
        .select("person_id", "seq")
        .collect(engine=ENGINE)
    )
    return _grouped_evidence(
        b.rows(members_df),
        "person_id",
        pl.struct(_iso_col("window_from"), _iso_col("window_to"), "participations"),
        [
            pl.col("started_on").min().alias("window_from"),
            pl.col("started_on").max().alias("window_to"),
        ],
    )


def _codes(values: pl.Series) -> dict[str, int]:
    return {v: i for i, v in enumerate(sorted(values.to_list()))}


def _pl_repetition(b: _Base, rule: RepetitionRule) -> pl.DataFrame:
    lf = b.lazy().filter(pl.col("level") != "")
    if rule.categories:
        lf = lf.filter(pl.col("category").is_in(sorted(rule.categories)))
    lv, lr = pl.col("lv"), pl.col("lr")
    reached = (pl.col("outcome") == CERTIFICATE) & (
        (pl.col("level_reached") == "")
        | (pl.col("level_reached") == pl.col("level"))
        | ((lr // 10 == lv // 10) & (lr >= lv)).fill_null(False)
    )
    failed = (pl.col("outcome") != "") & ~reached
    if not rule.count_transfers:
        failed = failed & (pl.col("outcome") != TRANSFERRED)
    cats = _codes(b.df["category"].unique())
    levels = _codes(b.df["level"].unique())
    if max(len(cats), len(levels)) >= 1 << 8:
        raise ValueError("more than 255 distinct categories or levels")
    # One integer per person, category and level; a stable sort by it keeps each
    # group's rows in the base order (start, id).
    group = (
        _pid * (1 << 16)
        + pl.col("category").replace_strict(cats, return_dtype=pl.Int64()) * (1 << 8)
        + pl.col("level").replace_strict(levels, return_dtype=pl.Int64())
    )
    fires = (pl.col("group").shift(1) == pl.col("group")).fill_null(False) & pl.col("failed").shift(
        1
    ).fill_null(False)
    members = (
        lf.select("person_id", "seq", group=group, failed=failed)
        .sort("group", maintain_order=True)
        .with_columns(fires=fires)
        .filter(pl.col("fires") | pl.col("fires").shift(-1).fill_null(False))
        .select("person_id", "seq", "group")
        .sort("seq")
        .collect(engine=ENGINE)
    )
    return _grouped_evidence(
        b.rows(members),
        "group",
        pl.struct("category", "level", "participations"),
        [pl.col("category", "level").first()],
    ).sort("person_id", "evidence_key")


def _pl_no_progression(b: _Base, rule: NoProgressionRule) -> pl.DataFrame:
    n = rule.n
    lr = pl.col("lr")
    ended = (
        b.lazy()
        .filter(
            pl.col("ended_on").is_not_null() & pl.col("category").is_in(sorted(rule.categories))
        )
        .select(
            "person_id",
            "seq",
            key=_person_key(pl.col("ended_on")),
            lang=pl.when(lr < 10).then(lr).otherwise(0).fill_null(0),
            qual=pl.when(lr > 10).then(lr - 10).otherwise(0).fill_null(0),
        )
        # By person and end; ties keep the base order (start, id).
        .sort("key", maintain_order=True)
        .with_row_index("r")
        .with_columns(
            first_r=pl.when(~_same_as(1)).then(pl.col("r")).forward_fill(),
            last_r=pl.when(~_same_as(-1)).then(pl.col("r")).backward_fill(),
        )
        .with_columns(recent=(pl.col("last_r") - pl.col("r")) < n)
    )
    base8 = _pid * 8

    def running_max(value: pl.Expr) -> pl.Expr:
        # Per-person running maximum of a value in 0…7.
        return (base8 + value).cum_max() - base8

    def progress(track: str) -> pl.Expr:
        before, recent = pl.col(f"{track}_before"), pl.col(f"{track}_recent")
        return (recent > 0) & (recent > before)

    recent = pl.col("recent")
    best = ["lang_before", "lang_recent", "qual_before", "qual_recent"]
    members = (
        ended.with_columns(
            lang_before=running_max(pl.when(recent).then(0).otherwise(pl.col("lang"))),
            lang_recent=running_max(pl.when(recent).then(pl.col("lang")).otherwise(0)),
            qual_before=running_max(pl.when(recent).then(0).otherwise(pl.col("qual"))),
            qual_recent=running_max(pl.when(recent).then(pl.col("qual")).otherwise(0)),
        )
        .with_columns(
            flagged=pl.when(pl.col("r") == pl.col("last_r"))
            .then(
                (pl.col("last_r") - pl.col("first_r") + 1 >= n)
                & ~progress("lang")
                & ~progress("qual")
            )
            .backward_fill()
        )
        .filter(pl.col("flagged") & recent)
        .select("person_id", "seq", *best)
        .collect(engine=ENGINE)
    )

    def code(col: str, levels: Sequence[str]) -> pl.Expr:
        mapping = {i + 1: v for i, v in enumerate(levels)}
        return pl.col(col).replace_strict(mapping, default=None, return_dtype=pl.String())

    # Rows in (end, start, id) order per person: the evidence lists them so.
    return _grouped_evidence(
        b.rows(members),
        "person_id",
        pl.struct(
            "participations",
            best_before=pl.struct(
                language=code("lang_before", LANGUAGE_LEVELS),
                qualification=code("qual_before", QUALIFICATION_LEVELS),
            ),
            best_recent=pl.struct(
                language=code("lang_recent", LANGUAGE_LEVELS),
                qualification=code("qual_recent", QUALIFICATION_LEVELS),
            ),
        ),
        [pl.col(best).last()],
    )


def _pl_gap(
    b: _Base, steps: pl.LazyFrame, open_persons: pl.LazyFrame | None, rule: GapRule
) -> pl.DataFrame:
    limit, today = rule.days, b.today
    end = pl.col("ended_on").fill_null(FAR_FUTURE)
    g = (
        b.lazy()
        .filter(pl.col("category").is_in(sorted(rule.categories)))
        .select("person_id", "seq", "started_on", "ended_on")
        .with_columns(
            cover=_key_date(_person_key(end).cum_max()), same=_same_as(1), last=~_same_as(-1)
        )
        .with_columns(prev_cover=pl.when("same").then(pl.col("cover").shift(1)))
        .with_columns(
            # The participation whose end is the cover so far (the latest of equals).
            before=pl.when(pl.col("prev_cover").is_null() | (end >= pl.col("prev_cover")))
            .then(pl.col("seq"))
            .forward_fill()
        )
        .with_columns(prev_before=pl.col("before").shift(1))
    )
    t = pl.lit(today)
    between = g.filter(
        pl.col("same")
        & (pl.col("prev_cover") != FAR_FUTURE)
        & ((pl.col("started_on") - pl.col("prev_cover")).dt.total_days() > limit)
    ).select(
        "person_id",
        pos=pl.col("seq").cast(pl.Int64) * 2,
        g0=pl.col("prev_cover"),
        g1=pl.col("started_on"),
        before=pl.col("prev_before"),
        after=pl.col("seq"),
    )
    trailing = g.filter(
        pl.col("last")
        & (pl.col("cover") != FAR_FUTURE)
        & ((t - pl.col("cover")).dt.total_days() > limit)
    ).select(
        "person_id",
        pos=pl.col("seq").cast(pl.Int64) * 2 + 1,
        g0=pl.col("cover"),
        g1=t,
        before=pl.col("before"),
        after=pl.lit(None, pl.UInt32),
    )
    horizon = add_months(today, -rule.within_months)
    gaps = pl.concat([between, trailing]).filter(pl.col("g1") >= horizon)
    if open_persons is not None:
        gaps = gaps.join(open_persons, on="person_id", how="semi")
    exit_ends = (
        b.lazy()
        .filter(
            pl.col("ended_on").is_not_null()
            & pl.col("next_step").is_in(sorted(rule.exit_next_steps))
        )
        .select("person_id", g0=pl.col("ended_on"))
        .unique()
    )
    gaps = gaps.join(exit_ends, on=["person_id", "g0"], how="anti")
    covered = (
        gaps.select("person_id", "pos", "g0", "g1")
        .join(steps.filter(pl.col("status") != CANCELLED_STEP), on="person_id")
        .filter(
            (pl.col("created_on") <= pl.col("g1"))
            & (
                pl.col("status").is_in(sorted(ACTIVE_STEP_STATUSES))
                | (pl.col("due_date") >= pl.col("g0")).fill_null(False)
            )
        )
        .select("person_id", "pos")
        .unique()
    )
    latest = (
        gaps.join(covered, on=["person_id", "pos"], how="anti")
        .sort("pos")
        .filter(~_same_as(-1))
        .collect(engine=ENGINE)
    )
    rows = b.df.select(P_FIELDS)
    before = rows[latest["before"]].select(p=_pstruct())["p"]
    after = rows[latest["after"].fill_null(0)].select(p=_pstruct())["p"]
    return latest.with_columns(
        before_p=before, after_p=after, before_id=before.struct.field("id")
    ).select(
        "person_id",
        evidence_key=pl.lit("p:") + pl.col("before_id").cast(pl.String()),
        evidence=pl.struct(
            _iso_col("g0").alias("from"),
            _iso_col("g1").alias("to"),
            (pl.col("g1") - pl.col("g0")).dt.total_days().alias("days"),
            pl.col("after").is_null().alias("until_today"),
            pl.col("before_p").alias("before"),
            pl.when(pl.col("after").is_not_null()).then(pl.col("after_p")).alias("after"),
        ).struct.json_encode(),
    )


def _pl_waiting(
    refs: pl.LazyFrame, open_persons: pl.LazyFrame | None, rule: WaitingRule, today: dt.date
) -> pl.DataFrame:
    t = pl.lit(today)
    started = pl.col("started_on").is_not_null() & (pl.col("started_on") <= t)
    lf = refs.filter(pl.col("sent_on").is_not_null() & (pl.col("sent_on") <= t))
    if open_persons is not None:
        lf = lf.join(open_persons, on="person_id", how="semi")
    limits = {str(k): int(v) for k, v in rule.days_by_category.items()}
    return (
        lf.with_columns(
            until=pl.when(started)
            .then(pl.col("started_on"))
            .when(pl.col("status").is_in(sorted(WAITING_REFERRAL_STATUSES)))
            .then(t),
            limit_days=pl.col("category")
            .fill_null("")
            .replace_strict(limits, default=rule.default_days, return_dtype=pl.Int64()),
        )
        .with_columns(days=(pl.col("until") - pl.col("sent_on")).dt.total_days())
        .filter(pl.col("until").is_not_null() & (pl.col("days") > pl.col("limit_days")))
        .with_columns(evidence_key=pl.lit("r:") + pl.col("id").cast(pl.String()))
        .sort("person_id", "evidence_key")
        .select(
            "person_id",
            "evidence_key",
            evidence=pl.struct(
                referral_id=pl.col("id"),
                category=pl.col("category"),
                status=pl.col("status"),
                sent_on=_iso_col("sent_on"),
                started_on=pl.when(started).then(_iso_col("started_on")),
                until=_iso_col("until"),
                days=pl.col("days"),
                limit_days=pl.col("limit_days"),
            ).struct.json_encode(),
        )
        .collect(engine=ENGINE)
    )


def _pl_dropout(b: _Base, rule: DropoutChainRule) -> pl.DataFrame:
    runs = (
        b.lazy()
        .filter(
            pl.col("ended_on").is_not_null() & pl.col("category").is_in(sorted(rule.categories))
        )
        .select("person_id", "seq", aborted=pl.col("outcome") == ABORTED)
        .with_row_index("r")
        .with_columns(
            start=pl.col("aborted") & ~(_same_as(1) & pl.col("aborted").shift(1).fill_null(False))
        )
        .filter("aborted")
        # Within the aborted rows a run is contiguous from its start.
        .with_columns(run=pl.when("start").then(pl.col("r")).forward_fill())
    )
    # A run of n or more has an n-th row; the latest such run of each person.
    latest = (
        runs.filter(pl.col("r") - pl.col("run") == rule.n - 1)
        .select("person_id", "run")
        .filter(~_same_as(-1))
        .select("run")
    )
    members = (
        runs.join(latest, on="run", how="semi")
        .select("person_id", "seq")
        .sort("seq")
        .collect(engine=ENGINE)
    )
    return _grouped_evidence(b.rows(members), "person_id", pl.struct("participations"))


def scan_frames(frames: CareerFrames, rules: Sequence[Rule], today: dt.date) -> pl.DataFrame:
    """The full scan with polars (see the module docstring for the rules). The rules
    run in threads (polars releases the GIL), each over the shared sorted base."""
    ordered = rules_in_order(rules)
    if not ordered:
        return _empty(FLAG_SCHEMA)
    f = frames.normalized()
    base = _Base(f.participations, today)
    steps = f.plan_steps.lazy()
    open_persons = None if f.open_persons is None else f.open_persons.lazy()

    def detect(rule: Rule) -> pl.DataFrame:
        if base.df.height == 0 and not isinstance(rule, WaitingRule):
            found = pl.DataFrame(schema={k: FLAG_SCHEMA[k] for k in FLAG_KEYS})
        elif isinstance(rule, CycleRule):
            found = _pl_cycle(base, rule)
        elif isinstance(rule, RepetitionRule):
            found = _pl_repetition(base, rule)
        elif isinstance(rule, NoProgressionRule):
            found = _pl_no_progression(base, rule)
        elif isinstance(rule, GapRule):
            found = _pl_gap(base, steps, open_persons, rule)
        elif isinstance(rule, WaitingRule):
            found = _pl_waiting(f.referrals.lazy(), open_persons, rule, today)
        elif isinstance(rule, DropoutChainRule):
            found = _pl_dropout(base, rule)
        else:  # pragma: no cover - a new kind without a detector
            raise TypeError(f"no detector for rule kind {rule.kind!r}")
        return found.select(
            "person_id",
            rule=pl.lit(rule.code),
            params=pl.lit(rule.params_json),
            evidence_key="evidence_key",
            evidence="evidence",
        ).cast(FLAG_SCHEMA)  # type: ignore[arg-type]

    workers = max(1, min(len(ordered), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(detect, [rule for _order, rule in ordered]))
    return pl.concat(parts, rechunk=False)


# --- conversions and the dispatcher -----------------------------------------------------


def records_from_frames(frames: CareerFrames) -> list[PersonRecords]:
    """Per-person rows of the frames (for the Python engine and tests), by person id."""
    f = frames.normalized()
    people: dict[int, PersonRecords] = {}

    def person(pid: int) -> PersonRecords:
        rec = people.get(pid)
        if rec is None:
            rec = people[pid] = PersonRecords(pid, open_case=open_ids is None or pid in open_ids)
        return rec

    open_ids = None if f.open_persons is None else set(f.open_persons["person_id"].to_list())
    for row in f.participations.iter_rows():
        person(row[0]).participations.append(ParticipationRow(*row))
    for row in f.plan_steps.iter_rows():
        person(row[0]).plan_steps.append(PlanStepRow(*row))
    for row in f.referrals.iter_rows():
        person(row[0]).referrals.append(ReferralRow(*row))
    return [people[k] for k in sorted(people)]


def frames_from_records(persons: Iterable[PersonRecords]) -> CareerFrames:
    """The frames holding these persons' rows (for tests and small inputs)."""
    persons = list(persons)
    return CareerFrames(
        participations=pl.DataFrame(
            [p for rec in persons for p in rec.participations],
            schema=PARTICIPATION_SCHEMA,
            orient="row",
        ),
        plan_steps=pl.DataFrame(
            [s for rec in persons for s in rec.plan_steps], schema=PLAN_STEP_SCHEMA, orient="row"
        ),
        referrals=pl.DataFrame(
            [r for rec in persons for r in rec.referrals], schema=REFERRAL_SCHEMA, orient="row"
        ),
        open_persons=pl.DataFrame(
            {"person_id": [rec.person_id for rec in persons if rec.open_case]},
            schema=PERSON_SCHEMA,
        ),
    )


def flags_frame(flags: Iterable[Flag]) -> pl.DataFrame:
    return pl.DataFrame(list(flags), schema=FLAG_SCHEMA, orient="row")


# Below this many input rows the plain-Python engine is faster than polars' fixed cost.
PYTHON_ENGINE_MAX_ROWS = 2000


def scan(
    frames: CareerFrames,
    rules: Sequence[Rule],
    today: dt.date,
    *,
    engine: Literal["auto", "polars", "python"] = "auto",
) -> pl.DataFrame:
    """All flags of ``rules`` over ``frames`` as of ``today`` (columns of FLAG_SCHEMA).

    ``engine="auto"`` runs polars on large inputs and plain Python on small ones (one
    person's update); both give the same frame."""
    if engine == "auto":
        rows = frames.participations.height + frames.referrals.height + frames.plan_steps.height
        engine = "python" if rows <= PYTHON_ENGINE_MAX_ROWS else "polars"
    if engine == "polars":
        return scan_frames(frames, rules, today)
    if engine != "python":
        raise ValueError(f"unknown engine {engine!r}")
    return flags_frame(scan_records(records_from_frames(frames), rules, today))


# --- the database side (Django) --------------------------------------------------------
#
# The only part of this module that touches Django, imported inside the functions so
# that the rest stays importable (and benchmarkable) without configured settings.

# Rows fetched per round trip when loading all persons.


def _querysets(person_ids: Iterable[int] | None) -> dict[str, QuerySet[Any, Any]]:
    """One ``values_list`` query per input table, its columns in the order of the
    table's schema; participations ordered as the scan sorts them."""
    from django.db.models.functions import TruncDate

    from lotse.casework.models import Case, PlanStep

    from .models import Participation, Referral

    parts = Participation.objects.order_by("person_id", "started_on", "id")
    steps = PlanStep.objects.annotate(created_on=TruncDate("created_at"))
    refs = Referral.objects.annotate(sent_on=TruncDate("sent_at"))
    cases = Case.objects.filter(closed_on__isnull=True)
    if person_ids is not None:
        ids = sorted(set(person_ids))
        parts = parts.filter(person_id__in=ids)
        steps = steps.filter(goal__plan__case__person_id__in=ids)
        refs = refs.filter(person_id__in=ids)
        cases = cases.filter(person_id__in=ids)
    return {
        "participations": parts.values_list(*PARTICIPATION_SCHEMA),
        "plan_steps": steps.order_by().values_list(
            "goal__plan__case__person_id", "id", "status", "created_on", "due_date"
        ),
        "referrals": refs.order_by().values_list(
            "person_id", "id", "offer__category", "sent_on", "status", "participation__started_on"
        ),
        "open_persons": cases.order_by().values_list("person_id").distinct(),
    }


def load_frames(*, person_ids: Iterable[int] | None = None, using: str = "default") -> CareerFrames:
    """The scan's input for all persons (or for ``person_ids``): one query per table.
    Plan steps and referrals are dated by their day in the current time zone."""
    qs = _querysets(person_ids)
    return CareerFrames(
        participations=read_frame(qs["participations"], PARTICIPATION_SCHEMA, using),
        plan_steps=read_frame(qs["plan_steps"], PLAN_STEP_SCHEMA, using),
        referrals=read_frame(qs["referrals"], REFERRAL_SCHEMA, using),
        open_persons=read_frame(qs["open_persons"], PERSON_SCHEMA, using),
    ).normalized()


def load_person(person_id: int, *, using: str = "default") -> PersonRecords:
    """One person's rows for :func:`scan_person` (four small queries through the ORM)."""
    qs = {k: v.using(using) for k, v in _querysets([person_id]).items()}
    return PersonRecords(
        person_id=person_id,
        participations=[ParticipationRow(*r) for r in qs["participations"]],
        plan_steps=[PlanStepRow(*r) for r in qs["plan_steps"]],
        referrals=[
            ReferralRow(pid, rid, category or None, sent_on, status, started_on)
            for pid, rid, category, sent_on, status, started_on in qs["referrals"]
        ],
        open_case=qs["open_persons"].exists(),
    )


# --- benchmark --------------------------------------------------------------------------

BENCH_TODAY = dt.date(2026, 6, 30)
# Career stages: language first, then preparation and school, then training or work;
# counselling and mentoring beside them. (category, weight, levels, days min…max)
_STAGES: tuple[tuple[tuple[str, int, tuple[str, ...], int, int], ...], ...] = (
    (
        ("integrationskurs", 5, ("A2", "B1", "B1", "B1"), 150, 300),
        ("sprachkurs", 3, ("A1", "A2", "B1"), 60, 200),
        ("berufssprachkurs", 2, ("B1", "B2", "B2", "C1"), 120, 300),
        ("beratung", 1, ("",), 30, 200),
    ),
    (
        ("berufsorientierung", 3, ("orientation",), 60, 180),
        ("bvb", 3, ("preparation",), 180, 330),
        ("eq", 2, ("preparation",), 180, 365),
        ("produktionsschule", 1, ("orientation", "preparation"), 120, 330),
        ("schulabschluss", 2, ("school_certificate",), 200, 365),
        ("berufssprachkurs", 2, ("B2", "C1"), 120, 300),
        ("mentoring", 1, ("",), 60, 300),
    ),
    (
        ("ausbildung", 4, ("qualification",), 700, 1100),
        ("arbeit", 3, ("",), 90, 365),
        ("bvb", 2, ("preparation",), 180, 330),
        ("eq", 1, ("preparation",), 180, 365),
        ("asa_flex", 1, ("qualification",), 180, 365),
    ),
)
_ONE_LEVEL_DOWN = {"A2": "A1", "B1": "A2", "B2": "B1", "C1": "B2"}


def _rand(seed: int, salt: int, modulo: int) -> pl.Expr:
    """A pseudo-random integer in [0, modulo) per row (a hash of the column ``_row``)."""
    return (pl.col("_row").hash(seed * 1_000_003 + salt) % modulo).cast(pl.Int64)


def _choose(
    values: Sequence[Any], weights: Sequence[int], r: pl.Expr, dtype: pl.DataType
) -> pl.Expr:
    """The value whose cumulative weight first exceeds ``r`` (in [0, sum(weights)))."""
    expr: Any = pl
    acc = 0
    for value, w in zip(values, weights, strict=True):
        acc += w
        expr = expr.when(r < acc).then(pl.lit(value, dtype))
    return expr.otherwise(pl.lit(values[-1], dtype))


def _pick(values: Sequence[str], seed: int, salt: int, weights: Sequence[int]) -> pl.Expr:
    return _choose(values, weights, _rand(seed, salt, sum(weights)), pl.String())


def bench_frames(n_persons: int, seed: int = 1, per_person: int = 10) -> CareerFrames:
    """Synthetic frames built with polars expressions (no Python loop per row):
    ``n_persons`` with 1 … 2·``per_person``−1 participations each (``per_person`` on
    average) moving from language courses over preparation to training or work,
    with plausible outcomes, pauses and next steps; 0–4 plan steps and 0–3 referrals
    per person; 70 % with an open case. Deterministic for a seed."""
    today = BENCH_TODAY
    persons = pl.DataFrame({"person_id": pl.int_range(1, n_persons + 1, eager=True)}).with_columns(
        _row=pl.col("person_id")
    )
    persons = persons.with_columns(k=1 + _rand(seed, 1, 2 * per_person - 1))
    rows = (
        persons.select("person_id", "k", i=pl.int_ranges(0, pl.col("k")))
        .explode("i")
        .with_row_index("_row")
    )
    stage = ((pl.col("i") * 3) // pl.col("k")).cast(pl.Int64)
    stage = pl.min_horizontal(stage + (_rand(seed, 3, 10) == 0).cast(pl.Int64), pl.lit(2))
    cat_expr: Any = pl
    level_expr: Any = pl
    days_expr: Any = pl
    for s, options in enumerate(_STAGES):
        r = _rand(seed, 10 + s, sum(o[1] for o in options))
        cat = _choose([o[0] for o in options], [o[1] for o in options], r, pl.String())
        idx = _choose(list(range(len(options))), [o[1] for o in options], r, pl.Int64())
        lvl: Any = pl
        dur: Any = pl
        for j, (_c, _w, levels, lo, hi) in enumerate(options):
            pick = _rand(seed, 20 + 10 * s + j, len(levels))
            lvl = lvl.when(idx == j).then(_choose(levels, [1] * len(levels), pick, pl.String()))
            dur = dur.when(idx == j).then(lo + _rand(seed, 60 + 10 * s + j, hi - lo + 1))
        cat_expr = cat_expr.when(stage == s).then(cat)
        level_expr = level_expr.when(stage == s).then(lvl.otherwise(pl.lit("")))
        days_expr = days_expr.when(stage == s).then(dur.otherwise(pl.lit(90)))
    rows = rows.with_columns(
        category=cat_expr.otherwise(pl.lit("other")),
        level=level_expr.otherwise(pl.lit("")),
        dur=days_expr.otherwise(pl.lit(90)),
        pause=_rand(seed, 4, 200) - 30,
        is_last=pl.col("i") == pl.col("k") - 1,
    )
    # Starts: the durations and pauses before (a running sum restarted per person:
    # rows are in person order), placed so that the last one started between 700 days
    # ago and 60 days ahead (those are not seen by a scan on ``today``).
    step = pl.col("dur") + pl.col("pause")
    rows = (
        rows.with_columns(total=step.cum_sum())
        .with_columns(
            offset=pl.col("total") - pl.when(pl.col("i") == 0).then(pl.col("total")).forward_fill()
        )
        .with_columns(
            last_offset=pl.when("is_last").then(pl.col("offset")).backward_fill(),
            shift=pl.when("is_last").then(_rand(seed, 2, 760) - 60).backward_fill(),
        )
        .with_columns(
            started_on=pl.lit(today)
            - pl.duration(days=pl.col("last_offset") + pl.col("shift") - pl.col("offset"))
        )
    )
    persons = persons.join(
        rows.group_by("person_id").agg(
            first=pl.col("started_on").min(),
            span=(pl.lit(today) - pl.col("started_on").min()).dt.total_days() + 1,
        ),
        on="person_id",
    ).sort("person_id")
    end = pl.col("started_on") + pl.duration(days=pl.col("dur"))
    ended = (end <= pl.lit(today)) & ~(pl.col("is_last") & (_rand(seed, 5, 100) < 30))
    outcome = _pick(
        ("completed_certificate", "completed", "aborted", "transferred"), seed, 6, (45, 30, 18, 7)
    )
    level_down = pl.col("level").replace(_ONE_LEVEL_DOWN)
    reached = (
        pl.when(pl.col("outcome") != "completed_certificate")
        .then(pl.lit(""))
        .when(_rand(seed, 7, 100) < 20)
        .then(level_down)
        .otherwise(pl.col("level"))
    )
    exits = ("apprenticeship", "employment", "school_qualification", "study")
    next_step = (
        pl.when(pl.col("outcome") == "")
        .then(pl.lit(""))
        .when(pl.col("is_last"))
        .then(_pick(("measure", "none", "unknown", *exits), seed, 8, (15, 15, 20, 20, 20, 5, 5)))
        .otherwise(
            _pick(("measure", "none", "unknown", "", *exits), seed, 9, (50, 10, 10, 20, 4, 4, 1, 1))
        )
    )
    parts = (
        rows.with_columns(
            ended_on=pl.when(ended).then(end),
            outcome=pl.when(ended).then(outcome).otherwise(pl.lit("")),
        )
        .with_columns(level_reached=reached, next_step=next_step)
        .select(
            "person_id",
            id=pl.col("_row").cast(pl.Int64) + 1,
            category="category",
            level="level",
            started_on="started_on",
            ended_on="ended_on",
            outcome="outcome",
            level_reached="level_reached",
            next_step="next_step",
        )
    )

    def extra_rows(salt: int, most: int) -> pl.DataFrame:
        return (
            persons.select(
                "person_id", "first", "span", i=pl.int_ranges(0, _rand(seed, salt, most + 1))
            )
            .explode("i")
            .drop_nulls("i")
            .with_row_index("_row")
        )

    steps = (
        extra_rows(30, 4)
        .with_columns(
            created_on=pl.min_horizontal(
                pl.col("first") + pl.duration(days=_rand(seed, 31, 4000) % pl.col("span")),
                pl.lit(today),
            )
        )
        .select(
            "person_id",
            id=pl.col("_row").cast(pl.Int64) + 1,
            status=_pick(("open", "in_progress", "done", "cancelled"), seed, 32, (20, 10, 55, 15)),
            created_on="created_on",
            due_date=pl.col("created_on") + pl.duration(days=14 + _rand(seed, 33, 170)),
        )
    )
    status = _pick(
        (
            "started",
            "completed",
            "aborted",
            "rejected",
            "withdrawn",
            "sent",
            "accepted",
            "waitlisted",
        ),
        seed,
        41,
        (35, 20, 5, 10, 8, 8, 6, 8),
    )
    open_status = status.is_in(["sent", "accepted", "waitlisted"])
    sent = pl.min_horizontal(
        pl.col("first") + pl.duration(days=_rand(seed, 42, 4000) % pl.col("span")),
        pl.lit(today) - pl.duration(days=150),
    )
    refs = (
        extra_rows(40, 3)
        .with_columns(status=status)
        .with_columns(
            sent_on=pl.when(open_status)
            .then(pl.lit(today) - pl.duration(days=_rand(seed, 43, 200)))
            .otherwise(sent)
        )
        .select(
            "person_id",
            id=pl.col("_row").cast(pl.Int64) + 1,
            category=_pick([o[0] for st in _STAGES for o in st], seed, 44, [1] * 16),
            sent_on="sent_on",
            status="status",
            started_on=pl.when(pl.col("status").is_in(["started", "completed", "aborted"])).then(
                pl.col("sent_on") + pl.duration(days=7 + _rand(seed, 45, 130))
            ),
        )
    )
    open_persons = persons.filter(_rand(seed, 50, 100) < 70).select("person_id")
    return CareerFrames(
        participations=parts, plan_steps=steps, referrals=refs, open_persons=open_persons
    )


@dataclass
class BenchResult:
    persons: int
    participations: int
    flags: int
    build_seconds: float
    scan_seconds: float
    person_ms: float
    flags_by_rule: dict[str, int]

    def lines(self) -> list[str]:
        return [
            f"careers full scan: {self.participations:,} participations "
            f"({self.persons:,} persons) in {self.scan_seconds:.2f} s, {self.flags:,} flags",
            f"careers one person (python engine): {self.person_ms:.3f} ms median",
        ]


def bench_scan(
    n_persons: int,
    seed: int = 1,
    *,
    per_person: int = 10,
    today: dt.date = BENCH_TODAY,
    rules: Sequence[Rule] | None = None,
    person_samples: int = 200,
    clock: Callable[[], float] = time.perf_counter,
) -> BenchResult:
    """Time the full scan over synthetic frames (:func:`bench_frames`) and the
    single-person path over a sample of those persons."""
    rules = default_rules() if rules is None else list(rules)
    t0 = clock()
    frames = bench_frames(n_persons, seed, per_person)
    t1 = clock()
    flags = scan_frames(frames, rules, today)
    t2 = clock()
    step = max(1, n_persons // person_samples)
    sample = list(range(1, n_persons + 1, step))[:person_samples]
    small = CareerFrames(
        participations=frames.participations.filter(_pid.is_in(sample)),
        plan_steps=frames.plan_steps.filter(_pid.is_in(sample)),
        referrals=frames.referrals.filter(_pid.is_in(sample)),
        open_persons=None
        if frames.open_persons is None
        else frames.open_persons.filter(_pid.is_in(sample)),
    )
    timings = []
    for rec in records_from_frames(small):
        s = clock()
        scan_person(rec, rules, today)
        timings.append((clock() - s) * 1000)
    timings.sort()
    by_rule = flags.group_by("rule").len().sort("rule")
    return BenchResult(
        persons=n_persons,
        participations=frames.participations.height,
        flags=flags.height,
        build_seconds=t1 - t0,
        scan_seconds=t2 - t1,
        person_ms=timings[len(timings) // 2] if timings else float("nan"),
        flags_by_rule={str(k): int(v) for k, v in by_rule.iter_rows()},
    )
