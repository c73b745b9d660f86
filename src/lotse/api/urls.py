from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path, re_path
from django.utils.translation import gettext as _

from .main import api


def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Unknown paths under /api/v1/ answer in JSON like the API, not with an HTML page."""
    return JsonResponse({"detail": _("Not found.")}, status=404)


urlpatterns = [
    path("", api.urls),
    re_path(r"^(?P<rest>.*)$", not_found),
]
