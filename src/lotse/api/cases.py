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
    """Cases of which at least one data category is shared with you (your organisation
    leads them, or is on the case team with the person's consent or a sharing
    agreement), as the case list of the pages: open cases unless `include_closed` or a
    `phase` is given. Per case, the birth date (master data) and the current residence
    status (residence) are null unless shared; `shared_categories` lists what is.
    Filters on a category match only cases where it is shared. Logged as "list" per
    person with the categories shown and their basis."""
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
    """The case file as the case page shows it, category by category: person, timelines,
    team, household, plan, appointments, notes (with their visibility rules), your
    organisation's follow-ups, documents (metadata), intakes and assessments. A section
    whose category is not shared with you is null; `shared_categories` gives each
    shared category with its basis. Logged as "read" with the categories returned."""
    return selectors.case_file(actor=acting(request, Perm.CASE_VIEW), case_id=case_id)


@router.patch("/{case_id}", response={200: CaseOut, **ERRORS})
def case_patch(request: HttpRequest, case_id: int, payload: CasePatchIn) -> Any:
    """Set the phase and/or the case manager (lead organisation only). Closing needs
    `phase: "closed"` and a `closing_reason`; a closed case is reopened by POST .../reopen."""
    actor = acting(request, Perm.CASE_EDIT)
    case = case_get(actor=actor, case_id=case_id)
    values = selectors.resolve_refs(payload.model_dump(exclude_unset=True), case_manager="user")
    return selectors.with_access(actor, case_update(actor=actor, case=case, **values))


@router.post("/{case_id}/reopen", response={200: CaseOut, **ERRORS})
def case_reopen_view(request: HttpRequest, case_id: int) -> Any:
    """Reopen a closed case (lead organisation only)."""
    actor = acting(request, Perm.CASE_EDIT)
    case = case_reopen(actor=actor, case=case_get(actor=actor, case_id=case_id))
    return selectors.with_access(actor, case)


@router.get("/{case_id}/team", response={200: list[TeamMemberOut], **ERRORS})
def team_list(request: HttpRequest, case_id: int) -> Any:
    """Active members of the case team (master data: 403 unless shared with you).
    Logged as "list"."""
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
