"""The page "Passende Angebote" of a case: ranked offers with reasons (issue #5)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from lotse.core.roles import Perm
from lotse.core.views import acting_membership, actor_required

from .reasons import need_names, reason_text
from .selectors_matching import case_matches

SHOWN = 50


@actor_required(Perm.CASE_VIEW)
def matches(request: HttpRequest, case_pk: int) -> HttpResponse:
    actor = acting_membership(request)
    only_needs = request.GET.get("needs") == "1"
    show_excluded = request.GET.get("excluded") == "1"
    case, found = case_matches(actor=actor, case_id=case_pk, only_needs=only_needs, limit=SHOWN)
    accessible, excluded = found.ranked.accessible, found.ranked.excluded
    shown = accessible + (excluded if show_excluded else [])
    explained = {m.offer.id: found.matcher.explain(m) for m in shown}
    names = need_names(list(explained.values()))

    def rows(ms: list[Any]) -> list[dict[str, Any]]:
        return [
            {
                "m": m,
                "fits": [reason_text(r, names) for r in explained[m.offer.id] if r.fit],
                "against": [reason_text(r, names) for r in explained[m.offer.id] if not r.fit],
            }
            for m in ms
        ]

    return render(
        request,
        "offers/matches.html",
        {
            "case": case,
            "person": case.person,
            "found": found,
            "accessible": rows(accessible),
            "accessible_count": found.ranked.accessible_count,
            "excluded": rows(excluded) if show_excluded else [],
            "excluded_count": found.ranked.excluded_count,
            "only_needs": only_needs,
            "show_excluded": show_excluded,
            "need_count": len(found.needs_used),
            "can_refer": actor.has_perm(Perm.CASE_EDIT)
            and case.lead_organisation_id == actor.organisation_id
            and not case.is_closed,
        },
    )
