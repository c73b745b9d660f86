"""/persons: persons in the caller's scope (lead organisation or case team)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from lotse.core.roles import Perm
from lotse.people.services import person_update

from . import selectors
from .auth import acting
from .errors import ERRORS, DuplicateOut
from .schemas import (
    PersonCreatedOut,
    PersonCreateIn,
    PersonDetailOut,
    PersonListQuery,
    PersonPage,
    PersonPatchIn,
)
from .services import person_register

router = Router(tags=["persons"])


def _person_values(values: dict[str, Any]) -> dict[str, Any]:
    """Schema values → keyword arguments of the people services."""
    if values.get("other_names") is not None:
        values["other_names"] = [
            (n["family_name"], n["given_names"]) for n in values["other_names"]
        ]
    if values.get("languages") is not None:
        values["languages"] = [(lang["language"], lang["level"]) for lang in values["languages"]]
    return selectors.resolve_refs(values, district="district")


@router.get("", response={200: PersonPage, **ERRORS})
def person_list(request: HttpRequest, filters: Query[PersonListQuery]) -> dict[str, Any]:
    """Persons of whom at least one data category is shared with you, by family name;
    `q` matches names in any spelling or script (Mohammed / Muhammad / محمد; other
    spellings only where master data are shared). Persons outside the scope do not
    exist here: they are neither listed nor counted. The name is always shown, the
    other fields (master data) are null unless shared; `shared_categories` lists what
    is. Logged as "list" per person with the categories shown and their basis."""
    page = selectors.person_list(
        actor=acting(request, Perm.CASE_VIEW),
        q=filters.q,
        birth_date=filters.birth_date,
        page=filters.page,
    )
    return selectors.page_data(page)


@router.post("", response={201: PersonCreatedOut, 409: DuplicateOut, **ERRORS})
def person_create(request: HttpRequest, payload: PersonCreateIn) -> Status[dict[str, Any]]:
    """Register a person and open a case led by your organisation (roles with
    `case.create`). If persons in your scope with the same birth date have a similar
    name, nothing is saved and 409 lists them; send `confirm_not_duplicate: true`
    to register anyway."""
    actor = acting(request, Perm.CASE_CREATE)
    values = _person_values(payload.model_dump(exclude={"confirm_not_duplicate"}))
    case = person_register(
        actor=actor, confirm_not_duplicate=payload.confirm_not_duplicate, **values
    )
    person = selectors.person_load(actor=actor, person_id=case.person_id)
    return Status(201, {"person": person, "case": case})


@router.get("/{person_id}", response={200: PersonDetailOut, **ERRORS})
def person_detail(request: HttpRequest, person_id: int) -> Any:
    """A person in scope with the cases you may see: the name always, the master data
    (null otherwise) if shared with you over any of your cases of theirs;
    `shared_categories` gives each shared category with its basis. Logged as "read"."""
    return selectors.person_get(actor=acting(request, Perm.CASE_VIEW), person_id=person_id)


@router.patch("/{person_id}", response={200: PersonDetailOut, **ERRORS})
def person_patch(request: HttpRequest, person_id: int, payload: PersonPatchIn) -> Any:
    """Change master data (lead organisation's case workers only; 403 for case team
    members). Only the fields sent change; `other_names`/`languages` replace the lists."""
    actor = acting(request, Perm.CASE_EDIT)
    person = selectors.person_for_write(actor=actor, person_id=person_id)
    person_update(
        actor=actor, person=person, **_person_values(payload.model_dump(exclude_unset=True))
    )
    return selectors.person_load(actor=actor, person_id=person_id)
