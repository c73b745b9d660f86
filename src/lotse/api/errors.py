"""Errors as JSON: `{"detail": "…"}`, plus `{"errors": {field: [messages]}}` for invalid input.

Services raise Django's ValidationError with messages per model field; ninja
raises its own ValidationError for input that does not fit the schema. Both
become 422 in the same shape, with field names as the client sent them.
Pydantic's own messages are English only, so the common ones are replaced by
translatable messages here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from lotse.people.selectors import DuplicateCandidate

from .services import DuplicateSuspected

# Names of body parameters in the handlers; not part of a field's name for the client.
BODY_PARAM = "payload"


class ErrorOut(Schema):
    detail: str


class ValidationErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]]


class DuplicateCandidateOut(Schema):
    id: int
    family_name: str
    given_names: str
    birth_date: str
    matched_name: str
    score: float


class DuplicateOut(Schema):
    detail: str
    candidates: list[DuplicateCandidateOut]


# Shared error responses for the OpenAPI document of every operation.
ERRORS: dict[int, type[Schema]] = {
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ValidationErrorOut,
}


def _pydantic_message(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind in ("enum", "literal_error"):
        return _("Unknown value. Allowed values: %(expected)s.") % {
            "expected": ctx.get("expected", "")
        }
    if kind.startswith("date_") and not kind.startswith("datetime"):
        return _("Enter a valid date (YYYY-MM-DD).")
    if kind.startswith("datetime_"):
        return _("Enter a valid date and time (ISO 8601, e.g. 2025-03-01T09:30:00+01:00).")
    if kind.startswith("int_"):
        return _("Enter a whole number.")
    if kind.startswith("bool_"):
        return _("Enter true or false.")
    if kind == "string_type":
        return _("Enter a text.")
    if kind == "string_too_long":
        return _("Enter at most %(max)s characters.") % {"max": ctx.get("max_length")}
    if kind == "string_too_short":
        return _("Enter at least %(min)s characters.") % {"min": ctx.get("min_length")}
    if kind == "greater_than_equal":
        return _("Enter a value of at least %(ge)s.") % {"ge": ctx.get("ge")}
    if kind == "less_than_equal":
        return _("Enter a value of at most %(le)s.") % {"le": ctx.get("le")}
    if kind == "list_type":
        return _("Enter a list.")
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return _("Enter an object.")
    if kind == "extra_forbidden":
        return _("Unknown field.")
    if kind == "value_error" and "error" in ctx:
        # Our own validators raise ValueError with an already translated message.
        return str(ctx["error"])
    return str(error.get("msg", _("Invalid value.")))


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = list(loc[1:])  # drop the source: body, query, path
    if parts and parts[0] == BODY_PARAM:
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or NON_FIELD_ERRORS


def schema_errors(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for error in errors:
        result.setdefault(_field_name(error.get("loc", ())), []).append(_pydantic_message(error))
    return result


def django_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
    return {NON_FIELD_ERRORS: [str(m) for m in exc.messages]}


def _invalid(api: NinjaAPI, request: HttpRequest, errors: dict[str, list[str]]) -> HttpResponse:
    return api.create_response(
        request,
        {"detail": _("The input is not valid."), "errors": errors},
        status=422,
    )


def _candidate(candidate: DuplicateCandidate) -> dict[str, Any]:
    person = candidate.person
    return {
        "id": person.pk,
        "family_name": person.family_name,
        "given_names": person.given_names,
        "birth_date": person.birth_date.isoformat(),
        "matched_name": candidate.matched_name,
        "score": round(candidate.score, 1),
    }


def register_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DjangoValidationError)
    def on_django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        return _invalid(api, request, django_errors(exc))

    @api.exception_handler(NinjaValidationError)
    def on_schema_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return _invalid(api, request, schema_errors(exc.errors))

    @api.exception_handler(Http404)
    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(request, {"detail": _("Not found.")}, status=404)

    @api.exception_handler(PermissionDenied)
    def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        detail = str(exc) or _("You may not do this in your current role.")
        return api.create_response(request, {"detail": detail}, status=403)

    @api.exception_handler(AuthenticationError)
    def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = api.create_response(
            request,
            {"detail": _("Missing, unknown, revoked or expired API token.")},
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="lotse"'
        return response

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400:
            # ninja raises 400 only when the body cannot be parsed.
            detail = _("The request body is not valid JSON.")
            return api.create_response(
                request, {"detail": detail, "errors": {NON_FIELD_ERRORS: [detail]}}, status=400
            )
        return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)

    @api.exception_handler(DuplicateSuspected)
    def on_duplicate(request: HttpRequest, exc: DuplicateSuspected) -> HttpResponse:
        return api.create_response(
            request,
            {
                "detail": _(
                    "This person may already be registered. Check the candidates, or send "
                    "confirm_not_duplicate: true if it is somebody else."
                ),
                "candidates": [_candidate(c) for c in exc.candidates],
            },
            status=409,
        )

    @api.exception_handler(IntegrityError)
    def on_conflict(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
        # Services check uniqueness first; this is the race they cannot see.
        return api.create_response(
            request,
            {"detail": _("The change conflicts with data saved at the same time. Try again.")},
            status=409,
        )
