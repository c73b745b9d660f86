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
    call_command("bench", "--persons", "40", "--requests", "3", "--use-configured-db", stdout=out)
    lines = dict(line.split(": ", 1) for line in out.getvalue().splitlines())
    for figure in FIGURES:
        assert figure in lines, figure
    assert lines["persons"] == "40"
    assert int(lines["case_page_queries"]) > 0
    assert float(lines["ratio_case_page_trivial"]) > 0


def test_bench_without_data_says_so() -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no cases"):
        call_command(
            "bench", "--persons", "5", "--requests", "1", "--use-configured-db", stdout=StringIO()
        )
