"""The main path of a case manager in a real browser, with axe-core on every page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from lotse.casework.models import Appointment, AssessmentItem, PlanGoal, PlanStep

from ..conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, username: str) -> None:
    page.goto("/login/")
    page.page.get_by_label("Benutzername").fill(username)
    page.page.get_by_label("Passwort").fill(PASSWORD)
    page.page.get_by_role("button", name="Anmelden").click()
    page.axe()


def test_case_manager_main_path(world, page):
    p = page.page
    _login(page, "cm")
    assert p.get_by_role("heading", name="Meine Arbeit").is_visible()

    # Find the person: any spelling works.
    p.get_by_role("link", name="Fälle", exact=True).click()
    page.axe()
    p.get_by_label("Name").fill("Muhammad")
    p.get_by_role("button", name="Suchen").click()
    page.axe()
    p.get_by_role("link", name="Haddad, Mohammed").click()
    page.axe()
    assert p.get_by_role("heading", name="Mohammed Haddad").is_visible()

    # Assessment with a need.
    p.get_by_role("link", name="Neue Analyse").click()
    page.axe()
    p.get_by_label("Lebensbereich").select_option("language")
    p.get_by_label("Stärke oder Bedarf").select_option("need")
    p.get_by_label("Beschreibung").fill("Deutsch B1 für die Ausbildung")
    p.get_by_label("Bedarfsart").select_option(label="Deutsch B1")
    p.get_by_label("Priorität").select_option("high")
    p.get_by_role("button", name="Speichern").click()
    page.axe()
    assert p.get_by_role("cell", name="Deutsch B1 für die Ausbildung", exact=True).is_visible()

    # A goal and a step of the integration plan.
    p.get_by_role("link", name="Neues Ziel").click()
    page.axe()
    p.get_by_label("Lebensbereich").select_option("work")
    p.get_by_label("Ziel", exact=True).fill("Ausbildung als Elektroniker beginnen")
    p.get_by_label("Zieldatum").fill((timezone.localdate() + dt.timedelta(days=180)).isoformat())
    p.get_by_role("button", name="Speichern").click()
    page.axe()
    p.get_by_role(
        "link", name="Schritt zu „Ausbildung als Elektroniker beginnen“ hinzufügen"
    ).click()
    page.axe()
    p.get_by_label("Schritt", exact=True).fill("Bewerbung bei der Handwerkskammer")
    p.get_by_label("Zuständige Stelle").select_option(label=str(world.partner))
    p.get_by_role("button", name="Speichern").click()
    page.axe()

    # An appointment.
    p.get_by_role("link", name="Neuer Termin").click()
    page.axe()
    when = (timezone.localtime() + dt.timedelta(days=3)).replace(hour=10, minute=0)
    p.get_by_label("Datum und Uhrzeit").fill(when.strftime("%Y-%m-%dT%H:%M"))
    p.get_by_label("Anlass").fill("Bewerbungstraining")
    p.get_by_role("button", name="Speichern").click()
    page.axe()
    assert p.get_by_text("Bewerbungstraining").first.is_visible()

    descriptions = AssessmentItem.objects.values_list("description", flat=True)
    assert "Deutsch B1 für die Ausbildung" in descriptions  # encrypted: compared in Python
    assert PlanGoal.objects.filter(title="Ausbildung als Elektroniker beginnen").exists()
    assert PlanStep.objects.filter(
        title="Bewerbung bei der Handwerkskammer", responsible_organisation=world.partner
    ).exists()
    assert Appointment.objects.filter(purpose="Bewerbungstraining").exists()


def test_error_messages_are_at_the_field_and_keyboard_works(world, page):
    p = page.page
    _login(page, "cm")
    page.goto("/cases/new/")
    p.get_by_label("Familienname", exact=True).fill("Test")
    p.get_by_label("Vornamen", exact=True).fill("Person")
    p.get_by_label("Geburtsdatum", exact=True).fill("2004-01-01")
    p.get_by_role("button", name="Aufnehmen").click()
    page.axe()
    error = p.locator("#id_gender_error")
    assert error.is_visible()
    assert "id_gender_error" in (p.locator("#id_gender").get_attribute("aria-describedby") or "")
    # The skip link is the first stop of the keyboard and leads to the content.
    p.keyboard.press("Tab")
    assert p.evaluate("document.activeElement.textContent.trim()") == "Zum Inhalt springen"
    p.keyboard.press("Enter")
    assert p.evaluate("document.activeElement.id") == "main"


def test_partner_sees_case_without_edit_buttons(world, page):
    p = page.page
    _login(page, "jc")
    page.goto(f"/cases/{world.case.pk}/")
    assert p.get_by_text("Sie sehen diesen Fall als Mitglied des Fallteams").is_visible()
    assert p.get_by_role("link", name="Neues Ziel").count() == 0
    assert p.get_by_role("link", name="Neuer Vermerk").count() == 1
    response = p.goto(page.base_url + f"/cases/{world.foreign_case.pk}/")
    assert response.status == 404
    page.axe()
    assert "Rahimi" not in p.content()
