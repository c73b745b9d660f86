"""The goal system's indicators (issue #7) on hand-made snapshots: what each counts,
the trend days, and that shares and medians of few are withheld."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from lotse.analytics import snapshot as s
from lotse.analytics.indicators import compute, trend_days
from lotse.core.disclosure import Policy

ON = dt.date(2026, 11, 21)
K5 = Policy(k=5)


def _snap(n_target: int, n_older: int = 0, **frames: pl.DataFrame) -> s.Snapshot:
    keys = [f"p{i}" for i in range(n_target + n_older)]
    ages = [22 * 12] * n_target + [40 * 12] * n_older
    persons = (
        pl.DataFrame(
            {"pkey": keys, "age_months": ages},
            schema={"pkey": pl.String(), "age_months": pl.Int32()},
        )
        .with_columns(
            age_band=pl.lit(""),
            target_group=pl.lit(True),
            gender=pl.lit("male"),
            nationality=pl.lit("SY"),
            district=pl.lit(""),
            status=pl.lit("duldung"),
            status_group=pl.lit("tolerated"),
            arrival_group=pl.lit("tolerated"),
            regime=pl.lit(""),
            phase=pl.lit("planning"),
            open_case=pl.lit(True),
        )
        .select(list(s.PERSON_SCHEMA))
    )
    cases = pl.DataFrame(
        {
            "pkey": keys,
            "opened_quarter": [dt.date(2024, 1, 1)] * len(keys),
            "closed_quarter": [None] * len(keys),
            "age_months_opened": ages,
        },
        schema=s.CASE_SCHEMA,
    )
    return s.Snapshot(
        on=ON,
        built_at=None,  # type: ignore[arg-type]
        seconds=0.0,
        persons=persons,
        cases=cases,
        needs=pl.DataFrame(schema=s.NEED_SCHEMA),
        **frames,
    )


def _parts(rows: list[tuple[str, str, dt.date, dt.date | None, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(k, None, None, c, st, en, oc, ns) for k, c, st, en, oc, ns in rows],
        schema=s.PARTICIPATION_SCHEMA,
        orient="row",
    )


def test_offer_share_counts_persons_of_the_target_group_with_training_or_work():
    rows = [(f"p{i}", "ausbildung", dt.date(2026, 3, 1), None, "", "") for i in range(6)]
    rows += [("p6", "sprachkurs", dt.date(2026, 3, 1), None, "", "")]  # no training
    rows += [("p20", "arbeit", dt.date(2026, 3, 1), None, "", "")]  # older: not counted
    snap = _snap(12, 3, participations=_parts(rows))
    value = compute(snap, "offer_share", {}, ON, K5)
    assert value.base == 12 and value.value == pytest.approx(50.0)
    # Only 4 of 12: the share would name a small group.
    assert (
        compute(snap, "offer_share", {"categories": ["ausbildung"]}, dt.date(2026, 2, 1), K5).value
        is None
    )


def test_referral_days_and_started_within():
    sent = dt.date(2026, 6, 1)
    refs = pl.DataFrame(
        [
            (1, "integrationskurs", sent, sent + dt.timedelta(days=d))
            for d in (10, 20, 30, 40, 50, 70, 80, 90, 100, 110)
        ]
        + [(1, "integrationskurs", sent, None), (2, "bvb", sent, sent)],
        schema=s.REFERRAL_SCHEMA,
        orient="row",
    )
    snap = _snap(1, referrals=refs)
    days = compute(snap, "referral_days", {"category": "integrationskurs"}, ON, K5)
    assert days.value == pytest.approx(60.0) and days.base == 10
    # 8 weeks = 56 days: 5 of the 11 due referrals (one never started).
    within = compute(snap, "started_within", {"category": "integrationskurs", "weeks": 8}, ON, K5)
    assert within.base == 11 and within.value == pytest.approx(100 * 5 / 11)
    assert compute(snap, "referral_days", {"category": "bvb"}, ON, K5).value is None  # 1 < k


def test_transition_rate_flagged_and_plan_share():
    end = dt.date(2025, 12, 1)
    rows = [
        (f"p{i}", "bvb", dt.date(2025, 1, 1), end, "completed", "apprenticeship") for i in range(5)
    ]
    rows += [(f"p{i}", "bvb", dt.date(2025, 1, 1), end, "completed", "none") for i in range(5, 10)]
    snap = _snap(
        10,
        participations=_parts(rows),
        flags=pl.DataFrame(
            [(f"p{i}", "gap", dt.date(2026, 1, 1), None) for i in range(5)],
            schema=s.FLAG_SCHEMA,
            orient="row",
        ),
        plans=pl.DataFrame(
            [(f"p{i}", dt.date(2026, 9, 1)) for i in range(5)], schema=s.PLAN_SCHEMA, orient="row"
        ),
    )
    rate = compute(snap, "transition_rate", {}, dt.date(2026, 7, 1), K5)
    assert rate.base == 10 and rate.value == pytest.approx(50.0)
    assert compute(snap, "flagged_share", {}, ON, K5).value == pytest.approx(50.0)
    assert compute(snap, "flagged_share", {"rules": ["cycle"]}, ON, K5).value is None  # 0
    assert compute(snap, "plan_share", {"months": 12}, ON, K5).value == pytest.approx(50.0)
    # Before the plans were agreed nobody had one: 0 of 10 is withheld too.
    assert compute(snap, "plan_share", {}, dt.date(2026, 6, 30), K5).value is None


def test_trend_days_are_the_last_quarter_ends():
    assert trend_days(ON) == [
        dt.date(2025, 12, 31),
        dt.date(2026, 3, 31),
        dt.date(2026, 6, 30),
        dt.date(2026, 9, 30),
        ON,
    ]
