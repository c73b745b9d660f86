"""Legal access to offer categories for the catalogue's status filter (issue #5).

The catalogue cannot know the person, only a residence status. So it asks the
eligibility engine about the most favourable person with that status: 20 years old,
entered and holding the status for ten years, from a country that is not a safe
country of origin, identity clarified, no work ban, not in a reception centre,
German B1, in training, close to the labour market. An offer category is *legally
closed* for a status only if the engine excludes even that person. So the filter
keeps every offer that is accessible for at least some persons with the status;
whether one person has access is checked on that person's case.
"""

from __future__ import annotations

import datetime as dt

from lotse.eligibility.engine import add_years, evaluate_category
from lotse.eligibility.model import Facts, StatusPeriod
from lotse.eligibility.ruleset import active_rule_set

from .codes import ELIGIBILITY_CATEGORY

AGE_YEARS = 20
YEARS_IN_STATUS = 10
NATIONALITY = "SY"  # not a safe country of origin on any date of the rule set

_cache: dict[tuple[str, str, str, dt.date], bool] = {}
_CACHE_LIMIT = 10_000


def favourable_facts(status: str, on: dt.date) -> Facts:
    """The facts of the most favourable person holding ``status`` on ``on``."""
    since = add_years(on, -YEARS_IN_STATUS)
    return Facts(
        birth_date=add_years(on, -AGE_YEARS),
        entry_date=since,
        nationality=NATIONALITY,
        status_history=(StatusPeriod(status, since, None),),
        flags={
            "identity_clarified": True,
            "work_ban_60a6": False,
            "reception_centre": False,
            "rejected_manifestly_unfounded": False,
            "labour_market_proximity": True,
            "german_level": "B1",
            "in_training": True,
            "asylum_application_date": since,
            "sgb8_help_before_21": True,
        },
    )


def legally_closed(category: str, status: str, on: dt.date) -> bool:
    """Whether the law closes offers of ``category`` (an OfferCategory) to every person
    with residence ``status`` on ``on``: the engine's result is ``excluded`` even in the
    most favourable case. Categories without an eligibility category, statuses the
    rule set does not know and undecidable cases are never closed."""
    eligibility = ELIGIBILITY_CATEGORY.get(category)
    if eligibility is None:
        return False
    rule_set = active_rule_set()
    if status not in rule_set.codes.statuses or eligibility not in rule_set.codes.categories:
        return False
    key = (rule_set.digest, eligibility, status, on)
    closed = _cache.get(key)
    if closed is None:
        item = evaluate_category(favourable_facts(status, on), on, eligibility, rule_set=rule_set)
        closed = item.result == "excluded"
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        _cache[key] = closed
    return closed


def closed_categories(status: str, on: dt.date) -> list[str]:
    """The offer categories that are legally closed for ``status`` on ``on``."""
    return [c for c in ELIGIBILITY_CATEGORY if legally_closed(c, status, on)]
