"""The council report as a tagged PDF (WeasyPrint, PDF/UA-1) and as an XLSX workbook.

Both are rendered from the same ``CouncilReportData``: the PDF from an HTML template
with the pages' SVG charts, each followed by its data table; the workbook with one
sheet per section and the tables as numbers (withheld "•", nothing to measure "–")."""

from __future__ import annotations

import io
from dataclasses import replace

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from .report import CouncilReportData, ReportTable, Value

# XLSX sheet names: at most 31 characters, none of []:*?/\
SHEET_NAME_MAX = 31
# A longer table (the offers of a large city) is in the workbook only: pages of it
# help no council member and cost the PDF minutes.
PDF_MAX_ROWS = 200


def municipality() -> str:
    return str(getattr(settings, "LOTSE_MUNICIPALITY_NAME", "") or _("Municipality"))


def display(v: Value) -> str:
    """A value as printed: 1.234, 12,5; marks as they are."""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return number_format(v, force_grouping=True)
    if isinstance(v, float):
        return number_format(v, decimal_pos=1, force_grouping=True)
    return v


def _printable(t: ReportTable) -> ReportTable:
    return replace(
        t,
        rows=tuple(tuple(display(v) for v in row) for row in t.rows),
        footer=tuple(display(v) for v in t.footer) if t.footer else None,
    )


def render_html(data: CouncilReportData) -> str:
    sections = [replace(s, tables=tuple(_printable(t) for t in s.tables)) for s in data.sections]
    return render_to_string(
        "analytics/report/print.html",
        {
            "report": replace(data, sections=tuple(sections)),
            "municipality": municipality(),
            "max_rows": PDF_MAX_ROWS,
        },
    )


def render_pdf(data: CouncilReportData) -> bytes:
    """PDF/UA-1: tagged (structure tree from the HTML: headings, tables with header
    cells, lists), language and title set, fonts embedded."""
    from weasyprint import HTML  # loads Pango: only when a PDF is made

    pdf = HTML(string=render_html(data)).write_pdf(pdf_variant="pdf/ua-1")
    assert pdf is not None
    return bytes(pdf)


def _sheet_title(title: str, taken: set[str]) -> str:
    clean = "".join(" " if c in "[]:*?/\\" else c for c in title).strip()[:SHEET_NAME_MAX]
    name, n = clean, 2
    while name.lower() in taken:
        suffix = f" {n}"
        name = clean[: SHEET_NAME_MAX - len(suffix)] + suffix
        n += 1
    taken.add(name.lower())
    return name


def render_xlsx(data: CouncilReportData) -> bytes:
    wb = Workbook()
    bold = Font(bold=True)
    title_font = Font(bold=True, size=14)
    overview = wb.active
    assert overview is not None
    overview.title = _("Overview")
    taken = {overview.title.lower()}
    overview.append([data.title])
    overview["A1"].font = title_font
    period = f"{date_format(data.period_start, 'd.m.Y')} – {date_format(data.period_end, 'd.m.Y')}"
    for label, value in (
        (_("Municipality"), municipality()),
        (_("Period"), period),
        (_("Data as of"), date_format(data.on, "d.m.Y")),
        (_("Produced"), date_format(data.produced_at, "d.m.Y H:i")),
        (_("Minimum count k"), data.policy.k),
        (_("Rounding"), data.policy.rounding or _("none")),
    ):
        overview.append([label, value])
        overview.cell(row=overview.max_row, column=1).font = bold
    overview.append([])
    overview.append([data.policy.legend() + " " + _("–: nothing to measure.")])
    overview.append([])
    overview.append([_("Contents")])
    overview.cell(row=overview.max_row, column=1).font = bold
    for section in data.sections:
        ws = wb.create_sheet(_sheet_title(section.title, taken))
        overview.append([section.title, ws.title])
        ws.append([section.title])
        ws["A1"].font = title_font
        ws.append([section.intro])
        ws["A2"].alignment = Alignment(wrap_text=False)
        widths: dict[int, int] = {}
        for t in section.tables:
            ws.append([])
            ws.append([t.title])
            ws.cell(row=ws.max_row, column=1).font = bold
            ws.append(list(t.header))
            for col in range(1, len(t.header) + 1):
                ws.cell(row=ws.max_row, column=col).font = bold
            for row in t.rows:
                ws.append(list(row))
            if t.footer:
                ws.append(list(t.footer))
                for col in range(1, len(t.footer) + 1):
                    ws.cell(row=ws.max_row, column=col).font = bold
            if t.note:
                ws.append([t.note])
            for row in (t.header, *t.rows):
                for i, v in enumerate(row, start=1):
                    widths[i] = max(widths.get(i, 8), min(60, len(str(v)) + 2))
        for i, w in widths.items():
            ws.column_dimensions[get_column_letter(i)].width = w
        ws.append([])
        ws.append([data.policy.legend()])
    overview.column_dimensions["A"].width = 40
    overview.column_dimensions["B"].width = 40
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
