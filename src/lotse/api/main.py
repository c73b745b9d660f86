"""The lotse JSON API (DESIGN §6), mounted at /api/v1/ by config/urls.py.

Every operation needs a personal API token (`Authorization: Bearer …`) and acts
in the token's membership, with the same scope and access logging as the pages.
"""

from __future__ import annotations

from ninja import NinjaAPI

from . import (
    analytics,
    careers,
    cases,
    casework_items,
    eligibility,
    network,
    offers,
    persons,
    plan,
    referrals,
    timelines,
)
from .auth import TokenAuth
from .errors import register_error_handlers

DESCRIPTION = """\
Case management data of the municipality, as far as your membership may see it.

Authenticate with a personal API token: `Authorization: Bearer lotse_…`
(create one with `lotse token create --user NAME [--org ORG]`). The token acts in
one membership (user, organisation, role). What it may read follows the privacy
model (data categories: master, residence, benefits, education, work, health,
family, notes, documents, plan, participations): the lead organisation of a case
reads everything; an organisation on the case team reads the categories covered by
the person's consent or a sharing agreement. Persons and cases of which no category
is shared answer 404 and are never listed or counted; fields of a category that is
not shared are null (`shared_categories` says what is shared), and a part of a case
that belongs to one category that is not shared answers 403. A role that may not do
something gets 403 too. Every read and write of personal data is recorded in the
access log with the categories concerned and the basis (lead organisation, consent,
agreement, break-glass).

Errors are JSON: `{"detail": "…"}`, and for invalid input (422)
`{"detail": "…", "errors": {"field": ["message", …]}}`. Dates are ISO 8601.
"""

api = NinjaAPI(
    title="lotse API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=TokenAuth(),
)
register_error_handlers(api)

api.add_router("/persons", persons.router)
api.add_router("/persons", timelines.router)
api.add_router("/cases", cases.router)
api.add_router("/cases", plan.router)
api.add_router("/cases", casework_items.router)
# /eligibility and /persons/{person_id}/eligibility
api.add_router("", eligibility.router)
api.add_router("", offers.router)
# /referrals, /participations and /cases/{case_id}/referrals, /chain, /participations
api.add_router("", referrals.router)
api.add_router("", careers.router)
api.add_router("", analytics.router)
api.add_router("", network.router)
