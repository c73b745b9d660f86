"""The measure-career benchmark behind `lotse bench --only careers` (issue #6,
docs/benchmarks.md).

Three figures:

* the **full scan** over synthetic frames of N participations (default 1,000,000;
  10,000,000 with ``--careers-participations``), in memory: the set-based detection
  itself, ``careers_scan.scan_frames`` (``bench_scan``);
* the **full scan from the database**: ``careers_scan_all`` on the bench database —
  reading the four tables, the scan and storing the flags (first run: every flag
  raised; second run: nothing changes);
* the **incremental update of one person**: ``careers_person_update`` as the services
  call it after a change — four small queries, the rules, the plain-Python engine and
  the comparison with the stored flags — for a sample of persons with participations,
  each timed once warm (its flags stored already, as after any change but the first).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable

from django.db import transaction

from lotse.referrals.careers_scan import bench_scan
from lotse.referrals.careers_services import careers_person_update, careers_scan_all
from lotse.referrals.models import Participation

from .bench import BenchError, Timing

Out = Callable[[str, str], None]


def run_scan(*, participations: int, out: Out, seed: int = 1) -> None:
    per_person = 10
    result = bench_scan(max(1, participations // per_person), seed, per_person=per_person)
    out("careers_scan_participations", str(result.participations))
    out("careers_scan_persons", str(result.persons))
    out("careers_scan_seconds", f"{result.scan_seconds:.2f}")
    out("careers_scan_flags", str(result.flags))
    out("careers_person_python_engine_ms_p50", f"{result.person_ms:.3f}")


def run_db(*, samples: int, out: Out, today: dt.date, seed: int = 1) -> None:
    person_ids = sorted(set(Participation.objects.values_list("person_id", flat=True)))
    if not person_ids:
        raise BenchError("The database holds no participations; load synthetic data first.")
    out("careers_db_participations", str(Participation.objects.count()))
    for label in ("first", "again"):
        start = time.perf_counter()
        frame, stored = careers_scan_all(today=today)
        seconds = time.perf_counter() - start
        assert stored is not None
        out(f"careers_db_full_scan_{label}_seconds", f"{seconds:.2f}")
        out(f"careers_db_full_scan_{label}_stored", stored.summary())
    out("careers_db_flags", str(frame.height))
    chosen = random.Random(seed).sample(person_ids, min(samples, len(person_ids)))
    timing = Timing()
    for person_id in chosen:
        # In a transaction, as in the services; kept (the flags are current anyway).
        with transaction.atomic():
            start = time.perf_counter()
            careers_person_update(person_id, today=today)
            timing.samples.append((time.perf_counter() - start) * 1000)
    out("careers_incremental_persons", str(len(chosen)))
    out("careers_incremental_ms_p50", f"{timing.p50:.2f}")
    out("careers_incremental_ms_p95", f"{timing.p95:.2f}")
