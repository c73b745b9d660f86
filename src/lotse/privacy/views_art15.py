"""The Art. 15 GDPR report as a printable page and as a JSON download."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from lotse.casework.selectors import case_get
from lotse.core.models import Membership
from lotse.core.roles import Perm
from lotse.core.views import actor_required

from .art15 import Art15Report, art15_report


def _report(request: HttpRequest, case_pk: int) -> Art15Report:
    actor: Membership = request.membership  # type: ignore[attr-defined]
    case = case_get(actor=actor, case_id=case_pk)  # 404 when out of scope
    return art15_report(actor=actor, case=case)  # 403 unless lead and CASE_EDIT


@require_GET
@never_cache
@actor_required(Perm.CASE_EDIT)
def art15(request: HttpRequest, case_pk: int) -> HttpResponse:
    report = _report(request, case_pk)
    return render(request, "privacy/art15.html", {"report": report, "case": report.case})


@require_GET
@never_cache
@actor_required(Perm.CASE_EDIT)
def art15_json(request: HttpRequest, case_pk: int) -> HttpResponse:
    report = _report(request, case_pk)
    body = json.dumps(report.as_json(), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    # No name in the file name: downloads end up in folders and logs.
    day = timezone.localdate().isoformat()
    filename = f"art15-person-{report.person.pk}-{day}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
