"""The eligibility benchmark behind `lotse bench` (docs/benchmarks.md, issue #4).

Fact sets come from the synthetic generator's stories — origin, age, birth, entry,
residence and benefit story, German level, and the flags of `eligibility_personfacts`
(:func:`lotse.synth.generator.eligibility_facts`) — built in memory, without a
database. The figures are the engine's throughput on them on one date:

- `evaluate_batch` (the statistics path: no explanations, no look-ahead) in this
  process, best of three runs;
- the same list split across two worker processes. The workers are forked after the
  fact sets and the compiled rule set exist, so they inherit both instead of having
  them pickled, and send back only counts;
- `evaluate` with the look-ahead (`upcoming`), as a person's page calls it, on a
  sample of at most 5 000 fact sets.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable

from lotse.eligibility.engine import evaluate, evaluate_batch, load_rule_set
from lotse.eligibility.model import RESULTS, BenefitPeriod, Facts, StatusPeriod

from .generator import Config, Generator, GuideQuestion, NeedTypeSpec, Segment, days
from .generator import eligibility_facts as flags_for

FULL_SAMPLE = 5000
RUNS = 3
WORKERS = 2
# The generator needs a guide and need types only for casework rows, which the fact
# sets never reach; placeholders spare it reading the defaults from the migrations.
_NO_GUIDE = (GuideQuestion("-", "-", "-", "text"),)
_NO_NEED_TYPES = (NeedTypeSpec("-", "-", "-"),)


def facts_from_story(
    *,
    birth: dt.date,
    entry: dt.date,
    nationality: str,
    segments: list[Segment],
    benefits: list[tuple[dt.date, str]],
    german: str | None,
    flags: dict[str, object] | None,
) -> Facts:
    """Facts as the adapter builds them from the timelines and the person's facts row:
    each period ends the day before the next one starts; empty flags are left out."""
    status = tuple(
        StatusPeriod(
            s.status,
            s.start,
            segments[i + 1].start - days(1) if i + 1 < len(segments) else None,
        )
        for i, s in enumerate(segments)
    )
    regimes = tuple(
        BenefitPeriod(
            regime, start, benefits[i + 1][0] - days(1) if i + 1 < len(benefits) else None
        )
        for i, (start, regime) in enumerate(benefits)
    )
    known = {k: v for k, v in (flags or {}).items() if v is not None}
    if german is not None:
        known["german_level"] = german
    return Facts(
        birth_date=birth,
        entry_date=entry,
        nationality=nationality,
        status_history=status,
        benefits_history=regimes,
        flags=known,
    )


def synthetic_fact_sets(
    n: int,
    seed: int,
    today: dt.date,
    *,
    progress: Callable[[int], object] | None = None,
) -> list[Facts]:
    """``n`` realistic fact sets, deterministic for (``n``'s prefix, seed, today)."""
    gen = Generator(
        Config(persons=n, seed=seed, today=today, guide=_NO_GUIDE, need_types=_NO_NEED_TYPES)
    )
    out: list[Facts] = []
    step = max(1, min(1000, n // 100))
    for i in range(n):
        origin = gen._origin()
        birth = gen._birth(gen._age())
        entry = gen._entry(origin, birth)
        segments = gen._residence_story(origin, birth, entry, reunification=False)
        benefits = gen._benefit_story(segments, entry, birth)
        german = gen._german(entry)
        flags = flags_for(
            gen.facts_draw,
            today=today,
            birth=birth,
            entry=entry,
            nationality=origin.code,
            segments=segments,
            benefits=benefits,
        )
        out.append(
            facts_from_story(
                birth=birth,
                entry=entry,
                nationality=origin.code,
                segments=segments,
                benefits=benefits,
                german=german,
                flags=flags,
            )
        )
        if progress is not None and (i + 1) % step == 0:
            progress(step)
    if progress is not None and n % step:
        progress(n % step)
    return out


# The fact sets the forked workers inherit (set in the parent before forking).
_SHARED: list[Facts] = []


def _count_slice(bounds: tuple[int, int, dt.date]) -> tuple[int, dict[str, int]]:
    lo, hi, on = bounds
    counts: Counter[str] = Counter()
    for _regime, results in evaluate_batch(_SHARED[lo:hi], on):
        counts.update(results)
    return hi - lo, dict(counts)


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(
    *,
    n: int,
    seed: int,
    out: Callable[[str, str], None],
    today: dt.date | None = None,
    progress: Callable[[int], object] | None = None,
) -> None:
    """Measure and report through `out(figure, value)`, one call per figure."""
    on = today or dt.date.today()
    rs = load_rule_set()
    start = time.perf_counter()
    facts = synthetic_fact_sets(n, seed, on, progress=progress)
    built = time.perf_counter() - start
    out("eligibility_on", on.isoformat())
    out("eligibility_fact_sets", str(n))
    out("eligibility_fact_sets_seconds", f"{built:.1f}")
    out("eligibility_cpus", str(os.cpu_count() or 1))

    evaluate_batch(facts[:1000], on, rule_set=rs)  # warm-up
    results: list[tuple[str | None, tuple[str, ...]]] = []

    def batch() -> None:
        nonlocal results
        results = evaluate_batch(facts, on, rule_set=rs)

    best = min(_timed(batch) for _ in range(RUNS))
    out("eligibility_batch_persons_per_s", f"{n / best:.0f}")
    out("eligibility_batch_persons_per_s_2proc", _two_processes(facts, on))

    sample = facts[: min(n, FULL_SAMPLE)]
    full = _timed(lambda: [evaluate(f, on, rule_set=rs) for f in sample])
    out("eligibility_full_persons_per_s", f"{len(sample) / full:.0f}")
    out("eligibility_full_sample", str(len(sample)))

    counts: Counter[str] = Counter()
    for _regime, items in results:
        counts.update(items)
    total = sum(counts.values()) or 1
    out("eligibility_unknown_share", f"{counts['unknown'] / total:.3f}")
    out("eligibility_result_shares", " ".join(f"{r}={counts[r] / total:.3f}" for r in RESULTS))
    statuses = Counter(
        next((p.status for p in reversed(f.status_history) if p.start <= on), "-") for f in facts
    )
    out(
        "eligibility_status_mix",
        " ".join(f"{s}={c / n:.3f}" for s, c in statuses.most_common(8)),
    )


def _two_processes(facts: list[Facts], on: dt.date) -> str:
    """`evaluate_batch` over `facts` split across forked workers (best of RUNS)."""
    global _SHARED
    try:
        ctx = multiprocessing.get_context("fork")
    except ValueError:
        return "n/a (no fork on this platform)"
    n = len(facts)
    half = n // WORKERS
    bounds = [(i * half, n if i == WORKERS - 1 else (i + 1) * half, on) for i in range(WORKERS)]
    _SHARED = facts
    try:
        with ctx.Pool(WORKERS) as pool:
            pool.map(_count_slice, [(lo, min(hi, lo + 500), d) for lo, hi, d in bounds])
            times = []
            for _ in range(RUNS):
                start = time.perf_counter()
                done = pool.map(_count_slice, bounds, chunksize=1)
                times.append(time.perf_counter() - start)
                assert sum(k for k, _ in done) == n
    finally:
        _SHARED = []
    return f"{n / min(times):.0f}"
