"""/analytics: the statistics of the analytics pages (issue #7), aggregates only.

Every table is published through the disclosure control, as on the pages: a count is
`null` when withheld (below k, or a count from which such a one could be worked out);
`disclosure` says k and the rounding. Analysts and coordinators (`ANALYTICS_VIEW`);
every call is recorded in the access log as one aggregate read, without a person.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from lotse.analytics import monitor, selectors
from lotse.analytics.flows import COLUMNS, flows_get
from lotse.analytics.report import report_data_get
from lotse.core.disclosure import Policy, ProtectedTable
from lotse.core.roles import Perm

from .auth import acting
from .errors import ERRORS

router = Router(tags=["analytics"])


class TableOut(Schema):
    rows: list[str]
    columns: list[str]
    cells: list[list[int | None]] = Field(description="rows × columns; null: withheld")
    row_totals: list[int | None] | None = Field(description="null when the table has none")
    column_totals: list[int | None] | None
    total: int | None = Field(description="the grand total; null when withheld or none")


class DisclosureOut(Schema):
    k: int = Field(description="counts below k are withheld")
    rounding: int = Field(description="published counts rounded to multiples of this; 0: none")
    legend: str


class DimensionOut(Schema):
    code: str = Field(
        description="nationality, age_band, gender, status_group, regime, district, phase"
    )
    title: str
    table: TableOut


class SituationOut(Schema):
    on: dt.date
    data_read_at: dt.datetime
    population: str = Field(description="open: persons with an open case; all: everybody")
    persons: int | None
    target_group: int | None = Field(description="persons aged 18–27")
    dimensions: list[DimensionOut]
    new_cases: TableOut = Field(description="new cases per quarter, by age at opening")
    caseload: TableOut = Field(description="persons with an open case at each quarter's end")
    disclosure: DisclosureOut


def table_out(table: ProtectedTable) -> dict[str, Any]:
    def values(cells: Any) -> list[int | None] | None:
        return None if cells is None else [c.value for c in cells]

    return {
        "rows": list(table.row_labels),
        "columns": list(table.col_labels),
        "cells": [[c.value for c in row] for row in table.cells],
        "row_totals": values(table.row_totals),
        "column_totals": values(table.col_totals),
        "total": table.total.value if table.total else None,
    }


def disclosure_out(policy: Policy) -> dict[str, Any]:
    return {"k": policy.k, "rounding": policy.rounding, "legend": policy.legend()}


@router.get("/analytics/situation", response={200: SituationOut, **ERRORS})
def situation(
    request: HttpRequest, population: Query[Literal["open", "all"]] = "open"
) -> dict[str, Any]:
    """The situation picture: persons by nationality, age band, gender, residence
    status group, benefit regime, district and case phase, each split into the target
    group 18–27 and other ages, and the trends per quarter."""
    sit = selectors.situation_get(actor=acting(request, Perm.ANALYTICS_VIEW), population=population)
    return {
        "on": sit.on,
        "data_read_at": sit.built_at,
        "population": sit.population,
        "persons": sit.persons,
        "target_group": sit.target_group,
        "dimensions": [
            {"code": d.code, "title": d.title, "table": table_out(d.table)} for d in sit.dimensions
        ],
        "new_cases": table_out(sit.new_cases),
        "caseload": table_out(sit.caseload),
        "disclosure": disclosure_out(sit.policy),
    }


class GapCellOut(Schema):
    need_type: str = Field(description="code of the need type")
    target_group: str = Field(description="code of the target group")
    classification: str = Field(
        description="legally_required, locally_necessary, desirable, or empty: not classified"
    )
    demand: int | None = Field(description="persons with the open need; null: withheld")
    free_places: int = Field(description="free places in accessible offers with a limit")
    offers_without_limit: int
    accessible_offers: list[int] = Field(description="ids of the accessible offers")
    structural: bool = Field(description="no accessible offer at all")
    unmet: int | None = Field(description="demand the free places cannot take; null: withheld")


class NamedOut(Schema):
    code: str
    name: str


class GapsOut(Schema):
    on: dt.date
    need_types: list[NamedOut]
    target_groups: list[NamedOut]
    cells: list[GapCellOut] = Field(description="sorted as the report: by classification")
    disclosure: DisclosureOut


@router.get("/analytics/gaps", response={200: GapsOut, **ERRORS})
def gaps(request: HttpRequest) -> dict[str, Any]:
    """The gap matrix: persons with an open need per need type and target group against
    the free places in the offers the group may use; structural gaps; sorted by the
    classification (legally required first)."""
    matrix = selectors.gaps_get(actor=acting(request, Perm.ANALYTICS_VIEW))
    return {
        "on": matrix.on,
        "need_types": [{"code": n.code, "name": n.name} for n in matrix.needs],
        "target_groups": [{"code": g.code, "name": g.name} for g in matrix.groups],
        "cells": [
            {
                "need_type": c.need.code,
                "target_group": c.group.code,
                "classification": c.level,
                "demand": c.demand.value,
                "free_places": c.places,
                "offers_without_limit": c.unlimited,
                "accessible_offers": list(c.offers),
                "structural": c.structural,
                "unmet": c.unmet,
            }
            for c in matrix.report()
        ],
        "disclosure": disclosure_out(matrix.policy),
    }


class QualityRowOut(Schema):
    id: int = Field(description="offer or provider id")
    name: str
    category: str = Field(description="offer category; empty for providers")
    ended: int | None = Field(description="participations ended in the window; null: withheld")
    completed: int | None
    aborted: int | None
    transferred: int | None
    completion_percent: float | None
    dropout_percent: float | None
    transition_percent: float | None = Field(description="exit or next step within 6 months")
    waiting_days_median: float | None
    category_median_completion: float | None
    category_median_dropout: float | None
    category_median_transition: float | None
    category_median_waiting: float | None


class QualityOut(Schema):
    since: dt.date
    on: dt.date
    offers: list[QualityRowOut]
    providers: list[QualityRowOut]
    disclosure: DisclosureOut


def _quality_row(r: Any, name: str) -> dict[str, Any]:
    return {
        "id": r.key,
        "name": name,
        "category": r.category,
        "ended": r.ended.value,
        "completed": r.completed.value,
        "aborted": r.aborted.value,
        "transferred": r.transferred.value,
        "completion_percent": r.completion,
        "dropout_percent": r.dropout,
        "transition_percent": r.transition,
        "waiting_days_median": r.waiting_days,
        "category_median_completion": r.median_completion,
        "category_median_dropout": r.median_dropout,
        "category_median_transition": r.median_transition,
        "category_median_waiting": r.median_waiting,
    }


@router.get("/analytics/quality", response={200: QualityOut, **ERRORS})
def offer_quality(request: HttpRequest) -> dict[str, Any]:
    """Offer quality per offer and provider (completion, drop-out, exit or next step
    within 6 months, waiting time) with the medians to compare with."""
    view = selectors.quality_get(actor=acting(request, Perm.ANALYTICS_VIEW))
    q = view.quality
    return {
        "since": q.since,
        "on": q.on,
        "offers": [_quality_row(r, view.offer_names.get(r.key, ("", ""))[0]) for r in q.by_offer],
        "providers": [_quality_row(r, view.provider_names.get(r.key, "")) for r in q.by_provider],
        "disclosure": disclosure_out(q.policy),
    }


class GoalOut(Schema):
    id: int
    level: str = Field(description="principle, framework or result")
    title: str
    description: str
    indicator: str = Field(description="the indicator type of a result goal; empty otherwise")
    params: dict[str, Any]
    unit: str = Field(description="percent or days for result goals")
    value: float | None = Field(description="today; null: withheld or not measurable")
    target_value: float | None
    target_date: dt.date | None
    higher_is_better: bool
    met: bool | None
    trend: list[tuple[dt.date, float | None]] = Field(
        description="the value at the ends of the last four quarters and today"
    )
    children: list[GoalOut]


def _goal(node: Any) -> dict[str, Any]:
    g = node.goal
    return {
        "id": g.pk,
        "level": g.level,
        "title": g.title,
        "description": g.description,
        "indicator": g.indicator,
        "params": g.params,
        "unit": node.unit,
        "value": node.value.value if node.value else None,
        "target_value": g.target_value,
        "target_date": g.target_date,
        "higher_is_better": g.higher_is_better,
        "met": node.met,
        "trend": list(node.trend),
        "children": [_goal(c) for c in node.children],
    }


@router.get("/analytics/goals", response={200: list[GoalOut], **ERRORS})
def goals(request: HttpRequest) -> list[dict[str, Any]]:
    """The goal tree with every result goal's indicator today and its trend."""
    return [_goal(n) for n in selectors.goal_tree_get(actor=acting(request, Perm.ANALYTICS_VIEW))]


class FlowNodeOut(Schema):
    code: str = Field(
        description="status group (arrival; empty: not recorded), measure group, "
        "none / no_further, or the state now"
    )
    label: str
    persons: int | None = Field(description="null: withheld")


class FlowStageOut(Schema):
    code: str = Field(description="arrival, first, later, now")
    title: str
    nodes: list[FlowNodeOut] = Field(description="nodes without any person are left out")


class FlowTransitionOut(Schema):
    source: str = Field(description="code of the earlier stage")
    target: str = Field(description="code of the later stage")
    rows: list[str] = Field(description="node codes of the rows (the earlier stage)")
    columns: list[str] = Field(description="node codes of the columns (the later stage)")
    table: TableOut = Field(
        description="persons per way from × to; row and column totals are the node sizes"
    )


class FlowsOut(Schema):
    on: dt.date
    target_group: str | None = Field(description="code of the target group; null: everybody")
    young: bool = Field(description="only persons aged 18–27")
    persons: int | None = Field(description="persons counted; null: withheld")
    stages: list[FlowStageOut]
    transitions: list[FlowTransitionOut]
    disclosure: DisclosureOut


@router.get("/analytics/flows", response={200: FlowsOut, **ERRORS})
def flows(
    request: HttpRequest, target_group: str | None = None, young: bool = False
) -> dict[str, Any]:
    """The flows (Sankey): everybody with a case, from the residence status group at
    arrival through the first and the latest later measure to where they are now;
    optionally of one target group (its code; 404 if unknown) and/or 18–27 only. The
    whole chain is protected jointly: a link or node is null when withheld."""
    actor = acting(request, Perm.ANALYTICS_VIEW)
    try:
        view = flows_get(actor=actor, target_group=target_group or None, young=young)
    except KeyError:
        raise Http404 from None
    f = view.flows
    return {
        "on": f.on,
        "target_group": view.group.code if view.group else None,
        "young": view.young,
        "persons": f.persons.value,
        "stages": [
            {
                "code": COLUMNS[s],
                "title": f.titles[s],
                "nodes": [
                    {"code": code, "label": label, "persons": cell.value}
                    for (code, label), cell in zip(nodes, f.nodes[s], strict=True)
                ],
            }
            for s, nodes in enumerate(f.stages)
        ],
        "transitions": [
            {
                "source": COLUMNS[t],
                "target": COLUMNS[t + 1],
                "rows": list(f.row_codes[t]),
                "columns": [code for code, _label in f.stages[t + 1]],
                "table": table_out(table),
            }
            for t, table in enumerate(f.transitions)
        ],
        "disclosure": disclosure_out(f.policy),
    }


class ReportTableOut(Schema):
    code: str = Field(description="stable code of the table, as in the golden files")
    title: str
    header: list[str]
    rows: list[list[str | int | float]] = Field(
        description="first the row's label; counts as numbers, rates with one decimal; "
        '"•" withheld, "–" nothing to measure'
    )
    footer: list[str | int | float] | None = Field(description="the totals row, if any")
    count_columns: list[int] = Field(description="columns that count persons")


class ReportSectionOut(Schema):
    code: str = Field(description="situation, goals, gaps, quality, careers, flows")
    title: str
    intro: str
    tables: list[ReportTableOut]


class ReportOut(Schema):
    title: str
    period_start: dt.date
    period_end: dt.date
    disclosure: DisclosureOut
    sections: list[ReportSectionOut]


@router.get("/analytics/report", response={200: ReportOut, **ERRORS})
def report(request: HttpRequest, period_start: dt.date, period_end: dt.date) -> dict[str, Any]:
    """The tables of the council report for a period (the PDF and the workbook hold the
    same): computed from the snapshot of the period's last day, every count
    disclosure-controlled. 422 with the field when the period has not ended or its
    first day is after its last. Logged as an aggregate export."""
    data = report_data_get(
        actor=acting(request, Perm.ANALYTICS_VIEW),
        period_start=period_start,
        period_end=period_end,
    )
    return {
        "title": data.title,
        "period_start": data.period_start,
        "period_end": data.period_end,
        "disclosure": disclosure_out(data.policy),
        "sections": [
            {
                "code": s.code,
                "title": s.title,
                "intro": s.intro,
                "tables": [
                    {
                        "code": t.code,
                        "title": t.title,
                        "header": list(t.header),
                        "rows": [list(r) for r in t.rows],
                        "footer": list(t.footer) if t.footer else None,
                        "count_columns": list(t.count_columns),
                    }
                    for t in s.tables
                ],
            }
            for s in data.sections
        ],
    }


@router.get("/analytics/monitoring", response={200: dict[str, Any], **ERRORS})
def monitoring(request: HttpRequest) -> dict[str, Any]:
    """The state monitoring data set of this municipality for the four quarters up to
    today, exactly as `lotse monitor export` writes it (schema version 1,
    `analytics/monitor_schema.json`, described in docs/analytics.md). 422 when the
    municipality is not configured (LOTSE_MUNICIPALITY_CODE / _NAME). Logged as an
    aggregate export."""
    actor = acting(request, Perm.ANALYTICS_VIEW)
    today = timezone.localdate()
    start, end = monitor.default_period(today)
    try:
        code, name = monitor.municipality_configured(None, None)
    except monitor.MonitorError as exc:
        raise DjangoValidationError({"municipality": exc.messages}) from None
    return monitor.export_logged(
        actor=actor, code=code, name=name, today=today, period_start=start, period_end=end
    )
