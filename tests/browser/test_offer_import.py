"""Importing offers from a CSV file in a real browser, with axe on every page: an error
in one row blocks the import until the corrected file is uploaded (issue #5)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from lotse.offers.models import Offer

from .test_main_path import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _csv(rows: list[dict[str, str]]) -> bytes:
    headers = ["Titel", "Träger", "Handlungsfeld", "Kategorie", "Finanzierung", "Prüfen bis"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row[h] for h in headers])
    return buffer.getvalue().encode("utf-8-sig")


def _row(title: str, category: str) -> dict[str, str]:
    review = (timezone.localdate() + dt.timedelta(days=90)).strftime("%d.%m.%Y")
    return {
        "Titel": title,
        "Träger": "KI Lotsenstadt",
        "Handlungsfeld": "language",
        "Kategorie": category,
        "Finanzierung": "free",
        "Prüfen bis": review,
    }


def _upload(page, data: bytes) -> None:
    page.page.set_input_files(
        "#id_file", files=[{"name": "angebote.csv", "mimeType": "text/csv", "buffer": data}]
    )
    page.page.click("#import-submit")


def test_coordinator_imports_offers_after_correcting_the_file(world, page, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    p = page.page
    _login(page, "coord")
    page.goto("/offers/import/")
    assert p.locator("#import-progress").count() == 1  # shown while the file is checked

    _upload(page, _csv([_row("Sprachcafé", "sprachkurs"), _row("Zauberkurs", "zauberei")]))
    p.wait_for_selector("#import-has-errors")
    page.axe()
    bad = p.locator("#import-row-3")
    assert bad.get_attribute("data-action") == "error"
    assert "Kategorie" in bad.inner_text() and "zauberei" in bad.inner_text()
    assert p.locator("#import-confirm").count() == 0
    assert not Offer.objects.exists()

    _upload(
        page, _csv([_row("Sprachcafé", "sprachkurs"), _row("Integrationskurs", "integrationskurs")])
    )
    p.wait_for_selector("#import-confirm")
    page.axe()
    assert p.locator("#import-count-new").inner_text() == "2"
    assert p.locator("#import-row-3").get_attribute("data-action") == "new"

    p.click("#import-confirm")
    p.wait_for_url(f"{page.base_url}/offers/")
    page.axe()
    assert p.locator(".lotse-messages").is_visible()
    assert sorted(Offer.objects.values_list("title", flat=True)) == [
        "Integrationskurs",
        "Sprachcafé",
    ]
    assert all(o.search_text for o in Offer.objects.all())
