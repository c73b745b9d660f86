"""Login with lockout (django-axes), choosing the acting membership, language switch."""

from __future__ import annotations

from django.test import override_settings
from django.urls import reverse

from lotse.core.middleware import SESSION_KEY

from .conftest import PASSWORD
from .factories import MembershipFactory


def test_login_and_logout(world, client):
    r = client.post(reverse("core:login"), {"username": "cm", "password": PASSWORD})
    assert r.status_code == 302
    assert client.get(reverse("core:dashboard")).status_code == 200
    r = client.post(reverse("core:logout"))
    assert r.status_code == 302
    assert client.get(reverse("core:dashboard")).status_code == 302


def test_passwords_are_hashed_with_argon2_in_production_settings():
    from lotse.config.settings import base

    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


@override_settings(AXES_FAILURE_LIMIT=3)
def test_lockout_after_repeated_failures(world, client):
    for _ in range(3):
        r = client.post(reverse("core:login"), {"username": "cm", "password": "wrong"})
    assert r.status_code == 429
    assert "Zu viele" in r.content.decode() or "Too many" in r.content.decode()
    # Even the right password is refused while locked.
    r = client.post(reverse("core:login"), {"username": "cm", "password": PASSWORD})
    assert r.status_code == 429
    assert client.get(reverse("core:dashboard")).status_code == 302


def test_user_with_several_memberships_chooses_the_acting_one(world, client):
    second = MembershipFactory(
        user=world.case_manager.user, organisation=world.other, role="partner_staff"
    )
    client.force_login(world.case_manager.user)
    r = client.get(reverse("casework:list"))
    assert r.status_code == 302 and reverse("core:acting") in r["Location"]
    r = client.post(
        reverse("core:acting"), {"membership": str(second.pk), "next": reverse("casework:list")}
    )
    assert r.status_code == 302 and r["Location"] == reverse("casework:list")
    assert client.session[SESSION_KEY] == second.pk
    body = client.get(reverse("casework:list")).content.decode()
    # Acting for the foreigners' authority: its case, not the KI's.
    assert "Rahimi, Zahra" in body and "Haddad, Mohammed" not in body
    # A membership of somebody else cannot be chosen.
    r = client.post(reverse("core:acting"), {"membership": str(world.partner_staff.pk)})
    assert r.status_code == 200 and client.session[SESSION_KEY] == second.pk


def test_open_redirect_is_refused(world, client):
    client.force_login(world.case_manager.user)
    r = client.post(
        reverse("core:acting"),
        {"membership": str(world.case_manager.pk), "next": "https://evil.example/"},
    )
    assert r["Location"] == reverse("core:dashboard")


def test_german_is_default_and_english_available(world, as_member):
    client = as_member(world.case_manager)
    assert "Meine Arbeit" in client.get(reverse("core:dashboard")).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "My work" in client.get(reverse("core:dashboard")).content.decode()


def test_health_needs_no_login(client):
    r = client.get(reverse("core:health"))
    assert r.status_code == 200 and r.json() == {"status": "ok"}
