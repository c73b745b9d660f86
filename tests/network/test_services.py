"""Writes of the directory: validation by field in German, nothing written on error."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from lotse.network import services
from lotse.network.models import Contact, Responsibility

from .conftest import group


def _counts() -> tuple[int, int]:
    return Contact.objects.count(), Responsibility.objects.count()


def test_create_update_delete_responsibility(world, directory):
    r = services.responsibility_create(
        actor=world.coordinator,
        organisation=directory.school,
        target_group=group("jv_asyl"),
        field_of_action="education",
        role="  Hauptschulabschluss ",
        contact=directory.school_contact,
    )
    assert r.role == "Hauptschulabschluss" and r.contact == directory.school_contact
    services.responsibility_update(
        actor=world.coordinator,
        responsibility=r,
        organisation=directory.school,
        target_group=group("jv_asyl"),
        field_of_action="training",
        role="",
    )
    r.refresh_from_db()
    assert r.field_of_action == "training" and r.role == "" and r.contact is None
    services.responsibility_delete(actor=world.coordinator, responsibility=r)
    assert not Responsibility.objects.filter(pk=r.pk).exists()


def test_contact_of_another_organisation_is_refused(world, directory):
    before = _counts()
    with translation.override("de"), pytest.raises(ValidationError) as exc:
        services.responsibility_create(
            actor=world.coordinator,
            organisation=directory.school,
            target_group=group("jv_asyl"),
            field_of_action="education",
            contact=directory.jmd_contact,
        )
    with translation.override("de"):
        expected = _("The contact must belong to the responsible organisation.")
    assert exc.value.message_dict == {"contact": [expected]}
    assert _counts() == before


def test_bad_input_gives_a_message_per_field_and_writes_nothing(world, directory):
    before = _counts()
    with translation.override("de"), pytest.raises(ValidationError) as exc:
        services.responsibility_create(
            actor=world.coordinator,
            organisation=None,
            target_group=None,
            field_of_action="space",
        )
    assert set(exc.value.message_dict) == {"organisation", "target_group", "field_of_action"}
    # The same cell twice.
    with translation.override("de"), pytest.raises(ValidationError) as exc:
        services.responsibility_create(
            actor=world.coordinator,
            organisation=directory.school,
            target_group=group("jv_geduldet"),
            field_of_action="education",
        )
    with translation.override("de"):
        expected = _(
            "This organisation is already responsible for this target group and field of action."
        )
    assert exc.value.message_dict == {"field_of_action": [expected]}
    # Moving a responsibility onto a taken cell.
    existing = Responsibility.objects.get(organisation=directory.jmd, field_of_action="training")
    with pytest.raises(ValidationError):
        services.responsibility_update(
            actor=world.coordinator,
            responsibility=existing,
            organisation=directory.jmd,
            target_group=group("jv_geduldet"),
            field_of_action="education",
        )
    existing.refresh_from_db()
    assert existing.field_of_action == "training"
    with pytest.raises(ValidationError) as exc:
        services.contact_create(
            actor=world.coordinator,
            organisation=directory.school,
            name=" ",
            email="not-an-address",
            languages=["de", "xx"],
        )
    assert set(exc.value.message_dict) == {"name", "email", "languages"}
    assert _counts() == before


def test_contacts(world, directory):
    c = services.contact_create(
        actor=world.coordinator,
        organisation=directory.school,
        name="Frau Beispiel",
        function="Beratung",
        email="b@x.example",
        languages=["de", "ar", "de"],
    )
    assert c.languages == ["de", "ar"]
    services.contact_update(actor=world.coordinator, contact=c, name="Team Beratung")
    c.refresh_from_db()
    assert c.name == "Team Beratung" and c.email == ""
    r = Responsibility.objects.get(organisation=directory.school, field_of_action="education")
    services.contact_delete(actor=world.coordinator, contact=directory.school_contact)
    r.refresh_from_db()
    assert r.contact is None  # the responsibility stays


@pytest.mark.parametrize("role", ["case_manager", "partner_staff", "analyst", "org_admin"])
def test_only_coordinators_edit(world, directory, role):
    before = _counts()
    with pytest.raises(PermissionDenied):
        services.responsibility_create(
            actor=world.by_role()[role],
            organisation=directory.school,
            target_group=group("jv_asyl"),
            field_of_action="education",
        )
    with pytest.raises(PermissionDenied):
        services.contact_create(
            actor=world.by_role()[role], organisation=directory.school, name="X"
        )
    assert _counts() == before


def test_a_cell_saved_twice_at_once_is_refused_at_the_field(world, directory, monkeypatch):
    """Both saves pass the check before either writes: the unique constraint refuses
    the second, and the user gets the message, not a server error."""
    kwargs = {
        "organisation": directory.school,
        "target_group": group("jv_asyl"),
        "field_of_action": "education",
    }
    Responsibility.objects.filter(**kwargs).delete()
    services.responsibility_create(actor=world.coordinator, **kwargs)
    before = Responsibility.objects.count()
    monkeypatch.setattr(services, "_responsibility_errors", lambda **_kw: {})
    with pytest.raises(ValidationError) as exc:
        services.responsibility_create(actor=world.coordinator, **kwargs)
    assert "field_of_action" in exc.value.message_dict
    assert Responsibility.objects.count() == before
