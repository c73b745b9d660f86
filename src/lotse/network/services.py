"""Writes of the alliance directory (issue #8): contacts and responsibilities.

Every function checks ``NETWORK_EDIT`` (PermissionDenied), validates everything
first and raises one ValidationError with a German message per field, so nothing is
written on bad input. The directory holds no personal data of clients, so nothing
goes to the access log.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from lotse.core.models import Membership, Organisation
from lotse.core.roles import Perm
from lotse.offers.codes import FieldOfAction
from lotse.people.codes import Language
from lotse.people.models import TargetGroup

from .models import Contact, Responsibility


def _require(actor: Membership | None) -> None:
    if actor is None or not actor.has_perm(Perm.NETWORK_EDIT):
        raise PermissionDenied


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


# --- contacts ---------------------------------------------------------------------------


def _contact_errors(
    *, name: str, email: str, phone: str, languages: Iterable[str]
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("Enter the name of the contact.")]
    if email.strip():
        try:
            validate_email(email.strip())
        except ValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
    if len(phone.strip()) > 40:
        errors["phone"] = [_("The phone number may have at most 40 characters.")]
    unknown = sorted(set(languages) - set(Language.values))
    if unknown:
        errors["languages"] = [
            _("Unknown language code: %(codes)s.") % {"codes": ", ".join(unknown)}
        ]
    return errors


def contact_create(
    *,
    actor: Membership | None,
    organisation: Organisation,
    name: str,
    function: str = "",
    email: str = "",
    phone: str = "",
    languages: Iterable[str] = (),
    note: str = "",
) -> Contact:
    _require(actor)
    languages = list(dict.fromkeys(languages))
    _raise(_contact_errors(name=name, email=email, phone=phone, languages=languages))
    return Contact.objects.create(
        organisation=organisation,
        name=name.strip(),
        function=function.strip(),
        email=email.strip(),
        phone=phone.strip(),
        languages=languages,
        note=note.strip(),
    )


def contact_update(
    *,
    actor: Membership | None,
    contact: Contact,
    name: str,
    function: str = "",
    email: str = "",
    phone: str = "",
    languages: Iterable[str] = (),
    note: str = "",
) -> Contact:
    """Change a contact; it stays with its organisation."""
    _require(actor)
    languages = list(dict.fromkeys(languages))
    _raise(_contact_errors(name=name, email=email, phone=phone, languages=languages))
    contact.name = name.strip()
    contact.function = function.strip()
    contact.email = email.strip()
    contact.phone = phone.strip()
    contact.languages = languages
    contact.note = note.strip()
    contact.save()
    return contact


def contact_delete(*, actor: Membership | None, contact: Contact) -> None:
    """Delete a contact; responsibilities naming it keep existing without a contact."""
    _require(actor)
    contact.delete()


# --- responsibilities -------------------------------------------------------------------


def _responsibility_errors(
    *,
    organisation: Organisation | None,
    target_group: TargetGroup | None,
    field_of_action: str,
    contact: Contact | None,
    exclude_pk: int | None = None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if organisation is None:
        errors["organisation"] = [_("Choose the responsible organisation.")]
    elif not organisation.is_active:
        errors["organisation"] = [_("This organisation is no longer active.")]
    if target_group is None:
        errors["target_group"] = [_("Choose a target group.")]
    elif not target_group.is_active:
        errors["target_group"] = [_("This target group is no longer active.")]
    if field_of_action not in FieldOfAction.values:
        errors["field_of_action"] = [_("Choose a field of action.")]
    if (
        contact is not None
        and organisation is not None
        and contact.organisation_id != organisation.pk
    ):
        errors["contact"] = [_("The contact must belong to the responsible organisation.")]
    if not errors and organisation is not None and target_group is not None:
        taken = Responsibility.objects.filter(
            organisation=organisation,
            target_group=target_group,
            field_of_action=field_of_action,
        )
        if exclude_pk is not None:
            taken = taken.exclude(pk=exclude_pk)
        if taken.exists():
            errors["field_of_action"] = [
                _(
                    "This organisation is already responsible for this target group "
                    "and field of action."
                )
            ]
    return errors


def _responsibility_save(
    actor: Membership | None,
    responsibility: Responsibility | None,
    *,
    organisation: Organisation | None,
    target_group: TargetGroup | None,
    field_of_action: str,
    role: str,
    contact: Contact | None,
    note: str,
) -> Responsibility:
    _require(actor)
    errors = _responsibility_errors(
        organisation=organisation,
        target_group=target_group,
        field_of_action=field_of_action,
        contact=contact,
        exclude_pk=responsibility.pk if responsibility else None,
    )
    _raise(errors)
    assert organisation is not None and target_group is not None  # checked above
    target = responsibility or Responsibility()
    target.organisation = organisation
    target.target_group = target_group
    target.field_of_action = field_of_action
    target.role = role.strip()
    target.contact = contact
    target.note = note.strip()
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError:  # the same cell saved at the same moment by someone else
        raise ValidationError(
            {
                "field_of_action": _(
                    "This organisation is already responsible for this target group "
                    "and field of action."
                )
            }
        ) from None
    return target


def responsibility_create(
    *,
    actor: Membership | None,
    organisation: Organisation | None,
    target_group: TargetGroup | None,
    field_of_action: str,
    role: str = "",
    contact: Contact | None = None,
    note: str = "",
) -> Responsibility:
    return _responsibility_save(
        actor,
        None,
        organisation=organisation,
        target_group=target_group,
        field_of_action=field_of_action,
        role=role,
        contact=contact,
        note=note,
    )


def responsibility_update(
    *,
    actor: Membership | None,
    responsibility: Responsibility,
    organisation: Organisation | None,
    target_group: TargetGroup | None,
    field_of_action: str,
    role: str = "",
    contact: Contact | None = None,
    note: str = "",
) -> Responsibility:
    return _responsibility_save(
        actor,
        responsibility,
        organisation=organisation,
        target_group=target_group,
        field_of_action=field_of_action,
        role=role,
        contact=contact,
        note=note,
    )


def responsibility_delete(*, actor: Membership | None, responsibility: Responsibility) -> None:
    _require(actor)
    responsibility.delete()
