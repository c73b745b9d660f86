"""The consent form in a real browser: German and Arabic (right to left), the German
version side by side, the scope chooser; axe-core checks every page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from lotse.privacy.categories import Category, Purpose
from lotse.privacy.models import Consent

from .test_main_path import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def consent(world) -> Consent:
    c = Consent.objects.create(
        person=world.case.person,
        purpose=Purpose.CASEWORK,
        categories=[Category.EDUCATION, Category.WORK],
        signed_on=timezone.localdate(),
        valid_until=timezone.localdate() + dt.timedelta(days=365),
        interpreter_language="ar",
        recorded_by=world.case_manager.user,
        recorded_for=world.lead,
    )
    c.receiving_organisations.set([world.partner])
    return c


def test_german_and_arabic_form(world, page, consent):
    p = page.page
    _login(page, "cm")
    url = reverse("privacy:consent_form", args=[consent.pk])

    page.goto(f"{url}?lang=de")
    assert p.locator("html").get_attribute("lang") == "de"
    assert p.locator("html").get_attribute("dir") == "ltr"
    assert p.get_by_text("Mohammed Haddad").first.is_visible()
    assert p.get_by_text(world.partner.name).first.is_visible()
    assert p.locator(".cf-notice").count() == 0

    page.goto(f"{url}?lang=ar")
    assert p.locator("html").get_attribute("lang") == "ar"
    assert p.locator("html").get_attribute("dir") == "rtl"
    assert p.locator(".cf-notice").is_visible()
    # Right to left: the heading starts at the right edge of the sheet.
    sheet = p.locator("main").bounding_box()
    heading = p.locator("main h1").bounding_box()
    assert sheet and heading
    assert abs((heading["x"] + heading["width"]) - (sheet["x"] + sheet["width"])) < 40

    # Switch to the German version side by side through the toolbar (no JavaScript needed).
    # (German UI wording comes with the lead's catalogue; locate by id, not by text.)
    p.locator("#cf-with-german").check()
    p.locator('.cf-options button[type="submit"]').click()
    page.axe()
    assert (
        p.locator('.cf-section[lang="de"]').count() == p.locator('.cf-section[lang="ar"]').count()
    )

    # Printed, the toolbar disappears and the binding note stays.
    p.emulate_media(media="print")
    assert not p.locator(".cf-toolbar").is_visible()
    assert p.locator(".cf-binding").is_visible()
    p.emulate_media(media="screen")


def test_draft_chooser_and_form(world, page):
    p = page.page
    _login(page, "cm")
    page.goto(reverse("privacy:consent_form_draft", args=[world.case.pk]))
    page.axe()
    p.locator('input[name="purpose"][value="case_conference"]').check()
    p.locator('input[name="categories"][value="master"]').check()
    p.locator('input[name="categories"][value="education"]').check()
    p.locator("#cf-lang").select_option("fa")
    p.locator('form.lotse-form button[type="submit"]').click()
    page.axe()
    assert p.locator("html").get_attribute("lang") == "fa"
    assert p.locator("html").get_attribute("dir") == "rtl"
    assert p.get_by_text(world.partner.name).first.is_visible()  # pre-selected: on the team

    # Nothing chosen: the chooser comes back with the errors (status 400).
    page.goto(reverse("privacy:consent_form_draft", args=[world.case.pk]))
    for box in p.locator('input[name="orgs"]').all():
        box.uncheck()
    p.locator('form.lotse-form button[type="submit"]').click()
    page.axe()
    assert p.get_by_role("alert").is_visible()
