"""A provider (a Bildungsträger with its own staff) beside the shared world, an offer of
theirs and the person's consent to pass data to them for referrals."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from lotse.core.models import Membership, Organisation
from lotse.core.roles import Role
from lotse.offers.models import Offer
from lotse.privacy.models import Consent

from ..factories import ConsentFactory, MembershipFactory, OfferFactory, OrganisationFactory

REFERRAL_CATEGORIES = ["master", "education"]


@dataclass
class Provider:
    org: Organisation
    staff: Membership
    colleague: Membership
    offer: Offer
    consent: Consent


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def provider(world) -> Provider:
    org = OrganisationFactory(
        name="Bildungswerk Lotsenstadt", short_name="BW", org_type="bildungstraeger"
    )
    staff = MembershipFactory(organisation=org, role=Role.PARTNER_STAFF, user__username="bw")
    colleague = MembershipFactory(organisation=org, role=Role.TEAM_LEAD, user__username="bw2")
    offer = OfferFactory(provider=org, title="Deutsch B1 am Vormittag", capacity=2)
    consent = ConsentFactory(
        person=world.case.person,
        purpose="referral",
        categories=REFERRAL_CATEGORIES,
        recorded_by=world.case_manager.user,
        recorded_for=world.lead,
        receivers=[org],
    )
    return Provider(org=org, staff=staff, colleague=colleague, offer=offer, consent=consent)
