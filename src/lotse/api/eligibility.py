"""Eligibility: evaluate facts sent by the client, or a registered person's facts.

`POST /eligibility` is the engine as a service (DESIGN §6): facts in, result out. It
touches no personal data of lotse, so any valid token may use it and nothing is
logged. `GET /persons/{id}/eligibility` builds the facts from the person's records
within the caller's scope (residence data must be shared) and is logged by the
selector like the page "Zugang & Rechtskreis".
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from lotse.core.roles import Perm
from lotse.eligibility import FactsError, evaluate, parse_facts
from lotse.eligibility import selectors as eligibility_selectors
from lotse.eligibility.ruleset import active_rule_set

from .auth import acting
from .errors import ERRORS, ErrorOut, ValidationErrorOut

router = Router(tags=["eligibility"])

# --- documentation of the contract (DESIGN §6) -------------------------------------

FACTS_EXAMPLE: dict[str, Any] = {
    "birth_date": "2002-04-17",
    "entry_date": "2016-01-10",
    "nationality": "AF",
    "status_history": [
        {"status": "gestattung", "from": "2016-02-01", "to": "2018-05-31"},
        {"status": "duldung", "from": "2018-06-01", "to": None},
    ],
    "benefits_history": [{"regime": "asylblg_3", "from": "2016-02-01", "to": None}],
    "flags": {"identity_clarified": True, "in_training": False},
}

# The result for FACTS_EXAMPLE on 2026-11-21 with the packaged rules (shortened: one
# item per kind of answer, and not every upcoming event).
RESULT_EXAMPLE: dict[str, Any] = {
    "on": "2026-11-21",
    "status": "duldung",
    "benefit_regime": "asylblg_2",
    "access": [
        {
            "category": "integrationskurs",
            "result": "excluded",
            "rule_id": "integrationskurs.other_duldung.excluded",
            "citation": "§ 44 Abs. 4 S. 2 AufenthG",
            "explanation": "Not among the groups that may be admitted under § 44 Abs. 4 S. 2 "
            "AufenthG (only Duldung under § 60a Abs. 2 S. 3 is); look for Land- or locally "
            "funded courses.",
        },
        {
            "category": "beschaeftigung",
            "result": "unknown",
            "rule_id": "beschaeftigung.duldung.ban_60a6",
            "citation": "§ 60a Abs. 6 S. 1 Nr. 1, 2 AufenthG",
            "explanation": "Cannot decide without: flags.work_ban_60a6. Rule in question: …",
            "missing": ["flags.work_ban_60a6"],
        },
        {
            "category": "bab",
            "result": "entitled",
            "rule_id": "bab.duldung.15m",
            "citation": "§ 60 Abs. 3 SGB III",
            "explanation": "Geduldete are eligible for BAB during a vocational training after "
            "15 months of uninterrupted permitted, tolerated or lawful stay.",
        },
    ],
    "upcoming": [
        {
            "date": "2029-04-17",
            "event": "age_27",
            "explanation": "Turns 27: leaves the target group (18–27); § 41 SGB VIII help "
            "ends at the latest.",
        }
    ],
}


def _period(code: str, what: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [code, "from"],
        "properties": {
            code: {"type": "string", "description": what},
            "from": {"type": "string", "format": "date", "description": "first day"},
            "to": {
                "type": ["string", "null"],
                "format": "date",
                "description": "last day (inclusive); null = open",
            },
        },
    }


FACTS_SCHEMA: dict[str, Any] = {
    "title": "EligibilityFacts",
    "type": "object",
    "description": "Facts of DESIGN §6, dates ISO 8601 (docs/eligibility.md). Validated by "
    "the engine; an invalid field answers 422 under its path, e.g. `status_history[1].to`.",
    "required": ["birth_date"],
    "properties": {
        "birth_date": {"type": "string", "format": "date"},
        "entry_date": {"type": ["string", "null"], "format": "date"},
        "nationality": {
            "type": ["string", "null"],
            "description": "ISO 3166-1 alpha-2, e.g. AF",
        },
        "status_history": {
            "type": "array",
            "description": "residence status periods; they must not overlap",
            "items": _period(
                "status", "status code of the active rule set, e.g. gestattung, duldung, ae_25a"
            ),
        },
        "benefits_history": {
            "type": "array",
            "items": _period("regime", "asylblg_3, asylblg_2, sgb2, sgb12 or none"),
        },
        "flags": {
            "type": "object",
            "description": "Optional facts; null = not known. Typed: reception_centre, "
            "rejected_manifestly_unfounded, identity_clarified, work_ban_60a6, in_training, "
            "sgb8_help_before_21, labour_market_proximity (true/false); "
            "asylum_application_date, training_since, employed_since, "
            "livelihood_secured_since (date); weekly_hours_employed (number); german_level "
            "(none, A1 … C2). Other flags pass through.",
            "additionalProperties": True,
        },
    },
    "additionalProperties": True,
}

INVALID_EXAMPLE: dict[str, Any] = {
    "detail": "Die Eingabe ist ungültig.",
    "errors": {"status_history[1].to": ["period ends (2020-04-30) before it starts (2020-05-01)"]},
}

Outcome = Literal["entitled", "admissible", "needs_permission", "excluded", "unknown"]


class AccessItemOut(Schema):
    category: str
    result: Outcome
    rule_id: str = Field(description="the deciding rule, or `<category>.not_covered`")
    citation: str
    explanation: str
    available: bool | None = Field(None, description="only present when a practice overlay applies")
    availability_note: str | None = Field(None, description="only present with `available`")
    missing: list[str] | None = Field(
        None, description="only present for `unknown`: the facts the rule needs"
    )


class UpcomingOut(Schema):
    date: dt.date
    event: str = Field(description="age_18/21/25/27, status_end, benefit_<regime>, …")
    explanation: str


class EligibilityResultOut(Schema):
    """Result of DESIGN §6 (guidance, not a legal decision)."""

    model_config = {"json_schema_extra": {"example": RESULT_EXAMPLE}}

    on: dt.date
    status: str | None = Field(description="status on the date; null if none is known")
    benefit_regime: str | None = Field(description="derived regime; null if undecidable")
    access: list[AccessItemOut]
    upcoming: list[UpcomingOut]


class PersonEligibilityOut(Schema):
    model_config = {
        "json_schema_extra": {
            "example": {"facts": FACTS_EXAMPLE, "result": RESULT_EXAMPLE, "errors": {}}
        }
    }

    facts: dict[str, Any] = Field(
        description="The facts built from the person's records (shape of the request "
        "body of POST /eligibility); benefit periods only if benefits are shared with you."
    )
    result: EligibilityResultOut | None = Field(
        description="null when the records do not form valid facts (see `errors`)"
    )
    errors: dict[str, list[str]] = Field(
        description="why the records do not form valid facts, per field path"
    )


class OnQuery(Schema):
    on: dt.date | None = Field(None, description="evaluation date YYYY-MM-DD (default: today)")


# --- operations ---------------------------------------------------------------------


def _invalid(detail: str, errors: dict[str, str]) -> Status[dict[str, Any]]:
    return Status(
        422, {"detail": detail, "errors": {field: [msg] for field, msg in errors.items()}}
    )


@router.post(
    "/eligibility",
    response={200: EligibilityResultOut, 401: ErrorOut, 422: ValidationErrorOut},
    exclude_unset=True,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": FACTS_SCHEMA, "example": FACTS_EXAMPLE}},
        },
        "responses": {"422": {"content": {"application/json": {"example": INVALID_EXAMPLE}}}},
    },
)
def eligibility_evaluate(request: HttpRequest, query: Query[OnQuery]) -> Any:
    """Evaluate eligibility facts (DESIGN §6) on `on` (default today) with the active
    rule set of this installation and return the result: per access category the
    result (`entitled`, `admissible`, `needs_permission`, `excluded`, `unknown`) with the
    deciding rule and its citation, the benefit regime and upcoming changes. Guidance,
    not a legal decision.

    The facts are sent by you and are not personal data of lotse: any valid token may
    use this, nothing is stored, and no access log entry is written. Invalid facts
    answer 422 with a message per field path (e.g. `status_history[1].to`), a body
    that is not JSON answers 422 under `facts`."""
    on = query.on or timezone.localdate()
    try:
        data = json.loads(request.body or b"")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = (
            f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
            if isinstance(exc, json.JSONDecodeError)
            else "the body is not UTF-8"
        )
        return _invalid(_("The request body is not valid JSON."), {"facts": where})
    rule_set = active_rule_set()
    try:
        facts = parse_facts(data, rule_set.codes)
    except FactsError as exc:
        return _invalid(_("The input is not valid."), exc.errors)
    return evaluate(facts, on, rule_set=rule_set).to_json()


@router.get(
    "/persons/{person_id}/eligibility",
    response={200: PersonEligibilityOut, **ERRORS},
    exclude_unset=True,
)
def person_eligibility(request: HttpRequest, person_id: int, query: Query[OnQuery]) -> Any:
    """The eligibility of a registered person on `on` (default today): the facts built
    from the person's residence history, birth date, entry, nationality and recorded
    facts, and the result of evaluating them (as POST /eligibility). `result` is null
    and `errors` names the fields when the records do not form valid facts. 404 out of
    scope; 403 unless the role may view cases and master and residence data are shared
    with you (benefit periods are included only if benefits are shared). Logged as
    "read" with the categories used and their basis."""
    view = eligibility_selectors.person_eligibility(
        actor=acting(request, Perm.CASE_VIEW),
        person_id=person_id,
        on=query.on or timezone.localdate(),
    )
    return {
        "facts": view.facts,
        "result": view.result.to_json() if view.result is not None else None,
        "errors": {field: [msg] for field, msg in view.errors.items()},
    }
