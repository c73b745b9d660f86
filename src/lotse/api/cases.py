"""/cases: cases in the caller's scope, their phase and their case team."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from lotse.casework.selectors import CaseFilters, case_get, case_list
from lotse.casework.services import case_reopen, case_team_add, case_team_remove
from lotse.core.roles import Perm

from . import selectors
from .auth import acting
from .errors import ERRORS
from .schemas import (
    CaseDetailOut,
    CaseListQuery,
    CaseOut,
    CasePage,
    CasePatchIn,
    TeamMemberIn,
    TeamMemberOut,
)
from .services import case_update

router = Router(tags=["cases"])


@router.get("", response={200: CasePage, **ERRORS})
def case_index(request: HttpRequest, filters: Query[CaseListQuery]) -> dict[str, Any]:
    """Cases in scope (led by your organisation or with it on the case team), as the
    case list of the pages: open cases unless `include_closed` or a `phase` is given.
    Logged as "list" (master data, residence)."""
    actor = acting(request, Perm.CASE_VIEW)
    page = case_list(
        actor=actor,
        filters=CaseFilters(
            q=filters.q,
            birth_date=filters.birth_date,
            status=filters.status or "",
            organisation_id=filters.organisation,
            phase=filters.phase or "",
            manager_id=actor.user_id if filters.mine else None,
            include_closed=filters.include_closed,
        ),
        page=filters.page,
    )
    return selectors.page_data(page)


@router.get("/{case_id}", response={200: CaseDetailOut, **ERRORS})
def case_show(request: HttpRequest, case_id: int) -> Any:
    """The case file as the case page shows it: person, timelines, team, plan,
    appointments, notes (with their visibility rules), your organisation's follow-ups,
    documents (metadata), intakes and assessments. Logged as "read"."""
    return selectors.case_file(actor=acting(request, Perm.CASE_VIEW), case_id=case_id)


@router.patch("/{case_id}", response={200: CaseOut, **ERRORS})
def case_patch(request: HttpRequest, case_id: int, payload: CasePatchIn) -> Any:
    """Set the phase and/or the case manager (lead organisation only). Closing needs
    `phase: "closed"` and a `closing_reason`; a closed case is reopened by POST .../reopen."""
    actor = acting(request, Perm.CASE_EDIT)
    case = case_get(actor=actor, case_id=case_id)
    values = selectors.resolve_refs(payload.model_dump(exclude_unset=True), case_manager="user")
    return case_update(actor=actor, case=case, **values)


@router.post("/{case_id}/reopen", response={200: CaseOut, **ERRORS})
def case_reopen_view(request: HttpRequest, case_id: int) -> Any:
    """Reopen a closed case (lead organisation only)."""
    actor = acting(request, Perm.CASE_EDIT)
    return case_reopen(actor=actor, case=case_get(actor=actor, case_id=case_id))


@router.get("/{case_id}/team", response={200: list[TeamMemberOut], **ERRORS})
def team_list(request: HttpRequest, case_id: int) -> Any:
    """Active members of the case team. Logged as "list" (master data)."""
    return selectors.case_team_list(actor=acting(request, Perm.CASE_VIEW), case_id=case_id)


@router.post("/{case_id}/team", response={201: TeamMemberOut, **ERRORS})
def team_add(request: HttpRequest, case_id: int, payload: TeamMemberIn) -> Status[Any]:
    """Add a case worker of another organisation (`member`: membership id) to the team
    (lead organisation only). The new member's organisation then sees the case."""
    actor = acting(request, Perm.CASE_EDIT)
    case = case_get(actor=actor, case_id=case_id)
    member = selectors.membership_ref("member", payload.member)
    item = case_team_add(actor=actor, case=case, member=member, team_role=payload.team_role)
    return Status(201, item)


@router.delete("/{case_id}/team/{member_id}", response={204: None, **ERRORS})
def team_remove(request: HttpRequest, case_id: int, member_id: int) -> Status[None]:
    """Remove a member from the team (lead organisation only); `member_id` is the id
    of the team entry. The entry is kept with its removal date."""
    actor = acting(request, Perm.CASE_EDIT)
    item = selectors.team_member_for_write(actor=actor, case_id=case_id, member_id=member_id)
    case_team_remove(actor=actor, case=item.case, item=item)
    return Status(204, None)
