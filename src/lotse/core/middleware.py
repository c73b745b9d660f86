from __future__ import annotations

import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .context import channel_var, request_id_var
from .models import Membership

SESSION_KEY = "lotse_acting_membership"


class RequestIdMiddleware:
    """Give each request an id (or take the proxy's) so log lines and access log entries meet."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if 0 < len(incoming) <= 36 else str(uuid.uuid4())
        channel = "api" if request.path.startswith("/api/") else "web"
        rid_token = request_id_var.set(rid)
        ch_token = channel_var.set(channel)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(rid_token)
            channel_var.reset(ch_token)
        response["X-Request-ID"] = rid
        return response


class ActingMembershipMiddleware:
    """Resolve the membership the user acts in: the one chosen in the session, or the only one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership = None  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            memberships = Membership.objects.filter(
                user=user, is_active=True, organisation__is_active=True
            ).select_related("organisation", "user")
            chosen = request.session.get(SESSION_KEY)
            membership = None
            if chosen is not None:
                membership = memberships.filter(pk=chosen).first()
            if membership is None:
                candidates = list(memberships[:2])
                if len(candidates) == 1:
                    membership = candidates[0]
            request.membership = membership  # type: ignore[attr-defined]
        return self.get_response(request)
