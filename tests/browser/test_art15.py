"""The Art. 15 report in a real browser: reachable from the case page, and axe-clean."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from lotse.casework import services as cw
from lotse.casework.models import Note
from lotse.people.services import person_update

from ..conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, username: str) -> None:
    page.goto("/login/")
    page.page.get_by_label("Benutzername").fill(username)
    page.page.get_by_label("Passwort").fill(PASSWORD)
    page.page.get_by_role("button", name="Anmelden").click()
    page.axe()


def test_case_manager_opens_the_art15_report(world, page):
    actor, case = world.case_manager, world.case
    person_update(actor=actor, person=case.person, family_name="Haddad", phone="0151 000000")
    Note.objects.create(
        case=case, author=actor.user, organisation=world.lead, text="Rückruf vereinbart"
    )
    cw.appointment_create(
        actor=actor, case=case, purpose="Beratung", starts_at=timezone.now() + dt.timedelta(days=2)
    )
    p = page.page
    _login(page, "jc")  # a partner read, so the report has an access of another organisation
    page.goto(f"/cases/{case.pk}/")
    p.get_by_role("button", name="Abmelden").click()
    page.axe()

    _login(page, "cm")
    page.goto(f"/cases/{case.pk}/")
    p.get_by_role("link", name="Art. 15 GDPR report").or_(
        p.get_by_role("link", name="Auskunft nach Art. 15 DSGVO")
    ).click()
    page.axe()
    assert p.locator("h1").count() == 1
    assert p.get_by_text("Rückruf vereinbart").is_visible()
    assert p.locator("caption").count() > 10
    assert p.get_by_text("Jobcenter Lotsenstadt").first.is_visible()
    # Printing hides the navigation.
    p.emulate_media(media="print")
    assert not p.locator("header.lotse-header").is_visible()
    p.emulate_media(media="screen")
