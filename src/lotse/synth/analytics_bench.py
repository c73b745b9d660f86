"""The analytics benchmark behind `lotse bench --only analytics` (issue #7,
docs/benchmarks.md).

* **In memory, at scale** (default 1,000,000 persons): a synthetic pseudonymised
  snapshot with the distributions of the synthetic municipality, then the situation
  picture computed from it — first (the polars aggregations and the disclosure
  control of every table) and again (from the snapshot's memo, as every later page
  view until the snapshot expires).
* **Gap matrix** (in memory): demand per need type × target group from that snapshot
  (about two open needs per person) and supply from 10,000 synthetic offers — first
  (demand counted and protected, every offer checked for every target group with the
  eligibility rules) and again (demand from the memo; supply and classification are
  always read anew, as on the page).
* **Council report** (in memory): every table of the report computed from a cold
  copy of that snapshot (nothing memoized), then the tagged PDF and the XLSX. Names,
  offers, goals and rules come from the bench database (the demo's goal tree is added
  for the measurement and rolled back).
* **From the database** (the bench database): building the snapshot — the queries,
  the pseudonyms, the bands — and the situation picture from it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import threading
import time
from collections.abc import Callable

import numpy as np
import polars as pl
from django.db import transaction
from django.utils import timezone

from lotse.analytics import snapshot as snap_mod
from lotse.analytics.gaps import Group, Need, OfferSupply, gap_matrix, protected_demand
from lotse.analytics.indicators import compute, trend_days
from lotse.analytics.models import IndicatorType
from lotse.analytics.report import build_report
from lotse.analytics.report_render import render_pdf, render_xlsx
from lotse.analytics.situation import situation
from lotse.core.disclosure import Policy
from lotse.offers.access import legally_closed
from lotse.people.codes import STATUS_GROUP

Out = Callable[[str, str], None]

NATIONALITIES = ["SY", "AF", "UA", "IQ", "TR", "ER", "SO", "GN", "IR", "NG", "RU", "AL", "XK"]
NATIONALITIES += ["GE", "MK", "RS", "PK", "BD", "GM", "CM", "SN", "LB", "PS", "YE", "SD", "ET"]
DISTRICTS = [f"Bezirk {i}" for i in range(1, 13)]
STATUSES = list(STATUS_GROUP)
REGIMES = ["asylblg_3", "asylblg_2", "sgb2", "sgb3", "sgb8", "sgb12", "none"]
PHASES = ["intake", "assessment", "planning", "implementation", "evaluation"]


def _skewed(rng: np.random.Generator, values: list[str], n: int) -> np.ndarray:
    weights = 1 / np.arange(1, len(values) + 1) ** 1.1
    return rng.choice(np.array(values), size=n, p=weights / weights.sum())


def synthetic_snapshot(persons: int, *, on: dt.date, seed: int = 1) -> snap_mod.Snapshot:
    rng = np.random.default_rng(seed)
    age = rng.integers(15 * 12, 60 * 12, persons).astype(np.int32)
    open_case = rng.random(persons) < 0.85
    frame = pl.DataFrame(
        {
            "pkey": pl.int_range(persons, eager=True).hash(seed).cast(pl.String),
            "age_months": age,
            "gender": rng.choice(["male", "female", "diverse"], persons, p=[0.6, 0.39, 0.01]),
            "nationality": _skewed(rng, NATIONALITIES, persons),
            "district": _skewed(rng, DISTRICTS, persons),
            "status": _skewed(rng, STATUSES, persons),
            "regime": _skewed(rng, REGIMES, persons),
            "phase": np.where(open_case, _skewed(rng, PHASES, persons), "closed"),
            "open_case": open_case,
            "arrival": _skewed(rng, STATUSES, persons),
        }
    )

    def group(column: str) -> pl.Expr:
        return pl.col(column).replace_strict(STATUS_GROUP, default="", return_dtype=pl.String())

    persons_frame = frame.with_columns(
        age_band=snap_mod.age_band(pl.col("age_months")),
        target_group=(pl.col("age_months") // 12).is_between(*snap_mod.TARGET_AGES),
        status_group=group("status"),
        arrival_group=group("arrival"),
    ).select(list(snap_mod.PERSON_SCHEMA))
    opened_days = rng.integers(0, 5 * 365, persons)
    opened = np.datetime64(on, "D") - opened_days.astype("timedelta64[D]")
    closed = np.minimum(
        opened + rng.integers(0, 365, persons).astype("timedelta64[D]"), np.datetime64(on, "D")
    )
    cases = pl.DataFrame(
        {
            "pkey": persons_frame["pkey"],
            "opened": opened,
            "closed": closed,
            "open": open_case,
            "age_opened": age - (opened_days // 30).astype(np.int32),
        }
    ).select(
        "pkey",
        opened_quarter=snap_mod.quarter_start(pl.col("opened")),
        closed_quarter=pl.when(~pl.col("open")).then(snap_mod.quarter_start(pl.col("closed"))),
        age_months_opened=pl.col("age_opened").cast(pl.Int32),
    )
    # Two open needs per person on average, over 27 need types.
    holders = rng.integers(0, persons, 2 * persons)
    needs = pl.DataFrame(
        {
            "pkey": persons_frame["pkey"].gather(holders),
            "need_type_id": _skewed(rng, [str(i) for i in range(1, 28)], 2 * persons).astype(
                np.int64
            ),
        }
    ).unique()
    # Two participations per person, a referral for every second one, a flag for one
    # person in ten and a plan version for two in three.
    n_parts = 2 * persons
    owners = persons_frame["pkey"].gather(rng.integers(0, persons, n_parts))
    started = np.datetime64(on, "D") - rng.integers(30, 4 * 365, n_parts).astype("timedelta64[D]")
    length = rng.integers(30, 400, n_parts).astype("timedelta64[D]")
    ended = started + length
    running = ended > np.datetime64(on, "D")
    outcome = rng.choice(["completed", "completed_certificate", "aborted", "transferred"], n_parts)
    participations = (
        pl.DataFrame(
            {
                "pkey": owners,
                "offer_id": rng.integers(1, 10_000, n_parts),
                "provider_id": rng.integers(1, 60, n_parts),
                "category": _skewed(rng, [*CATEGORIES, "ausbildung", "arbeit"], n_parts),
                "started_on": started,
                "ended": ended,
                "running": running,
                "result": outcome,
                "next_step": rng.choice(NEXT_STEPS, n_parts),
            }
        )
        .with_columns(
            ended_on=pl.when(~pl.col("running")).then(pl.col("ended")),
            outcome=pl.when(pl.col("running")).then(pl.lit("")).otherwise(pl.col("result")),
        )
        .select(list(snap_mod.PARTICIPATION_SCHEMA))
        .cast(pl.Schema(snap_mod.PARTICIPATION_SCHEMA))
    )
    refs = participations.sample(fraction=0.5, seed=seed)
    referrals = refs.select(
        "offer_id",
        "category",
        sent_on=pl.col("started_on") - pl.duration(days=pl.col("offer_id") % 120),
        started_on="started_on",
    )
    flag_rows = persons // 10
    flags = (
        pl.DataFrame(
            {
                "pkey": persons_frame["pkey"].gather(rng.integers(0, persons, flag_rows)),
                "rule": _skewed(rng, ["cycle", "gap", "waiting", "dropout_chain"], flag_rows),
                "raised_on": np.datetime64(on, "D")
                - rng.integers(0, 700, flag_rows).astype("timedelta64[D]"),
            }
        )
        .with_columns(resolved_on=pl.lit(None, dtype=pl.Date()))
        .cast(pl.Schema(snap_mod.FLAG_SCHEMA))
    )
    plan_rows = 2 * persons // 3
    plans = pl.DataFrame(
        {
            "pkey": persons_frame["pkey"].gather(rng.integers(0, persons, plan_rows)),
            "agreed_on": np.datetime64(on, "D")
            - rng.integers(0, 900, plan_rows).astype("timedelta64[D]"),
        }
    ).cast(pl.Schema(snap_mod.PLAN_SCHEMA))
    return snap_mod.Snapshot(
        on=on,
        built_at=timezone.now(),
        seconds=0.0,
        persons=persons_frame,
        cases=cases,
        needs=needs,
        participations=participations,
        referrals=referrals,
        flags=flags,
        plans=plans,
    )


def _situation_timings(snapshot: snap_mod.Snapshot, prefix: str, out: Out) -> None:
    policy = Policy()
    for label in ("first", "again"):
        start = time.perf_counter()
        snap_mod.memoized(
            snapshot,
            ("situation", "open"),
            lambda: situation(snapshot, population="open", policy=policy),
        )
        out(f"{prefix}_situation_{label}_seconds", f"{time.perf_counter() - start:.3f}")


GROUPS = [
    Group(1, "jv_asyl", "18–27 Asyl", ("asylum",), 18, 27),
    Group(2, "jv_geduldet", "18–27 geduldet", ("tolerated",), 18, 27),
    Group(3, "jv_schutz", "18–27 Schutz", ("protection",), 18, 27),
    Group(4, "jv_sonstige", "18–27 sonstige", ("other_permit",), 18, 27),
    Group(5, "jv_verfestigt", "18–27 verfestigt", ("settled",), 18, 27),
    Group(6, "ab_28", "ab 28", (), 28, None),
]
NEEDS = [Need(i, f"need_{i}", f"Bedarf {i}", "language") for i in range(1, 28)]
NEXT_STEPS = ["apprenticeship", "employment", "measure", "none", ""]
CATEGORIES = ["integrationskurs", "berufssprachkurs", "bvb", "eq", "beratung", "sprachkurs"]


def synthetic_offers(n: int, seed: int) -> list[OfferSupply]:
    rng = random.Random(seed)
    return [
        OfferSupply(
            i,
            f"Angebot {i}",
            f"Träger {i % 60}",
            rng.choice(CATEGORIES),
            tuple(rng.sample(list(STATUS_GROUP), 3)) if rng.random() < 0.3 else (),
            rng.choice([None, 18, 25]),
            rng.choice([None, 27, 35]),
            rng.choice([None, 0, 3, 8, 15]),
            tuple(rng.sample(range(1, 28), rng.randint(1, 3))),
        )
        for i in range(n)
    ]


def _gap_timings(snapshot: snap_mod.Snapshot, offers: list[OfferSupply], out: Out) -> None:
    policy = Policy()
    key = ("demand", "bench")
    for label in ("first", "again"):
        start = time.perf_counter()
        demand = snap_mod.memoized(
            snapshot, key, lambda: protected_demand(snapshot, NEEDS, GROUPS, policy)
        )
        gap_matrix(
            snapshot,
            needs=NEEDS,
            groups=GROUPS,
            offers=offers,
            levels={},
            closed=legally_closed,
            policy=policy,
            demand=demand,
        )
        out(f"analytics_memory_gaps_{label}_seconds", f"{time.perf_counter() - start:.3f}")


def _indicator_timings(snapshot: snap_mod.Snapshot, out: Out) -> None:
    """Each indicator type with its default parameters, today and at the four quarter
    ends of its trend, as the goal tree computes it once per snapshot."""
    policy = Policy()
    days = trend_days(snapshot.on)
    for indicator in IndicatorType:
        start = time.perf_counter()
        values = [compute(snapshot, indicator, {}, d, policy) for d in days]
        seconds = time.perf_counter() - start
        out(f"analytics_memory_indicator_{indicator.value}_seconds", f"{seconds:.3f}")
        out(f"analytics_memory_indicator_{indicator.value}_today", str(values[-1].value))


def _report_timings(snapshot: snap_mod.Snapshot, out: Out) -> None:
    from lotse.synth.demo import _goal_tree

    cold = dataclasses.replace(snapshot, memo={}, lock=threading.RLock())
    start_of_year = dt.date(cold.on.year, 1, 1)
    with transaction.atomic():
        _goal_tree()
        start = time.perf_counter()
        data = build_report(cold, period_start=start_of_year, policy=Policy())
        tables = time.perf_counter() - start
        pdf = render_pdf(data)
        pdf_done = time.perf_counter() - start
        render_xlsx(data)
        xlsx = time.perf_counter() - start - pdf_done
        transaction.set_rollback(True)
    out("analytics_memory_report_tables_seconds", f"{tables:.2f}")
    out("analytics_memory_report_pdf_seconds", f"{pdf_done:.2f}")
    out("analytics_memory_report_pdf_kib", str(len(pdf) // 1024))
    out("analytics_memory_report_xlsx_seconds", f"{xlsx:.2f}")


def run_memory(*, persons: int, out: Out, seed: int = 1, offers: int = 10_000) -> None:
    start = time.perf_counter()
    snapshot = synthetic_snapshot(persons, on=timezone.localdate(), seed=seed)
    out("analytics_memory_persons", str(snapshot.size))
    out("analytics_memory_needs", str(snapshot.needs.height))
    out("analytics_memory_snapshot_generated_seconds", f"{time.perf_counter() - start:.2f}")
    _situation_timings(snapshot, "analytics_memory", out)
    out("analytics_memory_offers", str(offers))
    _gap_timings(snapshot, synthetic_offers(offers, seed), out)
    out("analytics_memory_participations", str(snapshot.participations.height))
    _indicator_timings(snapshot, out)
    _report_timings(snapshot, out)


def run_db(*, out: Out) -> None:
    snapshot = snap_mod.build(on=timezone.localdate())
    out("analytics_db_persons", str(snapshot.size))
    out("analytics_db_snapshot_seconds", f"{snapshot.seconds:.2f}")
    _situation_timings(snapshot, "analytics_db", out)
