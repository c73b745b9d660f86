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


def record_aborted(actor, case, days_ago: int, title: str = "BvB", **fields):
    """A participation the lead organisation records as aborted: started `days_ago`
    days ago, 30 days long (a BvB unless `fields` say otherwise)."""
    import datetime as dt

    from django.utils import timezone

    from lotse.referrals import services

    start = timezone.localdate() - dt.timedelta(days=days_ago)
    values = {"category": "bvb", "level": "preparation"} | fields
    return services.participation_record(
        actor=actor,
        case=case,
        title=title,
        started_on=start,
        ended_on=start + dt.timedelta(days=30),
        outcome="aborted",
        abort_reason="motivation",
        **values,
    )


def record_completed_a2(actor, case):
    """An A2 integration course with certificate, ended 200 days ago (a gap follows)."""
    import datetime as dt

    from django.utils import timezone

    from lotse.referrals import services

    today = timezone.localdate()
    return services.participation_record(
        actor=actor,
        case=case,
        title="Deutsch A2",
        category="integrationskurs",
        level="A2",
        started_on=today - dt.timedelta(days=400),
        ended_on=today - dt.timedelta(days=200),
        outcome="completed_certificate",
        level_reached="A2",
    )
