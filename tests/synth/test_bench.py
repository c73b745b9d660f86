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
CATALOGUE_FIGURES = [
    "catalogue_offers",
    "catalogue_offers_current",
    "catalogue_offers_with_free_places",
    "catalogue_queries",
    "catalogue_search_p50_ms",
    "catalogue_search_p95_ms",
    "catalogue_search_max_ms",
    "catalogue_text_search_p95_ms",
    "catalogue_filter_only_p95_ms",
    "catalogue_unfiltered_mean_ms",
    "catalogue_hits_median",
    "catalogue_empty_results_share",
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
    for figure in FIGURES + CATALOGUE_FIGURES:
        assert figure in lines, figure
    # The configured database is measured as is: its synthetic catalogue.
    assert lines["catalogue_offers"] == "150"
    assert lines["catalogue_queries"] == "3"
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
    assert "catalogue" not in out.getvalue()


def test_bench_only_offers_prints_the_catalogue_figures() -> None:
    call_command(
        "synth", "--persons", "20", "--seed", "2", "--load", "--no-progress", stdout=StringIO()
    )
    out = StringIO()
    call_command(
        "bench",
        "--persons",
        "20",
        "--requests",
        "12",
        "--use-configured-db",
        "--only",
        "offers",
        stdout=out,
    )
    lines = dict(line.split(": ", 1) for line in out.getvalue().splitlines())
    for figure in CATALOGUE_FIGURES:
        assert figure in lines, figure
    assert "case_page_p50_ms" not in lines and "eligibility_on" not in lines
    assert lines["catalogue_queries"] == "12"
    assert float(lines["catalogue_search_p95_ms"]) >= float(lines["catalogue_search_p50_ms"])


def test_catalogue_queries_are_varied_and_deterministic() -> None:
    from lotse.synth.offers_bench import queries

    call_command(
        "synth", "--persons", "10", "--seed", "2", "--load", "--no-progress", stdout=StringIO()
    )
    filters = queries(200, seed=7)
    assert filters == queries(200, seed=7)
    assert len(set(filters)) > 150
    assert sum(1 for f in filters if f.q) > 60
    for attr in ("category", "district_id", "status", "age", "free_places", "need_type_id"):
        assert any(getattr(f, attr) for f in filters), attr


def test_bench_without_data_says_so() -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no cases"):
        call_command(
            "bench", "--persons", "5", "--requests", "1", "--use-configured-db", stdout=StringIO()
        )


def test_bench_only_analytics_prints_the_report_figures() -> None:
    call_command(
        "synth", "--persons", "20", "--seed", "2", "--load", "--no-progress", stdout=StringIO()
    )
    out = StringIO()
    call_command(
        "bench",
        "--persons",
        "20",
        "--use-configured-db",
        "--only",
        "analytics",
        "--analytics-persons",
        "3000",
        stdout=out,
    )
    lines = dict(line.split(": ", 1) for line in out.getvalue().splitlines())
    assert lines["analytics_memory_persons"] == "3000"
    for figure in ("tables", "pdf", "xlsx"):
        assert float(lines[f"analytics_memory_report_{figure}_seconds"]) > 0, figure
    assert int(lines["analytics_memory_report_pdf_kib"]) > 10
    assert "case_page_p50_ms" not in lines
    # The demo's goals were added for the measurement only.
    from lotse.analytics.models import Goal

    assert not Goal.objects.exists()
