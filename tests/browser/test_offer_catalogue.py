"""The offer catalogue in a real browser (German UI), with axe-core on every page.

Locators use ids and addresses rather than visible text, so the test does not depend
on the German catalogue of the new strings."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from lotse.offers.models import Offer

from ..factories import OfferFactory
from .test_main_path import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_coordinator_filters_opens_and_edits_an_offer(world, page):
    today = timezone.localdate()
    cafe = OfferFactory(
        provider=world.partner,
        title="Sprachcafé für Frauen",
        category="sprachkurs",
        capacity=12,
        occupied=4,
        languages=["de", "ar"],
        schedule="dienstags",
    )
    OfferFactory(
        provider=world.lead,
        title="Integrationskurs am Abend",
        category="integrationskurs",
        starts_on=today + dt.timedelta(days=20),
        ends_on=today + dt.timedelta(days=220),
    )
    p = page.page
    _login(page, "coord")

    p.locator("nav a[href='/offers/']").click()
    page.axe()
    results = p.locator("#offer-results")
    expect(results).to_contain_text("Sprachcafé für Frauen")
    expect(results).to_contain_text("Integrationskurs am Abend")

    # The law closes integration courses to persons obliged to leave without a Duldung.
    p.locator("#id_status").select_option("ausreisepflichtig")
    expect(results).not_to_contain_text("Integrationskurs am Abend")
    expect(results).to_contain_text("Sprachcafé für Frauen")
    page.axe()
    # Live search in another spelling (htmx), then the search button.
    p.locator("#id_status").select_option("")
    p.locator("#id_q").fill("sprachcafe frauen")
    p.locator("#offer-filters button[type=submit]").click()
    expect(results).not_to_contain_text("Integrationskurs am Abend")
    expect(p.locator("#offer-table a")).to_have_count(1)
    page.axe()

    p.locator(f"#offer-table a[href='/offers/{cafe.pk}/']").click()
    page.axe()
    expect(p.locator("h1")).to_have_text("Sprachcafé für Frauen")
    expect(p.locator("#offer-places")).to_contain_text("8")

    p.locator("#offer-edit").click()
    page.axe()
    # A wrong date first: the message appears at the field, nothing is saved.
    p.locator("#id_starts_on").fill((today + dt.timedelta(days=30)).isoformat())
    p.locator("#id_ends_on").fill((today + dt.timedelta(days=10)).isoformat())
    p.locator("#offer-save").click()
    page.axe()
    expect(p.locator("#id_ends_on_error")).to_be_visible()
    assert Offer.objects.get(pk=cafe.pk).starts_on is None

    p.locator("#id_ends_on").fill("")
    p.locator("#id_schedule").fill("dienstags und donnerstags, 10–12 Uhr")
    p.locator("#offer-save").click()
    page.axe()
    expect(p.locator("h1")).to_have_text("Sprachcafé für Frauen")
    expect(p.locator(".lotse-messages")).to_be_visible()
    expect(p.get_by_text("dienstags und donnerstags, 10–12 Uhr")).to_be_visible()
    cafe.refresh_from_db()
    assert cafe.schedule == "dienstags und donnerstags, 10–12 Uhr"
    assert cafe.starts_on == today + dt.timedelta(days=30) and cafe.ends_on is None
    assert cafe.provider == world.partner and cafe.updated_by == world.coordinator.user
