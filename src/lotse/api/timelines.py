"""/persons/{id}/residence-statuses and /persons/{id}/benefits: the dated, append-only
timelines. Entries are never changed: a correction is a new entry that supersedes
the old one, so the history stays visible (`current`, `supersedes`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from lotse.core.roles import Perm
from lotse.people.services import (
    benefit_period_add,
    benefit_period_correct,
    residence_status_add,
    residence_status_correct,
)

from . import selectors
from .auth import acting
from .errors import ERRORS
from .schemas import (
    BenefitCorrectionIn,
    BenefitIn,
    BenefitOut,
    ResidenceCorrectionIn,
    ResidenceIn,
    ResidenceOut,
)

router = Router(tags=["timelines"])


@router.get("/{person_id}/residence-statuses", response={200: list[ResidenceOut], **ERRORS})
def residence_list(request: HttpRequest, person_id: int) -> Any:
    """All residence status entries of the person, oldest first, corrected ones
    included. 403 unless the category residence is shared with you. Logged as "list"."""
    return selectors.timeline_list(
        actor=acting(request, Perm.CASE_VIEW), person_id=person_id, kind="residence"
    )


@router.post("/{person_id}/residence-statuses", response={201: ResidenceOut, **ERRORS})
def residence_add(request: HttpRequest, person_id: int, payload: ResidenceIn) -> Status[Any]:
    """Add a status period (lead organisation only). With `close_open` (default) an
    open period that began earlier is ended the day before; any other overlap is 422."""
    actor = acting(request, Perm.CASE_EDIT)
    person = selectors.person_for_write(actor=actor, person_id=person_id)
    values = selectors.resolve_refs(payload.model_dump(), issuing_authority="organisation")
    return Status(201, residence_status_add(actor=actor, person=person, **values))


@router.post(
    "/{person_id}/residence-statuses/{entry_id}/correction",
    response={201: ResidenceOut, **ERRORS},
)
def residence_correct(
    request: HttpRequest, person_id: int, entry_id: int, payload: ResidenceCorrectionIn
) -> Status[Any]:
    """Correct a current entry (fields not sent keep their value) or retract it
    (`retract: true`); a reason is required. Returns the new, superseding entry."""
    actor = acting(request, Perm.CASE_EDIT)
    entry = selectors.timeline_entry_for_write(
        actor=actor, person_id=person_id, entry_id=entry_id, kind="residence"
    )
    values = payload.model_dump(exclude_unset=True, exclude={"correction_reason", "retract"})
    values = selectors.resolve_refs(values, issuing_authority="organisation")
    new = residence_status_correct(
        actor=actor,
        entry=entry,
        reason=payload.correction_reason,
        retract=payload.retract,
        **values,
    )
    return Status(201, new)


@router.get("/{person_id}/benefits", response={200: list[BenefitOut], **ERRORS})
def benefit_list(request: HttpRequest, person_id: int) -> Any:
    """All benefit periods (Rechtskreis) of the person, oldest first, corrected ones
    included. 403 unless the category benefits is shared with you. Logged as "list"."""
    return selectors.timeline_list(
        actor=acting(request, Perm.CASE_VIEW), person_id=person_id, kind="benefit"
    )


@router.post("/{person_id}/benefits", response={201: BenefitOut, **ERRORS})
def benefit_add(request: HttpRequest, person_id: int, payload: BenefitIn) -> Status[Any]:
    """Add a benefit period (lead organisation only); a change of regime is a
    Rechtskreiswechsel. Overlaps other than the open period before are 422."""
    actor = acting(request, Perm.CASE_EDIT)
    person = selectors.person_for_write(actor=actor, person_id=person_id)
    values = selectors.resolve_refs(payload.model_dump(), authority="organisation")
    return Status(201, benefit_period_add(actor=actor, person=person, **values))


@router.post("/{person_id}/benefits/{entry_id}/correction", response={201: BenefitOut, **ERRORS})
def benefit_correct(
    request: HttpRequest, person_id: int, entry_id: int, payload: BenefitCorrectionIn
) -> Status[Any]:
    """Correct or retract a current benefit period, with a reason."""
    actor = acting(request, Perm.CASE_EDIT)
    entry = selectors.timeline_entry_for_write(
        actor=actor, person_id=person_id, entry_id=entry_id, kind="benefit"
    )
    values = payload.model_dump(exclude_unset=True, exclude={"correction_reason", "retract"})
    values = selectors.resolve_refs(values, authority="organisation")
    new = benefit_period_correct(
        actor=actor,
        entry=entry,
        reason=payload.correction_reason,
        retract=payload.retract,
        **values,
    )
    return Status(201, new)
