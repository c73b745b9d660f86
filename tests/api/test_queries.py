"""API reads issue a number of queries that does not grow with the data shown."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lotse.casework import services
from lotse.people.services import benefit_period_add, residence_status_add

from ..factories import CaseFactory, TeamMemberFactory


def _grow(world, n: int, start: int) -> None:
    actor, case = world.case_manager, world.case
    for i in range(start, start + n):
        services.note_create(actor=actor, case=case, text=f"Vermerk {i}", visibility="case_team")
        services.followup_create(
            actor=actor,
            case=case,
            title=f"WV {i}",
            due_on=timezone.localdate() + dt.timedelta(days=i),
        )
        services.appointment_create(
            actor=actor,
            case=case,
            purpose=f"Termin {i}",
            starts_at=timezone.now() + dt.timedelta(days=i + 1),
        )
        goal = services.plan_goal_add(actor=actor, case=case, life_domain="work", title=f"Z{i}")
        services.plan_step_add(
            actor=actor,
            goal=goal,
            title=f"S{i}",
            responsible_organisation=world.partner,
            responsible_user=world.partner_staff.user,
        )
        residence_status_add(
            actor=actor,
            person=case.person,
            status="ae_25a" if i % 2 else "duldung",
            valid_from=dt.date(2024, 1, 1) + dt.timedelta(days=30 * i),
        )
        benefit_period_add(
            actor=actor,
            person=case.person,
            regime="sgb2" if i % 2 else "asylblg_3",
            valid_from=dt.date(2024, 1, 1) + dt.timedelta(days=30 * i),
        )
        other = CaseFactory(lead_organisation=world.lead, case_manager=actor.user)
        TeamMemberFactory(case=other, user=world.partner_staff.user, organisation=world.partner)


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
def test_queries_do_not_grow_with_the_data(api, world, path):
    url = path.format(case=world.case.pk, person=world.case.person_id)
    _grow(world, 1, 0)
    api.get(url, "case_manager")  # the token's first use is recorded once
    small = _count(api, url, "case_manager")
    _grow(world, 4, 1)
    assert _count(api, url, "case_manager") == small
