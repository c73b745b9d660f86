"""Issue #6, done when: in the demo, the case manager sees flagged persons with an
understandable reason and an evidence time line, resolves one, and sees the
transition alerts for a person turning 27 and for an AsylbLG switch; the coordinator
sees the counts and the detection rules — in a real browser, axe on every page."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from lotse.referrals.models import CareerFlag

from ..conftest import PASSWORD
from .test_main_path import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@override_settings(LOTSE_DEMO_PASSWORD=PASSWORD)
def test_demo_flags_resolve_one_and_transition_alerts(page):
    call_command("demo", "--no-serve", stdout=StringIO())
    p = page.page

    _login(page, "case_manager")
    # "Meine Arbeit": the follow-ups of the transition alerts and the flags' notice.
    assert p.get_by_text(
        re.compile(r"Wird am .* 27: scheidet aus der Zielgruppe aus")
    ).first.is_visible()
    assert p.get_by_text(
        re.compile(r"Rechtskreiswechsel voraussichtlich am .*§ 2")
    ).first.is_visible()
    p.locator("#career-flags").get_by_role("link").click()
    page.axe()
    assert p.get_by_role("heading", name="Maßnahmekarrieren: Personen mit Hinweis").is_visible()
    table = p.locator("#career-flag-table")
    rows = table.locator("tbody tr")
    listed = rows.count()
    assert listed > 0
    # The reason reads as what happened, in one sentence; the evidence as a time line.
    first = rows.first
    reason = first.locator("td").nth(1).inner_text()
    assert re.search(r"\d", reason), reason  # days, dates or counts from the evidence
    first.get_by_role("link").nth(1).click()
    page.axe()
    assert p.locator("#flag-reason").inner_text() == reason
    assert p.locator("#flag-timeline li").count() >= 1
    assert p.get_by_text("Parameter, mit denen die Regel prüfte").is_visible()
    # Resolving needs a note: the error is at the field, then it works.
    p.get_by_role("button", name="Erledigen").click()
    page.axe()
    assert p.locator("#id_resolve-note_error").is_visible()
    p.get_by_label("Wie wurde damit umgegangen?").fill(
        "Gespräch geführt: Praktikum im Betrieb statt weiterer Maßnahme vereinbart."
    )
    p.get_by_role("button", name="Erledigen").click()
    page.axe()
    assert p.get_by_text("Der Hinweis wurde erledigt.").is_visible()
    assert p.locator("#career-flag-table tbody tr").count() == listed - 1
    assert CareerFlag.objects.filter(resolved_at__isnull=False).count() == 1
    p.get_by_role("button", name="Abmelden").click()
    page.axe()

    # The coordinator: counts without names, and the rules.
    _login(page, "coordinator")
    p.get_by_role("link", name="Maßnahmekarrieren").click()
    page.axe()
    assert p.locator("#counts-rule").is_visible()
    p.get_by_role("link", name="Erkennungsregeln").click()
    page.axe()
    p.get_by_role("link", name="Förderlücke").click()
    page.axe()
