"""The state monitoring export and `lotse monitor merge` (issue #7): aggregates only,
every figure through the disclosure control, a documented schema, a CSV in long
format, and a merge that never reveals more than its inputs.

The oracle (``_reader``) is written here, apart from the module: it reads only the
published data set, writes down every equation a reader knows — rows and columns add
up to their totals, and the tables counting the same persons share their margins (the
same grand total, the same target-group totals, the age bands 18–20, 21–24 and 25–27
making up the target group) — and asks the LP of ``core.disclosure.bounds`` which
values each withheld figure can take.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
from collections.abc import Sequence

import polars as pl
import pytest
from django.core.management import call_command
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lotse.analytics import monitor
from lotse.analytics import snapshot as snap_mod
from lotse.analytics.monitor import MonitorError, RawTable, Shape
from lotse.core.disclosure import Policy, bounds
from lotse.core.models import AccessLogEntry
from lotse.people.codes import StatusGroup
from lotse.synth.analytics_bench import synthetic_snapshot
from tests.factories import CaseFactory, ResidenceFactory

ON = dt.date(2026, 11, 21)
START = dt.date(2026, 1, 1)
RHEINE, EMSDETTEN, GREVEN = "05566076", "05566008", "05566012"
TABLES = {
    "persons_status_age",
    "persons_regime",
    "persons_gender",
    "persons_phase",
    "persons_nationality",
    "new_cases",
    "career_flags",
    "participations_ended",
}
TARGET_BANDS = {"18_20", "21_24", "25_27"}
OTHER_BANDS = {"under_18", "28_34", "35_44", "45_plus"}


def _export(persons: int, seed: int, code: str = RHEINE, name: str = "Rheine", **policy):
    return monitor.export(
        synthetic_snapshot(persons, on=ON, seed=seed),
        municipality=code,
        name=name,
        period_start=START,
        period_end=ON,
        policy=Policy(**policy),
    )


# --- the oracle --------------------------------------------------------------------------


def _reader(data) -> tuple[dict, list, set]:
    """Figures and equations as a reader of the published data set knows them, and the
    figures of tables without rows (their totals are known to be 0: nothing counted)."""
    values, equations, empty = {}, [], set()
    margins: dict[tuple[str, str, str], list] = {}
    for t in data["tables"]:
        code, (row_dim, col_dim) = t["code"], t["dimensions"]
        cells = {}
        for i, r in enumerate(t["rows"]):
            for j, c in enumerate(t["columns"]):
                cells[r, c] = (code, "cell", r, c)
                values[cells[r, c]] = t["cells"][i][j]
        if t["row_totals"] is not None:
            for i, r in enumerate(t["rows"]):
                e = (code, "row", r)
                values[e] = t["row_totals"][i]
                equations.append((e, [cells[r, c] for c in t["columns"]]))
                margins.setdefault((t["population"], row_dim, r), []).append(e)
        if t["column_totals"] is not None:
            for j, c in enumerate(t["columns"]):
                e = (code, "column", c)
                values[e] = t["column_totals"][j]
                equations.append((e, [cells[r, c] for r in t["rows"]]))
                margins.setdefault((t["population"], col_dim, c), []).append(e)
        if t["row_totals"] is not None and t["column_totals"] is not None:
            e = (code, "total")
            values[e] = t["total"]
            equations.append((e, [(code, "row", r) for r in t["rows"]]))
            equations.append((e, [(code, "column", c) for c in t["columns"]]))
            margins.setdefault((t["population"], "*", "*"), []).append(e)
        if not t["rows"]:
            empty |= {e for e in values if e[0] == code}
    for same in margins.values():
        equations += [(same[0], [e]) for e in same[1:]]
    for (population, dim, code), same in list(margins.items()):
        if dim != "target_group":
            continue
        bands = TARGET_BANDS if code == "18_27" else OTHER_BANDS
        parts = [m[0] for (p, d, c), m in margins.items() if p == population and d == "age_band"]
        if parts:
            parts = [e for e in parts if e[2] in bands]
            equations.append((same[0], parts))
    return values, equations, empty


def _assert_protected(data, k: int) -> None:
    """Nothing published below k; every withheld figure keeps more than one possible
    value and may be k or more."""
    values, equations, empty = _reader(data)
    small = {e: v for e, v in values.items() if v is not None and v < k}
    assert not small, f"published below k={k}: {small}"
    for e, (low, high) in bounds(values, equations).items():
        if e in empty:
            continue
        assert high - low >= 0.5, f"{e} can be worked out: [{low}, {high}]"
        assert high >= k - 0.5, f"{e} is known to be below k: [{low}, {high}]"


def _cells(table) -> dict[tuple[str, str], int | None]:
    out = {}
    for i, r in enumerate(table["rows"]):
        for j, c in enumerate(table["columns"]):
            out[r, c] = table["cells"][i][j]
    for i, r in enumerate(table["rows"]):
        if table["row_totals"] is not None:
            out[r, "_total"] = table["row_totals"][i]
    for j, c in enumerate(table["columns"]):
        if table["column_totals"] is not None:
            out["_total", c] = table["column_totals"][j]
    if table["row_totals"] is not None and table["column_totals"] is not None:
        out["_total", "_total"] = table["total"]
    return out


def _table(data, code):
    return next(t for t in data["tables"] if t["code"] == code)


# --- the export ----------------------------------------------------------------------------


def test_the_export_holds_every_table_in_codes_with_german_labels_apart():
    snap = synthetic_snapshot(1500, on=ON, seed=7)
    data = monitor.export(
        snap,
        municipality=RHEINE,
        name="Rheine",
        period_start=START,
        period_end=ON,
        policy=Policy(k=5),
    )
    assert monitor.validate(data) == []
    assert data["schema_version"] == "1" and data["kind"] == "municipality"
    assert data["area"] == {"code": RHEINE, "name": "Rheine"}
    assert data["municipalities"] == [
        {
            "code": RHEINE,
            "name": "Rheine",
            "reference_date": "2026-11-21",
            "period": {"start": "2026-01-01", "end": "2026-11-21"},
            "disclosure": {"k": 5, "rounding": 0},
        }
    ]
    assert data["disclosure"] == {"k": 5, "rounding": 0}
    assert {t["code"] for t in data["tables"]} == TABLES
    status_age = _table(data, "persons_status_age")
    assert status_age["dimensions"] == ["status_group", "age_band"]
    assert set(status_age["rows"]) <= {s.value for s in StatusGroup} | {"unknown"}
    assert status_age["columns"] == [code for code, _low, _high in snap_mod.AGE_BANDS]
    nationality = _table(data, "persons_nationality")
    assert all(len(code) == 2 and code.isupper() for code in nationality["rows"])
    assert "district" not in {d for t in data["tables"] for d in t["dimensions"]}
    assert _table(data, "new_cases")["rows"] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert _table(data, "participations_ended")["columns"] == ["completed", "aborted", "other"]
    flags = _table(data, "career_flags")
    assert flags["column_totals"] is None and flags["total"] is None  # rules overlap
    # Every code has a label, kept apart from the tables.
    for t in data["tables"]:
        row_dim, col_dim = t["dimensions"]
        assert set(t["rows"]) <= set(data["labels"][row_dim])
        assert set(t["columns"]) <= set(data["labels"][col_dim])
    assert data["labels"]["nationality"]["SY"]  # a country name
    assert data["labels"]["target_group"]["18_27"] in ("18–27 Jahre", "18–27 years")
    text = json.dumps(data)
    assert snap.persons["pkey"][0] not in text  # no pseudonym leaves
    assert "Bezirk" not in text


def test_published_figures_are_the_true_counts():
    snap = synthetic_snapshot(1500, on=ON, seed=7)
    data = monitor.export(
        snap, municipality=RHEINE, name="R", period_start=START, period_end=ON, policy=Policy()
    )
    open_persons = snap.persons.filter(pl.col("open_case"))
    regime = _table(data, "persons_regime")
    target = (open_persons["age_months"] // 12).is_between(18, 27)
    expected = {
        (r, "18_27" if t else "other"): n
        for r, t, n in open_persons.with_columns(t=target).group_by("regime", "t").len().iter_rows()
    }
    published = 0
    for (r, c), v in _cells(regime).items():
        if v is not None and "_total" not in (r, c):
            assert v == expected.get((r, c), 0)
            published += 1
    assert published > 5
    assert regime["total"] == open_persons.height
    ended = snap.participations.filter(pl.col("ended_on").is_between(START, ON))
    assert _table(data, "participations_ended")["total"] == ended.height
    # The period decides the flows: a shorter one, fewer ended participations.
    later = monitor.export(
        snap,
        municipality=RHEINE,
        name="R",
        period_start=dt.date(2026, 7, 1),
        period_end=ON,
        policy=Policy(),
    )
    assert _table(later, "new_cases")["rows"] == ["2026-Q3", "2026-Q4"]
    expected_ended = snap.participations.filter(
        pl.col("ended_on").is_between(dt.date(2026, 7, 1), ON)
    ).height
    assert _table(later, "participations_ended")["total"] == expected_ended


@pytest.mark.parametrize(
    ("persons", "seed", "k"), [(120, 1, 5), (300, 2, 5), (300, 3, 3), (900, 4, 10)]
)
def test_no_count_below_k_and_no_withheld_count_can_be_worked_out(persons, seed, k):
    data = _export(persons, seed, k=k)
    assert monitor.validate(data) == []
    _assert_protected(data, k)
    withheld, figures = monitor.figures(data)
    assert 0 < withheld < figures


def test_tables_of_the_same_persons_are_protected_together(monkeypatch):
    """Protected one by one, the tables would give withheld figures away through their
    shared margins; the oracle finds it (so the tests above can fail)."""
    monkeypatch.setattr(monitor, "_links", lambda shapes: [])
    failures = 0
    for seed in range(1, 7):
        try:
            _assert_protected(_export(150, seed), 5)
        except AssertionError:
            failures += 1
    assert failures


def test_rounded_export_publishes_multiples_never_below_k():
    data = _export(400, 5, k=5, rounding=5)
    assert monitor.validate(data) == []
    for t in data["tables"]:
        for v in _cells(t).values():
            assert v is None or (v % 5 == 0 and v >= 5)


@pytest.mark.parametrize("code", ["5566076", "055660761", "17000000", "00123456", "0556607a"])
def test_the_municipality_key_is_checked(code):
    with pytest.raises(MonitorError) as exc:
        _export(50, 1, code=code)
    assert code in str(exc.value)


def test_the_period_is_checked():
    snap = synthetic_snapshot(50, on=ON, seed=1)
    for start, end in ((ON, START), (START, ON + dt.timedelta(days=1))):
        with pytest.raises(MonitorError):
            monitor.export(
                snap,
                municipality=RHEINE,
                name="R",
                period_start=start,
                period_end=end,
                policy=Policy(),
            )
    assert monitor.default_period(ON) == (dt.date(2026, 1, 1), ON)
    assert monitor.default_period(dt.date(2026, 2, 3)) == (dt.date(2025, 4, 1), dt.date(2026, 2, 3))


def test_key_and_name_come_from_the_settings_where_set(settings):
    settings.LOTSE_MUNICIPALITY_CODE = ""
    settings.LOTSE_MUNICIPALITY_NAME = ""
    assert monitor.municipality_configured(RHEINE, "Rheine") == (RHEINE, "Rheine")
    with pytest.raises(MonitorError):
        monitor.municipality_configured(None, "Rheine")
    with pytest.raises(MonitorError):
        monitor.municipality_configured(RHEINE, "")
    settings.LOTSE_MUNICIPALITY_CODE = RHEINE
    settings.LOTSE_MUNICIPALITY_NAME = "Stadt Rheine"
    assert monitor.municipality_configured(None, None) == (RHEINE, "Stadt Rheine")
    with pytest.raises(MonitorError):
        monitor.municipality_configured(GREVEN, None)  # contradicts the setting
    data = monitor.export(
        synthetic_snapshot(50, on=ON, seed=1),
        municipality=RHEINE,
        period_start=START,
        period_end=ON,
        policy=Policy(),
    )
    assert data["area"] == {"code": RHEINE, "name": "Stadt Rheine"}


def test_every_offer_category_belongs_to_one_group():
    from lotse.offers.codes import OfferCategory

    assert set(monitor.CATEGORY_GROUP) == {c.value for c in OfferCategory}


# --- schema -------------------------------------------------------------------------------


def test_the_schema_is_a_valid_json_schema_2020_12():
    schema = monitor.schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["schema_version"] == {
        "description": schema["properties"]["schema_version"]["description"],
        "const": monitor.SCHEMA_VERSION,
    }


def _broken(data, change):
    out = copy.deepcopy(data)
    change(out)
    return out


@pytest.fixture(scope="module")
def small_export():
    return _export(400, 11)


BREAKS = [
    (lambda d: d.pop("tables"), "$: ", "tables"),
    (lambda d: d.update(schema_version=1), "$.schema_version: ", ""),
    (lambda d: d.update(extra=True), "$: ", "extra"),
    (lambda d: d["municipalities"][0].update(code="5566076"), "$.municipalities[0].code: ", ""),
    (lambda d: d["tables"][0].update(total="12"), "$.tables[0].total: ", "string"),
    (lambda d: d["tables"][1]["cells"][0].append(7), "$.tables[1].cells[0]: ", ""),
    (lambda d: d["tables"][2]["row_totals"].pop(), "$.tables[2].row_totals: ", ""),
    (lambda d: d["tables"][0]["cells"][0].__setitem__(0, 2), "$.tables[0].cells[0][0]: ", "2"),
    (lambda d: d["tables"][0]["cells"][0].__setitem__(0, -1), "$.tables[0].cells[0][0]: ", ""),
    (lambda d: d["tables"][0]["cells"][0].__setitem__(0, True), "$.tables[0].cells[0][0]: ", ""),
    (lambda d: d["tables"][0].update(total=d["tables"][0]["total"] + 1), "$.tables[0].total: ", ""),
    (lambda d: d["tables"][0]["rows"].__setitem__(0, "_total"), "$.tables[0].rows[0]: ", ""),
    (lambda d: d["tables"][3].update(code=d["tables"][0]["code"]), "$.tables[3].code: ", ""),
    (lambda d: d["labels"].pop("age_band"), "$.labels: ", "age_band"),
    (lambda d: d.update(reference_date="2026-02-30"), "$.reference_date: ", ""),
    (lambda d: d["period"].update(start="2027-01-01"), "$.period: ", ""),
    (lambda d: d["disclosure"].update(k=2), "$.disclosure.k: ", "3"),
    (lambda d: d.update(kind="merged", area={"code": "0", "name": ""}), "$.area.code: ", ""),
    (lambda d: d.update(kind="merged", area={"code": "06", "name": ""}), "$.area.code: ", ""),
    (lambda d: d.update(area={"code": "05566008", "name": "E"}), "$.area.code: ", ""),
]


@pytest.mark.parametrize(("change", "path", "word"), BREAKS)
def test_validation_rejects_broken_data_sets_naming_the_path(small_export, change, path, word):
    assert monitor.validate(small_export) == []
    errors = monitor.validate(_broken(small_export, change))
    assert errors, "accepted"
    assert any(e.startswith(path) and word in e for e in errors), errors


def test_validation_messages_are_german():
    with translation.override("de"):
        errors = monitor.validate({"schema_version": "1"})
    assert "$: das Feld „kind“ fehlt." in errors


def test_validation_of_non_objects():
    assert monitor.validate([]) and monitor.validate(None) and monitor.validate("x")


# --- CSV ------------------------------------------------------------------------------------


def test_csv_has_one_line_per_figure_and_reads_back(small_export):
    text = monitor.to_csv(small_export)
    assert text.startswith("municipality,reference_date,table,row,column,value,flag\n")
    lines = list(csv.DictReader(io.StringIO(text)))
    withheld, figures = monitor.figures(small_export)
    assert len(lines) == figures
    read: dict[str, dict] = {}
    for line in lines:
        assert line["municipality"] == RHEINE and line["reference_date"] == "2026-11-21"
        if line["flag"] == "withheld":
            assert line["value"] == ""
            value = None
        else:
            assert line["flag"] == ""
            value = int(line["value"])
        key = (line["row"], line["column"])
        assert key not in read.setdefault(line["table"], {})
        read[line["table"]][key] = value
    assert sum(v is None for t in read.values() for v in t.values()) == withheld
    assert read == {t["code"]: _cells(t) for t in small_export["tables"]}
    flags = read["career_flags"]
    assert not any(r == "_total" for r, _c in flags)  # no column totals: overlapping rows


# --- merge ------------------------------------------------------------------------------------


def test_merging_two_exports_sums_published_figures_and_keeps_withheld_ones():
    a = _export(500, 21, RHEINE, "Rheine")
    b = _export(300, 22, EMSDETTEN, "Emsdetten")
    merged = monitor.merge([a, b], name="Kreis Steinfurt")
    assert monitor.validate(merged) == []
    assert merged["kind"] == "merged"
    assert merged["area"] == {"code": "05566", "name": "Kreis Steinfurt"}  # the Kreis
    assert [m["code"] for m in merged["municipalities"]] == [EMSDETTEN, RHEINE]
    assert merged["disclosure"] == {"k": 5, "rounding": 0} and merged["notes"] == []
    sums = published = 0
    for code in TABLES:
        m, x, y = (_cells(_table(d, code)) for d in (merged, a, b))
        assert set(m) == set(x) | set(y)  # the union of the codes
        for key, value in m.items():
            parts = [d.get(key, 0) for d in (x, y)]  # a code not listed counts 0
            if None in parts:
                assert value is None  # withheld in one, withheld in the sum
            else:
                assert value == sum(parts)  # same k: nothing more to withhold
                sums += key in x and key in y
                published += 1
    assert sums > 50 and published > 100
    _assert_protected(merged, 5)
    # The order of the inputs does not matter.
    again = monitor.merge([b, a], name="Kreis Steinfurt")
    assert again["tables"] == merged["tables"]


def test_merge_with_different_k_withholds_below_the_largest_and_says_so():
    a = _export(300, 31, RHEINE, k=3)
    b = _export(300, 32, GREVEN, k=5)
    merged = monitor.merge([a, b])
    assert merged["disclosure"]["k"] == 5
    assert merged["notes"] and "3, 5" in merged["notes"][0]
    assert monitor.validate(merged) == []
    _assert_protected(merged, 5)


def test_merge_of_rounded_exports():
    a = _export(300, 41, RHEINE, rounding=5)
    b = _export(300, 42, GREVEN, rounding=10)
    merged = monitor.merge([a, b])
    assert merged["disclosure"] == {"k": 5, "rounding": 10}
    assert monitor.validate(merged) == []
    for t in merged["tables"]:
        assert all(v is None or v >= 5 for v in _cells(t).values())


def test_merge_refuses_mixed_versions_duplicates_and_broken_inputs(small_export):
    other = _export(100, 12, GREVEN, "Greven")
    newer = dict(other, schema_version="2")
    with translation.override("en"), pytest.raises(MonitorError) as exc:
        monitor.merge([small_export, newer])
    assert "different schema versions (1, 2)" in str(exc.value)
    with translation.override("en"), pytest.raises(MonitorError) as exc:
        monitor.merge([newer])
    assert "“2” is not supported" in str(exc.value)
    with translation.override("en"), pytest.raises(MonitorError) as exc:
        monitor.merge([small_export, other, small_export])
    assert f"municipality {RHEINE} (Rheine) is contained in export 1 and in export 3" in str(
        exc.value
    )
    broken = _broken(other, lambda d: d["tables"][0]["cells"][0].__setitem__(0, 2))
    with translation.override("en"), pytest.raises(MonitorError) as exc:
        monitor.merge([small_export, broken])
    assert str(exc.value).startswith(f"Export 2 ({GREVEN} Greven): $.tables[0].cells[0][0]: ")
    fewer = _broken(other, lambda d: d["tables"].pop())
    with pytest.raises(MonitorError):
        monitor.merge([small_export, fewer])
    with pytest.raises(MonitorError):
        monitor.merge([])
    # A merged set merges again, but never with a municipality it already contains.
    merged = monitor.merge([small_export, other])
    with pytest.raises(MonitorError):
        monitor.merge([merged, other])


def test_merge_errors_are_german():
    with translation.override("de"), pytest.raises(MonitorError) as exc:
        monitor.merge([{"schema_version": "1"}, {"schema_version": "2"}])
    assert "Schemaversion" in str(exc.value)


# --- the merge property ---------------------------------------------------------------------

STATUSES = ("asylum", "tolerated", "protection")
BANDS = ("18_20", "21_24", "28_34", "45_plus")  # everybody is in one of these
GENDERS = ("female", "male")
COUNT = st.one_of(st.just(0), st.integers(1, 4), st.integers(5, 30))


@st.composite
def municipality(draw):
    """The true counts of one municipality: persons by status × age band × gender, and
    an independent table of ended participations."""
    persons = {
        (s, b, g): draw(COUNT)
        for s in STATUSES[: draw(st.integers(1, 3))]
        for b in BANDS
        for g in GENDERS
    }
    if not any(persons.values()):
        persons[STATUSES[0], BANDS[0], GENDERS[0]] = draw(st.integers(1, 20))
    parts = [[draw(COUNT) for _o in range(3)] for _r in range(draw(st.integers(1, 3)))]
    if not any(map(any, parts)):
        parts[0][0] = 1
    return persons, parts, draw(st.sampled_from([3, 4, 5]))


def _dataset(code: str, persons, parts, k: int):
    """A valid data set of one municipality from true counts (as ``export`` makes it)."""
    statuses = [s for s in STATUSES if any(n for (x, _b, _g), n in persons.items() if x == s)]
    genders = [g for g in GENDERS if any(n for (_s, _b, x), n in persons.items() if x == g)]

    def count(**fixed):
        return sum(
            n
            for (s, b, g), n in persons.items()
            if all({"s": s, "b": b, "g": g}[key] in values for key, values in fixed.items())
        )

    status_age = tuple(tuple(count(s=[s], b=[b]) for b in BANDS) for s in statuses)
    gender = tuple(
        tuple(
            count(g=[g], b=[b for b in BANDS if b in group])
            for group in (TARGET_BANDS, OTHER_BANDS)
        )
        for g in genders
    )
    rows = [f"g{i}" for i, row in enumerate(parts) if any(row)]
    ended = tuple(tuple(row) for row in parts if any(row))
    raw = [
        RawTable(
            Shape(
                "persons_status_age",
                "persons_open_case",
                "status_group",
                "age_band",
                tuple(statuses),
                BANDS,
                True,
                True,
            ),
            "A",
            status_age,
        ),
        RawTable(
            Shape(
                "persons_gender",
                "persons_open_case",
                "gender",
                "target_group",
                tuple(genders),
                ("18_27", "other"),
                True,
                True,
            ),
            "B",
            gender,
        ),
        RawTable(
            Shape(
                "participations_ended",
                "participations_ended",
                "category_group",
                "outcome",
                tuple(rows),
                ("completed", "aborted", "other"),
                True,
                True,
            ),
            "C",
            ended,
        ),
    ]
    policy = Policy(k=k)
    source = {
        "code": code,
        "name": code,
        "reference_date": ON.isoformat(),
        "period": {"start": START.isoformat(), "end": ON.isoformat()},
        "disclosure": {"k": k, "rounding": 0},
    }
    dims = ("status_group", "age_band", "gender", "target_group", "category_group", "outcome")
    data = {
        "schema_version": "1",
        "kind": "municipality",
        "area": {"code": code, "name": code},
        "municipalities": [source],
        "reference_date": source["reference_date"],
        "period": source["period"],
        "produced_at": timezone.now().isoformat(),
        "disclosure": source["disclosure"],
        "notes": [],
        "labels": {d: {} for d in dims},
        "tables": monitor.protect_tables(raw, policy),
    }
    assert monitor.validate(data) == [], monitor.validate(data)
    _assert_protected(data, k)  # each input is protected on its own
    return data


def _inputs(cases: Sequence) -> list[dict]:
    return [_dataset(f"0556600{n}", *case) for n, case in enumerate(cases)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(municipality(), min_size=2, max_size=3))
def test_merged_figures_are_never_small_and_no_withheld_one_can_be_worked_out(cases):
    inputs = _inputs(cases)
    merged = monitor.merge(inputs)
    k = max(c[2] for c in cases)
    assert merged["disclosure"]["k"] == k
    assert monitor.validate(merged) == []
    _assert_protected(merged, k)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(municipality(), min_size=2, max_size=3), st.sampled_from([3, 5]))
def test_with_one_k_the_sums_alone_are_safe(cases, k):
    """The argument of ``merge``'s docstring: sums of published figures, withheld where
    a part is, are already protected when every input uses the same k — the final
    audit then withholds nothing more."""
    inputs = _inputs([(persons, parts, k) for persons, parts, _k in cases])
    combined, _intervals = monitor._combine(inputs)
    _assert_protected(combined, k)
    assert monitor.merge(inputs)["tables"] == combined["tables"]


def test_with_different_k_the_sums_alone_are_not_safe():
    """Why the final audit is needed: a figure of 3 published under k = 3 is withheld
    under the merged k = 5, and without more suppression it follows from its row."""
    persons = {("asylum", "18_20", "female"): 30, ("asylum", "28_34", "male"): 30}
    a = _dataset(EMSDETTEN, persons, [[3, 10, 10]], 3)
    b = _dataset(GREVEN, persons, [[0, 0, 0], [20, 20, 20]], 5)
    combined, _intervals = monitor._combine([a, b])
    with pytest.raises(AssertionError):
        _assert_protected(combined, 5)
    merged = monitor.merge([a, b])
    _assert_protected(merged, 5)
    ended = _cells(_table(merged, "participations_ended"))
    assert ended["g0", "completed"] is None
    assert ended["g0", "_total"] is None or ended["g0", "aborted"] is None


# --- the command ------------------------------------------------------------------------------


@pytest.fixture
def export_files(tmp_path):
    paths = []
    for n, (code, name) in enumerate(((RHEINE, "Rheine"), (GREVEN, "Greven"))):
        path = tmp_path / f"{code}.json"
        path.write_text(monitor.to_json(_export(300, 50 + n, code, name)), encoding="utf-8")
        paths.append(path)
    return paths


def test_cli_merge_writes_json_or_csv(export_files, tmp_path):
    out = tmp_path / "land.json"
    err = io.StringIO()
    call_command("monitor", "merge", *map(str, export_files), "--out", str(out), stderr=err)
    merged = json.loads(out.read_text(encoding="utf-8"))
    assert monitor.validate(merged) == []
    assert [m["code"] for m in merged["municipalities"]] == [GREVEN, RHEINE]
    assert merged["area"]["code"] == "05566" and "05566" in err.getvalue()
    stdout = io.StringIO()
    call_command(
        "monitor", "merge", *map(str, export_files), "--format", "csv", stdout=stdout, stderr=err
    )
    assert stdout.getvalue() == monitor.to_csv(merged)


@pytest.mark.parametrize("problem", ["duplicate", "version", "json", "missing"])
def test_cli_merge_errors_exit_2_and_write_nothing(export_files, tmp_path, problem):
    first, second = export_files
    if problem == "duplicate":
        files = [first, second, first]
        expected = RHEINE
    elif problem == "version":
        data = json.loads(second.read_text(encoding="utf-8"))
        second.write_text(json.dumps(dict(data, schema_version="2")), encoding="utf-8")
        files, expected = [first, second], "(1, 2)"
    elif problem == "json":
        second.write_text("{not json", encoding="utf-8")
        files, expected = [first, second], str(second)
    else:
        files, expected = [first, tmp_path / "nowhere.json"], "nowhere.json"
    out = tmp_path / "land.json"
    err = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command(
            "monitor",
            "merge",
            *map(str, files),
            "--out",
            str(out),
            stdout=io.StringIO(),
            stderr=err,
        )
    assert exc.value.code == 2
    assert expected in err.getvalue()
    assert not out.exists()


@pytest.mark.django_db
def test_cli_export_from_the_database_is_logged_as_an_aggregate(settings, tmp_path):
    settings.LOTSE_MUNICIPALITY_CODE = RHEINE
    settings.LOTSE_MUNICIPALITY_NAME = "Rheine"
    for age, status, n in ((20, "duldung", 9), (40, "gestattung", 7), (23, "ae_25_2_gfk", 2)):
        for _i in range(n):
            case = CaseFactory(
                person__birth_date=dt.date(ON.year - age, 3, 1), opened_on=dt.date(2026, 5, 4)
            )
            ResidenceFactory(person=case.person, status=status, valid_from=dt.date(2024, 1, 1))
    out = tmp_path / "rheine.json"
    err = io.StringIO()
    before = AccessLogEntry.objects.count()
    call_command("monitor", "export", "--today", ON.isoformat(), "--out", str(out), stderr=err)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert monitor.validate(data) == []
    assert data["area"] == {"code": RHEINE, "name": "Rheine"}
    assert data["period"] == {"start": "2026-01-01", "end": "2026-11-21"}
    assert _table(data, "persons_status_age")["total"] in (18, None)
    _assert_protected(data, 5)
    assert "Testperson" not in out.read_text(encoding="utf-8")
    assert AccessLogEntry.objects.count() == before + 1
    entry = AccessLogEntry.objects.order_by("-seq").first()
    assert entry.person_id is None and entry.basis == "aggregate"
    assert entry.action == "export" and entry.object_id == f"monitor:{RHEINE}"
    assert set(entry.categories) == set(monitor.CATEGORIES)
    assert RHEINE in err.getvalue()
    # CSV to stdout, a shorter period.
    stdout = io.StringIO()
    call_command(
        "monitor",
        "export",
        "--today",
        ON.isoformat(),
        "--from",
        "2026-07-01",
        "--to",
        "2026-09-30",
        "--format",
        "csv",
        stdout=stdout,
        stderr=io.StringIO(),
    )
    lines = list(csv.DictReader(io.StringIO(stdout.getvalue())))
    assert {line["row"] for line in lines if line["table"] == "new_cases"} == {"2026-Q3", "_total"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--municipality", GREVEN], GREVEN),  # contradicts the setting
        (["--from", "2026-12-01"], "2026-12-01"),  # the period would end before it starts
        (["--to", "2026-12-24"], "2026-11-21"),  # after the reference date
    ],
)
def test_cli_export_errors_exit_2_and_log_nothing(settings, tmp_path, args, expected):
    settings.LOTSE_MUNICIPALITY_CODE = RHEINE
    settings.LOTSE_MUNICIPALITY_NAME = "Rheine"
    out = tmp_path / "x.json"
    err = io.StringIO()
    before = AccessLogEntry.objects.count()
    with pytest.raises(SystemExit) as exc:
        call_command(
            "monitor", "export", "--today", ON.isoformat(), "--out", str(out), *args, stderr=err
        )
    assert exc.value.code == 2
    assert expected in err.getvalue()
    assert not out.exists()
    assert AccessLogEntry.objects.count() == before


@pytest.mark.django_db
def test_cli_export_needs_a_key(settings):
    settings.LOTSE_MUNICIPALITY_CODE = ""
    settings.LOTSE_MUNICIPALITY_NAME = ""
    err = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("monitor", "export", "--name", "Rheine", stderr=err, stdout=io.StringIO())
    assert exc.value.code == 2 and "LOTSE_MUNICIPALITY_CODE" in err.getvalue()
    with pytest.raises(SystemExit) as exc:
        call_command("monitor", "export", "--municipality", "123", "--name", "X", stderr=err)
    assert exc.value.code == 2 and "123" in err.getvalue()
