"""`lotse bench` smoke test: every figure is printed (no timing values are checked)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

FIGURES = [
    "persons",
    "cases",
    "db_vendor",
    "case_list_p50_ms",
    "case_list_p95_ms",
    "case_search_p50_ms",
    "case_search_p95_ms",
    "case_page_p50_ms",
    "case_page_p95_ms",
    "trivial_p50_ms",
    "trivial_p95_ms",
    "ratio_case_list_trivial",
    "ratio_case_search_trivial",
    "ratio_case_page_trivial",
    "case_page_queries",
]


def test_bench_prints_one_line_per_figure() -> None:
    call_command(
        "synth", "--persons", "40", "--seed", "2", "--load", "--no-progress", stdout=StringIO()
    )
    out = StringIO()
    call_command(
        "bench",
        "--persons",
        "40",
        "--requests",
        "3",
        "--use-configured-db",
        "--eligibility-persons",
        "30",
        stdout=out,
    )
    lines = dict(line.split(": ", 1) for line in out.getvalue().splitlines())
    for figure in FIGURES:
        assert figure in lines, figure
    # By default the eligibility figures follow the page figures.
    for figure in ("eligibility_batch_persons_per_s", "eligibility_full_persons_per_s"):
        assert figure in lines, figure
    assert lines["eligibility_fact_sets"] == "30"
    assert lines["persons"] == "40"
    assert int(lines["case_page_queries"]) > 0
    assert float(lines["ratio_case_page_trivial"]) > 0


def test_bench_only_pages_leaves_out_the_eligibility_figures() -> None:
    call_command(
        "synth", "--persons", "20", "--seed", "2", "--load", "--no-progress", stdout=StringIO()
    )
    out = StringIO()
    call_command(
        "bench",
        "--persons",
        "20",
        "--requests",
        "2",
        "--use-configured-db",
        "--only",
        "pages",
        stdout=out,
    )
    assert "case_page_p50_ms" in out.getvalue()
    assert "eligibility" not in out.getvalue()


def test_bench_without_data_says_so() -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no cases"):
        call_command(
            "bench", "--persons", "5", "--requests", "1", "--use-configured-db", stdout=StringIO()
        )
