"""/network: the directory of the alliance (issue #8) — organisations with contacts,
the responsibility matrix with gaps and duplicates, and the pathway finder.

No personal data: the finder takes a residence status and an age, never a person, so
nothing is logged. Every role that may read the directory (``NETWORK_VIEW``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from lotse.core.models import Organisation
from lotse.core.roles import Perm
from lotse.network import selectors
from lotse.network.models import Contact, Responsibility

from .auth import acting
from .errors import ERRORS

router = Router(tags=["network"])


class ContactOut(Schema):
    id: int
    name: str
    function: str
    email: str
    phone: str
    languages: list[str]


class ResponsibilityOut(Schema):
    id: int
    organisation_id: int
    organisation: str
    target_group: str = Field(description="code of the target group")
    field_of_action: str
    role: str = Field(description="the agreed role; empty: roles not agreed")
    contact_id: int | None


class OrganisationOut(Schema):
    id: int
    name: str
    short_name: str
    org_type: str
    legal_domains: list[str]
    district: str | None = Field(description="district code")
    address: str
    email: str
    phone: str
    contacts: list[ContactOut]
    responsibilities: list[ResponsibilityOut]


def _contact(c: Contact) -> dict[str, Any]:
    return {
        "id": c.pk,
        "name": c.name,
        "function": c.function,
        "email": c.email,
        "phone": c.phone,
        "languages": list(c.languages),
    }


def _responsibility(r: Responsibility) -> dict[str, Any]:
    return {
        "id": r.pk,
        "organisation_id": r.organisation_id,
        "organisation": r.organisation.name,
        "target_group": r.target_group.code,
        "field_of_action": r.field_of_action,
        "role": r.role,
        "contact_id": r.contact_id,
    }


def _organisation(o: Organisation) -> dict[str, Any]:
    return {
        "id": o.pk,
        "name": o.name,
        "short_name": o.short_name,
        "org_type": o.org_type,
        "legal_domains": list(o.legal_domains),
        "district": o.district.code if o.district else None,
        "address": o.address,
        "email": o.email,
        "phone": o.phone,
        "contacts": [_contact(c) for c in o.contacts.all()],
        "responsibilities": [_responsibility(r) for r in o.responsibilities.all()],
    }


@router.get("/network/organisations", response={200: list[OrganisationOut], **ERRORS})
def organisations(request: HttpRequest, q: str = "") -> list[dict[str, Any]]:
    """The directory: active organisations with contacts and responsibilities,
    optionally searched (`q`: name, short name, contact or function)."""
    return [
        _organisation(o) for o in selectors.directory(actor=acting(request, Perm.NETWORK_VIEW), q=q)
    ]


class CellOut(Schema):
    target_group: str = Field(description="code of the target group")
    field_of_action: str
    organisations: list[ResponsibilityOut]
    gap: bool = Field(description="nobody is responsible")
    duplicate: bool = Field(
        description="several are responsible and at least one has no agreed role"
    )


class MatrixOut(Schema):
    target_groups: list[str]
    fields_of_action: list[str]
    cells: list[CellOut] = Field(description="every target group × field of action")


@router.get("/network/responsibilities", response={200: MatrixOut, **ERRORS})
def responsibilities(request: HttpRequest) -> dict[str, Any]:
    """The responsibility matrix: active target groups × fields of action with the
    responsible organisations and the flags `gap` and `duplicate`."""
    m = selectors.matrix(actor=acting(request, Perm.NETWORK_VIEW))
    return {
        "target_groups": [row.target_group.code for row in m.rows],
        "fields_of_action": [code for code, _label in m.fields],
        "cells": [
            {
                "target_group": c.target_group.code,
                "field_of_action": c.field_of_action,
                "organisations": [_responsibility(r) for r in c.responsibilities],
                "gap": c.gap,
                "duplicate": c.duplicate,
            }
            for c in m.cells
        ],
    }


class PathwayOrganisationOut(Schema):
    id: int
    name: str
    org_type: str
    legal_domains: list[str]
    roles: list[str] = Field(description="the agreed roles; empty when none is agreed")
    target_groups: list[str]
    contacts: list[ContactOut]


class PathwayOut(Schema):
    status: str
    status_group: str
    age: int
    need: str | None = Field(description="code of the need type")
    field_of_action: str
    target_groups: list[str] = Field(description="codes of the matching target groups")
    organisations: list[PathwayOrganisationOut]
    gap: bool = Field(description="no organisation is responsible")


@router.get("/network/pathways", response={200: PathwayOut, **ERRORS})
def pathways(
    request: HttpRequest,
    status: str,
    age: int,
    need: str | None = None,
    field: str | None = None,
) -> dict[str, Any]:
    """Who helps with what: for a residence status code, an age and a need type code
    (or a field of action), the matching target groups and the responsible
    organisations with their contacts. 422 with the field on bad input."""
    p = selectors.pathway(
        actor=acting(request, Perm.NETWORK_VIEW),
        status=status,
        age=age,
        need_code=need or None,
        field=field or None,
    )
    return {
        "status": p.status,
        "status_group": p.status_group,
        "age": p.age,
        "need": p.need.code if p.need else None,
        "field_of_action": p.field_of_action,
        "target_groups": [g.code for g in p.target_groups],
        "organisations": [
            {
                "id": e.organisation.pk,
                "name": e.organisation.name,
                "org_type": e.organisation.org_type,
                "legal_domains": list(e.organisation.legal_domains),
                "roles": e.roles,
                "target_groups": [r.target_group.code for r in e.responsibilities],
                "contacts": [_contact(c) for c in e.contacts],
            }
            for e in p.entries
        ],
        "gap": p.gap,
    }
