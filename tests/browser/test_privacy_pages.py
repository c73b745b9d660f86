"""The privacy pages in a real browser, with axe-core on every page: recording a
consent, a partner's partial view, emergency access, sharing agreements."""

from __future__ import annotations

import pytest
from django.utils import timezone

from lotse.privacy.models import BreakGlassAccess, Consent, SharingAgreement

from .test_main_path import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_case_manager_records_a_consent(world, page):
    world.consent.delete()
    p = page.page
    _login(page, "cm")
    page.goto(f"/cases/{world.case.pk}/")
    p.get_by_role("link", name="Einwilligungen").click()
    page.axe()
    p.get_by_label("Bildung").check()
    p.get_by_label("Arbeit", exact=True).check()
    p.get_by_role("group", name="Empfangende Stellen").get_by_label(str(world.partner)).check()
    p.get_by_role("button", name="Einwilligung erfassen").click()
    page.axe()
    consent = Consent.objects.get(person=world.case.person)
    assert sorted(consent.categories) == ["education", "work"]
    assert consent.signed_on == timezone.localdate()


def test_partner_sees_only_shared_categories_and_can_break_glass(world, page):
    world.consent.categories = ["education", "work"]
    world.consent.save()
    p = page.page
    _login(page, "jc")
    page.goto(f"/cases/{world.case.pk}/")
    assert p.get_by_text("nicht freigegeben").first.is_visible()
    p.get_by_role("link", name="Notfallzugriff auf den gesamten Fall").click()
    page.axe()
    p.get_by_label("Grund für den Notfallzugriff").fill(
        "Akute Krise, die Familie muss sofort erreicht werden"
    )
    p.get_by_role("button", name="Notfallzugriff öffnen").click()
    page.axe()
    assert BreakGlassAccess.objects.filter(user=world.partner_staff.user).exists()


def test_org_admin_maintains_agreements(world, page):
    p = page.page
    _login(page, "oadmin")
    page.goto("/privacy/agreements/")
    p.get_by_role("link", name="Neue Vereinbarung").click()
    page.axe()
    p.get_by_label("Name").fill("KI → Jobcenter: Arbeit")
    p.get_by_label("An Organisation", exact=False).first.select_option(label=str(world.partner))
    p.get_by_role("group", name="Datenkategorien").get_by_label("Arbeit", exact=True).check()
    p.get_by_role("group", name="Zwecke").get_by_label("Fallbegleitung und Beratung").check()
    p.get_by_label("Rechtsgrundlage").fill("§ 69 Abs. 1 Nr. 1 SGB X")
    p.get_by_label("Gültig ab").fill(timezone.localdate().isoformat())
    p.get_by_role("button", name="Speichern").click()
    page.axe()
    assert SharingAgreement.objects.filter(name="KI → Jobcenter: Arbeit").exists()
