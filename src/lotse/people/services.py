"""Writes of person data. Keyword-only `<thing>_<verb>` functions; callers check scope first.

Timelines are append-only: adding a period may close the open one before it by
a superseding copy; a correction is a new entry that supersedes the old one.
Current periods never overlap; the check runs under a row lock on the person,
so two concurrent writes cannot both pass it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from lotse.core.models import AccessAction, Membership
from lotse.core.services import access_log_record
from lotse.privacy.access import person_access, require_person_edit
from lotse.privacy.categories import Category

from .models import (
    BenefitPeriod,
    Household,
    Person,
    PersonLanguage,
    PersonName,
    ResidenceStatusPeriod,
    TimelineEntry,
)
from .names import search_keys

T = TypeVar("T", bound=TimelineEntry)

PERSON_FIELDS = (
    "family_name",
    "given_names",
    "birth_date",
    "birth_date_estimated",
    "gender",
    "nationality",
    "district",
    "entry_date",
    "phone",
    "email",
    "address",
)


def _refresh_search_text(person: Person, other_names: Iterable[PersonName]) -> None:
    names = [f"{person.given_names} {person.family_name}"]
    names += [f"{n.given_names} {n.family_name}" for n in other_names]
    person.search_text = search_keys(*names)


def person_create(
    *,
    actor: Membership,
    other_names: Sequence[tuple[str, str]] = (),
    languages: Sequence[tuple[str, str]] = (),
    **fields: Any,
) -> Person:
    """Create a person (callers open a case in the same transaction, see case_register)."""
    unknown = set(fields) - set(PERSON_FIELDS)
    if unknown:
        raise TypeError(f"unknown person fields: {sorted(unknown)}")
    person = Person(**fields)
    names = [PersonName(family_name=f, given_names=g) for f, g in other_names if f or g]
    _refresh_search_text(person, names)
    person.full_clean()
    person.save()
    for name in names:
        name.person = person
    PersonName.objects.bulk_create(names)
    person_languages_set(person=person, languages=languages)
    return person


def person_update(
    *,
    actor: Membership,
    person: Person,
    other_names: Sequence[tuple[str, str]] | None = None,
    languages: Sequence[tuple[str, str]] | None = None,
    **fields: Any,
) -> Person:
    unknown = set(fields) - set(PERSON_FIELDS)
    if unknown:
        raise TypeError(f"unknown person fields: {sorted(unknown)}")
    basis = require_person_edit(actor, person.pk)
    with transaction.atomic():
        for key, value in fields.items():
            setattr(person, key, value)
        if other_names is not None:
            person.other_names.all().delete()
            PersonName.objects.bulk_create(
                [
                    PersonName(person=person, family_name=f, given_names=g)
                    for f, g in other_names
                    if f or g
                ]
            )
        _refresh_search_text(person, person.other_names.all())
        person.full_clean()
        person.save()
        if languages is not None:
            person_languages_set(person=person, languages=languages)
        access_log_record(
            actor=actor,
            action=AccessAction.UPDATE,
            person_ids=[person.pk],
            categories=[Category.MASTER],
            basis=basis,
            object_type="person",
            object_id=person.pk,
        )
    return person


def person_languages_set(*, person: Person, languages: Sequence[tuple[str, str]]) -> None:
    seen: dict[str, str] = {}
    for language, level in languages:
        if language:
            seen[language] = level
    person.languages.all().delete()
    items = [PersonLanguage(person=person, language=lang, level=lvl) for lang, lvl in seen.items()]
    for item in items:
        item.full_clean(exclude=["person"])
    PersonLanguage.objects.bulk_create(items)


def _fmt(day: dt.date | None) -> str:
    return date_format(day, "SHORT_DATE_FORMAT") if day else _("open end")


def _current(model: type[T], person: Person) -> list[T]:
    return list(
        model._default_manager.filter(
            person=person, superseded_by__isnull=True, is_retraction=False
        )
    )


def _overlaps(entries: Iterable[T], start: dt.date, end: dt.date | None) -> list[T]:
    return [
        e
        for e in entries
        if (end is None or e.valid_from <= end) and (e.valid_to is None or e.valid_to >= start)
    ]


def _copy(entry: T, **changes: Any) -> T:
    model = type(entry)
    data = {
        f.attname: getattr(entry, f.attname)
        for f in model._meta.concrete_fields
        if f.attname
        not in {
            "id",
            "supersedes_id",
            "recorded_at",
            "recorded_by_id",
            "correction_reason",
            "is_retraction",
        }
    }
    data.update(changes)
    return model(**data)


def _check_dates(entry: TimelineEntry) -> None:
    if entry.valid_to and entry.valid_from and entry.valid_to < entry.valid_from:
        raise ValidationError({"valid_to": _("The end lies before the start.")})


def _save_entry(entry: TimelineEntry) -> None:
    entry.full_clean(validate_unique=False, validate_constraints=True)
    entry.save()


def _timeline_add(
    model: type[T], *, actor: Membership, person: Person, close_open: bool, **values: Any
) -> T:
    with transaction.atomic():
        Person.objects.select_for_update().filter(pk=person.pk).first()
        new = model(person=person, recorded_by=actor.user, **values)
        _check_dates(new)
        new.full_clean(validate_constraints=True)
        current = _current(model, person)
        clashes = _overlaps(current, new.valid_from, new.valid_to)
        closed = None
        if (
            close_open
            and len(clashes) == 1
            and clashes[0].valid_to is None
            and clashes[0].valid_from < new.valid_from
        ):
            # "New status from date X" ends the open period the day before.
            closed = _copy(clashes[0], valid_to=new.valid_from - dt.timedelta(days=1))
            closed.supersedes = clashes[0]
            closed.recorded_by = actor.user
            closed.correction_reason = _("ended by the following period")
            clashes = []
        if clashes:
            other = clashes[0]
            raise ValidationError(
                {
                    "valid_from": _(
                        "The period overlaps the current entry %(label)s from %(start)s to "
                        "%(end)s. Correct that entry instead."
                    )
                    % {
                        "label": other.label,
                        "start": _fmt(other.valid_from),
                        "end": _fmt(other.valid_to),
                    }
                }
            )
        if closed is not None:
            _save_entry(closed)
        _save_entry(new)
        return new


def _timeline_correct(
    model: type[T],
    *,
    actor: Membership,
    entry: T,
    reason: str,
    retract: bool = False,
    **values: Any,
) -> T:
    if not reason.strip():
        raise ValidationError({"correction_reason": _("Please give a reason for the correction.")})
    with transaction.atomic():
        Person.objects.select_for_update().filter(pk=entry.person_id).first()
        entry = model._default_manager.get(pk=entry.pk)
        if not entry.is_current:
            raise ValidationError(
                {"__all__": _("This entry has already been corrected; correct the newer entry.")}
            )
        new = _copy(entry, **values)
        new.supersedes = entry
        new.recorded_by = actor.user
        new.correction_reason = reason.strip()
        new.is_retraction = retract
        _check_dates(new)
        new.full_clean(validate_constraints=True)
        if not retract:
            others = [e for e in _current(model, entry.person) if e.pk != entry.pk]
            clashes = _overlaps(others, new.valid_from, new.valid_to)
            if clashes:
                other = clashes[0]
                raise ValidationError(
                    {
                        "valid_from": _(
                            "The corrected period overlaps the entry %(label)s from %(start)s "
                            "to %(end)s."
                        )
                        % {
                            "label": other.label,
                            "start": _fmt(other.valid_from),
                            "end": _fmt(other.valid_to),
                        }
                    }
                )
        new.save()
        return new


def _log_timeline(
    actor: Membership, person_id: int, basis: str, category: str, kind: str, obj: Any
) -> None:
    access_log_record(
        actor=actor,
        action=AccessAction.CREATE,
        person_ids=[person_id],
        categories=[category],
        basis=basis,
        object_type=kind,
        object_id=obj.pk,
    )


@transaction.atomic
def residence_status_add(
    *, actor: Membership, person: Person, close_open: bool = True, **values: Any
) -> ResidenceStatusPeriod:
    basis = require_person_edit(actor, person.pk)
    entry = _timeline_add(
        ResidenceStatusPeriod, actor=actor, person=person, close_open=close_open, **values
    )
    _log_timeline(actor, person.pk, basis, Category.RESIDENCE, "residence_period", entry)
    return entry


@transaction.atomic
def residence_status_correct(
    *,
    actor: Membership,
    entry: ResidenceStatusPeriod,
    reason: str,
    retract: bool = False,
    **values: Any,
) -> ResidenceStatusPeriod:
    basis = require_person_edit(actor, entry.person_id)
    new = _timeline_correct(
        ResidenceStatusPeriod, actor=actor, entry=entry, reason=reason, retract=retract, **values
    )
    _log_timeline(actor, entry.person_id, basis, Category.RESIDENCE, "residence_period", new)
    return new


@transaction.atomic
def benefit_period_add(
    *, actor: Membership, person: Person, close_open: bool = True, **values: Any
) -> BenefitPeriod:
    basis = require_person_edit(actor, person.pk)
    entry = _timeline_add(
        BenefitPeriod, actor=actor, person=person, close_open=close_open, **values
    )
    _log_timeline(actor, person.pk, basis, Category.BENEFITS, "benefit_period", entry)
    return entry


@transaction.atomic
def benefit_period_correct(
    *, actor: Membership, entry: BenefitPeriod, reason: str, retract: bool = False, **values: Any
) -> BenefitPeriod:
    basis = require_person_edit(actor, entry.person_id)
    new = _timeline_correct(
        BenefitPeriod, actor=actor, entry=entry, reason=reason, retract=retract, **values
    )
    _log_timeline(actor, entry.person_id, basis, Category.BENEFITS, "benefit_period", new)
    return new


@transaction.atomic
def household_link(
    *, actor: Membership, person: Person, other: Person, role: str, other_role: str = ""
) -> Household:
    """Put `person` into the household of `other` (creating it if needed). Both must be
    in the actor's scope; the person's master data is kept by the lead organisation."""
    basis = require_person_edit(actor, person.pk)
    other_access = person_access(actor, other.pk)
    if not other_access.visible:
        raise Http404
    if not other_access.allows("family"):
        raise PermissionDenied
    if other.pk == person.pk:
        raise ValidationError({"other": _("A person cannot be linked with themselves.")})
    person = Person.objects.select_for_update().get(pk=person.pk)
    other = Person.objects.select_for_update().get(pk=other.pk)
    household = other.household or person.household
    if household is None:
        household = Household.objects.create(label=other.family_name)
    if other.household_id != household.pk or other_role:
        other.household = household
        other.household_role = other_role or other.household_role or "head"
        other.full_clean()
        other.save(update_fields=["household", "household_role", "updated_at"])
    person.household = household
    person.household_role = role
    person.full_clean()
    person.save(update_fields=["household", "household_role", "updated_at"])
    access_log_record(
        actor=actor,
        action=AccessAction.UPDATE,
        person_ids=[person.pk, other.pk],
        categories=[Category.FAMILY],
        basis=basis,
        object_type="household",
        object_id=household.pk,
    )
    return household


@transaction.atomic
def household_leave(*, actor: Membership, person: Person) -> None:
    basis = require_person_edit(actor, person.pk)
    household_id = person.household_id
    if household_id is None:
        return
    person.household, person.household_role = None, ""
    person.save(update_fields=["household", "household_role", "updated_at"])
    access_log_record(
        actor=actor,
        action=AccessAction.UPDATE,
        person_ids=[person.pk],
        categories=[Category.FAMILY],
        basis=basis,
        object_type="household",
        object_id=household_id,
    )
