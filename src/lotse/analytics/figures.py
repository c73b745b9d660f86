"""The charts of the analytics, built the same way for the pages and the council
report (server-side SVG with title, description and a table beside each)."""

from __future__ import annotations

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from . import charts
from .flows import Flows
from .gaps import GapMatrix
from .situation import Situation


def situation_sections(sit: Situation) -> list[dict[str, object]]:
    sections: list[dict[str, object]] = []
    for dim in sit.dimensions:
        totals = dim.table.row_totals or tuple(row[0] for row in dim.table.cells)
        html_id = dim.code.replace("_", "-")
        sections.append(
            {
                "id": html_id,
                "title": dim.title,
                "table": dim.table,
                "chart": charts.bar_chart(
                    chart_id=f"chart-{html_id}",
                    title=_("Persons by %(dimension)s") % {"dimension": dim.title},
                    description=_(
                        "Bar chart of the persons per value; the table beside it has the "
                        "same figures, split into the target group 18–27 and other ages."
                    ),
                    labels=list(dim.table.row_labels),
                    values=[c.value for c in totals],
                ),
            }
        )
    return sections


def trend_chart(chart_id: str, title: str, sit: Situation, new: bool) -> SafeString:
    table = sit.new_cases if new else sit.caseload
    totals = table.row_totals or ()
    return charts.line_chart(
        chart_id=chart_id,
        title=title,
        description=_(
            "Line chart per quarter, one line for all persons and one for the target group "
            "18–27; the table beside it has the figures."
        ),
        x_labels=list(table.row_labels),
        series=[
            (_("all ages"), [c.value for c in totals]),
            (table.col_labels[0], [row[0].value for row in table.cells]),
        ],
        y_label=_("persons"),
    )


def gap_heat_map(matrix: GapMatrix) -> SafeString:
    return charts.heat_map(
        chart_id="chart-gaps",
        title=_("Unmet demand by need type and target group"),
        description=_(
            "Heat map: the darker a cell, the more persons with an open need than free "
            "places in accessible offers. S marks a structural gap: no accessible offer at "
            "all. The table below has every figure."
        ),
        row_labels=[n.name for n in matrix.needs],
        col_labels=[g.name for g in matrix.groups],
        values=[[c.unmet for c in row] for row in matrix.cells],
        marks=[["S" if c.structural else "" for c in row] for row in matrix.cells],
        # No links in the chart: an image must not hold controls (axe nested-
        # interactive); the report table below links every cell.
    )


def flows_sankey(flows: Flows, chart_id: str = "chart-flows") -> SafeString:
    return charts.sankey(
        chart_id=chart_id,
        title=_(
            "Integration chains: status at arrival, first measure, later measure, where "
            "they are now"
        ),
        description=_(
            "Flow diagram in four columns: the residence status group at arrival, the "
            "first measure, the latest later measure and where the persons are now. The "
            "width of a band is the number of persons taking that way; a dashed band with "
            "• is withheld. The tables below have every figure."
        ),
        stages=flows.labels(),
        flows=flows.sankey_flows(),
        node_values=[[c.value for c in stage] for stage in flows.nodes],
    )
