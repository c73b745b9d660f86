"""The eligibility benchmark: synthetic fact sets without a database, and its figures.

No timing values are checked: performance is measured with `lotse bench`, never
asserted in unit tests."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from lotse.eligibility import evaluate, parse_facts
from lotse.eligibility.engine import evaluate_batch
from lotse.eligibility.model import Facts
from lotse.synth.eligibility_bench import run, synthetic_fact_sets

TODAY = dt.date(2026, 11, 21)
N = 600

FIGURES = [
    "eligibility_on",
    "eligibility_fact_sets",
    "eligibility_fact_sets_seconds",
    "eligibility_cpus",
    "eligibility_batch_persons_per_s",
    "eligibility_batch_persons_per_s_2proc",
    "eligibility_full_persons_per_s",
    "eligibility_full_sample",
    "eligibility_unknown_share",
    "eligibility_result_shares",
    "eligibility_status_mix",
]


@pytest.fixture(scope="module")
def fact_sets() -> list[Facts]:
    return synthetic_fact_sets(N, 21, TODAY)


def as_json(f: Facts) -> dict[str, Any]:
    """The DESIGN §6 shape of ``f``."""

    def iso(d: dt.date | None) -> str | None:
        return d.isoformat() if d else None

    return {
        "birth_date": iso(f.birth_date),
        "entry_date": iso(f.entry_date),
        "nationality": f.nationality,
        "status_history": [
            {"status": p.status, "from": iso(p.start), "to": iso(p.end)} for p in f.status_history
        ],
        "benefits_history": [
            {"regime": p.regime, "from": iso(p.start), "to": iso(p.end)} for p in f.benefits_history
        ],
        "flags": {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in f.flags.items()},
    }


def test_fact_sets_are_deterministic_for_a_seed(fact_sets: list[Facts]) -> None:
    assert synthetic_fact_sets(N, 21, TODAY) == fact_sets
    assert synthetic_fact_sets(N, 22, TODAY) != fact_sets
    # A prefix of a bigger run is the smaller run.
    assert synthetic_fact_sets(50, 21, TODAY) == fact_sets[:50]


def test_fact_sets_are_valid_facts(fact_sets: list[Facts]) -> None:
    """Through the JSON shape and back: parse_facts accepts every fact set (no overlaps,
    no period before birth, known codes, typed flags) and gives the same facts."""
    for f in fact_sets:
        assert parse_facts(as_json(f)) == f
        ends = [p.end for p in f.status_history]
        assert ends[-1] is None and all(e is not None for e in ends[:-1])
        assert f.entry_date is not None and f.status_history[0].start >= f.entry_date


def test_fact_sets_mix_statuses_and_flags(fact_sets: list[Facts]) -> None:
    current = Counter(f.status_history[-1].status for f in fact_sets)
    for status in (
        "gestattung",
        "duldung",
        "ausbildungsduldung",
        "ae_24",
        "ae_25_2_gfk",
        "ae_25_2_subsidiaer",
        "niederlassungserlaubnis",
    ):
        assert current[status] > 0, status
    assert len(current) >= 12
    nationalities = {f.nationality for f in fact_sets}
    assert {"SY", "AF", "UA"} <= nationalities
    with_flags = [f for f in fact_sets if set(f.flags) - {"german_level"}]
    assert 0.2 * N < len(with_flags) < 0.7 * N
    for f in fact_sets:
        assert f.flags.get("german_level") is not None
        status = f.status_history[-1].status
        if status == "duldung_ungeklaerte_identitaet":
            assert f.flags.get("identity_clarified") is False
        if status in ("gestattung", "duldung", "ausbildungsduldung"):
            assert set(f.flags) > {"german_level"}
    # The engine sees a realistic spread, including facts it still needs.
    results = Counter(r for _regime, items in evaluate_batch(fact_sets, TODAY) for r in items)
    assert {"entitled", "admissible", "excluded", "unknown"} <= set(results)
    missing = Counter(
        m for f in fact_sets[:200] for item in evaluate(f, TODAY).access for m in item.missing
    )
    assert missing


def test_run_prints_every_figure() -> None:
    lines: dict[str, str] = {}
    run(n=200, seed=3, today=TODAY, out=lines.__setitem__)
    assert list(lines) == FIGURES
    assert lines["eligibility_fact_sets"] == "200"
    assert lines["eligibility_on"] == TODAY.isoformat()
    assert 0 <= float(lines["eligibility_unknown_share"]) <= 1


def test_bench_only_eligibility_needs_no_database() -> None:
    """No django_db mark: any database access would fail the test."""
    out = StringIO()
    call_command(
        "bench",
        "--only",
        "eligibility",
        "--eligibility-persons",
        "60",
        "--verbosity",
        "0",
        stdout=out,
    )
    lines = dict(line.split(": ", 1) for line in out.getvalue().splitlines())
    assert list(lines) == FIGURES
    assert "persons" not in lines and "case_page_p50_ms" not in lines
