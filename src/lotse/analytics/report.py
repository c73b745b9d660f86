"""The council report (Berichtsvorlage, issue #7): situation, goals and indicators,
gaps, offer quality and measure careers for a period, as one set of tables.

The tables are built from the snapshot of the period's last day with the same
functions as the pages, so every count has gone through the disclosure control
(withheld: "•"). ``report_render`` turns them into a tagged PDF and an XLSX workbook;
the golden-file tests compare ``CouncilReportData.as_data()`` on a fixed synthetic
seed. Producing a report is one aggregate entry in the access log, downloading it
another.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import polars as pl
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from lotse.core.disclosure import (
    SUPPRESSED_MARK,
    Cell,
    Policy,
    ProtectedTable,
    current_policy,
    protect,
)
from lotse.core.models import AccessAction, Membership
from lotse.core.roles import Perm
from lotse.core.services import access_log_record_aggregate
from lotse.offers.codes import OfferCategory
from lotse.referrals.careers_services import careers_rules_active

from . import figures, snapshot
from .flows import flows
from .models import CouncilReport, GoalLevel, IndicatorType, NeedLevel
from .selectors import (
    GAP_CATEGORIES,
    GOAL_CATEGORIES,
    QUALITY_CATEGORIES,
    SITUATION_CATEGORIES,
    GoalNode,
    coverage_of,
    gaps_of,
    goal_tree_of,
    quality_of,
    situation_of,
)

# A value of a report table: a label, a count, a rate, "•" (withheld) or "–" (nothing
# to measure).
Value = str | int | float
NOTHING = "–"
CAREER_CATEGORIES = ("participations",)
REPORT_CATEGORIES = tuple(
    sorted({*SITUATION_CATEGORIES, *GAP_CATEGORIES, *QUALITY_CATEGORIES, *GOAL_CATEGORIES})
)


@dataclass(frozen=True)
class ReportTable:
    code: str  # stable: the golden files and the XLSX refer to it
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[Value, ...], ...]
    footer: tuple[Value, ...] | None = None  # the totals row
    note: str = ""
    chart: SafeString | None = None  # the same SVG as on the page
    numeric_from: int = 1  # columns from here on are figures (right-aligned)
    count_columns: tuple[int, ...] = ()  # columns that count persons (disclosure-controlled)

    def as_data(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "header": list(self.header),
            "rows": [list(r) for r in self.rows],
            "footer": list(self.footer) if self.footer else None,
        }


@dataclass(frozen=True)
class ReportSection:
    code: str
    title: str
    intro: str
    tables: tuple[ReportTable, ...]


@dataclass(frozen=True)
class CouncilReportData:
    title: str
    period_start: dt.date
    period_end: dt.date
    on: dt.date  # the snapshot's day: the period's last
    produced_at: dt.datetime
    policy: Policy
    sections: tuple[ReportSection, ...] = field(default=())

    def as_data(self) -> dict[str, Any]:
        """The tables alone, for golden files and machine comparison."""
        return {
            "period": [self.period_start.isoformat(), self.period_end.isoformat()],
            "k": self.policy.k,
            "rounding": self.policy.rounding,
            "sections": {s.code: {t.code: t.as_data() for t in s.tables} for s in self.sections},
        }


def _v(cell: Cell | None) -> Value:
    if cell is None or cell.value is None:
        return SUPPRESSED_MARK
    return cell.value


def _rate(x: float | None) -> Value:
    return SUPPRESSED_MARK if x is None else round(x, 1)


def table_from(
    code: str, title: str, head: str, t: ProtectedTable, *, note: str = "", chart: Any = None
) -> ReportTable:
    """A protected table as a report table (row totals as the last column, column
    totals as the footer)."""
    header = (head, *t.col_labels, *([_("Total")] if t.row_totals else []))
    rows = tuple(
        (label, *(_v(c) for c in cells), *([_v(total)] if total is not None else []))
        for label, cells, total in t.rows()
    )
    footer = None
    if t.col_totals is not None:
        footer = (_("Total"), *(_v(c) for c in t.col_totals), *([_v(t.total)] if t.total else []))
    return ReportTable(
        code, title, header, rows, footer, note, chart, count_columns=tuple(range(1, len(header)))
    )


# --- the sections ------------------------------------------------------------------------


def _situation_section(snap: snapshot.Snapshot, policy: Policy) -> ReportSection:
    sit = situation_of(snap, "open", policy)
    tables = [
        table_from(
            f"situation_{s['id']}".replace("-", "_"),
            str(s["title"]),
            str(s["title"]),
            s["table"],  # type: ignore[arg-type]
            chart=s["chart"],
        )
        for s in figures.situation_sections(sit)
    ]
    new_title = _("New cases per quarter")
    load_title = _("Persons in case management at the end of the quarter")
    tables.append(
        table_from(
            "new_cases",
            new_title,
            _("Quarter"),
            sit.new_cases,
            note=_("Age when the case was opened."),
            chart=figures.trend_chart("chart-new-cases", new_title, sit, True),
        )
    )
    tables.append(
        table_from(
            "caseload",
            load_title,
            _("Quarter"),
            sit.caseload,
            note=_("The quarters do not add up: the same persons are counted in several."),
            chart=figures.trend_chart("chart-caseload", load_title, sit, False),
        )
    )
    cov = coverage_of(sit)
    intro = _(
        "Persons with an open case on %(on)s: %(n)s, of them %(t)s in the target group 18–27."
    ) % {
        "on": date_format(snap.on, "d.m.Y"),
        "n": SUPPRESSED_MARK if sit.persons is None else sit.persons,
        "t": SUPPRESSED_MARK if sit.target_group is None else sit.target_group,
    }
    if cov is not None:
        intro += " " + _(
            "Coverage against the list “%(source)s” of %(date)s: persons 18–27 in case "
            "management per persons 18–27 in the list."
        ) % {"source": cov.source, "date": date_format(cov.reference_date, "d.m.Y")}
        for ct in cov.tables:
            tables.append(
                ReportTable(
                    f"coverage_{ct.code}",
                    ct.title,
                    (ct.title, _("In case management"), _("In the list"), _("Coverage in %")),
                    tuple(
                        (r.label, _v(r.in_case_management), _v(r.in_population), _rate(r.share))
                        for r in ct.rows
                    ),
                    count_columns=(1, 2),
                )
            )
    return ReportSection("situation", _("Situation picture"), intro, tuple(tables))


def _flat_goals(nodes: Sequence[GoalNode]) -> list[GoalNode]:
    """The tree in reading order: each goal, then the goals below it."""
    out: list[GoalNode] = []
    for node in nodes:
        out.append(node)
        out.extend(_flat_goals(node.children))
    return out


def _goal_value(value: float | None, unit: str) -> Value:
    if value is None:
        return SUPPRESSED_MARK
    return round(value, 1) if unit == "percent" else round(value)


def _goals_section(snap: snapshot.Snapshot, policy: Policy) -> ReportSection:
    nodes = _flat_goals(goal_tree_of(snap, policy))
    # Every measured goal has the same trend days (quarter ends, then the day).
    days = next(([d for d, _value in n.trend] for n in nodes if n.trend), [])
    header = (
        _("Goal"),
        _("Level"),
        _("Indicator"),
        _("Unit"),
        *(date_format(d, "d.m.Y") for d in days),
        _("Target"),
        _("Status"),
    )
    units = {"percent": "%", "days": _("days")}
    rows: list[tuple[Value, ...]] = []
    for node in nodes:
        goal = node.goal
        level = str(GoalLevel(goal.level).label)
        if not goal.indicator:
            rows.append(
                (goal.title, level, NOTHING, NOTHING, *([NOTHING] * len(days)), NOTHING, NOTHING)
            )
            continue
        values = [_goal_value(v, node.unit) for _d, v in node.trend]
        values += [NOTHING] * (len(days) - len(values))
        if node.met is None:
            status = (
                _("cannot be measured")
                if node.value is None or node.value.value is None
                else _("no target value set")
            )
        else:
            status = _("target reached") if node.met else _("not reached yet")
        target: Value = NOTHING
        if goal.target_value is not None:
            target = ("≥ " if goal.higher_is_better else "≤ ") + f"{goal.target_value:g}".replace(
                ".", ","
            )
        rows.append(
            (
                goal.title,
                level,
                str(IndicatorType(goal.indicator).label),
                units.get(node.unit, node.unit),
                *values,
                target,
                status,
            )
        )
    table = ReportTable(
        "goals",
        _("Goals and indicators"),
        header,
        tuple(rows),
        note=_("Values at the ends of the last four quarters and on the report's day."),
        numeric_from=4,
    )
    return ReportSection(
        "goals",
        _("Goals and indicators"),
        _(
            "Principle, framework and result goals; each result goal is measured by an "
            "indicator computed from the data."
        ),
        (table,),
    )


def _gaps_section(snap: snapshot.Snapshot, policy: Policy) -> ReportSection:
    matrix = gaps_of(snap, policy)
    levels = dict(NeedLevel.choices)
    rows = tuple(
        (
            c.need.name,
            c.group.name,
            str(levels.get(c.level, _("not classified"))) if c.level else _("not classified"),
            _v(c.demand),
            c.places + 0,
            c.unlimited,
            _("none (S)") if c.structural else len(c.offers),
            SUPPRESSED_MARK if c.unmet is None else c.unmet,
        )
        for c in matrix.report()
    )
    table = ReportTable(
        "gaps",
        _("Gaps by classification"),
        (
            _("Need type"),
            _("Target group"),
            _("Classification"),
            _("Persons with the need"),
            _("Free places"),
            _("Offers without a limit"),
            _("Accessible offers"),
            _("Unmet demand"),
        ),
        rows,
        note=_(
            "S: structural gap — no accessible offer. Free places and offers are not "
            "counts of persons."
        ),
        chart=figures.gap_heat_map(matrix),
        numeric_from=3,
        count_columns=(3,),
    )
    return ReportSection(
        "gaps",
        _("Gaps in the offer landscape"),
        _(
            "Demand: persons with an open case and an open need of the type. Supply: free "
            "places in active offers the target group may use, by the offer's conditions "
            "and by law. Sorted: legally required first, then locally necessary, desirable "
            "and not classified."
        ),
        (table,),
    )


def _quality_section(snap: snapshot.Snapshot, policy: Policy) -> ReportSection:
    view = quality_of(snap, policy)
    q = view.quality
    categories = dict(OfferCategory.choices)
    head = (
        _("Ended"),
        _("Completed in %"),
        _("Dropped out in %"),
        _("Exit or next step within 6 months in %"),
        _("Waiting days (median)"),
    )

    def figures_of(r: Any) -> tuple[Value, ...]:
        return (
            _v(r.ended),
            _rate(r.completion),
            _rate(r.dropout),
            _rate(r.transition),
            _rate(r.waiting_days),
        )

    providers = sorted(
        ((view.provider_names.get(r.key, "?"), r) for r in q.by_provider), key=lambda p: p[0]
    )
    offers = sorted(
        (
            (
                view.offer_names.get(r.key, ("?", "?")),
                str(categories.get(r.category, r.category)),
                r,
            )
            for r in q.by_offer
        ),
        key=lambda o: (o[1], o[0][0]),
    )
    by_provider = ReportTable(
        "quality_providers",
        _("By provider"),
        (_("Provider"), *head),
        tuple((name, *figures_of(r)) for name, r in providers),
        count_columns=(1,),
    )
    by_offer = ReportTable(
        "quality_offers",
        _("By offer"),
        (_("Offer"), _("Provider"), _("Category"), *head, _("Category median: completed in %")),
        tuple(
            (names[0], names[1], category, *figures_of(r), _rate(r.median_completion))
            for names, category, r in offers
        ),
        numeric_from=3,
        count_columns=(3,),
    )
    return ReportSection(
        "quality",
        _("Offer quality"),
        _(
            "Participations that ended between %(since)s and %(on)s. Offers and providers "
            "with too few ended participations are left out."
        )
        % {"since": date_format(q.since, "d.m.Y"), "on": date_format(q.on, "d.m.Y")},
        (by_provider, by_offer),
    )


def career_table(
    flags: pl.DataFrame, start: dt.date, end: dt.date, names: dict[str, str], policy: Policy
) -> ProtectedTable:
    """Persons with a measure-career flag raised in the period, by rule, and of them
    those resolved by the period's end (a person counts as resolved for a rule when
    all their flags of it raised in the period are). The two columns do not add up to
    anything published (the unresolved are not shown), so each is protected as a
    column with its total; a column of zeros (nothing resolved yet) is withheld, the
    other stays readable."""
    raised = flags.filter(pl.col("raised_on").is_between(start, end))
    per_person = raised.group_by("rule", "pkey").agg(
        resolved=(pl.col("resolved_on").is_not_null() & (pl.col("resolved_on") <= end)).all()
    )
    counts = per_person.group_by("rule").agg(raised=pl.len(), resolved=pl.col("resolved").sum())
    by_rule = {r["rule"]: (r["raised"], r["resolved"]) for r in counts.iter_rows(named=True)}
    codes = [code for code in names if code in by_rule]
    return protect(
        [list(by_rule[c]) for c in codes],
        row_labels=[names[c] for c in codes],
        col_labels=[_("persons with a flag"), _("of them resolved")],
        row_totals=False,
        policy=policy,
    )


def _careers_section(snap: snapshot.Snapshot, policy: Policy, start: dt.date) -> ReportSection:
    names = {r.code: _(r.name) for r in careers_rules_active()}
    table = career_table(snap.flags, start, snap.on, names, policy)
    return ReportSection(
        "careers",
        _("Measure careers"),
        _(
            "Persons for whom the detection rules raised a flag in the period (e.g. three "
            "measures without an exit, a gap without a plan step, a long wait), and whether "
            "the case manager has resolved it by the period's end. A person may count "
            "under several rules; the sum counts each person once per rule."
        ),
        (table_from("careers", _("Flags raised in the period by rule"), _("Rule"), table),),
    )


def _flows_section(snap: snapshot.Snapshot, policy: Policy) -> ReportSection:
    tables: list[ReportTable] = []
    for young, suffix, scope in (
        (False, "all", _("everybody with a case")),
        (True, "young", _("only 18–27 years")),
    ):
        result = snapshot.memoized(
            snap,
            ("flows", None, young, policy, get_language()),
            partial(flows, snap, group=None, young=young, policy=policy),
        )
        chart = (
            figures.flows_sankey(result, f"chart-flows-{suffix}")
            if result.transitions[0].row_labels
            else None
        )
        for s, t in enumerate(result.transitions):
            if not t.row_labels:
                continue
            tables.append(
                table_from(
                    f"flows_{suffix}_{s}",
                    f"{result.titles[s]} → {result.titles[s + 1]} ({scope})",
                    result.titles[s],
                    t,
                    chart=chart if s == 0 else None,
                )
            )
    return ReportSection(
        "flows",
        _("Integration chains"),
        _(
            "From the residence status at arrival through the first and the latest later "
            "measure to where the persons are now, for everybody with a case and for the "
            "target group 18–27. Rows: where the persons were; columns: where they went "
            "next."
        ),
        tuple(tables),
    )


# --- producing ---------------------------------------------------------------------------


def validate_period(start: dt.date | None, end: dt.date | None, today: dt.date) -> None:
    """German messages by field; ValidationError when the period cannot be reported."""
    errors: dict[str, str] = {}
    if start is None:
        errors["period_start"] = _("Please enter the first day of the period.")
    if end is None:
        errors["period_end"] = _("Please enter the last day of the period.")
    elif end > today:
        errors["period_end"] = _("The period must have ended: the last day is today at the latest.")
    if start is not None and end is not None and start > end:
        errors["period_start"] = _("The first day must not be after the last day.")
    elif start is not None and end is not None and (end - start).days > 366 * 5:
        errors["period_start"] = _("A report covers at most five years.")
    if errors:
        raise ValidationError(errors)


def last_half_year(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last completed half-year: the usual period of a council report."""
    if today.month > 6:
        return dt.date(today.year, 1, 1), dt.date(today.year, 6, 30)
    return dt.date(today.year - 1, 7, 1), dt.date(today.year - 1, 12, 31)


def report_title(start: dt.date, end: dt.date) -> str:
    return _("Council report integration management %(start)s–%(end)s") % {
        "start": date_format(start, "d.m.Y"),
        "end": date_format(end, "d.m.Y"),
    }


def build_report(
    snap: snapshot.Snapshot, *, period_start: dt.date, policy: Policy
) -> CouncilReportData:
    """The report's tables from a snapshot (no permission, no log)."""
    return CouncilReportData(
        title=report_title(period_start, snap.on),
        period_start=period_start,
        period_end=snap.on,
        on=snap.on,
        produced_at=timezone.now(),
        policy=policy,
        sections=(
            _situation_section(snap, policy),
            _goals_section(snap, policy),
            _gaps_section(snap, policy),
            _quality_section(snap, policy),
            _careers_section(snap, policy, period_start),
            _flows_section(snap, policy),
        ),
    )


def report_data_get(
    *, actor: Membership | None, period_start: dt.date, period_end: dt.date
) -> CouncilReportData:
    """The report's tables for a period, for an analyst or coordinator; one aggregate
    export entry in the access log."""
    if actor is None or not actor.has_perm(Perm.ANALYTICS_VIEW):
        raise PermissionDenied
    validate_period(period_start, period_end, timezone.localdate())
    snap = snapshot.current(on=period_end)
    data = build_report(snap, period_start=period_start, policy=current_policy())
    access_log_record_aggregate(
        actor=actor,
        action=AccessAction.EXPORT,
        categories=REPORT_CATEGORIES,
        object_type="analytics",
        object_id=f"report:{period_start.isoformat()}:{period_end.isoformat()}",
    )
    return data


def report_create(
    *, actor: Membership | None, period_start: dt.date | None, period_end: dt.date | None
) -> CouncilReport:
    """Produce the council report for a period as PDF and XLSX and keep both.
    PermissionDenied without ``ANALYTICS_VIEW``; ValidationError (by field) for a bad
    period, with nothing written."""
    from .report_render import render_pdf, render_xlsx  # WeasyPrint loads slowly

    if actor is None or not actor.has_perm(Perm.ANALYTICS_VIEW):
        raise PermissionDenied
    validate_period(period_start, period_end, timezone.localdate())
    assert period_start is not None and period_end is not None
    started = time.perf_counter()
    data = report_data_get(actor=actor, period_start=period_start, period_end=period_end)
    pdf = render_pdf(data)
    xlsx = render_xlsx(data)
    with transaction.atomic():
        return CouncilReport.objects.create(
            period_start=period_start,
            period_end=period_end,
            title=data.title,
            created_by=actor.user,
            organisation=actor.organisation,
            k=data.policy.k,
            rounding=data.policy.rounding,
            seconds=time.perf_counter() - started,
            pdf=pdf,
            xlsx=xlsx,
        )


def report_download(*, actor: Membership | None, report: CouncilReport, kind: str) -> bytes:
    """The stored file ("pdf" or "xlsx"); logged as a download of an aggregate."""
    if actor is None or not actor.has_perm(Perm.ANALYTICS_VIEW):
        raise PermissionDenied
    content = bytes(report.pdf if kind == "pdf" else report.xlsx)
    access_log_record_aggregate(
        actor=actor,
        action=AccessAction.DOWNLOAD,
        categories=REPORT_CATEGORIES,
        object_type="council_report",
        object_id=f"{report.pk}:{kind}",
    )
    return content
