"""/cases/{id}/appointments, /notes, /followups: what every case worker in scope
contributes to a case (lead organisation and case team)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from lotse.casework.services import (
    appointment_create,
    appointment_update,
    followup_create,
    followup_done,
    note_create,
)
from lotse.core.roles import Perm
from lotse.privacy.categories import Category

from . import selectors
from .auth import acting
from .errors import ERRORS
from .schemas import (
    AppointmentIn,
    AppointmentOut,
    AppointmentPatchIn,
    FollowUpIn,
    FollowUpOut,
    NoteIn,
    NoteOut,
)

router = Router(tags=["casework"])


@router.get("/{case_id}/appointments", response={200: list[AppointmentOut], **ERRORS})
def appointment_index(request: HttpRequest, case_id: int) -> Any:
    """All appointments of the case (Terminübersicht), newest first. 403 unless the
    category plan is shared with you. Logged as "list"."""
    return selectors.appointment_list(actor=acting(request, Perm.CASE_VIEW), case_id=case_id)


@router.post("/{case_id}/appointments", response={201: AppointmentOut, **ERRORS})
def appointment_add(request: HttpRequest, case_id: int, payload: AppointmentIn) -> Status[Any]:
    """Enter an appointment of your organisation (category plan: 403 unless shared).
    The same time and purpose twice is 422."""
    actor = acting(request, Perm.CASE_CONTRIBUTE)
    case = selectors.case_for_category(actor=actor, case_id=case_id, category=Category.PLAN)
    return Status(201, appointment_create(actor=actor, case=case, **payload.model_dump()))


@router.patch("/{case_id}/appointments/{appointment_id}", response={200: AppointmentOut, **ERRORS})
def appointment_patch(
    request: HttpRequest, case_id: int, appointment_id: int, payload: AppointmentPatchIn
) -> Any:
    """Change an appointment, e.g. record its outcome and agreements. Case team members
    change only their own organisation's appointments (403 otherwise, and where the
    category plan is not shared)."""
    actor = acting(request, Perm.CASE_CONTRIBUTE)
    appointment = selectors.appointment_for_write(
        actor=actor, case_id=case_id, appointment_id=appointment_id
    )
    return appointment_update(
        actor=actor, appointment=appointment, **payload.model_dump(exclude_unset=True)
    )


@router.get("/{case_id}/notes", response={200: list[NoteOut], **ERRORS})
def note_index(request: HttpRequest, case_id: int) -> Any:
    """Notes, newest first: notes for the whole case team, and your organisation's own
    notes; 403 unless the category notes is shared with you, sensitive notes only if
    health is shared too. Logged as "list" (notes; health if a sensitive note is among
    them)."""
    return selectors.note_list(actor=acting(request, Perm.CASE_VIEW), case_id=case_id)


@router.post("/{case_id}/notes", response={201: NoteOut, **ERRORS})
def note_add(request: HttpRequest, case_id: int, payload: NoteIn) -> Status[Any]:
    """Write a note, visible to your organisation (default) or the whole case team
    (category notes, a sensitive note health: 403 unless shared)."""
    actor = acting(request, Perm.CASE_CONTRIBUTE)
    category = Category.HEALTH if payload.is_sensitive else Category.NOTES
    case = selectors.case_for_category(actor=actor, case_id=case_id, category=category)
    return Status(201, note_create(actor=actor, case=case, **payload.model_dump()))


@router.get("/{case_id}/followups", response={200: list[FollowUpOut], **ERRORS})
def followup_index(request: HttpRequest, case_id: int) -> Any:
    """Your organisation's follow-ups (Wiedervorlagen) on the case. 403 unless the
    category plan is shared with you. Logged as "list"."""
    return selectors.followup_list(actor=acting(request, Perm.CASE_VIEW), case_id=case_id)


@router.post("/{case_id}/followups", response={201: FollowUpOut, **ERRORS})
def followup_add(request: HttpRequest, case_id: int, payload: FollowUpIn) -> Status[Any]:
    """Set a follow-up for yourself or a colleague of your organisation (`owner`;
    category plan: 403 unless shared)."""
    actor = acting(request, Perm.CASE_CONTRIBUTE)
    case = selectors.case_for_category(actor=actor, case_id=case_id, category=Category.PLAN)
    values = selectors.resolve_refs(payload.model_dump(), owner="user")
    return Status(201, followup_create(actor=actor, case=case, **values))


@router.post("/{case_id}/followups/{followup_id}/done", response={200: FollowUpOut, **ERRORS})
def followup_mark_done(request: HttpRequest, case_id: int, followup_id: int) -> Any:
    """Mark one of your organisation's follow-ups as done (repeating it changes nothing)."""
    actor = acting(request, Perm.CASE_CONTRIBUTE)
    followup = selectors.followup_for_write(actor=actor, case_id=case_id, followup_id=followup_id)
    return followup_done(actor=actor, followup=followup)
