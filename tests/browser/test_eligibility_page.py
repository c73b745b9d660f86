"""The page "Zugang und Rechtskreis" and the rule set page in a real browser, with axe."""

from __future__ import annotations

import datetime as dt

import pytest

from lotse.eligibility.models import PersonFacts
from lotse.people.models import ResidenceStatusPeriod

from ..factories import ResidenceFactory
from .test_main_path import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_case_manager_checks_access_and_records_facts(world, page):
    person = world.case.person
    person.entry_date = dt.date(2019, 1, 10)
    person.save()
    ResidenceStatusPeriod.objects.filter(person=person).delete()
    ResidenceFactory(person=person, status="duldung", valid_from=dt.date(2021, 6, 1))
    p = page.page
    _login(page, "cm")
    page.goto(f"/cases/{world.case.pk}/")
    p.get_by_role("link", name="Zugang und Rechtskreis", exact=True).click()
    page.axe()
    assert p.get_by_role("heading", name="Zugang und Rechtskreis: Mohammed Haddad").is_visible()
    # Unknown facts are named; the Beschäftigungsduldung cannot be decided yet.
    assert p.get_by_text("Nicht entscheidbar ohne").first.is_visible()

    p.get_by_role("link", name="Angaben für die Prüfung bearbeiten").click()
    page.axe()
    p.get_by_label("Identität geklärt").select_option("true")
    p.get_by_label("Arbeitsverbot nach § 60a Abs. 6 AufenthG").select_option("false")
    p.get_by_label("Sozialversicherungspflichtig beschäftigt seit").fill("2025-01-15")
    p.get_by_label("Wöchentliche Arbeitszeit").fill("25")
    p.get_by_role("button", name="Speichern").click()
    page.axe()
    assert p.get_by_text("Angaben für die Prüfung gespeichert.").is_visible()
    record = PersonFacts.objects.get(person=person)
    assert record.identity_clarified is True and record.employed_since == dt.date(2025, 1, 15)

    # The same person on a date under the old law.
    p.get_by_label("Prüfen am").fill("2023-06-01")
    p.get_by_role("button", name="Prüfen", exact=True).click()
    page.axe()
    assert p.get_by_role("heading", name="Lage am 01.06.2023").is_visible()

    p.get_by_role("link", name="Regelwerk und Quellen").click()
    page.axe()
    assert p.get_by_role("heading", level=1).is_visible()
