"""/cases/{id}/plan: the integration plan — goals, steps, versions agreed with the person."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from lotse.casework.selectors import case_get
from lotse.casework.services import (
    plan_agree,
    plan_goal_add,
    plan_goal_update,
    plan_step_add,
    plan_step_status_set,
)
from lotse.core.roles import Perm

from . import selectors
from .auth import acting
from .errors import ERRORS
from .schemas import (
    GoalIn,
    GoalOut,
    GoalPatchIn,
    PlanAgreeIn,
    PlanOut,
    PlanVersionOut,
    StepIn,
    StepOut,
    StepPatchIn,
)

router = Router(tags=["plan"])


@router.get("/{case_id}/plan", response={200: PlanOut, **ERRORS})
def plan_show(request: HttpRequest, case_id: int) -> Any:
    """Goals with their steps, as far as the category of the goal's life domain is
    shared with you, and the versions agreed with the person (newest first; for the
    lead organisation only, null otherwise). Logged as "read" (plan and the categories
    of the goals shown)."""
    return selectors.plan_get(actor=acting(request, Perm.CASE_VIEW), case_id=case_id)


@router.post("/{case_id}/plan/goals", response={201: GoalOut, **ERRORS})
def goal_add(request: HttpRequest, case_id: int, payload: GoalIn) -> Status[Any]:
    """Add a goal (lead organisation only)."""
    actor = acting(request, Perm.CASE_EDIT)
    case = case_get(actor=actor, case_id=case_id)
    return Status(201, plan_goal_add(actor=actor, case=case, **payload.model_dump()))


@router.patch("/{case_id}/plan/goals/{goal_id}", response={200: GoalOut, **ERRORS})
def goal_patch(request: HttpRequest, case_id: int, goal_id: int, payload: GoalPatchIn) -> Any:
    """Change a goal's title, life domain, target date or status (lead organisation only)."""
    actor = acting(request, Perm.CASE_EDIT)
    goal = selectors.goal_for_write(actor=actor, case_id=case_id, goal_id=goal_id)
    return plan_goal_update(actor=actor, goal=goal, **payload.model_dump(exclude_unset=True))


@router.post("/{case_id}/plan/goals/{goal_id}/steps", response={201: StepOut, **ERRORS})
def step_add(request: HttpRequest, case_id: int, goal_id: int, payload: StepIn) -> Status[Any]:
    """Add a step to a goal (lead organisation only). Someone must be responsible: an
    organisation, a user of it, or the person themselves (`responsible_is_client`)."""
    actor = acting(request, Perm.CASE_EDIT)
    goal = selectors.goal_for_write(actor=actor, case_id=case_id, goal_id=goal_id)
    values = selectors.resolve_refs(
        payload.model_dump(), responsible_organisation="organisation", responsible_user="user"
    )
    return Status(201, plan_step_add(actor=actor, goal=goal, **values))


@router.patch("/{case_id}/plan/steps/{step_id}", response={200: StepOut, **ERRORS})
def step_patch(request: HttpRequest, case_id: int, step_id: int, payload: StepPatchIn) -> Any:
    """Report a step's progress: the lead organisation always, a case team member's
    organisation for steps it is responsible for whose goal's life domain is shared
    with it (403 otherwise)."""
    actor = acting(request, Perm.CASE_CONTRIBUTE)
    step = selectors.step_for_write(actor=actor, case_id=case_id, step_id=step_id)
    return plan_step_status_set(actor=actor, step=step, status=payload.status)


@router.post("/{case_id}/plan/agree", response={201: PlanVersionOut, **ERRORS})
def plan_agree_view(request: HttpRequest, case_id: int, payload: PlanAgreeIn) -> Status[Any]:
    """Record that the plan was agreed with the person on `agreed_on`: freezes a new
    numbered version (lead organisation only)."""
    actor = acting(request, Perm.CASE_EDIT)
    case = case_get(actor=actor, case_id=case_id)
    return Status(201, plan_agree(actor=actor, case=case, **payload.model_dump()))
