"""Coverage of the target group against the authorities' population list (issue #7)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from lotse.analytics import snapshot
from lotse.analytics.coverage import coverage
from lotse.analytics.population import population_latest, population_list_import
from lotse.analytics.selectors import coverage_get, situation_get
from lotse.analytics.situation import situation
from lotse.core.disclosure import Policy
from tests.conftest import login
from tests.factories import DistrictFactory

from .test_situation import TODAY, _persons

LIST = """Status;Alter;Bezirk;Anzahl
;18-20;Nord;30
;21-24;Nord;20
;25–27;Nord;10
;28_34;Nord;90
duldung;18-20;Süd;2
gestattung;18-20;Süd;1
;21-24;Süd;2
;25-27;Süd;3
;18-20;;60
;21-24;;40
;25-27;;20
"""


@pytest.fixture
def districts(db):
    north, south = DistrictFactory(name="Nord"), DistrictFactory(name="Süd")
    _persons(12, age=20, district=north)
    _persons(6, age=40, district=north)
    _persons(7, age=22, district=south)
    _persons(5, age=50, district=south)
    # Without a district: with the world's two persons (23) 7 and 5, nothing small.
    _persons(5, age=21)
    _persons(5, age=30)
    return north, south


def _import(actor, text=LIST):
    return population_list_import(
        actor=actor,
        source="Ausländerbehörde",
        reference_date=dt.date(2026, 6, 30),
        note="",
        file=text.encode(),
        filename="liste.csv",
    )


def test_coverage_by_district_from_the_published_counts(world, districts):
    _import(world.analyst)
    latest, counts = population_latest()
    sit = situation(snapshot.build(on=TODAY), population="open", policy=Policy(k=5))
    cov = coverage(
        sit,
        source=latest.source,
        reference_date=latest.reference_date,
        counts=counts,
        policy=Policy(k=5),
    )
    (by_district,) = cov.tables  # the list has no breakdown by status group for all
    rows = {r.label: r for r in by_district.rows}
    assert rows["Nord"].in_case_management.value == 12
    assert rows["Nord"].in_population.value == 60  # 28–34 is not the target group
    assert rows["Nord"].share == pytest.approx(20.0)
    assert rows["Süd"].in_population.value == 8  # statuses and bands added up
    assert rows["Süd"].share == pytest.approx(7 / 8 * 100)
    # Everybody of the target group counts for the whole municipality.
    whole = by_district.rows[-1]
    assert whole.label == "ganze Kommune"
    assert whole.in_case_management.value == 26 and whole.in_population.value == 120
    # The numerator is the situation picture's published cell, not a new count.
    district = sit.dimension("district").table
    assert district.cells[district.row_labels.index("Nord")][0] is rows["Nord"].in_case_management


def test_small_list_counts_are_withheld_and_give_no_share(world, districts):
    _import(
        world.analyst,
        LIST.replace(";25-27;Süd;3", ";25-27;Süd;0").replace(";21-24;Süd;2", ";21-24;Süd;1"),
    )
    latest, counts = population_latest()
    sit = situation(snapshot.build(on=TODAY), population="open", policy=Policy(k=5))
    cov = coverage(
        sit, source="x", reference_date=latest.reference_date, counts=counts, policy=Policy(k=5)
    )
    rows = {r.label: r for r in cov.tables[0].rows}
    assert rows["Süd"].in_population.value is None and rows["Süd"].share is None


def test_no_list_no_coverage_and_the_page_shows_it_with_one(world, districts, client):
    sit = situation_get(actor=world.analyst)
    assert coverage_get(actor=world.analyst, sit=sit) is None
    _import(world.analyst)
    login(client, world.coordinator)
    html = client.get(reverse("analytics:situation") + "?now=1").content.decode()
    assert 'id="coverage-district"' in html and "20,0 %" in html
    # Everybody ever in a case is not the caseload: no coverage then.
    html = client.get(reverse("analytics:situation") + "?now=1&population=all").content.decode()
    assert 'id="coverage-district"' not in html
