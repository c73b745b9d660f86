"""Measure careers (issue #6): putting a coordinator-edited detection rule back to its
defaults. (Changing a rule is ``careers_services.career_rule_update``.)"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from lotse.core.models import Membership
from lotse.core.roles import Perm

from .careers_rules import default_rules
from .models_careers import CareerRuleSetting


@transaction.atomic
def career_rule_reset(*, actor: Membership, code: str) -> bool:
    """A coordinator resets a rule: its settings row goes, so the rule runs with the
    defaults of its kind (name, explanation, parameters, active) from the next scan on.
    Returns whether there was anything to reset."""
    if not actor.has_perm(Perm.CAREER_RULES):  # the coordinators of the alliance
        raise PermissionDenied
    if code not in {r.code for r in default_rules()}:
        raise ValidationError({"code": [_("Unknown rule.")]})
    deleted, _rows = CareerRuleSetting.objects.filter(code=code).delete()
    return deleted > 0
