"""Flows (issue #7): integration chains from the status at arrival through the measures
to where the persons are now — the paths, the jointly protected transitions, the
target-group filter, the page, the API, permissions and the access log."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace
from itertools import pairwise

import polars as pl
import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lotse.analytics import snapshot as s
from lotse.analytics.flows import COLUMNS, Flows, flows, flows_get, paths
from lotse.analytics.gaps import Group
from lotse.api.services import token_create
from lotse.core.disclosure import Cell, Entry, Policy, bounds
from lotse.core.models import AccessLogEntry
from lotse.referrals.models import Participation
from tests.conftest import login
from tests.factories import CaseFactory, ResidenceFactory

ON = dt.date(2026, 11, 21)
K5 = Policy(k=5)


# -- hand-made snapshots -----------------------------------------------------------------


def _snap(persons: list[dict], parts: list[dict], *, without_case: tuple[str, ...] = ()):
    """``persons``: pkey, arrival, status_group, age (years); ``parts``: pkey, category,
    start, end, outcome, next_step. Persons in ``without_case`` have no case."""
    frame = pl.DataFrame(
        {
            "pkey": [p["pkey"] for p in persons],
            "age_months": [p.get("age", 22) * 12 for p in persons],
            "status_group": [p.get("status_group", "tolerated") for p in persons],
            "arrival_group": [p.get("arrival", "asylum") for p in persons],
        },
        schema={
            "pkey": pl.String(),
            "age_months": pl.Int32(),
            "status_group": pl.String(),
            "arrival_group": pl.String(),
        },
    )
    frame = frame.with_columns(
        age_band=pl.lit(""),
        target_group=(pl.col("age_months") // 12).is_between(*s.TARGET_AGES),
        gender=pl.lit("male"),
        nationality=pl.lit("SY"),
        district=pl.lit(""),
        status=pl.lit("duldung"),
        regime=pl.lit(""),
        phase=pl.lit("planning"),
        open_case=pl.lit(True),
    ).select(list(s.PERSON_SCHEMA))
    with_case = [p["pkey"] for p in persons if p["pkey"] not in without_case]
    cases = pl.DataFrame(
        {
            "pkey": with_case,
            "opened_quarter": [dt.date(2024, 1, 1)] * len(with_case),
            "closed_quarter": [None] * len(with_case),
            "age_months_opened": [0] * len(with_case),
        },
        schema=s.CASE_SCHEMA,
    )
    rows = [
        {
            "pkey": p["pkey"],
            "offer_id": None,
            "provider_id": None,
            "category": p["category"],
            "started_on": p["start"],
            "ended_on": p.get("end"),
            "outcome": p.get("outcome", ""),
            "next_step": p.get("next_step", ""),
        }
        for p in parts
    ]
    return s.Snapshot(
        on=ON,
        built_at=dt.datetime(2026, 11, 21, 8, 0, tzinfo=dt.UTC),
        seconds=0.0,
        persons=frame,
        cases=cases,
        needs=pl.DataFrame(schema=s.NEED_SCHEMA),
        participations=pl.DataFrame(rows, schema=s.PARTICIPATION_SCHEMA),
    )


D1, D2, D3 = dt.date(2024, 1, 1), dt.date(2024, 6, 1), dt.date(2025, 1, 1)


def test_paths_follow_the_first_and_the_latest_participation():
    persons = [{"pkey": f"p{i}"} for i in range(11)]
    persons[10]["arrival"] = ""  # no residence status recorded
    parts = [
        # p0: integration course, then BvB, then a running apprenticeship.
        {
            "pkey": "p0",
            "category": "integrationskurs",
            "start": D1,
            "end": D2,
            "outcome": "completed",
        },
        {"pkey": "p0", "category": "ausbildung", "start": D3},
        {"pkey": "p0", "category": "bvb", "start": D2, "end": D3, "outcome": "completed"},
        # p1: one course, still running.
        {"pkey": "p1", "category": "sprachkurs", "start": D1},
        # p2: one BvB, aborted, nothing after: dropped out.
        {"pkey": "p2", "category": "bvb", "start": D1, "end": D2, "outcome": "aborted"},
        # p3: aborted to take up an apprenticeship: the next step counts.
        {
            "pkey": "p3",
            "category": "eq",
            "start": D1,
            "end": D2,
            "outcome": "aborted",
            "next_step": "apprenticeship",
        },
        # p4: transferred to another offer: in a measure.
        {"pkey": "p4", "category": "arbeit", "start": D1, "end": D2, "outcome": "transferred"},
        # p5: completed, next step employment, after counselling.
        {"pkey": "p5", "category": "beratung", "start": D1, "end": D2, "outcome": "completed"},
        {
            "pkey": "p5",
            "category": "schulabschluss",
            "start": D2,
            "end": D3,
            "outcome": "completed_certificate",
            "next_step": "employment",
        },
        # p6: completed, nothing recorded after.
        {"pkey": "p6", "category": "asa_flex", "start": D1, "end": D2, "outcome": "completed"},
        # p7: studies.
        {
            "pkey": "p7",
            "category": "berufssprachkurs",
            "start": D1,
            "end": D2,
            "outcome": "completed",
            "next_step": "study",
        },
        # p8: a measure planned next.
        {
            "pkey": "p8",
            "category": "mentoring",
            "start": D1,
            "end": D2,
            "outcome": "completed",
            "next_step": "measure",
        },
        # p9: no participation at all. p10: same, and no status recorded.
        # Two on the same day: the running one is the latest.
        {"pkey": "p11", "category": "bvb", "start": D1},
        {"pkey": "p11", "category": "integrationskurs", "start": D1, "end": D2},
    ]
    persons.append({"pkey": "p11"})
    persons.append({"pkey": "nocase"})
    parts.append({"pkey": "nocase", "category": "bvb", "start": D1})
    frame = paths(_snap(persons, parts, without_case=("nocase",)))
    got = {r["pkey"]: tuple(r[c] for c in COLUMNS) for r in frame.iter_rows(named=True)}
    assert "nocase" not in got  # persons without a case are not counted
    assert got == {
        "p0": ("asylum", "language", "training", "apprenticeship"),
        "p1": ("asylum", "language", "no_further", "measure"),
        "p2": ("asylum", "preparation", "no_further", "dropped_out"),
        "p3": ("asylum", "preparation", "no_further", "apprenticeship"),
        "p4": ("asylum", "work", "no_further", "measure"),
        "p5": ("asylum", "other", "school", "employment"),
        "p6": ("asylum", "training", "no_further", "nothing"),
        "p7": ("asylum", "language", "no_further", "study"),
        "p8": ("asylum", "other", "no_further", "measure"),
        "p9": ("asylum", "none", None, None),
        "p10": ("", "none", None, None),
        "p11": ("asylum", "language", "preparation", "measure"),
    }


def _block(pkey: str, n: int, arrival: str, chain: list[dict], **person) -> tuple[list, list]:
    persons = [{"pkey": f"{pkey}{i}", "arrival": arrival, **person} for i in range(n)]
    parts = [{**p, "pkey": f"{pkey}{i}"} for i in range(n) for p in chain]
    return persons, parts


LANGUAGE = {"category": "integrationskurs", "start": D1, "end": D2, "outcome": "completed"}
BVB_TO_JOB = {
    "category": "bvb",
    "start": D2,
    "end": D3,
    "outcome": "completed",
    "next_step": "apprenticeship",
}
BVB_RUNNING = {"category": "bvb", "start": D2}


def _scenario(small: int = 5) -> tuple[list, list]:
    """Two arrival groups; a language course or none; then BvB or nothing more; every
    way taken by at least 5 persons except the one of size ``small``."""
    to_job = {**LANGUAGE, "next_step": "apprenticeship"}
    running = {k: v for k, v in LANGUAGE.items() if k not in ("end", "outcome")}
    bvb_done = {**BVB_TO_JOB, "next_step": ""}
    persons: list[dict] = []
    parts: list[dict] = []
    for block in (
        _block("a", 7, "asylum", [LANGUAGE, BVB_TO_JOB]),
        _block("b", 6, "asylum", [LANGUAGE, BVB_RUNNING]),
        _block("c", 8, "asylum", [LANGUAGE]),
        _block("d", 5, "asylum", []),
        _block("e", 9, "protection", [LANGUAGE, BVB_TO_JOB]),
        _block("f", 5, "protection", [LANGUAGE, BVB_RUNNING]),
        _block("g", 6, "protection", [LANGUAGE]),
        _block("h", 6, "protection", []),
        _block("i", small, "asylum", [to_job]),
        _block("j", 5, "protection", [running]),
        _block("k", 5, "asylum", [LANGUAGE, bvb_done]),
    ):
        persons += block[0]
        parts += block[1]
    return persons, parts


def _values(table) -> tuple[list[list[int | None]], list, list, int | None]:
    return (
        [[c.value for c in row] for row in table.cells],
        [c.value for c in table.row_totals],
        [c.value for c in table.col_totals],
        table.total.value,
    )


def test_transitions_are_counted_and_published_when_large_enough():
    persons, parts = _scenario()
    result = flows(_snap(persons, parts), group=None, young=False, policy=K5)
    assert result.persons.value == 67
    # Only nodes somebody reached, in the fixed order.
    assert [[code for code, _l in stage] for stage in result.stages] == [
        ["asylum", "protection"],
        ["language", "none"],
        ["preparation", "no_further"],
        ["apprenticeship", "measure", "nothing"],
    ]
    arrival, later, now = result.transitions
    assert _values(arrival) == ([[31, 5], [25, 6]], [36, 31], [56, 11], 67)
    # Persons without a measure end at the first measure: no row for them.
    assert result.row_codes[1] == ("language",)
    assert _values(later) == ([[32, 24]], [56], [32, 24], 56)
    assert _values(now) == ([[16, 11, 5], [5, 5, 14]], [32, 24], [21, 16, 19], 56)
    assert [[c.value for c in stage] for stage in result.nodes] == [
        [36, 31],
        [56, 11],
        [32, 24],
        [21, 16, 19],
    ]
    # The links for the chart: one per cell.
    links = result.sankey_flows()
    labels = result.labels()
    assert len(links) == 4 + 2 + 6
    assert (0, labels[0][0], labels[1][0], 31) in links
    assert (2, labels[2][1], labels[3][2], 14) in links


def _reader_equations(result: Flows) -> tuple[dict[Entry, int | None], list]:
    """What a reader of the published tables knows: every count as published (None:
    withheld), and the equations — rows and columns add up to their totals, the totals
    to the table's total, and a node is the same count in every table it appears in."""
    values: dict[Entry, int | None] = {}
    equations: list[tuple[Entry, list[Entry]]] = []
    for t, table in enumerate(result.transitions):
        rows = [("n", t, label) for label in table.row_labels]
        cols = [("n", t + 1, label) for label in table.col_labels]
        total = ("g", t)
        values[total] = table.total.value
        # A node published in any table is known (stage 2's sizes are the column
        # totals of one table and the row totals of the next).
        for e, c in [
            *zip(rows, table.row_totals, strict=True),
            *zip(cols, table.col_totals, strict=True),
        ]:
            if values.get(e) is None:
                values[e] = c.value
            else:
                assert c.value in (None, values[e]), e
        for i, row in enumerate(table.cells):
            for j, c in enumerate(row):
                values[("l", t, i, j)] = c.value
        for i, e in enumerate(rows):
            equations.append((e, [("l", t, i, j) for j in range(len(cols))]))
        for j, e in enumerate(cols):
            equations.append((e, [("l", t, i, j) for i in range(len(rows))]))
        equations.append((total, rows))
        equations.append((total, cols))
    return values, equations


def _true_values(result: Flows, frame: pl.DataFrame) -> dict[Entry, int]:
    labels = [dict(stage) for stage in result.stages]
    truth: dict[Entry, int] = {}
    for t, (a, b) in enumerate(pairwise(COLUMNS)):
        going = frame.filter(pl.col(b).is_not_null())
        truth[("g", t)] = going.height
        table = result.transitions[t]
        rows = list(result.row_codes[t])
        cols = [code for code, _l in result.stages[t + 1]]
        for i, code in enumerate(rows):
            truth[("n", t, labels[t][code])] = going.filter(pl.col(a) == code).height
            for j, dst in enumerate(cols):
                n = going.filter((pl.col(a) == code) & (pl.col(b) == dst)).height
                truth[("l", t, i, j)] = n
        for code in cols:
            truth[("n", t + 1, labels[t + 1][code])] = frame.filter(pl.col(b) == code).height
        assert len(table.row_labels) == len(rows)
    return truth


def _assert_safe(result: Flows, frame: pl.DataFrame, k: int) -> int:
    """No published count below k; no withheld count can be worked out, nor be told to
    be small, from everything published (LP bounds over the reader's equations).
    Returns how many counts are withheld."""
    values, equations = _reader_equations(result)
    truth = _true_values(result, frame)
    assert set(truth) == set(values)
    for e, v in values.items():
        assert v is None or (v >= k and v == truth[e]), e
    limits = bounds(values, equations)
    for e, (low, high) in limits.items():
        true = truth[e]
        assert low - 1e-6 <= true <= high + 1e-6, e
        assert high - low >= 0.5, f"{e} can be worked out: {true}"
        if 0 < true < k:
            assert high >= k - 0.5, f"{e} can be told to be small: {true}"
    return len(limits)


def test_a_small_way_is_withheld_with_what_would_give_it_away():
    persons, parts = _scenario(small=2)  # 2 go from one course into an apprenticeship
    snap = _snap(persons, parts)
    result = flows(snap, group=None, young=False, policy=K5)
    _arrival, later, now = result.transitions
    cells, row_totals, col_totals, total = _values(now)
    assert cells[1][0] is None  # the 2
    # Its row and its column are published: so other cells of both are withheld.
    assert row_totals == [32, 21] and col_totals == [18, 16, 19] and total == 53
    assert cells[1].count(None) >= 2 and [row[0] for row in cells].count(None) == 2
    assert result.sankey_flows().count((2, later.col_labels[1], now.col_labels[0], None)) == 1
    withheld = _assert_safe(result, paths(snap), 5)
    assert withheld >= 4
    # Without the small way everything is published.
    plain = flows(_snap(*_scenario()), group=None, young=False, policy=K5)
    assert all(c.value is not None for t in plain.transitions for row in t.cells for c in row)


def test_the_check_finds_a_count_that_can_be_worked_out():
    """The check above is no formality: a cell withheld alone is found."""
    snap = _snap(*_scenario())
    result = flows(snap, group=None, young=False, policy=K5)
    now = result.transitions[2]
    cells = [list(row) for row in now.cells]
    cells[0][2] = Cell(None, primary=False)
    lonely = replace(now, cells=tuple(tuple(row) for row in cells))
    with pytest.raises(AssertionError, match="can be worked out"):
        _assert_safe(replace(result, transitions=(*result.transitions[:2], lonely)), paths(snap), 5)


def test_random_chains_never_publish_a_recoverable_count():
    rng = random.Random(7)
    categories = ["integrationskurs", "bvb", "ausbildung", "schulabschluss", "arbeit", "beratung"]
    persons, parts = [], []
    for i in range(240):
        persons.append(
            {"pkey": f"p{i}", "arrival": rng.choice(["asylum", "tolerated", "protection", ""])}
        )
        for n in range(rng.choice([0, 1, 1, 2, 3])):
            start = D1 + dt.timedelta(days=120 * n)
            ended = rng.random() < 0.7
            parts.append(
                {
                    "pkey": f"p{i}",
                    "category": rng.choice(categories),
                    "start": start,
                    "end": start + dt.timedelta(days=90) if ended else None,
                    "outcome": rng.choice(["completed", "aborted", "transferred"]) if ended else "",
                    "next_step": rng.choice(["apprenticeship", "employment", "", "measure"])
                    if ended
                    else "",
                }
            )
    snap = _snap(persons, parts)
    for k in (3, 5, 10):
        result = flows(snap, group=None, young=False, policy=Policy(k=k))
        assert result.persons.value == 240
        withheld = _assert_safe(result, paths(snap), k)
        assert withheld > 0  # the data are sparse enough for suppression to matter
    rounded = flows(snap, group=None, young=False, policy=Policy(k=5, rounding=5))
    assert all(
        c.value is None or c.value % 5 == 0
        for t in rounded.transitions
        for row in t.cells
        for c in row
    )


def test_target_group_and_age_filter():
    persons, parts = _scenario()
    # The same chains for persons of 40 with a protection status today.
    older, older_parts = _block("x", 6, "asylum", [LANGUAGE], age=40, status_group="protection")
    snap = _snap(persons + older, parts + older_parts)
    everybody = flows(snap, group=None, young=False, policy=K5)
    assert everybody.persons.value == 73
    young = flows(snap, group=None, young=True, policy=K5)
    assert young.persons.value == 67
    protected = Group(1, "schutz", "Schutz", ("protection",), None, None)
    result = flows(snap, group=protected, young=False, policy=K5)
    assert result.persons.value == 6  # status today, not at arrival
    assert flows(snap, group=protected, young=True, policy=K5).persons.value is None
    older_group = Group(2, "ab_28", "28+", (), 28, None)
    assert flows(snap, group=older_group, young=False, policy=K5).persons.value == 6
    # Nobody: no nodes, nothing published.
    empty = flows(snap, group=older_group, young=True, policy=K5)
    assert empty.stages == ((), (), (), ()) and empty.persons.value is None
    assert empty.sankey_flows() == []


# -- the snapshot ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_snapshot_knows_the_status_group_at_arrival():
    first = CaseFactory(opened_on=dt.date(2025, 1, 1)).person
    wrong = ResidenceFactory(person=first, status="duldung", valid_from=dt.date(2018, 1, 1))
    ResidenceFactory(
        person=first,
        status="duldung",
        valid_from=dt.date(2018, 1, 1),
        supersedes=wrong,
        is_retraction=True,
    )
    asylum = ResidenceFactory(
        person=first, status="ausreisepflichtig", valid_from=dt.date(2019, 3, 1)
    )
    ResidenceFactory(
        person=first, status="gestattung", valid_from=dt.date(2019, 3, 1), supersedes=asylum
    )
    ResidenceFactory(person=first, status="ae_25_2_gfk", valid_from=dt.date(2024, 1, 1))
    later = CaseFactory(opened_on=dt.date(2025, 1, 1)).person
    ResidenceFactory(person=later, status="ae_25_2_gfk", valid_from=dt.date(2027, 1, 1))
    nothing = CaseFactory(opened_on=dt.date(2025, 1, 1)).person
    snap = s.build(on=ON)
    rows = {r["pkey"]: r for r in snap.persons.rows(named=True)}
    (key_first, key_later, key_nothing) = s.pseudonyms([first.pk, later.pk, nothing.pk])
    # The retracted entry and the corrected one do not count; the correction does.
    assert rows[key_first]["arrival_group"] == "asylum"
    assert rows[key_first]["status_group"] == "protection"
    # A status starting after the day is not known on it.
    assert rows[key_later]["arrival_group"] == ""
    assert rows[key_nothing]["arrival_group"] == ""


# -- the read, the page and the API ------------------------------------------------------


def _born(age: int) -> dt.date:
    return dt.date(timezone.localdate().year - age, 1, 1)


def _people(n: int, *, age: int, status: str, with_course: bool = True) -> None:
    for _i in range(n):
        case = CaseFactory(person__birth_date=_born(age))
        ResidenceFactory(person=case.person, status=status, valid_from=dt.date(2024, 1, 1))
        if with_course:
            Participation.objects.create(
                person=case.person,
                case=case,
                title="Integrationskurs",
                category="integrationskurs",
                started_on=dt.date(2024, 3, 1),
                recorded_by=case.lead_organisation,
                created_by=case.case_manager,
            )


def test_flows_get_filters_checks_and_logs(world):
    _people(6, age=22, status="duldung")
    _people(7, age=22, status="ae_25_2_gfk")
    _people(5, age=40, status="ae_25_2_gfk", with_course=False)
    before = AccessLogEntry.objects.count()
    view = flows_get(actor=world.analyst, target_group="jv_schutz")
    assert view.group.code == "jv_schutz" and not view.young
    assert view.flows.persons.value == 7  # 18–27 with a protection status today
    assert "jv_geduldet" in [g.code for g in view.groups]
    entry = AccessLogEntry.objects.order_by("-seq").first()
    assert AccessLogEntry.objects.count() == before + 1
    assert entry.person_id is None and entry.object_id == "flows:jv_schutz"
    assert entry.basis == "aggregate" and entry.user_id == world.analyst.user_id
    assert entry.categories == ["master", "participations", "residence"]
    older = flows_get(actor=world.coordinator, target_group="ab_28")
    assert older.flows.persons.value == 5
    assert [code for code, _l in older.flows.stages[1]] == ["none"]
    nobody = flows_get(actor=world.coordinator, target_group="ab_28", young=True)
    assert nobody.flows.persons.value is None and nobody.flows.stages[0] == ()
    assert AccessLogEntry.objects.order_by("-seq").first().object_id == "flows:ab_28:18-27"
    with pytest.raises(KeyError):
        flows_get(actor=world.analyst, target_group="unknown")
    with pytest.raises(PermissionDenied):
        flows_get(actor=world.case_manager)


def test_page_for_analysts_403_for_case_workers(world, client, django_assert_max_num_queries):
    _people(6, age=22, status="duldung")
    _people(6, age=23, status="ae_25_2_gfk")
    url = reverse("analytics:flows")
    login(client, world.analyst)
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and 'id="chart-flows-title"' in html and "<desc" in html
    assert 'id="flows-0"' in html and 'id="flows-1"' in html and 'id="disclosure-legend"' in html
    assert "Haddad" not in html and "Rahimi" not in html
    assert 'value="jv_geduldet"' in html  # the target groups to choose from
    # The number of queries does not grow with the persons.
    _people(12, age=30, status="gestattung")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url + "?target_group=jv_schutz&young=1").status_code == 200
    entry = AccessLogEntry.objects.order_by("-seq").first()
    assert entry.object_id == "flows:jv_schutz:18-27" and entry.user_id == world.analyst.user_id
    assert client.get(url + "?target_group=nope").status_code == 404
    for member in (world.coordinator, world.team_lead):
        login(client, member)
        assert client.get(url).status_code == 200
    for member in (world.case_manager, world.partner_staff, world.volunteer, world.org_admin):
        login(client, member)
        before = AccessLogEntry.objects.count()
        assert client.get(url).status_code == 403
        assert AccessLogEntry.objects.count() == before
    login(client, world.analyst)
    assert reverse("analytics:flows") in client.get(reverse("analytics:index")).content.decode()


def _api(client, membership, path: str):
    _token, plain = token_create(membership=membership, name="test flows")
    return client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {plain}"})


def test_api(world, client):
    _people(6, age=22, status="duldung")
    _people(7, age=22, status="ae_25_2_gfk")
    response = _api(client, world.analyst, "/analytics/flows?target_group=jv_schutz")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["target_group"] == "jv_schutz" and data["young"] is False
    assert data["persons"] == 7
    assert [st["code"] for st in data["stages"]] == ["arrival", "first", "later", "now"]
    assert [n["code"] for n in data["stages"][0]["nodes"]] == ["protection"]
    first = data["transitions"][0]
    assert first["source"] == "arrival" and first["target"] == "first"
    assert first["rows"] == ["protection"] and first["columns"] == ["language"]
    assert first["table"]["cells"] == [[7]] and first["table"]["total"] == 7
    assert data["disclosure"]["k"] == 5
    for t in data["transitions"]:
        table = t["table"]
        flat = [v for row in table["cells"] for v in row]
        flat += table["row_totals"] + table["column_totals"] + [table["total"]]
        assert all(v is None or v >= 5 for v in flat)
    entry = AccessLogEntry.objects.order_by("-seq").first()
    assert entry.object_id == "flows:jv_schutz" and entry.person_id is None
    assert _api(client, world.coordinator, "/analytics/flows?young=true").status_code == 200
    assert _api(client, world.analyst, "/analytics/flows?target_group=nope").status_code == 404
    assert _api(client, world.case_manager, "/analytics/flows").status_code == 403
