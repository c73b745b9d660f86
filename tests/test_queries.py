"""The case page and the case list issue a number of queries that does not grow with
the size of the case history or the number of rows."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lotse.casework import services
from lotse.people.services import residence_status_add

from .factories import CaseFactory


def _grow_history(world, n: int, start: int = 0) -> None:
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
        goal = services.plan_goal_add(actor=actor, case=case, life_domain="work", title=f"Ziel {i}")
        services.plan_step_add(
            actor=actor, goal=goal, title=f"Schritt {i}", responsible_organisation=world.partner
        )
        services.assessment_create(
            actor=actor,
            case=case,
            assessed_on=timezone.localdate(),
            items=[{"life_domain": "language", "kind": "strength", "description": f"S {i}"}],
        )
        residence_status_add(
            actor=actor,
            person=case.person,
            status="duldung" if i % 2 else "ausbildungsduldung",
            valid_from=dt.date(2024, 1, 1) + dt.timedelta(days=30 * (i + 1)),
        )


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_case_page_queries_do_not_grow_with_history(world, as_member):
    client = as_member(world.case_manager)
    url = reverse("casework:detail", args=[world.case.pk])
    _grow_history(world, 1)
    small = _count(client, url)
    _grow_history(world, 6, start=1)
    large = _count(client, url)
    assert large == small
    assert small <= 30


def test_case_list_queries_do_not_grow_with_rows(world, as_member):
    client = as_member(world.case_manager)
    url = reverse("casework:list")
    few = _count(client, url)
    for _ in range(12):
        CaseFactory(lead_organisation=world.lead, case_manager=world.case_manager.user)
    assert _count(client, url) == few
