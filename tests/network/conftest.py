"""A small directory: a school and a JMD responsible for young tolerated people's
education, an adult education centre only for 28+, a cell with roles not agreed."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from lotse.core.models import Organisation
from lotse.network.models import Contact, Responsibility
from lotse.people.models import TargetGroup

from ..factories import OrganisationFactory


@dataclass
class Directory:
    school: Organisation
    jmd: Organisation
    vhs: Organisation
    school_contact: Contact
    jmd_contact: Contact


def group(code: str) -> TargetGroup:
    return TargetGroup.objects.get(code=code)


@pytest.fixture
def directory(world) -> Directory:
    school = OrganisationFactory(
        name="Berufskolleg Lotsenstadt", org_type="schule", legal_domains=["schulg"]
    )
    jmd = OrganisationFactory(
        name="Jugendmigrationsdienst Lotsenstadt", org_type="jmd", legal_domains=[]
    )
    vhs = OrganisationFactory(name="VHS Lotsenstadt", org_type="vhs", legal_domains=[])
    school_contact = Contact.objects.create(
        organisation=school, name="Bildungsgangleitung", function="Ausbildungsvorbereitung"
    )
    jmd_contact = Contact.objects.create(organisation=jmd, name="Team JMD", email="jmd@x.example")
    Contact.objects.create(organisation=vhs, name="Grundbildung")
    geduldet = group("jv_geduldet")
    Responsibility.objects.create(
        organisation=school,
        target_group=geduldet,
        field_of_action="education",
        role="Hauptschulabschluss",
        contact=school_contact,
    )
    Responsibility.objects.create(
        organisation=jmd, target_group=geduldet, field_of_action="education", role="Begleitung"
    )
    Responsibility.objects.create(
        organisation=vhs, target_group=group("ab_28"), field_of_action="education", role="Kurse"
    )
    # Training for young tolerated people: two, one without an agreed role.
    Responsibility.objects.create(
        organisation=jmd, target_group=geduldet, field_of_action="training", role="Beratung"
    )
    Responsibility.objects.create(
        organisation=world.partner, target_group=geduldet, field_of_action="training"
    )
    return Directory(school, jmd, vhs, school_contact, jmd_contact)


@pytest.fixture
def api(world, client):
    """The API client of tests/api, with a token per membership that may hold one."""
    from lotse.api.services import token_create
    from lotse.core.roles import Perm

    from ..api.conftest import Api

    tokens = {}
    for role, membership in world.by_role().items():
        if membership.has_perm(Perm.API_TOKEN):
            tokens[role] = token_create(membership=membership, name=f"test {role}")[1]
    return Api(client, tokens)
