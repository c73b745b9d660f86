"""Personal API tokens: storage, authentication, the acting membership, the CLI."""

from __future__ import annotations

import datetime as dt
import hashlib
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone, translation

from lotse.api.models import ApiToken
from lotse.api.services import token_create, token_revoke

from ..factories import MembershipFactory


def test_only_a_hash_and_a_visible_prefix_are_stored(world):
    token, plain = token_create(membership=world.case_manager, name="Fachverfahren")
    scheme, prefix, secret = plain.split("_", 2)
    assert scheme == "lotse" and prefix == token.prefix and len(secret) >= 40
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert plain not in str(stored) and secret not in str(stored)
    assert stored["token_hash"] == hashlib.sha256(plain.encode()).hexdigest()
    assert stored["name"] == "Fachverfahren" and stored["expires_at"] is None


@pytest.mark.parametrize("role", ["volunteer", "sysadmin"])
def test_roles_without_the_permission_get_no_token(world, role):
    with pytest.raises(PermissionDenied):
        token_create(membership=world.by_role()[role])
    assert not ApiToken.objects.exists()


def test_inactive_membership_and_past_expiry_are_refused(world):
    world.team_lead.is_active = False
    world.team_lead.save()
    with pytest.raises(ValidationError) as err:
        token_create(membership=world.team_lead)
    assert "membership" in err.value.message_dict
    world.case_manager.organisation.is_active = False
    world.case_manager.organisation.save()
    with pytest.raises(ValidationError):
        token_create(membership=world.case_manager)
    world.case_manager.organisation.is_active = True
    world.case_manager.organisation.save()
    with pytest.raises(ValidationError) as err:
        token_create(
            membership=world.case_manager, expires_at=timezone.now() - dt.timedelta(days=1)
        )
    assert "expires_at" in err.value.message_dict


def test_a_valid_token_authenticates_and_records_its_use(api, world, tokens):
    token = ApiToken.objects.get(membership=world.case_manager)
    assert token.last_used_at is None
    response = api.get("/cases", "case_manager")
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer nonsense",
        "Token {token}",
        "Basic {token}",
        "Bearer lotse_0000000000_secret",
        "Bearer {prefix_only}_wrong-secret",
    ],
)
def test_missing_malformed_or_unknown_tokens_get_401(api, world, tokens, log, header):
    token = tokens["case_manager"]
    headers = {}
    if header is not None:
        prefix_only = "lotse_" + token.split("_")[1]
        headers["Authorization"] = header.format(token=token, prefix_only=prefix_only)
    response = api.client.get(f"/api/v1/cases/{world.case.pk}", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert log.entries() == []


def _refuse(api, world, token: str) -> None:
    for path in ("/cases", f"/cases/{world.case.pk}", "/persons"):
        assert api.get(path, token=token).status_code == 401, path


def test_revoked_token_gets_401(api, world, tokens):
    token_revoke(token=ApiToken.objects.get(membership=world.case_manager))
    _refuse(api, world, tokens["case_manager"])


def test_expired_token_gets_401(api, world, tokens):
    ApiToken.objects.filter(membership=world.case_manager).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    _refuse(api, world, tokens["case_manager"])


@pytest.mark.parametrize("what", ["membership", "user", "organisation"])
def test_inactive_membership_user_or_organisation_gets_401(api, world, tokens, what):
    membership = world.case_manager
    target = {
        "membership": membership,
        "user": membership.user,
        "organisation": membership.organisation,
    }[what]
    target.is_active = False
    target.save()
    _refuse(api, world, tokens["case_manager"])


def test_the_token_acts_in_its_membership_not_in_the_users_others(api, world):
    """The case manager of the lead also works for the partner: a token of that
    membership sees the case only as case team member (through the person's consent
    for the partner) and may not edit it."""
    second = MembershipFactory(
        user=world.case_manager.user, organisation=world.partner, role="partner_staff"
    )
    _token, plain = token_create(membership=second)
    response = api.get(f"/cases/{world.case.pk}", token=plain)
    assert response.status_code == 200
    assert response.json()["basis"] == "consent"
    assert response.json()["can_edit"] is False
    patch = api.patch(f"/cases/{world.case.pk}", token=plain, data={"phase": "assessment"})
    assert patch.status_code == 403


def test_a_session_does_not_authenticate_the_api(client, world, tokens):
    from ..conftest import login

    login(client, world.case_manager)
    assert client.get("/api/v1/cases").status_code == 401


def test_bearer_requests_need_no_csrf_token(world, tokens):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"/api/v1/cases/{world.case.pk}/notes",
        data={"text": "Ohne CSRF"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {tokens['case_manager']}"},
    )
    assert response.status_code == 201


def test_revoking_twice_keeps_the_first_date(world):
    token, _plain = token_create(membership=world.case_manager)
    first = token_revoke(token=token).revoked_at
    assert token_revoke(token=token).revoked_at == first


# --- lotse token … -------------------------------------------------------------------


def _run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    with translation.override("en"):
        call_command("token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_command_create_prints_a_working_token_once(api, world):
    out, err = _run("create", "--user", "cm", "--name", "Fachverfahren")
    assert out.startswith("lotse_") and "\n" not in out
    assert "KI Lotsenstadt" in err and out not in err
    token = ApiToken.objects.get(prefix=out.split("_")[1])
    assert token.membership == world.case_manager and token.name == "Fachverfahren"
    assert api.get(f"/cases/{world.case.pk}", token=out).status_code == 200


def test_command_create_with_expiry(world):
    _run("create", "--user", "cm", "--expires-days", "30")
    token = ApiToken.objects.get()
    assert token.expires_at is not None
    assert 29 <= (token.expires_at - timezone.now()).days <= 30


def test_command_create_needs_a_unique_membership(world):
    MembershipFactory(
        user=world.case_manager.user, organisation=world.partner, role="partner_staff"
    )
    with pytest.raises(CommandError) as err:
        _run("create", "--user", "cm")
    message = str(err.value)
    assert "--org" in message and "KI Lotsenstadt" in message and "Jobcenter" in message
    assert not ApiToken.objects.exists()
    # organisation by short name or name, or the role, picks one.
    _run("create", "--user", "cm", "--org", "jc")
    _run("create", "--user", "cm", "--org", "KI Lotsenstadt")
    _run("create", "--user", "cm", "--role", "partner_staff")
    roles = sorted(ApiToken.objects.values_list("membership__role", flat=True))
    assert roles == ["case_manager", "partner_staff", "partner_staff"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--user", "nobody"], "nobody"),
        (["--user", "cm", "--org", "ABH"], "KI"),
        (["--user", "vol"], "may not"),
        (["--user", "cm", "--expires-days", "0"], "expires-days"),
    ],
)
def test_command_create_refuses_with_a_clear_message(world, args, needle):
    with pytest.raises(CommandError) as err:
        _run("create", *args)
    assert needle in str(err.value)
    assert not ApiToken.objects.exists()


def test_command_list_and_revoke(api, world):
    plain, _err = _run("create", "--user", "cm", "--name", "Export")
    token = ApiToken.objects.get(prefix=plain.split("_")[1])
    listing, _err = _run("list", "--user", "cm")
    assert token.prefix in listing and "Export" in listing and plain not in listing
    out, _err = _run("revoke", token.prefix)
    assert token.prefix in out
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api.get("/cases", token=plain).status_code == 401
    listing, _err = _run("list", "--user", "cm")
    assert token.prefix in listing
    # The whole token works as well; revoking again says so.
    out, _err = _run("revoke", plain)
    assert token.prefix in out
    with pytest.raises(CommandError):
        _run("revoke", "ffffffffff")
