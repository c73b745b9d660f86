"""Writes of the offer catalogue (issue #5): keyword-only, atomic, permission-checked.

Providers' staff maintain their own organisation's offers (Perm.OFFER_EDIT),
coordinators every provider's (Perm.OFFER_EDIT_ALL). Offers hold no personal data,
so there is no access log; the change history (django-auditlog) records who changed
which field (lotse.privacy.auditing.TRACKED).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lotse.core.models import Membership, NeedType, Organisation
from lotse.core.roles import Perm
from lotse.people.codes import Language, ResidenceStatus

from .models import Offer
from .selectors import offer_can_edit, offer_search_text

# What a user may set; `occupied` follows the participations, `is_active` has its own
# services, the rest is maintained here.
EDITABLE_FIELDS = frozenset(
    {
        "provider",
        "title",
        "description",
        "field_of_action",
        "category",
        "level",
        "statuses",
        "age_min",
        "age_max",
        "german_min",
        "prerequisites",
        "district",
        "address",
        "starts_on",
        "ends_on",
        "rolling_entry",
        "schedule",
        "capacity",
        "languages",
        "funding",
        "cost_note",
        "contact_name",
        "contact_email",
        "contact_phone",
        "childcare",
        "review_due",
    }
)


def _require_editor(actor: Membership) -> None:
    if not (actor.has_perm(Perm.OFFER_EDIT) or actor.has_perm(Perm.OFFER_EDIT_ALL)):
        raise PermissionDenied


def _require_provider(actor: Membership, provider_id: int | None) -> None:
    if not offer_can_edit(actor=actor, provider_id=provider_id):
        raise PermissionDenied


def _check_keys(values: dict[str, Any]) -> None:
    unknown = sorted(set(values) - EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not editable offer fields: {', '.join(unknown)}")


def _codes(
    values: Iterable[str], valid: list[str], field: str, message: str, errors: dict[str, list[str]]
) -> list[str]:
    """The codes in the order of their code list, without repeats; unknown ones are an
    error at ``field``."""
    given = set(values or [])
    unknown = sorted(given - set(valid))
    if unknown:
        errors[field] = [message % {"codes": ", ".join(unknown)}]
    return [code for code in valid if code in given]


def rule_errors(
    offer: Offer, *, occupied: int, previous_review_due: dt.date | None, today: dt.date
) -> dict[str, list[str]]:
    """The business rules across fields, with a message at each field (also used by the
    import preview, which maps the fields to its columns)."""
    errors: dict[str, list[str]] = {}
    if offer.capacity is not None and offer.capacity < occupied:
        errors["capacity"] = [
            _("%(n)s participants take part at present; the number of places cannot be lower.")
            % {"n": occupied}
        ]
    if offer.starts_on and offer.ends_on and offer.ends_on < offer.starts_on:
        errors["ends_on"] = [_("The offer cannot end before it starts.")]
    if offer.age_min is not None and offer.age_max is not None and offer.age_max < offer.age_min:
        errors["age_max"] = [_("The maximum age cannot be lower than the minimum age.")]
    # A new offer, or a new review date, must lie ahead; an outdated offer can still be
    # corrected without touching its review date.
    if (
        offer.review_due is not None
        and offer.review_due != previous_review_due
        and offer.review_due < today
    ):
        errors["review_due"] = [_("The review date cannot lie in the past.")]
    return errors


def _validate(
    offer: Offer, *, occupied: int, previous_review_due: dt.date | None, today: dt.date
) -> None:
    """The business rules with a message at each field, then the model's own field
    validation; raises ValidationError with everything found."""
    errors = rule_errors(
        offer, occupied=occupied, previous_review_due=previous_review_due, today=today
    )
    offer.statuses = _codes(
        offer.statuses,
        ResidenceStatus.values,
        "statuses",
        _("Unknown residence status: %(codes)s."),
        errors,
    )
    offer.languages = _codes(
        offer.languages,
        Language.values,
        "languages",
        _("Unknown language: %(codes)s."),
        errors,
    )
    if offer.provider_id is not None and not offer.provider.is_active:
        errors["provider"] = [_("This organisation is no longer active.")]
    try:
        # The two check constraints are validated above with messages at their
        # fields; skipping Django's constraint queries keeps large imports fast.
        offer.full_clean(exclude=[*errors, "search_text"], validate_constraints=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def _save(offer: Offer, actor: Membership, need_types: Iterable[NeedType] | None) -> Offer:
    """Save with the needs it answers and the search text built from them."""
    offer.updated_by = actor.user
    creating = offer.pk is None
    if creating:
        offer.save()  # the needs need the row
    if need_types is not None:
        offer.need_types.set(list(need_types))
    need_names = list(offer.need_types.values_list("name", flat=True))
    offer.search_text = offer_search_text(offer, need_names)
    if creating:  # derived, not part of the change history
        Offer.objects.filter(pk=offer.pk).update(search_text=offer.search_text)
    else:
        offer.save()
    return offer


@transaction.atomic
def offer_create(*, actor: Membership, need_types: Iterable[NeedType] = (), **values: Any) -> Offer:
    """A new offer. Without ``provider`` it is the acting organisation's; only
    coordinators may name another provider."""
    _require_editor(actor)
    _check_keys(values)
    provider: Organisation | None = values.pop("provider", None)
    provider = provider or actor.organisation
    _require_provider(actor, provider.pk)
    offer = Offer(provider=provider, **values)
    _validate(offer, occupied=0, previous_review_due=None, today=timezone.localdate())
    return _save(offer, actor, need_types)


@transaction.atomic
def offer_update(
    *,
    actor: Membership,
    offer: Offer,
    need_types: Iterable[NeedType] | None = None,
    **values: Any,
) -> Offer:
    """Change an offer; ``need_types`` replaces the needs it answers (None: unchanged).
    Moving an offer to another provider needs the right for both providers."""
    _require_editor(actor)
    _check_keys(values)
    # The stored row decides (the instance may carry unsaved changes), locked until the
    # end of the transaction so the participants counted stay put.
    stored = (
        Offer.objects.select_for_update()
        .filter(pk=offer.pk)
        .values("provider_id", "occupied", "review_due")
        .get()
    )
    _require_provider(actor, stored["provider_id"])
    provider: Organisation | None = values.pop("provider", None)
    if provider is not None:
        _require_provider(actor, provider.pk)
        offer.provider = provider
    elif offer.provider_id != stored["provider_id"]:
        offer.provider = Organisation.objects.get(pk=stored["provider_id"])
    for name, value in values.items():
        setattr(offer, name, value)
    offer.occupied = stored["occupied"]
    _validate(
        offer,
        occupied=stored["occupied"],
        previous_review_due=stored["review_due"],
        today=timezone.localdate(),
    )
    return _save(offer, actor, need_types)


def _set_active(actor: Membership, offer: Offer, active: bool) -> Offer:
    _require_editor(actor)
    stored = Offer.objects.select_for_update().filter(pk=offer.pk).values("provider_id").get()
    _require_provider(actor, stored["provider_id"])
    offer.refresh_from_db()  # drop unsaved changes: only the state changes here
    offer.is_active = active
    offer.updated_by = actor.user
    offer.save(update_fields=["is_active", "updated_by", "updated_at"])
    return offer


@transaction.atomic
def offer_deactivate(*, actor: Membership, offer: Offer) -> Offer:
    """Take an offer out of the catalogue; it stays readable (earlier referrals)."""
    return _set_active(actor, offer, False)


@transaction.atomic
def offer_reactivate(*, actor: Membership, offer: Offer) -> Offer:
    """Put a deactivated offer back into the catalogue."""
    return _set_active(actor, offer, True)
