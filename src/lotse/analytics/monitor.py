"""The state monitoring export (issue #7): a municipality's aggregates for the Land, as
JSON with a documented schema (``monitor_schema.json``, schema version "1") or as CSV,
and ``merge`` to combine the exports of several municipalities into one state picture.

Only aggregates leave: tables of counts computed set-based from the pseudonymised
snapshot, every one through the disclosure control (no published count below k, no
withheld count that can be worked out). Rows and columns are **codes**, never labels,
so they are the same in every municipality (status groups, age bands, benefit
regimes, ISO nationality codes …); the German labels travel separately in ``labels``.
Districts are local and not exported.

The tables (``export``):

=======================  ================================  ===========================
code                     rows × columns                     counts
=======================  ================================  ===========================
persons_status_age       status group × age band            persons with an open case
persons_regime           benefit regime × target group      the same persons
persons_gender           gender × target group              the same persons
persons_phase            case phase × target group          the same persons
persons_nationality      nationality × target group         the same persons
new_cases                quarter × target group at opening  cases opened in the period
career_flags             rule × target group                persons with an open flag
participations_ended     category group × outcome           participations ended in
                                                            the period
=======================  ================================  ===========================

**Joint protection.** The five ``persons_*`` tables count the same persons, so they
share margins: the same grand total, the same totals of the target group 18–27 and of
the other ages, and the age bands 18–20, 21–24 and 25–27 make up the target group. A
reader knows these equations, so the tables are protected as one system: the audit of
``core.disclosure`` runs on all their entries with the equations inside each table and
between them (``_links``). Tables of different populations share no equation and are
protected apart. Column totals are given exactly when the rows partition what is
counted, row totals when the columns do (flags: a person can have several rules, so
their rows have no column totals).

Rows list the codes that occur (as on the situation picture: that nobody in the
municipality has a code is not treated as confidential); columns are the full code
list of their dimension, quarters all quarters of the period.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple, cast

import polars as pl
from django.conf import settings
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as JsonSchemaError

from lotse.casework.codes import Phase
from lotse.core.disclosure import Cell, Policy, current_policy, protect_linked, withhold_more
from lotse.core.models import AccessAction, Membership
from lotse.core.services import access_log_record_aggregate
from lotse.people.codes import BenefitRegime, Gender, StatusGroup
from lotse.referrals.careers_rules import default_rules

from . import snapshot as snapshot_mod
from .flows import MEASURE_GROUP, MEASURE_GROUPS
from .quality import ABORTED, COMPLETED
from .situation import age_band_labels, quarter_label, quarters
from .snapshot import AGE_BANDS, TARGET_AGES, TARGET_BANDS, Snapshot

SCHEMA_VERSION = "1"
SCHEMA_PATH = Path(__file__).with_name("monitor_schema.json")
# The categories of personal data the export is computed from (for the access log).
CATEGORIES = ("master", "residence", "benefits", "participations")
CSV_HEADER = ("municipality", "reference_date", "table", "row", "column", "value", "flag")
TOTAL = "_total"  # the row or column code of totals in the CSV
WITHHELD = "withheld"

UNKNOWN = "unknown"  # a value not recorded
TARGET, OTHER = "18_27", "other"  # the target group 18–27 and the other ages
OTHER_BANDS = tuple(c for c, _low, _high in AGE_BANDS if c not in TARGET_BANDS)
AGS = re.compile(r"^(0[1-9]|1[0-6])[0-9]{6}$")

# The groups of the offer categories are those of the flows.
CATEGORY_GROUPS = MEASURE_GROUPS
CATEGORY_GROUP = MEASURE_GROUP
OUTCOMES = ("completed", "aborted", "other")  # transferred (and anything else): other

TITLES: dict[str, Promise] = {
    "persons_status_age": gettext_lazy(
        "Persons in case management by residence status group and age band"
    ),
    "persons_regime": gettext_lazy("Persons in case management by benefit regime and target group"),
    "persons_gender": gettext_lazy("Persons in case management by gender and target group"),
    "persons_phase": gettext_lazy("Persons in case management by case phase and target group"),
    "persons_nationality": gettext_lazy(
        "Persons in case management by nationality and target group"
    ),
    "new_cases": gettext_lazy("New cases per quarter by age at opening"),
    "career_flags": gettext_lazy(
        "Persons with an open measure-career flag by rule and target group"
    ),
    "participations_ended": gettext_lazy(
        "Participations ended in the period by category group and outcome"
    ),
}


class MonitorError(ValueError):
    """What the user did wrong, as (German) messages."""

    def __init__(self, messages: str | Sequence[str]) -> None:
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("\n".join(self.messages))


# --- municipality, period ---------------------------------------------------------------


def check_ags(code: str) -> str:
    """The official municipality key (Amtlicher Gemeindeschlüssel): 8 digits, the first
    two the Land (01–16)."""
    value = (code or "").strip()
    if not AGS.match(value):
        raise MonitorError(
            _(
                "“%(code)s” is not an official municipality key (AGS): 8 digits, "
                "beginning with the number of the Land (01–16)."
            )
            % {"code": value}
        )
    return value


def municipality_configured(code: str | None, name: str | None) -> tuple[str, str]:
    """Key and name of the municipality: from the settings ``LOTSE_MUNICIPALITY_CODE`` /
    ``LOTSE_MUNICIPALITY_NAME`` where set, else from the options. An option that
    contradicts the setting is an error: an installation exports as its municipality."""
    out = []
    for option, setting, missing in (
        (
            code,
            "LOTSE_MUNICIPALITY_CODE",
            _(
                "The official municipality key is missing: give --municipality or set "
                "LOTSE_MUNICIPALITY_CODE."
            ),
        ),
        (
            name,
            "LOTSE_MUNICIPALITY_NAME",
            _("The municipality's name is missing: give --name or set LOTSE_MUNICIPALITY_NAME."),
        ),
    ):
        configured = str(getattr(settings, setting, "") or "").strip()
        given = (option or "").strip()
        if configured and given and given != configured:
            raise MonitorError(
                _("“%(given)s” contradicts the setting %(setting)s = “%(configured)s”.")
                % {"given": given, "setting": setting, "configured": configured}
            )
        value = configured or given
        if not value:
            raise MonitorError(missing)
        out.append(value)
    return check_ags(out[0]), out[1]


def default_period(on: dt.date) -> tuple[dt.date, dt.date]:
    """The four quarters up to ``on``: from the start of the quarter three quarters
    before the one of ``on``, to ``on``."""
    return quarters(on, 4)[0], on


def check_period(start: dt.date, end: dt.date, on: dt.date) -> None:
    if end < start:
        raise MonitorError(
            _("The period must not end before it starts (%(start)s – %(end)s).")
            % {"start": start.isoformat(), "end": end.isoformat()}
        )
    if end > on:
        raise MonitorError(
            _("The period must end on or before the reference date %(day)s.")
            % {"day": on.isoformat()}
        )


def quarter_code(start: dt.date) -> str:
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def _quarters_between(start: dt.date, end: dt.date) -> list[dt.date]:
    out, day = [], dt.date(start.year, (start.month - 1) // 3 * 3 + 1, 1)
    while day <= end:
        out.append(day)
        month = day.month + 3
        day = dt.date(day.year + (month > 12), (month - 1) % 12 + 1, 1)
    return out


# --- the tables, unprotected ---------------------------------------------------------------

Entry = tuple[object, ...]
Equation = tuple[Entry, list[Entry]]


class Shape(NamedTuple):
    """What a reader knows of a table besides its figures."""

    code: str
    population: str
    row_dim: str
    col_dim: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    row_totals: bool
    col_totals: bool


@dataclass(frozen=True)
class RawTable:
    """A table of true counts, before the disclosure control."""

    shape: Shape
    title: str
    counts: tuple[tuple[int, ...], ...]

    def values(self) -> dict[Entry, int]:
        s = self.shape
        out: dict[Entry, int] = {}
        for i, row in enumerate(self.counts):
            for j, v in enumerate(row):
                out[("c", s.code, i, j)] = v
            if s.row_totals:
                out[("r", s.code, i)] = sum(row)
        if s.col_totals:
            for j in range(len(s.columns)):
                out[("k", s.code, j)] = sum(row[j] for row in self.counts)
        if s.row_totals and s.col_totals:
            out[("t", s.code)] = sum(map(sum, self.counts))
        return out


def _coded(column: str) -> pl.Expr:
    col = pl.col(column)
    return pl.when(col.is_null() | (col == "")).then(pl.lit(UNKNOWN)).otherwise(col).alias(column)


def _target(years: pl.Expr) -> pl.Expr:
    return pl.when(years.is_between(*TARGET_AGES)).then(pl.lit(TARGET)).otherwise(pl.lit(OTHER))


def _crosstab(
    frame: pl.DataFrame,
    row: str,
    col: str,
    *,
    order: Sequence[str],
    columns: Sequence[str],
    all_rows: bool = False,
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[int, ...], ...]]:
    """Counts of ``frame`` by ``row`` × ``col``: the rows that occur (known codes in
    ``order`` first, then the others sorted; with ``all_rows`` every code of ``order``),
    the columns of ``columns`` and any other that occurs."""
    cells: dict[tuple[str, str], int] = {
        (r, c): n for r, c, n in frame.group_by(row, col).len().iter_rows()
    }
    present = {r for (r, _c), n in cells.items() if n}
    rows = list(order) if all_rows else [r for r in order if r in present]
    rows += sorted(present - set(rows))
    cols = list(columns) + sorted({c for (_r, c) in cells} - set(columns))
    return (
        tuple(rows),
        tuple(cols),
        tuple(tuple(cells.get((r, c), 0) for c in cols) for r in rows),
    )


def _raw(
    code: str,
    population: str,
    dims: tuple[str, str],
    table: tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[int, ...], ...]],
    *,
    row_totals: bool = True,
    col_totals: bool = True,
) -> RawTable:
    rows, cols, counts = table
    shape = Shape(code, population, dims[0], dims[1], rows, cols, row_totals, col_totals)
    return RawTable(shape, str(TITLES[code]), counts)


def _choice_codes(choices: Iterable[tuple[str, Any]]) -> list[str]:
    return [str(c) for c, _label in choices]


def raw_tables(snapshot: Snapshot, *, period_start: dt.date, period_end: dt.date) -> list[RawTable]:
    """The true counts of every table, set-based with polars (titles in the active
    language)."""
    persons = snapshot.persons.filter(pl.col("open_case")).select(
        "age_band",
        *(_coded(c) for c in ("status_group", "regime", "gender", "phase", "nationality")),
        target=_target(pl.col("age_months") // 12),
    )
    ages = [c for c, _low, _high in AGE_BANDS]
    target = (TARGET, OTHER)
    phases = [*_choice_codes(Phase.choices), UNKNOWN]
    tables = [
        _raw(
            "persons_status_age",
            "persons_open_case",
            ("status_group", "age_band"),
            _crosstab(
                persons,
                "status_group",
                "age_band",
                order=[*_choice_codes(StatusGroup.choices), UNKNOWN],
                columns=ages,
            ),
        )
    ]
    for code, column, order in (
        ("persons_regime", "regime", [*_choice_codes(BenefitRegime.choices), UNKNOWN]),
        ("persons_gender", "gender", [*_choice_codes(Gender.choices), UNKNOWN]),
        ("persons_phase", "phase", phases),
        ("persons_nationality", "nationality", []),
    ):
        tables.append(
            _raw(
                code,
                "persons_open_case",
                (column, "target_group"),
                _crosstab(persons, column, "target", order=order, columns=target),
            )
        )
    # New cases per quarter of the period (the snapshot knows quarters only).
    qs = _quarters_between(period_start, period_end)
    cases = snapshot.cases.filter(pl.col("opened_quarter").is_between(qs[0], qs[-1])).select(
        quarter=pl.concat_str(
            pl.col("opened_quarter").dt.year().cast(pl.String()),
            pl.lit("-Q"),
            ((pl.col("opened_quarter").dt.month() - 1) // 3 + 1).cast(pl.String()),
        ),
        target=_target(pl.col("age_months_opened") // 12),
    )
    tables.append(
        _raw(
            "new_cases",
            "cases_opened",
            ("quarter", "target_group"),
            _crosstab(
                cases,
                "quarter",
                "target",
                order=[quarter_code(q) for q in qs],
                columns=target,
                all_rows=True,
            ),
        )
    )
    # Persons with an open measure-career flag on the reference date, by rule.
    on = snapshot.on
    flagged = (
        snapshot.flags.filter(
            (pl.col("raised_on") <= on)
            & (pl.col("resolved_on").is_null() | (pl.col("resolved_on") > on))
        )
        .select("pkey", "rule")
        .unique()
        .join(
            snapshot.persons.select("pkey", target=_target(pl.col("age_months") // 12)),
            on="pkey",
        )
    )
    tables.append(
        _raw(
            "career_flags",
            "persons_open_flag",
            ("career_rule", "target_group"),
            _crosstab(
                flagged, "rule", "target", order=[r.code for r in default_rules()], columns=target
            ),
            col_totals=False,  # a person can have several rules
        )
    )
    ended = snapshot.participations.filter(
        pl.col("ended_on").is_between(period_start, period_end)
    ).select(
        category_group=pl.col("category").replace_strict(
            CATEGORY_GROUP, default="other", return_dtype=pl.String()
        ),
        outcome=pl.when(pl.col("outcome").is_in(COMPLETED))
        .then(pl.lit("completed"))
        .when(pl.col("outcome") == ABORTED)
        .then(pl.lit("aborted"))
        .otherwise(pl.lit("other")),
    )
    tables.append(
        _raw(
            "participations_ended",
            "participations_ended",
            ("category_group", "outcome"),
            _crosstab(
                ended,
                "category_group",
                "outcome",
                order=[c for c, _label in CATEGORY_GROUPS],
                columns=OUTCOMES,
            ),
        )
    )
    return tables


# --- the disclosure control over several tables --------------------------------------------


def _equations(s: Shape) -> list[Equation]:
    """Inside a table: rows and columns add up to their totals."""
    cells = [[("c", s.code, i, j) for j in range(len(s.columns))] for i in range(len(s.rows))]
    eqs: list[Equation] = []
    if s.row_totals:
        eqs += [(("r", s.code, i), list(cells[i])) for i in range(len(s.rows))]
    if s.col_totals:
        eqs += [(("k", s.code, j), [row[j] for row in cells]) for j in range(len(s.columns))]
    if s.row_totals and s.col_totals:
        eqs.append((("t", s.code), [("r", s.code, i) for i in range(len(s.rows))]))
        eqs.append((("t", s.code), [("k", s.code, j) for j in range(len(s.columns))]))
    return eqs


def _links(shapes: Sequence[Shape]) -> list[Equation]:
    """Between the tables of one population (``_populations``): a margin (the count of a code of a
    dimension, or the grand total) is the same in every table that has it, and the
    target group is the sum of its age bands. A table lists every code that occurs,
    so a code missing from a margin's table counts 0."""
    margins: dict[tuple[str, str], list[Entry]] = {}
    for s in shapes:
        if s.row_totals:
            for i, r in enumerate(s.rows):
                margins.setdefault((s.row_dim, r), []).append(("r", s.code, i))
        if s.col_totals:
            for j, c in enumerate(s.columns):
                margins.setdefault((s.col_dim, c), []).append(("k", s.code, j))
        if s.row_totals and s.col_totals:
            margins.setdefault(("*", "*"), []).append(("t", s.code))
    eqs: list[Equation] = [(same[0], [e]) for same in margins.values() for e in same[1:]]
    if any(dim == "age_band" for dim, _code in margins):
        for group_code, bands in ((TARGET, TARGET_BANDS), (OTHER, OTHER_BANDS)):
            whole = margins.get(("target_group", group_code))
            if whole:
                parts = [margins[("age_band", b)][0] for b in bands if ("age_band", b) in margins]
                eqs.append((whole[0], parts))
    return eqs


def _populations(shapes: Sequence[Shape]) -> list[list[Shape]]:
    groups: dict[str, list[Shape]] = {}
    for s in shapes:
        groups.setdefault(s.population, []).append(s)
    return list(groups.values())


def _table_out(s: Shape, title: str, value: Callable[[Entry], int | None]) -> dict[str, Any]:
    n_rows, n_cols = len(s.rows), len(s.columns)
    return {
        "code": s.code,
        "title": title,
        "population": s.population,
        "dimensions": [s.row_dim, s.col_dim],
        "rows": list(s.rows),
        "columns": list(s.columns),
        "cells": [[value(("c", s.code, i, j)) for j in range(n_cols)] for i in range(n_rows)],
        "row_totals": [value(("r", s.code, i)) for i in range(n_rows)] if s.row_totals else None,
        "column_totals": (
            [value(("k", s.code, j)) for j in range(n_cols)] if s.col_totals else None
        ),
        "total": value(("t", s.code)) if s.row_totals and s.col_totals else None,
    }


def protect_tables(tables: Sequence[RawTable], policy: Policy) -> list[dict[str, Any]]:
    """Publish the tables through the disclosure control, the tables of one population
    as one system (their equations and the links between them), then round."""
    out: dict[str, dict[str, Any]] = {}
    for group in _populations([t.shape for t in tables]):
        raw = [t for t in tables if t.shape in group]
        values: dict[Entry, int] = {}
        for t in raw:
            values.update(t.values())
        equations = [eq for s in group for eq in _equations(s)] + _links(group)
        published = protect_linked(values, equations, policy=policy)

        def value(e: Entry, published: dict[Entry, Cell] = published) -> int | None:
            return published[e].value

        for t in raw:
            out[t.shape.code] = _table_out(t.shape, t.title, value)
    return [out[t.shape.code] for t in tables]


# --- the data set ----------------------------------------------------------------------------


def _labels(tables: Sequence[RawTable], rule_names: Mapping[str, str]) -> dict[str, dict[str, str]]:
    used: dict[str, set[str]] = {}
    for t in tables:
        used.setdefault(t.shape.row_dim, set()).update(t.shape.rows)
        used.setdefault(t.shape.col_dim, set()).update(t.shape.columns)
    unknown = _("not known")

    def choices(items: Iterable[tuple[str, Any]]) -> dict[str, str]:
        return {**{str(c): str(label) for c, label in items}, UNKNOWN: unknown}

    rules = {r.code: _(r.name) for r in default_rules()}
    rules.update({code: _(name) for code, name in rule_names.items()})
    labels: dict[str, dict[str, str]] = {
        "status_group": choices(StatusGroup.choices),
        "age_band": age_band_labels(),
        "target_group": {TARGET: _("18–27 years"), OTHER: _("other ages")},
        "regime": choices(BenefitRegime.choices),
        "gender": choices(Gender.choices),
        "phase": {**choices(Phase.choices), "closed": _("case closed")},
        "nationality": {
            code: unknown if code == UNKNOWN else (str(countries.name(code)) or code)
            for code in sorted(used.get("nationality", ()))
        },
        "quarter": {
            code: quarter_label(dt.date(int(code[:4]), int(code[-1]) * 3 - 2, 1))
            for code in sorted(used.get("quarter", ()))
        },
        "career_rule": {
            code: rules.get(code, code) for code in sorted(used.get("career_rule", ()))
        },
        "category_group": {code: str(label) for code, label in CATEGORY_GROUPS},
        "outcome": {"completed": _("completed"), "aborted": _("aborted"), "other": _("other")},
    }
    for dim, codes in used.items():  # codes outside the code lists: the code itself
        for code in codes - set(labels.setdefault(dim, {})):
            labels[dim][code] = code
    return {dim: labels[dim] for dim in sorted(used)}


def export(
    snapshot: Snapshot,
    *,
    municipality: str,
    period_start: dt.date,
    period_end: dt.date,
    policy: Policy,
    name: str | None = None,
    rule_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The monitoring data set of one municipality (``municipality``: its AGS) for the
    snapshot's day (the reference date) and the period (flows: new cases, ended
    participations); ``name`` defaults to ``LOTSE_MUNICIPALITY_NAME``. Titles, labels
    and notes are German. ``rule_names``: names of
    the measure-career rules by code, as stored (default: the default rules' names)."""
    code = check_ags(municipality)
    if name is None:
        name = str(getattr(settings, "LOTSE_MUNICIPALITY_NAME", "") or "")
    if not name.strip():
        raise MonitorError(
            _("The municipality's name is missing: give --name or set LOTSE_MUNICIPALITY_NAME.")
        )
    check_period(period_start, period_end, snapshot.on)
    with translation.override("de"):
        raw = raw_tables(snapshot, period_start=period_start, period_end=period_end)
        labels = _labels(raw, rule_names or {})
    period = {"start": period_start.isoformat(), "end": period_end.isoformat()}
    disclosure = {"k": policy.k, "rounding": policy.rounding}
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "municipality",
        "area": {"code": code, "name": name.strip()},
        "municipalities": [
            {
                "code": code,
                "name": name.strip(),
                "reference_date": snapshot.on.isoformat(),
                "period": period,
                "disclosure": disclosure,
            }
        ],
        "reference_date": snapshot.on.isoformat(),
        "period": period,
        "produced_at": timezone.localtime().isoformat(timespec="seconds"),
        "disclosure": disclosure,
        "notes": [],
        "labels": labels,
        "tables": protect_tables(raw, policy),
    }


def rule_names() -> dict[str, str]:
    """The names of the active measure-career rules by code (translated by the export)."""
    from lotse.referrals.careers_services import careers_rules_active

    return {rule.code: rule.name for rule in careers_rules_active()}


def export_logged(
    *,
    actor: Membership | None,
    code: str,
    name: str,
    today: dt.date,
    period_start: dt.date,
    period_end: dt.date,
    snap: Snapshot | None = None,
) -> dict[str, Any]:
    """The export of the configured municipality from the snapshot of ``today``, as the
    command and the page make it: one aggregate export entry in the access log (actor
    None: the command line). MonitorError for a bad period."""
    check_period(period_start, period_end, today)
    data = export(
        snap or snapshot_mod.current(on=today),
        municipality=code,
        name=name,
        period_start=period_start,
        period_end=period_end,
        policy=current_policy(),
        rule_names=rule_names(),
    )
    access_log_record_aggregate(
        actor=actor,
        action=AccessAction.EXPORT,
        categories=CATEGORIES,
        object_type="analytics",
        object_id=f"monitor:{code}",
    )
    return data


def figures(data: Mapping[str, Any]) -> tuple[int, int]:
    """(withheld, all) entries of the data set's tables."""
    values = [v for t in data["tables"] for v in _flat(t)]
    return sum(v is None for v in values), len(values)


def _flat(table: Mapping[str, Any]) -> list[int | None]:
    out = [v for row in table["cells"] for v in row]
    out += list(table["row_totals"] or []) + list(table["column_totals"] or [])
    if table["row_totals"] is not None and table["column_totals"] is not None:
        out.append(table["total"])
    return out


# --- CSV -------------------------------------------------------------------------------------


def to_csv(data: Mapping[str, Any]) -> str:
    """The data set in long format, one line per figure: ``municipality`` (the area's
    key), ``reference_date``, ``table``, ``row``, ``column``, ``value`` (empty when
    withheld), ``flag`` (``withheld`` or empty). Totals have the row or column code
    ``_total``. UTF-8, comma-separated, a header line, lines end with LF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    area, day = data["area"]["code"], data["reference_date"]

    def line(table: str, row: str, column: str, value: int | None) -> None:
        writer.writerow(
            (
                area,
                day,
                table,
                row,
                column,
                "" if value is None else value,
                "" if value is not None else WITHHELD,
            )
        )

    for t in data["tables"]:
        for r, cells in zip(t["rows"], t["cells"], strict=True):
            for c, v in zip(t["columns"], cells, strict=True):
                line(t["code"], r, c, v)
        for r, v in zip(t["rows"], t["row_totals"] or [], strict=False):
            line(t["code"], r, TOTAL, v)
        for c, v in zip(t["columns"], t["column_totals"] or [], strict=False):
            line(t["code"], TOTAL, c, v)
        if t["row_totals"] is not None and t["column_totals"] is not None:
            line(t["code"], TOTAL, TOTAL, t["total"])
    return buffer.getvalue()


def to_json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


# --- validation ------------------------------------------------------------------------------


@cache
def schema() -> dict[str, Any]:
    """``monitor_schema.json`` (JSON Schema draft 2020-12), checked once."""
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(loaded)
    return loaded


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _json_path(error: JsonSchemaError) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)


def _schema_messages(error: JsonSchemaError) -> list[str]:
    """jsonschema finds the problems; the messages are ours (German, with the path)."""
    # Typed loosely by jsonschema (an Unset sentinel); set for every error it yields.
    path, value, rule = (
        _json_path(error),
        cast(Any, error.instance),
        cast(Any, error.validator_value),
    )
    match error.validator:
        case "type":
            wanted = [rule] if isinstance(rule, str) else list(rule)
            return [
                _("%(path)s: wrong type %(found)s, expected %(expected)s.")
                % {"path": path, "found": _json_type(value), "expected": "/".join(wanted)}
            ]
        case "const":
            return [
                _("%(path)s: must be %(value)s.")
                % {"path": path, "value": json.dumps(rule, ensure_ascii=False)}
            ]
        case "enum":
            return [
                _("%(path)s: must be one of %(values)s.")
                % {"path": path, "values": ", ".join(json.dumps(v) for v in rule)}
            ]
        case "minLength":
            return [_("%(path)s: must have at least %(n)d characters.") % {"path": path, "n": rule}]
        case "maxLength":
            return [_("%(path)s: must have at most %(n)d characters.") % {"path": path, "n": rule}]
        case "pattern":
            return [
                _("%(path)s: “%(value)s” does not have the expected form (%(pattern)s).")
                % {"path": path, "value": value, "pattern": rule}
            ]
        case "minimum":
            return [_("%(path)s: must be at least %(minimum)s.") % {"path": path, "minimum": rule}]
        case "minItems":
            return [_("%(path)s: must have at least %(n)d entries.") % {"path": path, "n": rule}]
        case "maxItems":
            return [_("%(path)s: must have at most %(n)d entries.") % {"path": path, "n": rule}]
        case "uniqueItems":
            twice = next(item for n, item in enumerate(value) if item in value[:n])
            return [
                _("%(path)s: contains “%(value)s” twice.")
                % {"path": path, "value": json.dumps(twice, ensure_ascii=False)}
            ]
        case "required":
            return [
                _("%(path)s: the field “%(name)s” is missing.") % {"path": path, "name": name}
                for name in rule
                if name not in value
            ]
        case "additionalProperties":
            known = cast(Mapping[str, Any], error.schema).get("properties", {})
            return [
                _("%(path)s: unknown field “%(name)s”.") % {"path": path, "name": name}
                for name in value
                if name not in known
            ]
    return [f"{path}: {error.message}"]  # a keyword the schema does not use today


def _schema_errors(data: Any) -> list[str]:
    messages: list[str] = []
    for error in Draft202012Validator(schema()).iter_errors(data):
        for message in _schema_messages(error):
            if message not in messages:  # "required" reports every missing field at once
                messages.append(message)
    return sorted(messages)


def _date(value: str, path: str, errors: list[str]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors.append(_("%(path)s: not a valid date.") % {"path": path})
        return None


def _check_period_field(period: Mapping[str, str], path: str, errors: list[str]) -> None:
    start = _date(period["start"], f"{path}.start", errors)
    end = _date(period["end"], f"{path}.end", errors)
    if start and end and end < start:
        errors.append(_("%(path)s: the period ends before it starts.") % {"path": path})


def _count_of(found: int, expected: int, path: str, errors: list[str]) -> bool:
    if found != expected:
        errors.append(
            _("%(path)s: %(found)d entries, expected %(expected)d.")
            % {"path": path, "found": found, "expected": expected}
        )
        return False
    return True


def _check_table(t: Mapping[str, Any], path: str, k: int, rounding: int, errors: list[str]) -> None:
    n_rows, n_cols = len(t["rows"]), len(t["columns"])
    ok = _count_of(len(t["cells"]), n_rows, f"{path}.cells", errors)
    for i, row in enumerate(t["cells"]):
        ok &= _count_of(len(row), n_cols, f"{path}.cells[{i}]", errors)
    for key, n in (("row_totals", n_rows), ("column_totals", n_cols)):
        if t[key] is not None:
            ok &= _count_of(len(t[key]), n, f"{path}.{key}", errors)
    if (t["row_totals"] is None or t["column_totals"] is None) and t["total"] is not None:
        errors.append(
            _("%(path)s: a table without row or column totals has no grand total.")
            % {"path": f"{path}.total"}
        )
        ok = False
    if not ok:
        return
    # Nothing published below k (rounded counts are at least the rounding base).
    floor = min(k, rounding) if rounding else k
    entries: list[tuple[str, int | None]] = [
        (f"{path}.cells[{i}][{j}]", v)
        for i, row in enumerate(t["cells"])
        for j, v in enumerate(row)
    ]
    for key in ("row_totals", "column_totals"):
        entries += [(f"{path}.{key}[{n}]", v) for n, v in enumerate(t[key] or [])]
    entries.append((f"{path}.total", t["total"]))
    for where, v in entries:
        if v is not None and v < floor:
            errors.append(
                _("%(path)s: %(value)d is published although it is below k = %(k)d.")
                % {"path": where, "value": v, "k": k}
            )
    if rounding:
        return
    # Without rounding, fully published lines add up.
    lines: list[tuple[str, int | None, list[int | None]]] = []
    if t["row_totals"] is not None:
        lines += [
            (f"{path}.row_totals[{i}]", t["row_totals"][i], t["cells"][i]) for i in range(n_rows)
        ]
    if t["column_totals"] is not None:
        lines += [
            (f"{path}.column_totals[{j}]", t["column_totals"][j], [r[j] for r in t["cells"]])
            for j in range(n_cols)
        ]
    if t["total"] is not None:
        lines += [(f"{path}.total", t["total"], t["row_totals"])]
        lines += [(f"{path}.total", t["total"], t["column_totals"])]
    for where, total, parts in lines:
        added = sum(v or 0 for v in parts)
        if total is not None and None not in parts and added != total:
            errors.append(
                _("%(path)s: the published counts add up to %(sum)d, not to %(total)d.")
                % {"path": where, "sum": added, "total": total}
            )


def validate(data: Any) -> list[str]:
    """Every problem of a data set (empty: valid), each message with the path of the
    field, in the active language: first against ``monitor_schema.json``, then the
    rules a schema cannot express (table shapes, dates, sums, nothing published below
    k, one municipality in an export of kind "municipality")."""
    errors = _schema_errors(data)
    if errors:
        return errors
    _date(data["reference_date"], "$.reference_date", errors)
    _check_period_field(data["period"], "$.period", errors)
    for n, source in enumerate(data["municipalities"]):
        _date(source["reference_date"], f"$.municipalities[{n}].reference_date", errors)
        _check_period_field(source["period"], f"$.municipalities[{n}].period", errors)
    if data["kind"] == "municipality":
        if len(data["municipalities"]) != 1:
            errors.append(
                _("%(path)s: an export of one municipality names exactly one municipality.")
                % {"path": "$.municipalities"}
            )
        elif data["area"]["code"] != data["municipalities"][0]["code"]:
            errors.append(
                _("%(path)s: differs from the municipality's key.") % {"path": "$.area.code"}
            )
    elif not all(s["code"].startswith(data["area"]["code"]) for s in data["municipalities"]):
        errors.append(
            _("%(path)s: not the beginning of every municipality's key.") % {"path": "$.area.code"}
        )
    seen: set[str] = set()
    k, rounding = data["disclosure"]["k"], data["disclosure"]["rounding"]
    for n, t in enumerate(data["tables"]):
        path = f"$.tables[{n}]"
        if t["code"] in seen:
            errors.append(
                _("%(path)s: the table “%(code)s” appears more than once.")
                % {"path": f"{path}.code", "code": t["code"]}
            )
        seen.add(t["code"])
        for dim in t["dimensions"]:
            if dim not in data["labels"]:
                errors.append(
                    _("%(path)s: no labels for the dimension “%(dimension)s”.")
                    % {"path": "$.labels", "dimension": dim}
                )
        _check_table(t, path, k, rounding, errors)
    return errors


# --- merge -----------------------------------------------------------------------------------


def _area_code(codes: Iterable[str]) -> str:
    """The key the municipalities share: municipality (8 digits), Kreis (5),
    Regierungsbezirk (3), Land (2) or none."""
    codes = list(codes)
    for length in (8, 5, 3, 2):
        if len({c[:length] for c in codes}) == 1:
            return codes[0][:length]
    return ""


def _interval(value: int, rounding: int, k: int, parts: int) -> tuple[int, int]:
    """What a reader knows of the true count behind a published ``value``: equal to it
    without rounding; rounded to the nearest multiple (never down to 0, and a published
    count is at least k) with it. A figure of a merged input is a sum of ``parts``
    rounded figures."""
    if not rounding:
        return value, value
    if parts == 1:
        low = k if value == rounding else math.ceil(value - rounding / 2)
        return low, math.ceil(value + rounding / 2) - 1
    return max(0, value - parts * rounding), value + parts * rounding // 2


def _shape(t: Mapping[str, Any]) -> Shape:
    return Shape(
        t["code"],
        t["population"],
        t["dimensions"][0],
        t["dimensions"][1],
        tuple(t["rows"]),
        tuple(t["columns"]),
        t["row_totals"] is not None,
        t["column_totals"] is not None,
    )


def _published(t: Mapping[str, Any]) -> dict[Entry, int | None]:
    s = _shape(t)
    out: dict[Entry, int | None] = {}
    for i, row in enumerate(t["cells"]):
        for j, v in enumerate(row):
            out[("c", s.code, i, j)] = v
    for i, v in enumerate(t["row_totals"] or []):
        out[("r", s.code, i)] = v
    for j, v in enumerate(t["column_totals"] or []):
        out[("k", s.code, j)] = v
    if s.row_totals and s.col_totals:
        out[("t", s.code)] = t["total"]
    return out


def _union(lists: Iterable[Sequence[str]]) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for items in lists:
        out.update(dict.fromkeys(items))
    return tuple(out)


def _describe(data: Mapping[str, Any]) -> str:
    area = data.get("area") if isinstance(data, Mapping) else None
    if isinstance(area, Mapping):
        return f"{area.get('code', '?')} {area.get('name', '')}".strip()
    return "?"


def _inputs_checked(datasets: Sequence[Any]) -> None:
    if not datasets:
        raise MonitorError(_("Nothing to merge: give at least one export."))
    for n, d in enumerate(datasets, 1):
        if not isinstance(d, Mapping):
            raise MonitorError(_("Export %(n)d is not a JSON object.") % {"n": n})
    versions = sorted({str(d.get("schema_version")) for d in datasets})
    if len(versions) > 1:
        raise MonitorError(
            _("The exports have different schema versions (%(versions)s) and cannot be merged.")
            % {"versions": ", ".join(versions)}
        )
    if versions[0] != SCHEMA_VERSION:
        raise MonitorError(
            _(
                "Schema version “%(version)s” is not supported; this version of lotse reads "
                "version %(supported)s."
            )
            % {"version": versions[0], "supported": SCHEMA_VERSION}
        )
    problems = [
        _("Export %(n)d (%(area)s): %(error)s") % {"n": n, "area": _describe(d), "error": e}
        for n, d in enumerate(datasets, 1)
        for e in validate(d)
    ]
    if problems:
        raise MonitorError(problems)
    seen: dict[str, int] = {}
    for n, d in enumerate(datasets, 1):
        for source in d["municipalities"]:
            if source["code"] in seen:
                raise MonitorError(
                    _(
                        "The municipality %(code)s (%(name)s) is contained in export %(first)d "
                        "and in export %(n)d."
                    )
                    % {
                        "code": source["code"],
                        "name": source["name"],
                        "first": seen[source["code"]],
                        "n": n,
                    }
                )
            seen[source["code"]] = n
    first = {t["code"]: _shape(t) for t in datasets[0]["tables"]}
    for n, d in enumerate(datasets[1:], 2):
        shapes = {t["code"]: _shape(t) for t in d["tables"]}
        if set(shapes) != set(first):
            raise MonitorError(
                _("Export %(n)d (%(area)s) does not contain the same tables as export 1.")
                % {"n": n, "area": _describe(d)}
            )
        for code, s in shapes.items():
            f = first[code]
            if (s.population, s.row_dim, s.col_dim, s.row_totals, s.col_totals) != (
                f.population,
                f.row_dim,
                f.col_dim,
                f.row_totals,
                f.col_totals,
            ):
                raise MonitorError(
                    _(
                        "The table “%(table)s” is built differently in export %(n)d (%(area)s) "
                        "than in export 1."
                    )
                    % {"table": code, "n": n, "area": _describe(d)}
                )


Intervals = dict[Entry, tuple[int, int]]


def _add(
    sums: dict[Entry, int | None],
    intervals: Intervals,
    entry: Entry,
    value: int | None,
    policy: tuple[int, int, int],
) -> None:
    """Add an input's figure to a merged one; None (withheld) is final."""
    if entry in sums and sums[entry] is None:
        return
    if value is None:
        sums[entry] = None
        intervals.pop(entry, None)
        return
    low, high = _interval(value, *policy)
    sums[entry] = (sums.get(entry) or 0) + value
    old = intervals.get(entry, (0, 0))
    intervals[entry] = (old[0] + low, old[1] + high)


def _combine(
    datasets: Sequence[Mapping[str, Any]], *, name: str = ""
) -> tuple[dict[str, Any], Intervals]:
    """Step 1 of :func:`merge`, without the final disclosure audit: every merged figure
    is the sum of the inputs' published figures (a code an input does not list counts
    0 for it), withheld (None) where any input withheld its part. Also what a reader
    knows of each published merged figure (an interval when inputs round)."""
    _inputs_checked(datasets)
    ordered = sorted(datasets, key=lambda d: min(s["code"] for s in d["municipalities"]))
    k = max(d["disclosure"]["k"] for d in ordered)
    rounding = max(d["disclosure"]["rounding"] for d in ordered)
    intervals: Intervals = {}
    tables = []
    for code in [t["code"] for t in ordered[0]["tables"]]:
        parts = [(d, next(t for t in d["tables"] if t["code"] == code)) for d in ordered]
        first = parts[0][1]
        rows = _union(t["rows"] for _d, t in parts)
        cols = _union(t["columns"] for _d, t in parts)
        s = Shape(
            code,
            first["population"],
            first["dimensions"][0],
            first["dimensions"][1],
            rows,
            cols,
            first["row_totals"] is not None,
            first["column_totals"] is not None,
        )
        sums: dict[Entry, int | None] = {}
        for d, t in parts:
            policy = (d["disclosure"]["rounding"], d["disclosure"]["k"], len(d["municipalities"]))
            rix = {r: i for i, r in enumerate(t["rows"])}
            cix = {c: j for j, c in enumerate(t["columns"])}
            for i, r in enumerate(rows):
                for j, c in enumerate(cols):
                    inside = r in rix and c in cix
                    value = t["cells"][rix[r]][cix[c]] if inside else 0
                    _add(sums, intervals, ("c", code, i, j), value, policy)
                if s.row_totals:
                    value = t["row_totals"][rix[r]] if r in rix else 0
                    _add(sums, intervals, ("r", code, i), value, policy)
            if s.col_totals:
                for j, c in enumerate(cols):
                    value = t["column_totals"][cix[c]] if c in cix else 0
                    _add(sums, intervals, ("k", code, j), value, policy)
            if s.row_totals and s.col_totals:
                _add(sums, intervals, ("t", code), t["total"], policy)
        tables.append(_table_out(s, first["title"], sums.__getitem__))
    sources = sorted((src for d in ordered for src in d["municipalities"]), key=lambda x: x["code"])
    days = sorted({d["reference_date"] for d in ordered})
    periods = sorted({(d["period"]["start"], d["period"]["end"]) for d in ordered})
    notes: list[str] = []
    with translation.override("de"):
        ks = sorted({d["disclosure"]["k"] for d in ordered})
        if len(ks) > 1:
            notes.append(
                _(
                    "The exports use different thresholds k (%(values)s); the merged data set "
                    "withholds every figure below the largest, %(k)d."
                )
                % {"values": ", ".join(map(str, ks)), "k": k}
            )
        roundings = sorted({d["disclosure"]["rounding"] for d in ordered})
        if len(roundings) > 1 or rounding:
            notes.append(
                _(
                    "Counts of the exports are rounded (%(values)s); the merged figures are "
                    "sums of the rounded figures."
                )
                % {"values": ", ".join(map(str, roundings))}
            )
        if len(days) > 1:
            notes.append(
                _("The exports have different reference dates (%(dates)s).")
                % {"dates": ", ".join(days)}
            )
        if len(periods) > 1:
            notes.append(
                _("The exports cover different periods (%(periods)s).")
                % {"periods": ", ".join(f"{a} – {b}" for a, b in periods)}
            )
    labels: dict[str, dict[str, str]] = {}
    for d in ordered:
        for dim, names in d["labels"].items():
            labels.setdefault(dim, {})
            for c, label in names.items():
                labels[dim].setdefault(c, label)
    for d in ordered:
        notes += [n for n in d["notes"] if n not in notes]
    data = {
        "schema_version": SCHEMA_VERSION,
        "kind": "merged",
        "area": {"code": _area_code(s["code"] for s in sources), "name": name.strip()},
        "municipalities": sources,
        "reference_date": days[-1],
        "period": {"start": periods[0][0], "end": max(p[1] for p in periods)},
        "produced_at": timezone.localtime().isoformat(timespec="seconds"),
        "disclosure": {"k": k, "rounding": rounding},
        "notes": notes,
        "labels": labels,
        "tables": tables,
    }
    return data, intervals


def _reprotect(data: dict[str, Any], intervals: Intervals) -> None:
    """Step 2 of :func:`merge`: withhold merged figures below the merged k, then audit
    every withheld figure against everything published (the equations inside the
    tables and between the tables of a population) and withhold more where one could
    be pinned down or shown to be small — the secondary suppression of
    ``core.disclosure``, for figures whose true value the merger does not know."""
    k = data["disclosure"]["k"]
    tables = {t["code"]: t for t in data["tables"]}
    for group in _populations([_shape(t) for t in data["tables"]]):
        values: dict[Entry, int | None] = {}
        for s in group:
            values.update(_published(tables[s.code]))
        equations = [eq for s in group for eq in _equations(s)] + _links(group)
        withheld = withhold_more(values, equations, k=k, intervals=intervals)
        for s in group:
            t = tables[s.code]
            for e in withheld:
                if e[1] != s.code:
                    continue
                if e[0] == "c":
                    t["cells"][e[2]][e[3]] = None
                elif e[0] == "r":
                    t["row_totals"][e[2]] = None
                elif e[0] == "k":
                    t["column_totals"][e[2]] = None
                else:
                    t["total"] = None


def merge(datasets: Sequence[Mapping[str, Any]], *, name: str = "") -> dict[str, Any]:
    """Combine the exports of several municipalities (or merged sets of other ones) into
    one data set of kind "merged" for the area ``name`` (e.g. the Land).

    Refused, with a German message (:class:`MonitorError`): an input that is not a
    valid data set, inputs of different schema versions, a municipality contained in
    two inputs, inputs with different tables. Inputs with different k or rounding are
    merged: the merged k is the largest (a note says so).

    **The rule.** Rows and columns are the union of the inputs' codes; a code an input
    does not list counts 0 for it (its table lists every code that occurs). A merged
    figure — cell or total — is the sum of the inputs' published figures, and withheld
    (null) if any input withheld its part. Then every merged figure below the merged k
    is withheld, and the withheld figures are audited as in ``core.disclosure``.

    **Why this reveals nothing the inputs keep back.** Every published merged figure is
    a sum of figures the inputs published, so whoever holds the inputs learns nothing
    new from it, and an input's withheld figure stays withheld in every sum it is part
    of. Whoever holds only the merged set must not be able to work out a withheld
    merged figure either. A withheld merged figure W = Σ w_m is a sum of the inputs'
    parts; the merged equations (rows, columns, totals, the links between tables of one
    population) are the sums of the inputs' equations. So any choice of values the
    inputs' published figures allow for their withheld parts adds up to values the
    merged figures allow: the range of W is at least the sum of the ranges of its
    parts. Each input's audit made the range of its withheld parts wider than one
    value, and reaching k where a part was small — so with one common k and no
    rounding, the range of W is wide and reaches k as well, and the final audit finds
    nothing to do (the property test shows it). It is still needed: with different k
    a part below the merged k may have been published by its input, a sum of published
    figures may fall below the merged k and be withheld here alone, and rounding makes
    the published figures inexact; there the audit withholds more.
    """
    data, intervals = _combine(datasets, name=name)
    try:
        _reprotect(data, intervals)
    except RuntimeError as exc:  # the linear program has no solution
        raise MonitorError(
            _("The figures of the exports do not add up; they may have been changed by hand.")
        ) from exc
    return data
