"""The pseudonymised snapshot and the situation picture (issue #7)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lotse.analytics import snapshot
from lotse.analytics.selectors import situation_get
from lotse.analytics.situation import quarters, situation, trend_counts
from lotse.core.disclosure import Policy
from lotse.core.models import AccessLogEntry
from tests.conftest import login
from tests.factories import BenefitFactory, CaseFactory, DistrictFactory, ResidenceFactory

TODAY = dt.date(2026, 11, 21)


def _born(age: int) -> dt.date:
    return dt.date(TODAY.year - age, 3, 1)


def _persons(n: int, *, age: int, status: str = "duldung", district=None, **case) -> list:
    out = []
    opened = case.pop("opened_on", TODAY - dt.timedelta(days=30))
    for _i in range(n):
        c = CaseFactory(
            person__birth_date=_born(age), person__district=district, opened_on=opened, **case
        )
        ResidenceFactory(person=c.person, status=status, valid_from=dt.date(2024, 1, 1))
        out.append(c)
    return out


@pytest.mark.django_db
def test_the_snapshot_holds_pseudonyms_bands_and_quarters_only(settings):
    (case,) = _persons(1, age=22)
    snap = snapshot.build(on=TODAY)
    assert list(snap.persons.columns) == list(snapshot.PERSON_SCHEMA)
    assert list(snap.cases.columns) == list(snapshot.CASE_SCHEMA)
    (row,) = snap.persons.rows(named=True)
    expected = hmac.new(
        settings.LOTSE_ANALYTICS_KEY.encode(), str(case.person_id).encode(), hashlib.sha256
    ).hexdigest()[:32]
    assert row["pkey"] == expected
    assert row["age_band"] == "21_24" and row["target_group"] is True
    assert row["status"] == "duldung" and row["status_group"] == "tolerated"
    text = str(snap.persons.to_dicts()) + str(snap.cases.to_dicts())
    birth = case.person.birth_date
    for secret in (case.person.family_name, case.person.given_names, repr(birth)):
        assert secret not in text
    (c,) = snap.cases.rows(named=True)
    assert c["opened_quarter"] == dt.date(2026, 10, 1)  # the quarter, not the day
    # Another key, other pseudonyms.
    settings.LOTSE_ANALYTICS_KEY = "another-key"
    assert snapshot.build(on=TODAY).persons["pkey"][0] != expected


@pytest.mark.django_db
def test_current_status_and_regime_follow_the_effective_timeline():
    (case,) = _persons(1, age=30, status="gestattung")
    person = case.person
    ResidenceFactory(person=person, status="ae_25_2_gfk", valid_from=dt.date(2025, 6, 1))
    ResidenceFactory(
        person=person, status="niederlassungserlaubnis", valid_from=dt.date(2027, 1, 1)
    )
    BenefitFactory(person=person, regime="asylblg_3", valid_from=dt.date(2024, 1, 1))
    BenefitFactory(person=person, regime="sgb2", valid_from=dt.date(2025, 7, 1))
    (row,) = snapshot.build(on=TODAY).persons.rows(named=True)
    assert row["status"] == "ae_25_2_gfk" and row["status_group"] == "protection"
    assert row["regime"] == "sgb2"
    (row,) = snapshot.build(on=dt.date(2025, 1, 1)).persons.rows(named=True)
    assert row["status"] == "gestattung" and row["regime"] == "asylblg_3"


@pytest.mark.django_db
def test_situation_counts_and_protects_every_table():
    north = DistrictFactory(name="Nord")
    _persons(12, age=20, district=north)
    _persons(6, age=40, district=north)
    _persons(2, age=23, district=None)  # a small group: withheld, with a partner
    closed = _persons(3, age=24, district=north)
    for c in closed:
        c.closed_on = TODAY - dt.timedelta(days=3)
        c.phase = "closed"
        c.closing_reason = "goal_reached"
        c.save()
    snap = snapshot.build(on=TODAY)
    sit = situation(snap, population="open", policy=Policy(k=5))
    # 14 in the target group, but with 18–20 (12) published it would give the 2 of
    # 21–24 away: the tables are protected together, and with 20 persons little stays.
    assert sit.persons == 20 and sit.target_group is None
    district = sit.dimension("district").table
    rows = {label: [c.value for c in cells] for label, cells, _t in district.rows()}
    assert rows["Nord"] == [None, 6]  # 12 + the 2 unknown would give the 2 away
    assert [c.value for c in district.row_totals] == [None, None]
    age = sit.dimension("age_band").table
    assert {label: cells[0].value for label, cells, _t in age.rows()} == {
        "18–20": None,
        "21–24": None,
        "35–44": None,  # 6, but with the total of 20 and 12 it would give the 2 away
    }
    assert age.col_totals is not None and age.col_totals[0].value == 20
    everyone = situation(snap, population="all", policy=Policy(k=5))
    assert everyone.persons == 23
    # No published count anywhere is below k.
    for s in (sit, everyone):
        for table in [d.table for d in s.dimensions] + [s.new_cases, s.caseload]:
            cells = [c for row in table.cells for c in row]
            cells += list(table.row_totals or ()) + list(table.col_totals or ())
            assert all(c.value is None or c.value >= 5 for c in cells)


def _joint_system(sit) -> tuple[dict, list]:
    """The published situation tables as one system of equations, rebuilt from what is
    published only (as an attacker would): each table's rows and columns, the same
    grand and column totals in every table, the age bands 18–27 adding up to the target
    group."""
    values: dict = {}
    eqs: list = []
    for d in sit.dimensions:
        t = d.table
        for i, row in enumerate(t.cells):
            for j, c in enumerate(row):
                values[(d.code, "c", i, j)] = c.value
        nc = len(t.col_labels)
        if t.row_totals:
            for i, c in enumerate(t.row_totals):
                values[(d.code, "r", i)] = c.value
                eqs.append(((d.code, "r", i), [(d.code, "c", i, j) for j in range(nc)]))
        for j, c in enumerate(t.col_totals):
            values[(d.code, "k", j)] = c.value
            eqs.append(((d.code, "k", j), [(d.code, "c", i, j) for i in range(len(t.cells))]))
        if t.total is not None:
            values[(d.code, "t")] = t.total.value
            rows = [(d.code, "r", i) for i in range(len(t.cells))]
            eqs.append(((d.code, "t"), rows))
            eqs.append(((d.code, "t"), [(d.code, "k", j) for j in range(nc)]))
    codes = [d.code for d in sit.dimensions if d.code != "age_band"]
    for c in codes[1:]:
        eqs.append(((codes[0], "t"), [(c, "t")]))
        for j in (0, 1):
            eqs.append(((codes[0], "k", j), [(c, "k", j)]))
    age = sit.dimension("age_band")
    target = [i for i, v in enumerate(age.values) if v in ("18_20", "21_24", "25_27")]
    eqs.append(((codes[0], "k", 0), [("age_band", "c", i, 0) for i in target]))
    eqs.append(((codes[0], "t"), [("age_band", "k", 0)]))
    return values, eqs


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_tables_together_give_no_withheld_count_away(seed):
    """Each table may be safe alone and still, with the totals of another, pin a
    withheld count (the situation picture protects them as one system)."""
    from lotse.core.disclosure import bounds
    from lotse.synth.analytics_bench import synthetic_snapshot

    sit = situation(
        synthetic_snapshot(150, on=TODAY, seed=seed), population="open", policy=Policy(k=5)
    )
    values, eqs = _joint_system(sit)
    assert any(v is None for v in values.values())
    for entry, (low, high) in bounds(values, eqs).items():
        assert high - low >= 0.5, entry  # not pinned to one value
        assert high >= 4.5, entry  # not known to be small


@pytest.mark.django_db
def test_trends_per_quarter():
    _persons(6, age=20, opened_on=dt.date(2026, 2, 10))
    _persons(5, age=50, opened_on=dt.date(2026, 8, 1))
    snap = snapshot.build(on=TODAY)
    counts = trend_counts(snap)
    by_q = dict(zip(counts.quarters, zip(counts.new, counts.load, strict=True), strict=True))
    assert by_q[dt.date(2026, 1, 1)] == ([6, 0], [6, 0])
    assert by_q[dt.date(2026, 7, 1)] == ([0, 5], [6, 5])
    assert by_q[dt.date(2026, 10, 1)] == ([0, 0], [6, 5])
    assert by_q[dt.date(2025, 10, 1)] == ([0, 0], [0, 0])
    # Published: only what gives no zero or small count away — here the grand total
    # and the last quarter's caseload (6 and 5 persons).
    sit = situation(snap, population="open", policy=Policy(k=5))
    assert sit.new_cases.total.value == 11
    assert [c.value for c in sit.caseload.cells[-1]] == [6, 5]
    assert quarters(dt.date(2026, 2, 3), 3) == [
        dt.date(2025, 7, 1),
        dt.date(2025, 10, 1),
        dt.date(2026, 1, 1),
    ]


@pytest.mark.django_db
def test_snapshot_reads_a_fixed_number_of_queries():
    _persons(3, age=20)
    with CaptureQueriesContext(connection) as few:
        snapshot.build(on=TODAY)
    _persons(30, age=30)
    with CaptureQueriesContext(connection) as many:
        snapshot.build(on=TODAY)
    assert len(few) == len(many) <= 9  # one query per table


@pytest.mark.django_db
def test_only_analysts_coordinators_and_team_leads_see_it_and_every_view_is_logged(world, client):
    _persons(6, age=20)
    url = reverse("analytics:situation") + "?now=1"
    for member in (world.analyst, world.coordinator, world.team_lead):
        login(client, member)
        before = AccessLogEntry.objects.count()
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert "Haddad" not in html and "Rahimi" not in html
        assert 'id="table-district"' in html and "<svg" in html
        entry = AccessLogEntry.objects.order_by("-seq").first()
        assert AccessLogEntry.objects.count() == before + 1
        assert entry.person_id is None and entry.object_id == "situation:open"
        assert entry.user_id == member.user_id and entry.basis == "aggregate"
    for member in (
        world.case_manager,
        world.partner_staff,
        world.volunteer,
        world.org_admin,
        world.sysadmin,
    ):
        login(client, member)
        assert client.get(url).status_code == 403
        assert client.get(reverse("analytics:index")).status_code == 403
    with pytest.raises(PermissionDenied):
        situation_get(actor=world.case_manager)


@pytest.mark.django_db
def test_the_page_loads_the_figures_with_a_progress_indicator_until_cached(world, client, settings):
    settings.LOTSE_ANALYTICS_TTL = 600
    snapshot._cache.clear()
    login(client, world.analyst)
    url = reverse("analytics:situation")
    shell = client.get(url).content.decode()
    assert 'hx-get="' in shell and "<progress" in shell and "table-district" not in shell
    body = client.get(url + "?population=open", HTTP_HX_REQUEST="true").content.decode()
    assert "table-district" in body and "<html" not in body
    # Cached now: the page comes with the figures at once.
    assert "table-district" in client.get(url).content.decode()
    # Recomputing needs the manage permission.
    login(client, world.coordinator)
    assert client.post(reverse("analytics:refresh")).status_code == 403
    login(client, world.analyst)
    built = snapshot.current().built_at
    response = client.post(reverse("analytics:refresh"), {"next": url})
    assert response.status_code == 302 and response["Location"] == url
    assert snapshot.current().built_at > built
    snapshot._cache.clear()
