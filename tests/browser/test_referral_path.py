"""Issue #5, done when: a case manager finds accessible offers for a Geduldete
20-year-old with the need "Deutsch B1", refers her; the provider (another
organisation, another login) accepts and records start and outcome; the case manager
sees it in the chain — in a real browser, with axe on every page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from lotse.casework import services as casework
from lotse.core.models import NeedType
from lotse.core.roles import Role
from lotse.people.models import PersonLanguage

from ..factories import (
    CaseFactory,
    ConsentFactory,
    MembershipFactory,
    OfferFactory,
    OrganisationFactory,
    ResidenceFactory,
)
from .test_main_path import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _twenty_years_ago() -> dt.date:
    today = timezone.localdate()
    return today.replace(year=today.year - 20) - dt.timedelta(days=40)


def test_refer_geduldete_to_german_b1_provider_accepts_and_records(world, page):
    cm = world.case_manager
    case = CaseFactory(
        lead_organisation=world.lead,
        case_manager=cm.user,
        person__family_name="Yousef",
        person__given_names="Amal",
        person__gender="female",
        person__birth_date=_twenty_years_ago(),
    )
    ResidenceFactory(person=case.person, status="duldung", valid_from=dt.date(2024, 5, 1))
    PersonLanguage.objects.create(person=case.person, language="de", level="A2")
    b1 = NeedType.objects.get(code="deutsch_b1")
    casework.assessment_create(
        actor=cm,
        case=case,
        assessed_on=timezone.localdate(),
        items=[
            {
                "life_domain": "language",
                "kind": "need",
                "description": "Deutsch B1 für die Ausbildung",
                "need_type": b1,
                "priority": "high",
            }
        ],
    )
    school = OrganisationFactory(
        name="Sprachschule am Hafen", short_name="SaH", org_type="bildungstraeger"
    )
    MembershipFactory(organisation=school, role=Role.PARTNER_STAFF, user__username="sah")
    course = OfferFactory(
        provider=school,
        title="Deutsch B1 kompakt",
        category="sprachkurs",
        level="B1",
        german_min="A2",
        rolling_entry=True,
        capacity=12,
    )
    course.need_types.add(b1)
    # She agreed that her master data and education go to the school for referrals.
    ConsentFactory(
        person=case.person,
        purpose="referral",
        categories=["master", "education"],
        recorded_by=cm.user,
        recorded_for=world.lead,
        receivers=[school],
    )
    p = page.page

    # The case manager finds the course among the accessible offers and refers her.
    _login(page, "cm")
    page.goto(f"/cases/{case.pk}/")
    p.get_by_role("link", name="Angebote finden und vermitteln").first.click()
    page.axe()
    accessible = p.get_by_role("region", name="Zugängliche Angebote, die passendsten zuerst")
    assert accessible.get_by_role("link", name="Deutsch B1 kompakt", exact=True).is_visible()
    assert accessible.get_by_text("„Deutsch B1“").first.is_visible()
    accessible.get_by_role("link", name=re.compile(r"^Vermitteln\s*: Deutsch B1 kompakt$")).click()
    page.axe()
    p.get_by_label("Anlass der Vermittlung").fill("Braucht B1 für die Ausbildung ab August.")
    p.get_by_role("button", name="Vermittlung senden").click()
    page.axe()
    assert "gesendet" in p.locator("#referral-status").inner_text()
    p.get_by_role("button", name="Abmelden").click()
    page.axe()

    # The school's staff member sees it among the incoming referrals, with her name.
    _login(page, "sah")
    p.get_by_role("link", name="Vermittlungen").click()
    page.axe()
    p.get_by_role("link", name="Deutsch B1 kompakt").click()
    page.axe()
    assert p.locator("#referral-person").inner_text() == "Amal Yousef"
    p.get_by_role("button", name="Annehmen").click()
    page.axe()
    assert "angenommen" in p.locator("#referral-status").inner_text()
    today = timezone.localdate().isoformat()
    p.locator("#start-form").get_by_label("Begonnen am").fill(today)
    p.get_by_role("button", name="Beginn erfassen").click()
    page.axe()
    end = p.locator("#end-form")
    end.get_by_label("Beendet am").fill(today)
    end.get_by_label("Ergebnis", exact=True).select_option("completed_certificate")
    end.get_by_label("Erreichtes Niveau").select_option("B1")
    end.get_by_label("Anwesenheit (%)").fill("93")
    p.get_by_role("button", name="Ende erfassen").click()
    page.axe()
    assert "abgeschlossen" in p.locator("#referral-status").inner_text()
    p.get_by_role("button", name="Abmelden").click()
    page.axe()

    # The case manager sees the participation with its outcome in the chain.
    _login(page, "cm")
    page.goto(f"/cases/{case.pk}/")
    chain = p.locator("#chain-table")
    assert chain.get_by_text("Deutsch B1 kompakt").is_visible()
    assert chain.get_by_text("abgeschlossen mit Zertifikat (B1)").is_visible()
    assert chain.get_by_text("Duldung").first.is_visible()
