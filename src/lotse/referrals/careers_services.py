"""Measure careers (issue #6), the Django side: the rules as configured, resolving the
scan's flags. The detection itself is pure (careers_rules.py, careers_scan.py)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lotse.core.models import AccessAction, Membership
from lotse.core.roles import Perm
from lotse.core.services import access_log_record
from lotse.privacy.access import require_case
from lotse.privacy.categories import Category

from .careers_rules import Rule, default_rules, rule_from_dict
from .models_careers import CareerFlag, CareerRuleSetting


def careers_rules_active() -> list[Rule]:
    """The rules as configured: each kind's defaults, overridden by its settings row."""
    rows = {r.code: r for r in CareerRuleSetting.objects.all()}
    rules: list[Rule] = []
    for default in default_rules():
        row = rows.get(default.code)
        if row is None:
            rules.append(default)
            continue
        rules.append(
            rule_from_dict(
                {
                    "kind": row.kind or default.kind,
                    "code": row.code,
                    "name": row.name or None,
                    "explanation": row.explanation or None,
                    "enabled": row.enabled,
                    "params": row.params,
                }
            )
        )
    return rules


@transaction.atomic
def career_rule_update(
    *,
    actor: Membership,
    code: str,
    params: dict[str, Any],
    enabled: bool = True,
    name: str = "",
    explanation: str = "",
) -> CareerRuleSetting:
    """A coordinator changes a rule's parameters (validated by the rule kind; the
    message names what is wrong, nothing is saved)."""
    if not actor.has_perm(Perm.OFFER_EDIT_ALL):  # the coordinators of the alliance
        raise PermissionDenied
    kinds = {r.code: r.kind for r in default_rules()}
    if code not in kinds:
        raise ValidationError({"code": [_("Unknown rule.")]})
    try:
        rule_from_dict(
            {
                "kind": kinds[code],
                "code": code,
                "name": name or None,
                "explanation": explanation or None,
                "enabled": enabled,
                "params": params,
            }
        )
    except (ValueError, TypeError) as exc:
        raise ValidationError({"params": [str(exc)]}) from exc
    row, _created = CareerRuleSetting.objects.update_or_create(
        code=code,
        defaults={
            "kind": kinds[code],
            "params": params,
            "enabled": enabled,
            "name": name,
            "explanation": explanation,
            "updated_by": actor.user,
        },
    )
    return row


@transaction.atomic
def career_flag_resolve(*, actor: Membership, flag: CareerFlag, note: str) -> CareerFlag:
    """The case manager (lead organisation) resolves a flag with a note; it recurs only
    on new evidence (the unique evidence key)."""
    flag = CareerFlag.objects.select_for_update(of=("self",)).select_related("case").get(pk=flag.pk)
    if flag.case is None:
        raise PermissionDenied
    basis = require_case(actor, flag.case, Perm.CASE_EDIT)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [_("Say how the flag was dealt with.")]})
    if flag.resolved_at is not None:
        raise ValidationError({"note": [_("This flag has already been resolved.")]})
    flag.resolved_at = timezone.now()
    flag.resolved_by = actor.user
    flag.resolution_note = note
    flag.save(update_fields=["resolved_at", "resolved_by", "resolution_note"])
    access_log_record(
        actor=actor,
        action=AccessAction.UPDATE,
        person_ids=[flag.person_id],
        categories=[Category.PARTICIPATIONS],
        basis=basis,
        object_type="career_flag",
        object_id=flag.pk,
    )
    return flag
