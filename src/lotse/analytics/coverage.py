"""Coverage (issue #7): persons of the target group 18–27 in case management per
persons of the target group living in the municipality, as the authorities' newest
population list reports them (``population.py``).

The numerator is taken from the situation picture as published (its target-group
column, open cases), never counted anew: protecting the same counts twice, each time
differently, could let the two versions together give a withheld count away. The
list's counts are protected as well (a list may hold small groups), and a share is
shown only where both of its counts are published.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from django.utils.translation import gettext as _

from lotse.core.disclosure import Cell, Policy, ProtectedTable, protect_counts

from .situation import Situation
from .snapshot import TARGET_BANDS


@dataclass(frozen=True)
class CoverageRow:
    label: str
    in_case_management: Cell
    in_population: Cell

    @property
    def share(self) -> float | None:
        """Percent, or None when a count is withheld or the population is 0."""
        a, b = self.in_case_management.value, self.in_population.value
        if a is None or not b:
            return None
        return 100 * a / b


@dataclass(frozen=True)
class CoverageTable:
    code: str  # "district" or "status_group"
    title: str
    rows: tuple[CoverageRow, ...]


@dataclass(frozen=True)
class Coverage:
    source: str
    reference_date: dt.date
    tables: tuple[CoverageTable, ...]


def _target_population(counts: pl.DataFrame, column: str) -> dict[str, int]:
    """The list's target group (the 18–27 bands) per value of ``column``, over all
    values of the other breakdown: per band the list's "all" row where it has one,
    else the sum of its specific rows; only values with every band."""
    other = "status_group" if column == "district" else "district"
    per_band = (
        counts.filter(pl.col("age_band").is_in(TARGET_BANDS))
        .group_by(column, "age_band")
        .agg(
            whole=pl.col("count").filter(pl.col(other) == "").sum(),
            has_whole=(pl.col(other) == "").any(),
            parts=pl.col("count").filter(pl.col(other) != "").sum(),
        )
        .with_columns(n=pl.when(pl.col("has_whole")).then("whole").otherwise("parts"))
        .group_by(column)
        .agg(pl.col("n").sum(), pl.col("age_band").n_unique().alias("bands"))
        .filter(pl.col("bands") == len(TARGET_BANDS))
    )
    return {value: int(n) for value, n, _bands in per_band.rows()}


def _table(sit: Situation, code: str, counts: pl.DataFrame, policy: Policy) -> CoverageTable | None:
    dim = sit.dimension(code)
    population = _target_population(counts, code)
    if not [value for value in population if value]:  # no breakdown by this dimension
        return None
    # District names in the list; status groups as codes in both.
    keys = [v for v in dim.values if v not in ("", "*") and v in population]
    if not keys:
        return None
    index = {v: i for i, v in enumerate(dim.values)}
    cases = [dim.table.cells[index[v]][0] for v in keys]
    labels = [dim.table.row_labels[index[v]] for v in keys]
    listed = protect_counts(
        [population[v] for v in keys], labels=labels, column=code, total=False, policy=policy
    )
    rows = [
        CoverageRow(label, case_cell, list_row[0])
        for label, case_cell, list_row in zip(labels, cases, listed.cells, strict=True)
    ]
    total = population.get("")
    if total is not None and dim.table.col_totals:
        whole: ProtectedTable = protect_counts(
            [total], labels=["*"], column=code, total=False, policy=policy
        )
        rows.append(
            CoverageRow(_("whole municipality"), dim.table.col_totals[0], whole.cells[0][0])
        )
    return CoverageTable(code, dim.title, tuple(rows))


def coverage(
    sit: Situation, *, source: str, reference_date: dt.date, counts: pl.DataFrame, policy: Policy
) -> Coverage | None:
    """``sit`` must count persons with an open case (population "open")."""
    if sit.population != "open":
        raise ValueError("coverage is measured on the persons with an open case")
    tables = [
        t for t in (_table(sit, c, counts, policy) for c in ("district", "status_group")) if t
    ]
    if not tables:
        return None
    return Coverage(source, reference_date, tuple(tables))
