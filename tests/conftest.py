"""Shared fixtures: a small municipality with a lead agency, a partner agency on the
case team, an uninvolved agency, and one membership per role."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from lotse.casework.models import Case
from lotse.core.models import Membership, Organisation
from lotse.core.roles import Role
from lotse.privacy.models import Consent

from .factories import (
    CaseFactory,
    ConsentFactory,
    MembershipFactory,
    OrganisationFactory,
    ResidenceFactory,
    TeamMemberFactory,
)

PASSWORD = "pw-for-tests-123"  # the factories' password


@dataclass
class World:
    lead: Organisation
    partner: Organisation
    other: Organisation
    case_manager: Membership
    team_lead: Membership
    partner_staff: Membership
    partner_colleague: Membership
    outsider: Membership
    coordinator: Membership
    analyst: Membership
    volunteer: Membership
    org_admin: Membership
    sysadmin: Membership
    case: Case
    foreign_case: Case
    consent: Consent

    def by_role(self) -> dict[str, Membership]:
        return {
            "case_manager": self.case_manager,
            "team_lead": self.team_lead,
            "partner_staff": self.partner_staff,
            "outsider": self.outsider,
            "coordinator": self.coordinator,
            "analyst": self.analyst,
            "volunteer": self.volunteer,
            "org_admin": self.org_admin,
            "sysadmin": self.sysadmin,
        }


@pytest.fixture
def world(db) -> World:
    lead = OrganisationFactory(name="KI Lotsenstadt", short_name="KI", org_type="ki")
    partner = OrganisationFactory(
        name="Jobcenter Lotsenstadt", short_name="JC", org_type="jobcenter"
    )
    other = OrganisationFactory(
        name="Ausländerbehörde", short_name="ABH", org_type="auslaenderbehoerde"
    )
    cm = MembershipFactory(organisation=lead, role=Role.CASE_MANAGER, user__username="cm")
    case = CaseFactory(
        lead_organisation=lead,
        case_manager=cm.user,
        person__family_name="Haddad",
        person__given_names="Mohammed",
    )
    ResidenceFactory(person=case.person, status="duldung")
    partner_staff = MembershipFactory(
        organisation=partner, role=Role.PARTNER_STAFF, user__username="jc"
    )
    TeamMemberFactory(case=case, user=partner_staff.user, organisation=partner)
    # The person agreed to share everything with the Jobcenter for case management;
    # tests of partial, withdrawn and expired consent change this.
    consent = ConsentFactory(
        person=case.person, recorded_by=cm.user, recorded_for=lead, receivers=[partner]
    )
    foreign_cm = MembershipFactory(organisation=other, role=Role.CASE_MANAGER, user__username="abh")
    foreign_case = CaseFactory(
        lead_organisation=other,
        case_manager=foreign_cm.user,
        person__family_name="Rahimi",
        person__given_names="Zahra",
        person__gender="female",
    )
    return World(
        lead=lead,
        partner=partner,
        other=other,
        case_manager=cm,
        team_lead=MembershipFactory(organisation=lead, role=Role.TEAM_LEAD, user__username="tl"),
        partner_staff=partner_staff,
        partner_colleague=MembershipFactory(
            organisation=partner, role=Role.PARTNER_STAFF, user__username="jc2"
        ),
        outsider=foreign_cm,
        coordinator=MembershipFactory(
            organisation=lead, role=Role.COORDINATOR, user__username="coord"
        ),
        analyst=MembershipFactory(organisation=lead, role=Role.ANALYST, user__username="analyst"),
        volunteer=MembershipFactory(organisation=lead, role=Role.VOLUNTEER, user__username="vol"),
        org_admin=MembershipFactory(
            organisation=lead, role=Role.ORG_ADMIN, user__username="oadmin"
        ),
        sysadmin=MembershipFactory(
            organisation=lead, role=Role.SYSADMIN, user__username="sysadmin"
        ),
        case=case,
        foreign_case=foreign_case,
        consent=consent,
    )


def login(client: Client, membership: Membership) -> Client:
    """Log in and act in `membership` (the session carries the acting membership)."""
    client.force_login(membership.user)
    session = client.session
    session["lotse_acting_membership"] = membership.pk
    session.save()
    return client


@pytest.fixture
def as_member(client):
    def _as(membership: Membership) -> Client:
        return login(client, membership)

    return _as
