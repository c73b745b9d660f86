"""Fixtures for the API: a token per membership that may hold one, and a small client."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from lotse.api.models import ApiToken
from lotse.api.services import token_create
from lotse.core.models import AccessLogEntry
from lotse.core.roles import Perm

from ..referrals.conftest import Provider, provider


class Api:
    """Calls /api/v1 as one of the world's memberships (by role name) or with a raw token."""

    def __init__(self, client: Client, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def call(
        self,
        method: str,
        path: str,
        who: str | None = None,
        data: Any = None,
        token: str | None = None,
    ) -> Any:
        headers = {}
        if token is None and who is not None:
            token = self.tokens[who]
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        kwargs: dict[str, Any] = {"headers": headers}
        if data is not None:
            kwargs["data"] = json.dumps(data)
            kwargs["content_type"] = "application/json"
        return getattr(self.client, method)(f"/api/v1{path}", **kwargs)

    def get(self, path: str, who: str | None = None, **kw: Any) -> Any:
        return self.call("get", path, who, **kw)

    def post(self, path: str, who: str | None = None, data: Any = None, **kw: Any) -> Any:
        return self.call("post", path, who, data=data if data is not None else {}, **kw)

    def patch(self, path: str, who: str | None = None, data: Any = None, **kw: Any) -> Any:
        return self.call("patch", path, who, data=data if data is not None else {}, **kw)

    def delete(self, path: str, who: str | None = None, **kw: Any) -> Any:
        return self.call("delete", path, who, **kw)


@pytest.fixture
def tokens(world) -> dict[str, str]:
    memberships = dict(world.by_role(), partner_colleague=world.partner_colleague)
    result = {}
    for role, membership in memberships.items():
        if membership.has_perm(Perm.API_TOKEN):
            _token, plain = token_create(membership=membership, name=f"test {role}")
            result[role] = plain
    return result


@pytest.fixture
def api(client, tokens) -> Api:
    return Api(client, tokens)


class LogWatch:
    """Access log entries written since the watch began."""

    def __init__(self) -> None:
        last = AccessLogEntry.objects.order_by("-seq").values_list("seq", flat=True).first()
        self.start = last or 0

    def entries(self, **filters: Any) -> list[AccessLogEntry]:
        return list(AccessLogEntry.objects.filter(seq__gt=self.start, **filters))


@pytest.fixture
def provider_api(api, provider) -> Api:
    """`api` with tokens of the provider's staff ("provider": partner staff,
    "provider_lead": its team lead) beside the world's (see tests/referrals/conftest.py)."""
    for name, membership in (("provider", provider.staff), ("provider_lead", provider.colleague)):
        _token, plain = token_create(membership=membership, name=f"test {name}")
        api.tokens[name] = plain
    return api


@pytest.fixture
def log(world, tokens) -> LogWatch:
    return LogWatch()


# The person's consent for the partner organisation (world.consent) in each state the
# issue names; "covering" is the world as it is.
CONSENT_STATES = ["covering", "partial", "withdrawn", "expired", "none"]
PARTIAL = ["education", "work"]


def set_consent_state(world: Any, state: str) -> None:
    consent, today = world.consent, timezone.localdate()
    if state == "partial":
        consent.categories = PARTIAL
    elif state == "withdrawn":
        consent.withdrawn_at = timezone.now()
    elif state == "expired":
        consent.signed_on = today - dt.timedelta(days=400)
        consent.valid_until = today - dt.timedelta(days=1)
    elif state == "none":
        consent.delete()
        return
    consent.save()


__all__ = [
    "CONSENT_STATES",
    "PARTIAL",
    "Api",
    "ApiToken",
    "LogWatch",
    "Provider",
    "provider",
    "set_consent_state",
]
