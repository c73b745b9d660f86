"""The situation picture (Lagebild, issue #7): persons in case management by
nationality, age band, gender, residence status group, benefit regime, district and
case phase, each split into the target group 18–27 and the other ages, and the
trend per quarter. Computed from the pseudonymised snapshot with polars; every table
leaves through the disclosure control.

Each dimension is one two-way table (values × target group / other ages) with its
totals, protected as a whole — so the target group's figures and everybody's cannot
be subtracted from each other to reveal a small count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries

from lotse.casework.codes import Phase
from lotse.core.disclosure import Entry, Policy, ProtectedTable, protect, protect_linked
from lotse.people.codes import BenefitRegime, Gender, StatusGroup

from .snapshot import AGE_BANDS, TARGET_AGES, TARGET_BANDS, Snapshot

POPULATIONS = ("open", "all")  # persons with an open case; everybody with a case
TOP_NATIONALITIES = 15
QUARTERS = 8


def age_band_labels() -> dict[str, str]:
    labels = {}
    for code, low, high in AGE_BANDS:
        if low == 0:
            labels[code] = _("under %(n)d") % {"n": high + 1}
        elif high >= 200:
            labels[code] = _("%(n)d and older") % {"n": low}
        else:
            labels[code] = f"{low}–{high}"
    return labels


def _choices(choices: list[tuple[str, Any]]) -> Callable[[], dict[str, str]]:
    return lambda: {code: str(label) for code, label in choices}


def _phases() -> dict[str, str]:
    return {**{c: str(label) for c, label in Phase.choices}, "closed": _("case closed")}


# (code, column of the snapshot, title, labels of the values in display order or None
# for "by count")
DIMENSIONS: tuple[tuple[str, str, Promise, Callable[[], dict[str, str]] | None], ...] = (
    ("nationality", "nationality", gettext_lazy("Nationality"), None),
    ("age_band", "age_band", gettext_lazy("Age band"), age_band_labels),
    ("gender", "gender", gettext_lazy("Gender"), _choices(Gender.choices)),
    (
        "status_group",
        "status_group",
        gettext_lazy("Residence status group"),
        _choices(StatusGroup.choices),
    ),
    ("regime", "regime", gettext_lazy("Benefit regime"), _choices(BenefitRegime.choices)),
    ("district", "district", gettext_lazy("District"), None),
    ("phase", "phase", gettext_lazy("Case phase"), _phases),
)
DIMENSION_CODES = tuple(d[0] for d in DIMENSIONS)


@dataclass(frozen=True)
class DimensionTable:
    code: str
    title: str
    table: ProtectedTable
    values: tuple[str, ...]  # the row's value in the snapshot ("*": the rest)


@dataclass(frozen=True)
class Situation:
    on: dt.date
    built_at: dt.datetime
    population: str
    policy: Policy
    dimensions: tuple[DimensionTable, ...]
    new_cases: ProtectedTable  # quarters × target group / other, with totals
    caseload: ProtectedTable  # persons with an open case at the end of each quarter

    @property
    def persons(self) -> int | None:
        """All persons of the population (the grand total; None when withheld)."""
        total = self.dimensions[0].table.total if self.dimensions else None
        return total.value if total else None

    @property
    def target_group(self) -> int | None:
        """Persons 18–27 (the first column's total; None when withheld)."""
        cols = self.dimensions[0].table.col_totals if self.dimensions else None
        return cols[0].value if cols else None

    def dimension(self, code: str) -> DimensionTable:
        return next(d for d in self.dimensions if d.code == code)


def target_columns() -> list[str]:
    return [_("18–27 years"), _("other ages")]


def _unknown() -> str:
    return _("not known")


@dataclass(frozen=True)
class _Counts:
    code: str
    column: str
    order: tuple[str, ...]  # the values, in the rows' order
    row_labels: tuple[str, ...]
    rows: tuple[tuple[int, int], ...]  # target group, other ages


def _counts(
    persons: pl.DataFrame, code: str, column: str, labels: dict[str, str] | None
) -> _Counts:
    """Persons per value × target group / other ages."""
    counts = (
        persons.group_by(column)
        .agg(
            target=pl.col("target_group").sum(),
            other=(~pl.col("target_group")).sum(),
        )
        .with_columns(n=pl.col("target") + pl.col("other"))
    )
    if labels is None:  # by count; nationalities beyond the top ones as "other"
        counts = counts.sort(["n", column], descending=[True, False])
        if column == "nationality" and counts.height > TOP_NATIONALITIES + 1:
            top, rest = counts.head(TOP_NATIONALITIES), counts.slice(TOP_NATIONALITIES)
            rest_row = rest.select(
                pl.lit("*").alias(column), pl.sum("target"), pl.sum("other"), pl.sum("n")
            ).cast(counts.schema)
            counts = pl.concat([top, rest_row])
        order = counts[column].to_list()
    else:
        present = set(counts[column].to_list())
        order = [code for code in labels if code in present]
        order += sorted(present - set(order))
    by_code = {row[0]: (row[1], row[2]) for row in counts.select(column, "target", "other").rows()}
    names = labels or {}
    row_labels = []
    for value in order:
        if value == "*":
            row_labels.append(_("other nationalities"))
        elif value in ("", None):
            row_labels.append(_unknown())
        elif column == "nationality":
            row_labels.append(str(countries.name(value)) or value)
        else:
            row_labels.append(names.get(value, value))
    return _Counts(
        code,
        column,
        tuple(order),
        tuple(row_labels),
        tuple((int(by_code[v][0]), int(by_code[v][1])) for v in order),
    )


def _protect_dimensions(dims: list[_Counts], policy: Policy) -> list[ProtectedTable]:
    """All dimension tables protected as one system: they count the same persons, so
    they share the grand total and the two column totals (target group / other ages),
    and the age bands 18–20, 21–24 and 25–27 add up to the target group. Tables
    protected one by one could each be safe and still give a withheld count away
    together (a cell of one table worked out from the totals of another).

    Every table but the age bands' has the split by target group with row and column
    totals; the age bands have one column (the split would be all structural zeros)
    with the grand total."""
    values: dict[Entry, int] = {}
    equations: list[tuple[Entry, list[Entry]]] = []
    grand: Entry = ("T",)
    cols: tuple[Entry, Entry] = (("K", 0), ("K", 1))
    first = dims[0] if dims else None
    total_target = sum(r[0] for r in first.rows) if first else 0
    total_other = sum(r[1] for r in first.rows) if first else 0
    values[grand] = total_target + total_other
    values[cols[0]], values[cols[1]] = total_target, total_other
    equations.append((grand, list(cols)))
    for d, dim in enumerate(dims):
        if dim.column == "age_band":
            cells: list[Entry] = [("c", d, i, 0) for i in range(len(dim.rows))]
            for e, (t, o) in zip(cells, dim.rows, strict=True):
                values[e] = t + o
            equations.append((grand, list(cells)))
            target = [e for e, v in zip(cells, dim.order, strict=True) if v in TARGET_BANDS]
            other = [e for e, v in zip(cells, dim.order, strict=True) if v not in TARGET_BANDS]
            equations.append((cols[0], target))
            equations.append((cols[1], other))
            continue
        rows: list[Entry] = []
        for i, (t, o) in enumerate(dim.rows):
            values[("c", d, i, 0)], values[("c", d, i, 1)] = t, o
            values[("r", d, i)] = t + o
            equations.append((("r", d, i), [("c", d, i, 0), ("c", d, i, 1)]))
            rows.append(("r", d, i))
        equations.append((grand, rows))
        for j in (0, 1):
            equations.append((cols[j], [("c", d, i, j) for i in range(len(dim.rows))]))
    published = protect_linked(values, equations, policy=policy)
    tables = []
    for d, dim in enumerate(dims):
        n = len(dim.rows)
        if dim.column == "age_band":
            tables.append(
                ProtectedTable(
                    row_labels=dim.row_labels,
                    col_labels=(_("persons"),),
                    cells=tuple((published[("c", d, i, 0)],) for i in range(n)),
                    row_totals=None,
                    col_totals=(published[grand],),
                    total=None,
                    policy=policy,
                )
            )
            continue
        tables.append(
            ProtectedTable(
                row_labels=dim.row_labels,
                col_labels=tuple(target_columns()),
                cells=tuple(
                    (published[("c", d, i, 0)], published[("c", d, i, 1)]) for i in range(n)
                ),
                row_totals=tuple(published[("r", d, i)] for i in range(n)),
                col_totals=(published[cols[0]], published[cols[1]]),
                total=published[grand],
                policy=policy,
            )
        )
    return tables


def quarter_label(day: dt.date) -> str:
    return _("Q%(q)d %(year)d") % {"q": (day.month - 1) // 3 + 1, "year": day.year}


def quarters(on: dt.date, n: int = QUARTERS) -> list[dt.date]:
    """The first days of the last ``n`` quarters up to the one of ``on``."""
    q = (on.month - 1) // 3
    out = []
    year = on.year
    for _i in range(n):
        out.append(dt.date(year, q * 3 + 1, 1))
        q -= 1
        if q < 0:
            q, year = 3, year - 1
    return out[::-1]


def _quarter_end(start: dt.date) -> dt.date:
    month = start.month + 3
    nxt = dt.date(start.year + (month > 12), (month - 1) % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _in_target(months: pl.Expr) -> pl.Expr:
    return (months // 12).is_between(*TARGET_AGES)


@dataclass(frozen=True)
class TrendCounts:
    quarters: list[dt.date]
    new: list[list[int]]  # per quarter: [target group, other ages] at opening
    load: list[list[int]]  # per quarter: [target group, other ages] at its end


def trend_counts(snapshot: Snapshot) -> TrendCounts:
    """New cases per quarter and persons with an open case at each quarter's end,
    split by the target group — unprotected, for :func:`situation` to protect."""
    qs = quarters(snapshot.on)
    cases = snapshot.cases.filter(pl.col("opened_quarter") <= qs[-1])
    new = (
        cases.filter(pl.col("opened_quarter") >= qs[0])
        .with_columns(target=_in_target(pl.col("age_months_opened")))
        .group_by("opened_quarter")
        .agg(target=pl.col("target").sum(), other=(~pl.col("target")).sum())
    )
    new_by_q = {row[0]: [row[1], row[2]] for row in new.rows()}
    # Their age at the quarter's end from their age on the snapshot's day.
    ages = snapshot.persons.select("pkey", "age_months")
    load = []
    for start in qs:
        end = min(_quarter_end(start), snapshot.on)
        back = (snapshot.on.year - end.year) * 12 + snapshot.on.month - end.month
        open_then = (
            cases.filter(
                (pl.col("opened_quarter") <= start)
                & (pl.col("closed_quarter").is_null() | (pl.col("closed_quarter") > start))
            )
            .select("pkey")
            .unique()
            .join(ages, on="pkey")
            .select(_in_target(pl.col("age_months") - back).alias("target"))
        )
        t = int(open_then["target"].sum())
        load.append([t, open_then.height - t])
    return TrendCounts(qs, [new_by_q.get(q, [0, 0]) for q in qs], load)


def _trends(snapshot: Snapshot, policy: Policy) -> tuple[ProtectedTable, ProtectedTable]:
    counts = trend_counts(snapshot)
    labels = [quarter_label(q) for q in counts.quarters]
    new_cases = protect(counts.new, row_labels=labels, col_labels=target_columns(), policy=policy)
    # A stock: the quarters do not add up, so no column totals.
    caseload = protect(
        counts.load,
        row_labels=labels,
        col_labels=target_columns(),
        col_totals=False,
        policy=policy,
    )
    return new_cases, caseload


def situation(snapshot: Snapshot, *, population: str, policy: Policy) -> Situation:
    if population not in POPULATIONS:
        raise ValueError(f"unknown population {population!r}")
    persons = snapshot.persons
    if population == "open":
        persons = persons.filter(pl.col("open_case"))
    counts = [
        _counts(persons, code, column, labels() if labels else None)
        for code, column, _title, labels in DIMENSIONS
    ]
    tables = _protect_dimensions(counts, policy)
    dims = tuple(
        DimensionTable(code, str(title), table, c.order)
        for (code, _column, title, _labels), c, table in zip(
            DIMENSIONS, counts, tables, strict=True
        )
    )
    new_cases, caseload = _trends(snapshot, policy)
    return Situation(
        on=snapshot.on,
        built_at=snapshot.built_at,
        population=population,
        policy=policy,
        dimensions=dims,
        new_cases=new_cases,
        caseload=caseload,
    )
