"""The council report (issue #7): tables, golden files on a fixed synthetic seed, the
tagged PDF, the workbook, the pages and their privacy."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
from io import StringIO
from pathlib import Path

import openpyxl
import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from pypdf import PdfReader

from lotse.analytics import snapshot
from lotse.analytics.models import CouncilReport
from lotse.analytics.report import (
    CouncilReportData,
    build_report,
    career_table,
    report_create,
    report_data_get,
    validate_period,
)
from lotse.analytics.report_render import render_pdf, render_xlsx
from lotse.core.disclosure import SUPPRESSED_MARK, Policy
from lotse.core.models import AccessLogEntry
from lotse.referrals.careers_services import careers_scan_all
from lotse.synth.demo import _goal_tree
from tests.conftest import login

TODAY = dt.date(2026, 11, 21)
NOW = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)
SEED = 11
PERSONS = 400
GOLDEN = Path(__file__).parent / "golden" / f"council_report_seed{SEED}.json"
PERIOD = (dt.date(2026, 1, 1), TODAY)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def synthetic(frozen, db) -> None:
    call_command(
        "synth",
        "--persons",
        str(PERSONS),
        "--seed",
        str(SEED),
        "--load",
        "--today",
        TODAY.isoformat(),
        "--no-progress",
        stdout=StringIO(),
    )
    careers_scan_all(today=TODAY)
    _goal_tree()


def _report(policy: Policy | None = None) -> CouncilReportData:
    snap = snapshot.build(on=PERIOD[1])
    return build_report(snap, period_start=PERIOD[0], policy=policy or Policy(k=5))


def test_report_tables_match_the_golden_file(synthetic) -> None:
    """The report's tables on a fixed synthetic seed. After an intended change:
    LOTSE_UPDATE_GOLDEN=1 pytest tests/analytics/test_report.py, and review the diff."""
    data = json.loads(json.dumps(_report().as_data(), ensure_ascii=False))
    if os.environ.get("LOTSE_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert data.keys() == expected.keys()
    for code, tables in expected["sections"].items():
        assert data["sections"][code] == tables, code
    assert data == expected


@pytest.mark.parametrize("k", [3, 5, 10])
def test_no_published_count_below_k(synthetic, k) -> None:
    data = _report(Policy(k=k))
    checked = 0
    for section in data.sections:
        for t in section.tables:
            for row in (*t.rows, *([t.footer] if t.footer else [])):
                for j in t.count_columns:
                    v = row[j]
                    assert v == SUPPRESSED_MARK or (isinstance(v, int) and v >= k), (
                        section.code,
                        t.code,
                        row,
                    )
                    checked += 1
    assert checked > 100  # the tables are not empty


def test_career_table_counts_persons_per_rule_and_adds_up() -> None:
    import polars as pl

    in_period, before, resolved, later = (
        dt.date(2026, 3, 1),
        dt.date(2025, 1, 1),
        dt.date(2026, 5, 1),
        dt.date(2026, 8, 1),
    )
    rows = [(f"g{i}", "gap", in_period, resolved if i < 4 else None) for i in range(10)]
    rows.append(("g0", "gap", in_period, None))  # g0 has an open one too: not resolved
    rows += [(f"c{i}", "cycle", in_period, resolved if i < 3 else None) for i in range(8)]
    rows.append(("c8", "cycle", before, None))  # raised before the period
    rows.append(("c9", "cycle", in_period, later))  # resolved after the period's end
    flags = pl.DataFrame(
        rows,
        schema={"pkey": pl.String, "rule": pl.String, "raised_on": pl.Date, "resolved_on": pl.Date},
        orient="row",
    )
    table = career_table(
        flags,
        dt.date(2026, 1, 1),
        dt.date(2026, 6, 30),
        {"cycle": "Kreislauf", "gap": "Lücke", "waiting": "Warten"},
        Policy(k=3),
    )
    assert table.row_labels == ("Kreislauf", "Lücke")  # no row for a rule without flags
    assert [[c.value for c in row] for row in table.cells] == [[9, 3], [10, 3]]
    assert table.col_totals is not None and [c.value for c in table.col_totals] == [19, 6]
    assert table.row_totals is None
    # Nothing resolved: that column is withheld, the persons flagged stay readable.
    unresolved = flags.with_columns(resolved_on=pl.lit(None, dtype=pl.Date))
    table = career_table(
        unresolved, dt.date(2026, 1, 1), dt.date(2026, 6, 30), {"gap": "Lücke"}, Policy(k=3)
    )
    assert [[c.value for c in row] for row in table.cells] == [[10, None]]


def test_validate_period_messages_at_the_fields() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_period(dt.date(2026, 6, 1), dt.date(2026, 1, 1), TODAY)
    assert "period_start" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        validate_period(dt.date(2026, 1, 1), TODAY + dt.timedelta(days=1), TODAY)
    assert "period_end" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        validate_period(None, None, TODAY)
    assert set(exc.value.message_dict) == {"period_start", "period_end"}
    validate_period(dt.date(2026, 1, 1), TODAY, TODAY)


def test_pdf_is_tagged_pdf_ua_with_title_and_language(synthetic) -> None:
    pdf = render_pdf(_report())
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    if os.environ.get("LOTSE_KEEP_REPORT"):
        Path(os.environ["LOTSE_KEEP_REPORT"]).write_bytes(pdf)
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert str(root["/Lang"]).lower().startswith("de")
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    metadata = root["/Metadata"].get_object().get_data().decode()
    assert "pdfuaid" in metadata and "Berichtsvorlage" in metadata
    assert len(reader.pages) > 3
    text = "".join(page.extract_text() for page in reader.pages)
    for heading in ("Lagebild", "Ziele und Indikatoren", "Angebotslücken", "Angebotsqualität"):
        assert heading in text


def test_xlsx_has_a_sheet_per_section_with_the_same_figures(synthetic) -> None:
    data = _report()
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(data)))
    assert wb.sheetnames[0] == "Überblick"
    assert len(wb.sheetnames) == 1 + len(data.sections)
    sheet = wb[wb.sheetnames[1]]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    first = data.sections[0].tables[0]
    header_at = next(
        i for i, r in enumerate(values) if tuple(v for v in r if v is not None) == first.header
    )
    for offset, row in enumerate(first.rows, start=1):
        got = tuple(v for v in values[header_at + offset] if v is not None)
        assert got == row


# --- pages and privacy ---------------------------------------------------------------------


@pytest.mark.django_db
def test_analyst_produces_and_downloads_a_report(client, world, frozen) -> None:
    login(client, world.analyst)
    url = reverse("analytics:reports")
    assert client.get(url).status_code == 200
    response = client.post(url, {"period_start": "2026-01-01", "period_end": "2026-06-30"})
    assert response.status_code == 302
    report = CouncilReport.objects.get()
    assert report.period_end == dt.date(2026, 6, 30) and report.k == 5
    log = AccessLogEntry.objects.filter(object_type="analytics", action="export").get()
    assert log.person_id is None and log.object_id == "report:2026-01-01:2026-06-30"
    for kind, magic in (("pdf", b"%PDF"), ("xlsx", b"PK")):
        r = client.get(reverse("analytics:report_download", args=[report.pk, kind]))
        assert r.status_code == 200 and r.content.startswith(magic)
        assert "attachment" in r["Content-Disposition"]
    assert (
        AccessLogEntry.objects.filter(object_type="council_report", action="download").count() == 2
    )
    assert (
        client.get(reverse("analytics:report_download", args=[report.pk, "docx"])).status_code
        == 404
    )


@pytest.mark.django_db
def test_bad_period_shows_errors_and_writes_nothing(client, world, frozen) -> None:
    login(client, world.analyst)
    response = client.post(
        reverse("analytics:reports"), {"period_start": "2026-07-01", "period_end": "2027-01-31"}
    )
    assert response.status_code == 422
    assert "heute" in response.content.decode()
    response = client.post(
        reverse("analytics:reports"), {"period_start": "2026-07-01", "period_end": "2026-03-31"}
    )
    assert response.status_code == 422
    assert not CouncilReport.objects.exists()
    assert not AccessLogEntry.objects.filter(action="export").exists()


@pytest.mark.django_db
def test_case_manager_gets_no_report(client, world, frozen) -> None:
    login(client, world.case_manager)
    assert client.get(reverse("analytics:reports")).status_code == 403
    assert (
        client.post(
            reverse("analytics:reports"), {"period_start": "2026-01-01", "period_end": "2026-06-30"}
        ).status_code
        == 403
    )
    with pytest.raises(PermissionDenied):
        report_create(
            actor=world.case_manager,
            period_start=dt.date(2026, 1, 1),
            period_end=dt.date(2026, 6, 30),
        )
    with pytest.raises(PermissionDenied):
        report_data_get(
            actor=world.volunteer, period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 6, 30)
        )
    assert not CouncilReport.objects.exists()


@pytest.mark.django_db
def test_monitoring_export_downloads_for_the_configured_municipality(client, world, settings):
    from lotse.analytics import monitor

    login(client, world.analyst)
    url = reverse("analytics:monitor_export", args=["json"])
    # Not configured: back to the page with the reason, nothing logged.
    response = client.get(url, follow=True)
    assert "LOTSE_MUNICIPALITY_CODE" in response.content.decode()
    assert not AccessLogEntry.objects.filter(object_id__startswith="monitor:").exists()
    settings.LOTSE_MUNICIPALITY_CODE, settings.LOTSE_MUNICIPALITY_NAME = "05999999", "Auenstadt"
    response = client.get(url)
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert monitor.validate(data) == []
    assert data["area"]["code"] == "05999999"
    csv_text = client.get(reverse("analytics:monitor_export", args=["csv"])).content.decode()
    assert csv_text.startswith("municipality,reference_date,table,row,column,value,flag")
    entries = AccessLogEntry.objects.filter(object_id="monitor:05999999", action="export")
    assert entries.count() == 2 and all(e.person_id is None for e in entries)
    assert client.get(reverse("analytics:monitor_export", args=["xml"])).status_code == 404
    login(client, world.case_manager)
    assert client.get(url).status_code == 403


@pytest.mark.django_db
def test_the_list_of_reports_reads_a_fixed_number_of_queries(
    client, world, django_assert_max_num_queries
) -> None:
    login(client, world.analyst)
    url = reverse("analytics:reports")

    def add(n: int) -> None:
        for _i in range(n):
            CouncilReport.objects.create(
                period_start=dt.date(2026, 1, 1),
                period_end=dt.date(2026, 6, 30),
                title="Berichtsvorlage 2026",
                created_by=world.analyst.user,
                organisation=world.analyst.organisation,
                k=5,
                rounding=0,
                seconds=2.5,
                pdf=b"%PDF" + b"x" * 100_000,
                xlsx=b"PK",
            )

    add(1)
    with django_assert_max_num_queries(12) as few:
        assert client.get(url).status_code == 200
    add(9)
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(url).content.decode()
    assert len(re.findall(r'id="report-\d+-pdf"', body)) == 10
    # The files stay in the database: the list does not read them.
    assert not any('"pdf"' in q["sql"] for q in few.captured_queries)


def test_a_very_long_table_is_left_to_the_workbook() -> None:
    from django.utils import timezone

    from lotse.analytics.report import ReportSection, ReportTable
    from lotse.analytics.report_render import PDF_MAX_ROWS, render_html

    def data(n: int) -> CouncilReportData:
        rows = tuple((f"Angebot {i}", 7) for i in range(n))
        table = ReportTable("offers", "Nach Angebot", ("Angebot", "Beendet"), rows)
        section = ReportSection("quality", "Angebotsqualität", "", (table,))
        return CouncilReportData(
            "Bericht", *PERIOD, PERIOD[1], timezone.now(), Policy(), (section,)
        )

    html = render_html(data(PDF_MAX_ROWS))
    assert f"Angebot {PDF_MAX_ROWS - 1}" in html
    html = render_html(data(PDF_MAX_ROWS + 1))
    assert "Angebot 0" not in html
    assert "Excel-Arbeitsmappe (Blatt „Angebotsqualität“)" in html
    sheet = openpyxl.load_workbook(io.BytesIO(render_xlsx(data(PDF_MAX_ROWS + 1))))[
        "Angebotsqualität"
    ]
    assert sheet.max_row > PDF_MAX_ROWS
