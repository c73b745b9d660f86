"""The page "Passende Angebote" of a case in a real browser, with axe."""

from __future__ import annotations

import pytest

from lotse.core.models import NeedType

from ..factories import OfferFactory
from .test_main_path import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_case_manager_sees_matching_offers_and_the_excluded_ones(world, page):
    fits = OfferFactory(title="Sprachcafé Mitte", category="sprachkurs", rolling_entry=True)
    fits.need_types.add(NeedType.objects.get(code="deutsch_b1"))
    OfferFactory(title="Integrationskurs Nord", category="integrationskurs", rolling_entry=True)
    p = page.page
    _login(page, "cm")
    page.goto(f"/cases/{world.case.pk}/")
    p.locator(f"a[href='/offers/cases/{world.case.pk}/matches/']").first.click()
    page.axe()
    assert p.get_by_role("link", name="Sprachcafé Mitte", exact=True).is_visible()
    p.locator("#id_excluded").check()
    p.get_by_role("button", name="Anzeigen").click()
    page.axe()
    # The world's person has a Duldung: the integration course is closed by law.
    assert p.get_by_role("link", name="Integrationskurs Nord", exact=True).is_visible()
    assert p.get_by_text("§ 44 Abs. 4").first.is_visible()
