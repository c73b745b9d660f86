"""The case page and the case list issue a number of queries that does not grow with
the size of the case history or the number of rows."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from .factories import CaseFactory
from .history import grow_case_history


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_case_page_queries_do_not_grow_with_history(world, as_member):
    client = as_member(world.case_manager)
    url = reverse("casework:detail", args=[world.case.pk])
    grow_case_history(world, 1)
    small = _count(client, url)
    grow_case_history(world, 6, start=1)
    large = _count(client, url)
    assert large == small
    assert small <= 32  # 30 before the integration chain (participations, referrals)


def test_case_list_queries_do_not_grow_with_rows(world, as_member):
    client = as_member(world.case_manager)
    url = reverse("casework:list")
    few = _count(client, url)
    for _ in range(12):
        CaseFactory(lead_organisation=world.lead, case_manager=world.case_manager.user)
    assert _count(client, url) == few
