"""Issue #7 in the demo, in a real browser with axe on every page: the analyst opens
the situation picture (the figures load with a progress indicator) with the coverage,
switches to all persons, opens the gap heat map and a cell's drill-down, classifies a
need, the offer quality and the goal tree, downloads the council report as PDF and
Excel and produces another — and no table shows a count below k."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from ..conftest import PASSWORD
from .test_main_path import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

K = 5


def _assert_no_small_count(p) -> int:
    """Every count is at least k or withheld; returns how many (shares are no counts)."""
    cells = p.locator("td.kern-table__cell--numeric:not(.lotse-derived)")
    texts = cells.all_inner_texts()
    assert texts
    for text in texts:
        text = text.strip()
        if "•" in text:
            continue
        assert re.fullmatch(r"[\d.]+", text), text
        assert int(text.replace(".", "")) >= K, text
    return len(texts)


@override_settings(
    LOTSE_DEMO_PASSWORD=PASSWORD,
    LOTSE_MUNICIPALITY_CODE="05999999",
    LOTSE_MUNICIPALITY_NAME="Auenstadt (Demo)",
)
def test_analyst_sees_the_situation_picture_without_small_counts(page):
    call_command("demo", "--no-serve", stdout=StringIO())
    p = page.page
    _login(page, "analyst")
    p.get_by_role("link", name="Statistik").click()
    page.axe()
    p.get_by_role("link", name="Lagebild").click()
    p.locator("#table-district").wait_for()
    page.axe()
    assert p.get_by_role("heading", name="Lagebild").is_visible()
    for table in ("nationality", "age-band", "gender", "status-group", "regime", "phase"):
        assert p.locator(f"#table-{table}").is_visible(), table
    assert p.locator("svg[role=img]").count() >= 9  # a chart beside every table
    assert p.locator("#disclosure-legend").is_visible()
    assert _assert_no_small_count(p) > 50
    # The coverage against the demo's population list of the foreigners' authority.
    assert p.locator("#coverage-district").is_visible()
    assert re.search(r"\d+,\d %", p.locator("#coverage-district").inner_text())
    # Everybody with a case, not only the open cases.
    p.get_by_label("Gezählte Personen", exact=True).select_option("all")
    p.get_by_role("button", name="Anzeigen").click()
    p.locator("#table-district").wait_for()
    page.axe()
    _assert_no_small_count(p)
    # Recompute from the current data.
    p.get_by_role("button", name="Jetzt neu berechnen").click()
    p.locator("#table-district").wait_for()
    page.axe()
    assert p.get_by_text("neu berechnet").is_visible()

    # The gap analysis: heat map, the report by classification, one cell's drill-down.
    p.get_by_role("link", name="Statistik").click()
    p.get_by_role("link", name="Angebotslücken").click()
    page.axe()
    assert p.locator("#chart-gaps").is_visible()
    assert p.locator("#gap-report tbody tr").count() > 5
    _assert_no_small_count(p)
    p.locator("#gap-report tbody tr").first.get_by_role("link").click()
    page.axe()
    assert p.locator("#gap-figures").is_visible() and p.locator("#gap-districts").is_visible()
    # Classify a need; the report then lists it first.
    p.get_by_role("link", name="Zurück zur Lückenanalyse").click()
    page.axe()
    p.get_by_role("link", name="Bedarfe je Zielgruppe einstufen").click()
    page.axe()
    p.get_by_label("Deutsch B1 – 18–27, geduldet / ausreisepflichtig").select_option(
        "legally_required"
    )
    p.get_by_role("button", name="Einstufung speichern").click()
    page.axe()
    assert p.get_by_text("1 Einstufung geändert.").is_visible()
    p.get_by_role("link", name="Zurück zur Lückenanalyse").click()
    page.axe()
    first = p.locator("#gap-report tbody tr").first
    assert "Deutsch B1" in first.inner_text() and "rechtlich geboten" in first.inner_text()

    # The flows: the integration chains of everybody, then of the 18–27-year-olds.
    p.get_by_role("link", name="Statistik", exact=True).click()
    p.get_by_role("link", name="Verläufe").click()
    page.axe()
    assert p.locator("#chart-flows").is_visible()
    assert p.locator("#flows-0").is_visible()
    _assert_no_small_count(p)
    p.get_by_label("nur 18–27 Jahre").check()
    p.get_by_role("button", name="Anzeigen").click()
    page.axe()
    assert p.get_by_label("nur 18–27 Jahre").is_checked()
    _assert_no_small_count(p)

    # Offer quality per provider and offer.
    p.get_by_role("link", name="Statistik").click()
    p.get_by_role("link", name="Angebotsqualität").click()
    page.axe()
    assert p.locator("#quality-providers tbody tr").count() > 3
    _assert_no_small_count(p)

    # The goal system: the demo's tree, every result goal measured with a trend.
    p.get_by_role("link", name="Statistik").click()
    p.get_by_role("link", name="Zielsystem").click()
    page.axe()
    tree = p.locator("#goal-tree")
    assert tree.locator(".lotse-goal--result").count() == 6
    statuses = tree.locator("[id$='-status']").all_inner_texts()
    assert set(statuses) <= {"Ziel erreicht", "noch nicht erreicht", "nicht messbar"}
    assert "Ziel erreicht" in statuses or "noch nicht erreicht" in statuses
    assert tree.locator("table[id$='-trend']").count() == 6
    # Edit a target: 150 % is refused at the field, 95 % is saved.
    p.locator(".lotse-goal--result [id$='-edit']").first.click()
    page.axe()
    p.get_by_label("Zielwert").fill("150")
    p.get_by_role("button", name="Speichern").click()
    page.axe()
    assert p.get_by_text("Ein Anteil kann 100 % nicht überschreiten.").is_visible()
    p.get_by_label("Zielwert").fill("95")
    p.get_by_role("button", name="Speichern").click()
    page.axe()
    assert p.get_by_text("gespeichert").is_visible()

    # The council report: the demo's report for the last half-year downloads as PDF and
    # Excel; a new one for another period is produced with a progress indicator.
    p.get_by_role("link", name="Statistik", exact=True).click()
    p.get_by_role("link", name="Berichtsvorlage für den Rat").click()
    page.axe()
    assert p.locator("#report-list tbody tr").count() == 1
    for kind, magic in (("pdf", b"%PDF"), ("xlsx", b"PK")):
        with p.expect_download() as info:
            p.locator(f"[id$='-{kind}']").first.click()
        path = info.value.path()
        assert path is not None and Path(path).read_bytes().startswith(magic)
        assert info.value.suggested_filename.endswith(f".{kind}")
    p.get_by_label("Zeitraum von").fill("2026-01-01")
    p.get_by_label("Zeitraum bis").fill("2099-12-31")
    p.get_by_role("button", name="PDF und Excel erstellen").click()
    p.get_by_text("spätestens heute").wait_for()
    page.axe()
    p.get_by_label("Zeitraum bis").fill("2026-03-31")
    p.get_by_role("button", name="PDF und Excel erstellen").click()
    p.locator("#report-ready").wait_for(timeout=60_000)
    page.axe()
    assert p.locator("#report-list tbody tr").count() == 2
    # The state monitoring export of the town.
    with p.expect_download() as info:
        p.locator("#monitor-json").click()
    assert (
        info.value.suggested_filename == f"monitoring-05999999-{timezone.localdate():%Y%m%d}.json"
    )
    path = info.value.path()
    assert path is not None and '"schema_version": "1"' in Path(path).read_text()
