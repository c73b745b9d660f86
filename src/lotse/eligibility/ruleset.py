"""The active rule set of this installation (Django side of the pure engine).

``settings.LOTSE_ELIGIBILITY_RULES`` names a directory with a municipality's reviewed
rule files; empty means the packaged set. The set is compiled once per process; a
system check compiles it at start-up so that a broken rule file stops `lotse demo`,
`migrate` and the server with the file and rule named, instead of failing later.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from .engine import RuleSet, load_rule_set


def active_rule_set() -> RuleSet:
    return load_rule_set(settings.LOTSE_ELIGIBILITY_RULES)


@register()
def check_rule_set(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        active_rule_set()
    except (OSError, ValueError) as exc:
        return [
            Error(
                f"The eligibility rule set cannot be compiled: {exc}",
                hint="Fix the rule files or unset LOTSE_ELIGIBILITY_RULES "
                "(check them with `lotse eligibility --check-rules DIR`).",
                id="lotse.E001",
            )
        ]
    return []
