"""Field-level change history with django-auditlog (issue #3, DESIGN §5.4).

Which models are tracked and which of their fields, in one place. The rules:

* Person data and casework records are tracked field by field: who changed which
  field when, with the old and new value as auditlog stores them.
* Free text that may hold special categories (Art. 9 GDPR: health, religion, …) is
  **never** copied into the history: those fields are excluded (``EXCLUDED``), and
  short free-text labels are masked (``MASKED``: the history shows that they
  changed, not to what). Notes are not tracked at all. So the history never
  duplicates full rows of special categories.
* ``object_repr`` is neutral ("casework.AssessmentItem #12"), because some
  ``__str__`` return free text (an assessment item's description).
* Every entry carries ``additional_data = {"person_id": …}``: the Art. 15 report
  and retention find a person's history by it — also of rows deleted since
  (other spellings and languages are replaced on every edit).
* The actor comes from auditlog's middleware (``AuditlogMiddleware`` below reads
  request.user when an entry is written, so API calls authenticated by token inside
  the view count too); the correlation id is the request id of the access log
  (``correlation_id``), so an entry can be joined to the access-log entries of the
  same request (acting organisation and role). Code outside a request wraps
  writes in ``auditlog.context.set_actor(user)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auditlog.middleware import AuditlogMiddleware as _AuditlogMiddleware
from django.db import models
from django.db.models import Q, QuerySet
from django.db.models.signals import pre_save
from django.http import HttpRequest

from lotse.core.context import request_id_var

MASK = "[…]"

# Free text where special categories are to be expected: never stored in the history.
EXCLUDED: dict[str, tuple[str, ...]] = {
    "casework.Case": ("closing_note",),
    "casework.Intake": ("answers",),
    "casework.Assessment": ("summary",),
    "casework.AssessmentItem": ("description",),
    "casework.Appointment": ("outcome", "agreements"),
    "privacy.Consent": ("withdrawal_note",),
    "privacy.BreakGlassAccess": ("reason",),
}

# Short free-text labels: that they changed is recorded, the text is masked.
MASKED: dict[str, tuple[str, ...]] = {
    "people.ResidenceStatusPeriod": ("correction_reason",),
    "people.BenefitPeriod": ("correction_reason",),
    "casework.PlanGoal": ("title",),
    "casework.PlanStep": ("title",),
    "casework.Appointment": ("purpose", "location"),
    "casework.FollowUp": ("title",),
}

# Model → path from the record to its person (None: not about one person).
TRACKED: dict[str, str | None] = {
    "people.Person": "pk",
    "people.PersonName": "person_id",
    "people.PersonLanguage": "person_id",
    "people.ResidenceStatusPeriod": "person_id",
    "people.BenefitPeriod": "person_id",
    "casework.Case": "person_id",
    "casework.CaseTeamMember": "case__person_id",
    "casework.Intake": "case__person_id",
    "casework.Assessment": "case__person_id",
    "casework.AssessmentItem": "assessment__case__person_id",
    "casework.PlanGoal": "plan__case__person_id",
    "casework.PlanStep": "goal__plan__case__person_id",
    "casework.Appointment": "case__person_id",
    "casework.FollowUp": "case__person_id",
    "privacy.Consent": "person_id",
    "privacy.SharingAgreement": None,
    "eligibility.PersonFacts": "person_id",
    "privacy.BreakGlassAccess": "case__person_id",
    "offers.Offer": None,
}

# Never tracked: free text through and through (Note) or derived data.
NOT_TRACKED = ("casework.Note",)

M2M: dict[str, tuple[str, ...]] = {
    "privacy.Consent": ("receiving_organisations", "named_users"),
}

# Noise (touched by every save) or derived from tracked fields.
ALWAYS_EXCLUDED = ("updated_at", "search_text")

MASK_CALLABLE = "lotse.privacy.auditing.mask_free_text"


def mask_free_text(value: str) -> str:
    """Hide a free-text value completely; an empty (or missing) value stays as it is, so
    the history still shows whether a text was added, changed or removed."""
    return value if value in ("", "None") else MASK


def correlation_id() -> str | None:
    """AUDITLOG_CID_GETTER: the request id the access log records for this request."""
    return request_id_var.get() or None


class AuditlogMiddleware(_AuditlogMiddleware):
    """auditlog's middleware, but the actor is read when an entry is written: the API
    authenticates its bearer token inside the view, after the middleware ran."""

    def get_extra_data(self, request: HttpRequest) -> dict[str, Any]:
        data: dict[str, Any] = super().get_extra_data(request)
        if data.get("actor") is None:
            data.pop("actor", None)
            data["actor_id"] = lambda: _authenticated_user_id(request)
        return data


def _authenticated_user_id(request: HttpRequest) -> int | None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return int(user.pk)
    return None


def _model(label: str) -> type[models.Model]:
    from django.apps import apps

    return apps.get_model(label)


def person_id_of(instance: models.Model, path: str) -> int | None:
    """The person a tracked record belongs to, following cached relations first and
    otherwise one query from the first foreign key (works for deleted rows too)."""
    if path == "pk":
        return instance.pk
    if "__" not in path:
        return getattr(instance, path)
    first, rest = path.split("__", 1)
    field = instance._meta.get_field(first)
    if field.is_cached(instance):  # type: ignore[union-attr]
        related = getattr(instance, first)
        return person_id_of(related, rest) if related is not None else None
    fk = getattr(instance, field.attname)  # type: ignore[union-attr]
    if fk is None:
        return None
    related_model = field.related_model
    assert isinstance(related_model, type)
    return related_model._default_manager.filter(pk=fk).values_list(rest, flat=True).first()


def _additional_data_getter(path: str) -> Callable[[models.Model], dict[str, Any]]:
    def get_additional_data(self: models.Model) -> dict[str, Any]:
        return {"person_id": person_id_of(self, path)}

    get_additional_data.lotse_auditing = True  # type: ignore[attr-defined]
    return get_additional_data


def _neutral_repr(sender: Any, instance: Any, **kwargs: Any) -> None:
    """pre_save of auditlog's LogEntry: no free text in object_repr."""
    model = instance.content_type.model_class() if instance.content_type_id else None
    if model is not None and model._meta.label in TRACKED:
        instance.object_repr = f"{model._meta.label} #{instance.object_pk}"


def register() -> None:
    """Register the tracked models with auditlog (idempotent; called from
    PrivacyConfig.ready)."""
    from auditlog import get_logentry_model
    from auditlog.registry import auditlog

    for label, path in TRACKED.items():
        model = _model(label)
        if auditlog.contains(model):
            continue
        names = {f.name for f in model._meta.get_fields()}
        # Reverse relations carry no value of the record (auditlog would list them).
        reverse = [f.name for f in model._meta.get_fields() if f.auto_created and not f.concrete]
        exclude = [f for f in (*ALWAYS_EXCLUDED, *EXCLUDED.get(label, ())) if f in names]
        exclude += reverse
        mask = [f for f in MASKED.get(label, ()) if f in names]
        if path is not None:
            existing = getattr(model, "get_additional_data", None)
            if existing is not None and not getattr(existing, "lotse_auditing", False):
                raise RuntimeError(f"{label} defines get_additional_data itself")
            model.get_additional_data = _additional_data_getter(path)  # type: ignore[attr-defined]
        auditlog.register(
            model,
            exclude_fields=exclude,
            mask_fields=mask,
            mask_callable=MASK_CALLABLE if mask else None,
            m2m_fields=set(M2M.get(label, ())),
        )
    pre_save.connect(
        _neutral_repr, sender=get_logentry_model(), dispatch_uid="lotse_auditlog_neutral_repr"
    )


def person_change_history(person_id: int) -> QuerySet[Any]:
    """All field-change entries about one person (for the Art. 15 report and retention),
    newest first."""
    from auditlog import get_logentry_model

    log_entry = get_logentry_model()
    return log_entry.objects.filter(Q(additional_data__person_id=person_id)).order_by(
        "-timestamp", "-pk"
    )
