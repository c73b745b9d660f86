"""/careers: measure-career flags (issue #6) as the pages show them.

`GET /careers/flags` lists the open flags on the open cases whose participations you
may read (`mine`: the cases you manage), `GET /careers/flags/{id}` shows one with its
reason and evidence, `POST /careers/flags/{id}/resolve` resolves it with a note (the
lead organisation's case workers). Out of scope a flag does not exist (404); in scope
without participations shared, 403; a role without casework, 403. Reads are logged.
`GET /careers/counts` gives coordinators and analysts the counts by rule, provider,
offer category and district, small counts suppressed (null).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from lotse.core.roles import Perm
from lotse.referrals import careers_selectors as cs
from lotse.referrals.careers_services import career_flag_resolve
from lotse.referrals.models import CareerFlag

from . import selectors
from .auth import acting
from .errors import ERRORS
from .schemas import InputSchema, Page, PersonRef

router = Router(tags=["measure careers"])


class FlagItemOut(Schema):
    id: int
    case_id: int
    person: PersonRef
    rule: str = Field(description="the rule's code, e.g. cycle, gap, dropout_chain")
    rule_name: str
    reason: str = Field(description="one sentence from the evidence")
    raised_at: dt.datetime


class FlagPage(Page):
    items: list[FlagItemOut]


class FlagListQuery(Schema):
    mine: bool = Field(True, description="only cases you manage")
    rule: str = Field("", description="only flags of this rule (code)")
    page: int = Field(1, ge=1)


class TimelineItemOut(Schema):
    start: dt.date
    end: dt.date | None
    kind: str = Field(description="participation, gap or referral")
    title: str
    detail: str
    status: str


class FlagOut(FlagItemOut):
    explanation: str = Field(description="the rule's explanation with the parameters used")
    params: dict[str, Any] = Field(description="the parameters the rule used")
    evidence: dict[str, Any] = Field(
        description="what made the rule fire, as the scan found it (participations by id "
        "with categories, levels, dates, outcomes; the gap; the referral)"
    )
    timeline: list[TimelineItemOut] = Field(
        description="the evidence as far as shared with you, oldest first"
    )
    hidden_participations: int = Field(
        description="participations of the evidence on cases not shared with you (not shown)"
    )
    state: str = Field(description="open, resolved or cleared (no longer found by the scan)")
    resolved_at: dt.datetime | None
    resolution_note: str


class ResolveIn(InputSchema):
    note: str = Field(description="how the flag was dealt with (required)")


class CountRowOut(Schema):
    label: str
    open: int | None = Field(
        description="persons with an open flag; null: withheld by the disclosure control"
    )
    resolved: int | None = Field(
        description="persons with a flag resolved in the last 12 months; null: withheld"
    )


class CountsOut(Schema):
    min_count: int = Field(description="k of the disclosure control: smaller counts are null")
    legend: str
    by_rule: list[CountRowOut]
    by_provider: list[CountRowOut]
    by_category: list[CountRowOut]
    by_district: list[CountRowOut]


def _person(flag: CareerFlag) -> dict[str, Any]:
    # The name identifies the case; the flag needs no more of the master data.
    p = flag.person
    return {
        "id": p.pk,
        "family_name": p.family_name,
        "given_names": p.given_names,
        "birth_date": None,
    }


def _item(item: cs.FlagItem) -> dict[str, Any]:
    f = item.flag
    return {
        "id": f.pk,
        "case_id": f.case_id,
        "person": _person(f),
        "rule": f.rule,
        "rule_name": item.name,
        "reason": item.reason,
        "raised_at": f.raised_at,
    }


def _detail(view: cs.FlagView) -> dict[str, Any]:
    f = view.flag
    state = "resolved" if f.resolved_at else ("cleared" if f.cleared_at else "open")
    return {
        **_item(cs.FlagItem(f, view.name, view.reason)),
        "explanation": view.explanation,
        "params": f.params,
        "evidence": f.evidence,
        "timeline": [t.__dict__ for t in view.timeline],
        "hidden_participations": view.hidden,
        "state": state,
        "resolved_at": f.resolved_at,
        "resolution_note": f.resolution_note,
    }


@router.get("/careers/flags", response={200: FlagPage, **ERRORS})
def flag_index(request: HttpRequest, filters: Query[FlagListQuery]) -> dict[str, Any]:
    """Open flags on open cases whose participations you may read, by person. Logged
    as "list" (master data and participations)."""
    actor = acting(request, Perm.CASE_VIEW)
    page = cs.career_flag_list(actor=actor, mine=filters.mine, rule=filters.rule, page=filters.page)
    data = selectors.page_data(page)
    data["items"] = [_item(i) for i in data["items"]]
    return data


@router.get("/careers/flags/{flag_id}", response={200: FlagOut, **ERRORS})
def flag_show(request: HttpRequest, flag_id: int) -> dict[str, Any]:
    """One flag: reason, explanation, parameters used, the evidence and its time line
    as far as shared with you. 404 out of scope, 403 if participations are not shared
    with you. Logged as "read"."""
    actor = acting(request, Perm.CASE_VIEW)
    return _detail(cs.career_flag_get(actor=actor, flag_id=flag_id))


@router.post("/careers/flags/{flag_id}/resolve", response={200: FlagOut, **ERRORS})
def flag_resolve(request: HttpRequest, flag_id: int, payload: ResolveIn) -> dict[str, Any]:
    """Resolve a flag with a note (the case workers of the lead organisation). It comes
    back only on new evidence. 422 without a note or when already resolved; 403 for
    roles that may not edit cases (as on every edit), 404 out of scope."""
    actor = acting(request, Perm.CASE_EDIT)
    view = cs.career_flag_get(actor=actor, flag_id=flag_id, log=False)
    career_flag_resolve(actor=actor, flag=view.flag, note=payload.note)
    return _detail(cs.career_flag_get(actor=actor, flag_id=flag_id))


@router.get("/careers/counts", response={200: CountsOut, **ERRORS})
def flag_counts(request: HttpRequest) -> dict[str, Any]:
    """Persons with an open flag and with one resolved in the last 12 months by rule,
    provider, offer category and district; counts below `min_count` are null and rows
    with nothing to show are left out. Coordinators and analysts; no person."""
    counts = cs.career_flag_counts(actor=acting(request, Perm.CAREER_STATS))
    return counts.__dict__
