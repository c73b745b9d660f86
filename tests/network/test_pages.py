"""The pages of the directory: who may see them, the coordinator's edits, queries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from lotse.network.models import Contact, Responsibility

from ..factories import OrganisationFactory
from .conftest import group

READERS = ["case_manager", "team_lead", "partner_staff", "coordinator", "analyst", "org_admin"]
PAGES = ["network:directory", "network:responsibilities", "network:pathways"]


@pytest.mark.parametrize("role", READERS)
@pytest.mark.parametrize("page", PAGES)
def test_readers_see_the_pages(world, directory, as_member, role, page):
    assert as_member(world.by_role()[role]).get(reverse(page)).status_code == 200


@pytest.mark.parametrize("role", ["volunteer", "sysadmin"])
@pytest.mark.parametrize("page", PAGES)
def test_other_roles_get_403(world, as_member, role, page):
    assert as_member(world.by_role()[role]).get(reverse(page)).status_code == 403


def test_directory_lists_contacts_and_responsibilities(world, directory, as_member):
    body = as_member(world.case_manager).get(reverse("network:directory")).content.decode()
    assert "Berufskolleg Lotsenstadt" in body and "Bildungsgangleitung" in body
    assert "Hauptschulabschluss" in body
    body = (
        as_member(world.case_manager)
        .get(reverse("network:directory"), {"q": "Grundbildung"})
        .content.decode()
    )
    assert "VHS Lotsenstadt" in body and "Berufskolleg Lotsenstadt" not in body
    assert "Haddad" not in body  # no person anywhere


def test_matrix_marks_gaps_and_duplicates_with_text(world, directory, as_member):
    response = as_member(world.case_manager).get(reverse("network:responsibilities"))
    cells = {(c.target_group.code, c.field_of_action): c for c in response.context["matrix"].cells}
    assert cells[("jv_geduldet", "training")].duplicate
    body = response.content.decode()
    assert "Lücke" in body or "Gap" in body
    assert "responsibility-new" not in body  # case managers do not edit


def test_pathway_finder_page(world, directory, as_member):
    response = as_member(world.case_manager).get(
        reverse("network:pathways"), {"status": "duldung", "age": "22", "need": "schulabschluss"}
    )
    assert response.status_code == 200
    result = response.context["result"]
    assert {e.organisation for e in result.entries} == {directory.school, directory.jmd}
    body = response.content.decode()
    assert "Berufskolleg Lotsenstadt" in body and "Jugendmigrationsdienst Lotsenstadt" in body
    assert "VHS Lotsenstadt" not in body
    assert 'id="pathway-diagram"' in body
    # Bad input: the form shows the errors, no result.
    response = as_member(world.case_manager).get(
        reverse("network:pathways"), {"status": "duldung", "age": "-3"}
    )
    assert response.context["result"] is None and response.context["form"].errors


def test_coordinator_adds_edits_and_deletes(world, directory, as_member):
    client = as_member(world.coordinator)
    assert client.get(reverse("network:responsibility_new")).status_code == 200
    data = {
        "organisation": directory.school.pk,
        "target_group": group("jv_asyl").pk,
        "field_of_action": "education",
        "role": "Hauptschulabschluss",
        "contact": directory.school_contact.pk,
        "note": "",
    }
    response = client.post(reverse("network:responsibility_new"), data)
    assert response.status_code == 302
    r = Responsibility.objects.get(organisation=directory.school, target_group__code="jv_asyl")
    # A contact of another organisation: 422 with the message at the field, no change.
    bad = dict(data, contact=directory.jmd_contact.pk, role="geändert")
    response = client.post(reverse("network:responsibility_edit", args=[r.pk]), bad)
    assert response.status_code == 422 and "contact" in response.context["form"].errors
    r.refresh_from_db()
    assert r.role == "Hauptschulabschluss"
    response = client.post(reverse("network:responsibility_edit", args=[r.pk]), dict(data, role=""))
    assert response.status_code == 302
    r.refresh_from_db()
    assert r.role == ""
    assert client.get(reverse("network:responsibility_edit", args=[r.pk])).status_code == 200
    response = client.post(reverse("network:responsibility_delete", args=[r.pk]))
    assert response.status_code == 302 and not Responsibility.objects.filter(pk=r.pk).exists()


def test_case_manager_cannot_edit(world, directory, as_member):
    client = as_member(world.case_manager)
    r = Responsibility.objects.first()
    assert r is not None
    assert client.get(reverse("network:responsibility_new")).status_code == 403
    assert client.post(reverse("network:responsibility_delete", args=[r.pk])).status_code == 403
    assert Responsibility.objects.filter(pk=r.pk).exists()


def test_directory_queries_do_not_grow(world, directory, as_member, django_assert_max_num_queries):
    client = as_member(world.case_manager)
    url = reverse("network:directory")
    client.get(url)  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for n in range(10):
        org = OrganisationFactory()
        contact = Contact.objects.create(organisation=org, name=f"Kontakt {n}")
        Responsibility.objects.create(
            organisation=org,
            target_group=group("jv_schutz"),
            field_of_action="work",
            contact=contact,
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_coordinator_adds_edits_and_deletes_a_contact(world, directory, as_member):
    client = as_member(world.coordinator)
    new = reverse("network:contact_new", args=[directory.vhs.pk])
    assert client.get(new).status_code == 200
    data = {
        "name": "Frau Demir",
        "function": "Integrationskurse",
        "email": "kein-mail",
        "phone": "",
        "languages": ["tr", "ar"],
        "note": "",
    }
    response = client.post(new, data)
    assert response.status_code == 422 and "email" in response.context["form"].errors
    assert not Contact.objects.filter(name="Frau Demir").exists()
    response = client.post(new, dict(data, email="demir@vhs.example"))
    assert response.status_code == 302
    contact = Contact.objects.get(name="Frau Demir")
    assert contact.organisation == directory.vhs and contact.languages == ["tr", "ar"]
    edit = reverse("network:contact_edit", args=[contact.pk])
    assert "Frau Demir" in client.get(edit).content.decode()
    assert client.post(edit, dict(data, email="", function="Leitung")).status_code == 302
    contact.refresh_from_db()
    assert contact.function == "Leitung" and contact.email == ""
    directory_page = client.get(reverse("network:directory")).content.decode()
    assert edit in directory_page
    response = client.post(reverse("network:contact_delete", args=[contact.pk]))
    assert response.status_code == 302 and not Contact.objects.filter(pk=contact.pk).exists()


def test_case_manager_cannot_edit_contacts(world, directory, as_member):
    client = as_member(world.case_manager)
    contact = directory.school_contact
    assert client.get(reverse("network:contact_new", args=[directory.vhs.pk])).status_code == 403
    assert client.post(reverse("network:contact_delete", args=[contact.pk])).status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()
    page = client.get(reverse("network:directory")).content.decode()
    assert reverse("network:contact_edit", args=[contact.pk]) not in page
