"""Bearer-token authentication: the token's membership is the acting membership."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja.security import HttpBearer

from lotse.core.models import Membership

from .models import ApiToken
from .services import token_authenticate


class TokenAuth(HttpBearer):
    """`Authorization: Bearer lotse_<prefix>_<secret>`.

    Unknown, revoked or expired tokens, and tokens of inactive memberships,
    users or organisations are refused (401). Sessions are never accepted here,
    so the API needs no CSRF protection and cannot be driven from a browser tab.
    """

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        api_token = token_authenticate(plain=token.strip())
        if api_token is None:
            return None
        # Like ActingMembershipMiddleware for the pages; replaces a session's choice.
        request.membership = api_token.membership  # type: ignore[attr-defined]
        request.user = api_token.membership.user
        return api_token


def acting(request: HttpRequest, perm: str) -> Membership:
    """The membership the request acts in (set by TokenAuth), if its role has `perm`.

    As on the pages, a role without the permission gets 403 whatever the id asked
    for (that discloses nothing); scope (404) and lead-only rules (403) follow in
    the selectors and services."""
    membership: Membership = request.membership  # type: ignore[attr-defined]
    if not membership.has_perm(perm):
        raise PermissionDenied
    return membership
