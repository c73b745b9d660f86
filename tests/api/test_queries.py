"""API reads issue a number of queries that does not grow with the data shown."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ..history import grow_case_history


def _count(api, path: str, who: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(path, who)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "path",
    [
        "/cases/{case}",
        "/cases",
        "/persons",
        "/persons/{person}/residence-statuses",
        "/persons/{person}/benefits",
        "/cases/{case}/plan",
        "/cases/{case}/notes",
        "/cases/{case}/appointments",
        "/cases/{case}/followups",
        "/cases/{case}/team",
    ],
)
@pytest.mark.parametrize("who", ["case_manager", "partner_staff"])
def test_queries_do_not_grow_with_the_data(api, world, path, who):
    """For the lead, and for the partner whose access is decided per category."""
    url = path.format(case=world.case.pk, person=world.case.person_id)
    grow_case_history(world, 1, 0)
    api.get(url, who)  # the token's first use is recorded once
    small = _count(api, url, who)
    grow_case_history(world, 4, 1)
    assert _count(api, url, who) == small
