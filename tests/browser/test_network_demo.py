"""Issue #8 (first part) in the demo, in a real browser with axe on every page: a case
manager finds who helps a tolerated 22-year-old to a school-leaving certificate; the
coordinator sees the responsibility matrix with its gaps and duplicates."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from ..conftest import PASSWORD
from .test_main_path import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@override_settings(LOTSE_DEMO_PASSWORD=PASSWORD)
def test_pathway_finder_and_matrix_in_the_demo(page):
    call_command("demo", "--no-serve", stdout=StringIO())
    p = page.page
    _login(page, "case_manager")
    p.get_by_role("link", name="Netzwerk", exact=True).click()
    page.axe()
    assert p.locator("main").get_by_text("Team JMD Auenstadt").first.is_visible()
    page.goto("/network/pathways/")
    p.get_by_label("Aufenthaltsstatus").select_option("duldung")
    p.get_by_label("Alter").fill("22")
    p.get_by_label("Bedarf").select_option(label="Schulabschluss nachholen")
    p.get_by_role("button", name="Finden").click()
    p.locator("#pathway-organisations").wait_for()
    page.axe()
    found = p.locator("#pathway-organisations").inner_text()
    assert "Berufskolleg" in found and "JMD" in found
    assert p.locator("#pathway-diagram").is_visible()

    p.get_by_role("button", name="Abmelden").click()
    _login(page, "coordinator")
    page.goto("/network/responsibilities/")
    matrix = p.locator("main").inner_text()
    assert "Lücke" in matrix and "Rollen nicht abgestimmt" in matrix
    # The coordinator keeps the contacts of the directory.
    p.get_by_role("link", name="Netzwerk", exact=True).click()
    page.axe()
    p.locator("[id$='-contact-new']").first.click()
    page.axe()
    p.get_by_label("Name").fill("Frau Demir")
    p.get_by_label("E-Mail").fill("keine-adresse")
    p.get_by_role("button", name="Speichern").click()
    page.axe()
    p.get_by_label("E-Mail").fill("demir@example.org")
    p.get_by_label("Arabisch").check()
    p.get_by_role("button", name="Speichern").click()
    page.axe()
    assert p.get_by_text("Die Ansprechperson wurde gespeichert.").is_visible()
    assert p.locator("main").get_by_text("Frau Demir").is_visible()
