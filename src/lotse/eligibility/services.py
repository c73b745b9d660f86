"""Writes of the eligibility app: the facts record of a person (category residence)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lotse.casework.models import Case
from lotse.core.models import AccessAction, Membership
from lotse.core.roles import Perm
from lotse.core.services import access_log_record
from lotse.privacy.access import require_case
from lotse.privacy.categories import Category

from .models import DATE_FIELDS, FLAG_FIELDS, PersonFacts


def _check_dates(record: PersonFacts, case: Case) -> None:
    today, birth = timezone.localdate(), case.person.birth_date
    errors: dict[str, str] = {}
    for name in DATE_FIELDS:
        day = getattr(record, name)
        if day is None:
            continue
        if day > today:
            errors[name] = _("The date cannot be in the future.")
        elif day < birth:
            errors[name] = _("The date is before the date of birth.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def person_facts_save(*, actor: Membership, case: Case, **values: Any) -> PersonFacts:
    """Create or update the facts record of the case's person. Lead organisation with
    CASE_EDIT only (``require_case``); logged as a write of residence data."""
    basis = require_case(actor, case, Perm.CASE_EDIT, Category.RESIDENCE)
    record, created = PersonFacts.objects.select_for_update().get_or_create(
        person_id=case.person_id
    )
    for name in FLAG_FIELDS:
        if name in values:
            setattr(record, name, values[name])
    record.updated_by = actor.user
    _check_dates(record, case)
    record.full_clean()
    record.save()
    access_log_record(
        actor=actor,
        action=AccessAction.CREATE if created else AccessAction.UPDATE,
        person_ids=[case.person_id],
        categories=[Category.RESIDENCE],
        basis=basis,
        object_type="eligibility_facts",
        object_id=record.pk,
    )
    return record
