"""Flows (issue #7): integration chains as a flow diagram (Sankey), from the residence
status at arrival through the measures to where the persons are now.

The persons counted are everybody with a case (open or closed) on the snapshot's day,
optionally only those of one **target group** (``people.TargetGroup``: the status group
*today* and the age range, as on every other page — but also closed cases, unlike the
gap analysis, which counts open cases only) and/or only the young adults aged 18–27.
Each person follows one path through four stages:

1. **Status at arrival** — the status group of the person's earliest effective
   residence status (the snapshot's ``arrival_group``); "not recorded" without one.
2. **First measure** — the coarse group (:data:`MEASURE_GROUP`) of the category of
   the person's first participation (by start); "no measure yet" without any. Those
   persons end here: their path has no stage 3 or 4, so the later tables have no
   rows that would be empty by construction (a structural zero costs the whole row
   under the disclosure control).
3. **Later measure** — the group of the person's *latest* participation (by start)
   when it is not the first one; "no further measure" when the first is the only one.
4. **Now** — from the latest participation: *apprenticeship* (a recorded next step,
   or a running participation of the category apprenticeship), *employment*,
   *school-leaving qualification*, *studies* (recorded next steps), *in a measure*
   (still running, transferred, or "another course or measure" recorded as next),
   *dropped out* (aborted with none of these recorded next), otherwise *nothing yet /
   not known*.

Participations of the same person starting on the same day are ordered by end (running
last), then category, so the result does not depend on the order of the rows.

**Disclosure control.** Each transition between adjacent stages is a two-way table
(from × to) whose row totals are the node sizes of the earlier stage and whose column
totals are those of the later stage. The node sizes of a stage are the column totals
of one table *and* the row totals of the next: protecting each table on its own would
publish two differently protected versions of the same counts, and subtraction across
the tables could give a withheld link away. So the whole chain is protected as one
system of equations (every node = the sum of its incoming links = the sum of its
outgoing links; every stage adds up to the persons counted, or to the persons with a
measure) with the audit of ``core.disclosure``: primary suppression below k, and
secondary suppression until no withheld link, node or total can be worked out (nor,
if small, be told to be small) from everything published. The system is a flow
network, so its linear-programming bounds are the integer bounds, as for a single
table. Nodes without any person are left out (as the situation picture leaves out
values nobody has).

Everything is computed set-based in polars; the only loops run over the few aggregated
rows (≤ 8 × 8 per transition), never over persons.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import polars as pl
from django.core.exceptions import PermissionDenied
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from lotse.core.disclosure import (
    Cell,
    Entry,
    Policy,
    ProtectedTable,
    current_policy,
    protect_linked,
)
from lotse.core.models import AccessAction, Membership
from lotse.core.roles import Perm
from lotse.core.services import access_log_record_aggregate
from lotse.offers.codes import OfferCategory
from lotse.people.codes import StatusGroup
from lotse.referrals.codes import NextStep, Outcome

from . import snapshot as snapshot_mod
from .gaps import Group
from .selectors import target_groups
from .snapshot import TARGET_AGES, Snapshot

# -- the nodes ---------------------------------------------------------------------------

NOT_RECORDED = ""
NO_MEASURE = "none"
NO_FURTHER = "no_further"

# Coarse groups of the offer categories, in the order of the chart.
MEASURE_GROUPS: tuple[tuple[str, object], ...] = (
    ("language", gettext_lazy("language course")),
    ("preparation", gettext_lazy("vocational preparation")),
    ("training", gettext_lazy("vocational training")),
    ("school", gettext_lazy("school-leaving course")),
    ("work", gettext_lazy("employment measure")),
    ("other", gettext_lazy("counselling and other")),
)
MEASURE_GROUP: dict[str, str] = {
    OfferCategory.INTEGRATIONSKURS: "language",
    OfferCategory.BERUFSSPRACHKURS: "language",
    OfferCategory.SPRACHKURS: "language",
    OfferCategory.BVB: "preparation",
    OfferCategory.EQ: "preparation",
    OfferCategory.BERUFSORIENTIERUNG: "preparation",
    OfferCategory.PRODUKTIONSSCHULE: "preparation",
    OfferCategory.AUSBILDUNG: "training",
    OfferCategory.ASA_FLEX: "training",
    OfferCategory.SCHULABSCHLUSS: "school",
    OfferCategory.ARBEIT: "work",
    OfferCategory.BERATUNG: "other",
    OfferCategory.MENTORING: "other",
    OfferCategory.FREIZEIT: "other",
    OfferCategory.OTHER: "other",
}
OTHER_GROUP = "other"  # a category not in MEASURE_GROUP (none today)

# Where the persons are now, in the order of the chart.
STATES: tuple[tuple[str, object], ...] = (
    ("apprenticeship", gettext_lazy("apprenticeship")),
    ("employment", gettext_lazy("employment")),
    ("school_qualification", gettext_lazy("school qualification")),
    ("study", gettext_lazy("studies")),
    ("measure", gettext_lazy("in a measure")),
    ("dropped_out", gettext_lazy("dropped out")),
    ("nothing", gettext_lazy("nothing yet / not known")),
)

ARRIVAL, FIRST, LATER, NOW = "arrival", "first", "later", "now"
COLUMNS = (ARRIVAL, FIRST, LATER, NOW)
CATEGORIES = ("master", "residence", "participations")


def stage_nodes() -> tuple[tuple[tuple[str, str], ...], ...]:
    """(code, label) of every possible node per stage, in order."""
    arrival = tuple((str(c.value), str(c.label)) for c in StatusGroup)
    measures = tuple((code, str(label)) for code, label in MEASURE_GROUPS)
    return (
        (*arrival, (NOT_RECORDED, _("not recorded"))),
        (*measures, (NO_MEASURE, _("no measure yet"))),
        (*measures, (NO_FURTHER, _("no further measure"))),
        tuple((code, str(label)) for code, label in STATES),
    )


def stage_titles() -> tuple[str, ...]:
    return (_("Status at arrival"), _("First measure"), _("Later measure"), _("Where they are now"))


# -- the paths ---------------------------------------------------------------------------


def paths(snapshot: Snapshot, *, group: Group | None = None, young: bool = False) -> pl.DataFrame:
    """One row per person counted (``pkey`` and the node code of each stage; stages 3
    and 4 null for persons without a measure)."""
    persons = snapshot.persons.join(snapshot.cases.select("pkey").unique(), on="pkey", how="semi")
    if group is not None:
        persons = persons.filter(group.members())  # not limited to open cases
    if young:
        persons = persons.filter((pl.col("age_months") // 12).is_between(*TARGET_AGES))
    measure = pl.col("category").replace_strict(
        MEASURE_GROUP, default=OTHER_GROUP, return_dtype=pl.String()
    )
    parts = (
        snapshot.participations.join(persons.select("pkey"), on="pkey", how="semi")
        .with_columns(measure=measure)
        .sort(["pkey", "started_on", "ended_on", "category"], nulls_last=True)
    )
    # Within each person the rows keep the sorted order: first and last are by start.
    latest = parts.group_by("pkey", maintain_order=True).agg(
        first=pl.col("measure").first(),
        count=pl.len(),
        last=pl.col("measure").last(),
        last_category=pl.col("category").last(),
        last_ended=pl.col("ended_on").last(),
        last_outcome=pl.col("outcome").last(),
        last_next=pl.col("next_step").last(),
    )
    running = pl.col("last_ended").is_null()
    next_step = pl.col("last_next")
    now = (
        pl.when(running & (pl.col("last_category") == OfferCategory.AUSBILDUNG.value))
        .then(pl.lit("apprenticeship"))
        .when(running)
        .then(pl.lit("measure"))
        .when(next_step == NextStep.APPRENTICESHIP.value)
        .then(pl.lit("apprenticeship"))
        .when(next_step == NextStep.EMPLOYMENT.value)
        .then(pl.lit("employment"))
        .when(next_step == NextStep.SCHOOL_QUALIFICATION.value)
        .then(pl.lit("school_qualification"))
        .when(next_step == NextStep.STUDY.value)
        .then(pl.lit("study"))
        .when(
            (next_step == NextStep.MEASURE.value)
            | (pl.col("last_outcome") == Outcome.TRANSFERRED.value)
        )
        .then(pl.lit("measure"))
        .when(pl.col("last_outcome") == Outcome.ABORTED.value)
        .then(pl.lit("dropped_out"))
        .otherwise(pl.lit("nothing"))
    )
    return (
        persons.select("pkey", pl.col("arrival_group").alias(ARRIVAL))
        .join(latest, on="pkey", how="left")
        .select(
            "pkey",
            ARRIVAL,
            pl.col("first").fill_null(NO_MEASURE).alias(FIRST),
            pl.when(pl.col("count") > 1)
            .then(pl.col("last"))
            .when(pl.col("count") == 1)
            .then(pl.lit(NO_FURTHER))
            .alias(LATER),
            pl.when(pl.col("count") >= 1).then(now).alias(NOW),
        )
    )


# -- the protected chain -----------------------------------------------------------------


@dataclass(frozen=True)
class Flows:
    """The protected flows: per stage its title and nodes, per transition the table
    (rows: the nodes of the earlier stage that go on, with their sizes as row totals;
    columns: the nodes of the later stage, their sizes as column totals)."""

    on: dt.date
    policy: Policy
    titles: tuple[str, ...]
    stages: tuple[tuple[tuple[str, str], ...], ...]  # (code, label) per present node
    nodes: tuple[tuple[Cell, ...], ...]  # node sizes, per stage
    transitions: tuple[ProtectedTable, ...]  # stage s → s + 1
    row_codes: tuple[tuple[str, ...], ...]  # node codes of each transition's rows
    persons: Cell  # everybody counted

    def labels(self) -> list[list[str]]:
        return [[label for _code, label in nodes] for nodes in self.stages]

    def sankey_flows(self) -> list[tuple[int, str, str, int | None]]:
        """The links for ``charts.sankey``: (stage, from, to, value; None withheld)."""
        return [
            (s, label, table.col_labels[j], cell.value)
            for s, table in enumerate(self.transitions)
            for label, cells, _total in table.rows()
            for j, cell in enumerate(cells)
        ]


def link_counts(frame: pl.DataFrame, src: str, dst: str) -> dict[tuple[str, str], int]:
    """Persons per (from, to) node pair of two stages (persons on the path only)."""
    counts = frame.filter(pl.col(dst).is_not_null()).group_by(src, dst).len()
    return {(a, b): n for a, b, n in counts.iter_rows()}


def protect_chain(
    stages: Sequence[Sequence[str]],
    links: Sequence[dict[tuple[str, str], int]],
    *,
    policy: Policy,
) -> tuple[list[list[Cell]], list[list[str]], list[list[list[Cell]]], list[Cell]]:
    """Protect a chain of transitions jointly (see the module docstring).

    ``stages``: the node codes of each stage; ``links[t]``: persons per (node of stage
    t, node of stage t + 1). A node of stage t without outgoing links ends there and
    is no row of transition t (persons without a measure). Returns the node cells per
    stage, the row codes per transition, the link cells per transition (rows ×
    columns) and the total of each transition."""
    values: dict[Entry, int] = {}
    for s, codes in enumerate(stages):
        for i, code in enumerate(codes):
            if s:  # the persons coming in
                values[("n", s, i)] = sum(n for (_a, b), n in links[s - 1].items() if b == code)
            else:  # the persons going on
                values[("n", s, i)] = sum(n for (a, _b), n in links[s].items() if a == code)
    rows: list[list[str]] = []
    totals: list[Entry | None] = []
    equations: list[tuple[Entry, list[Entry]]] = []
    for t, pairs in enumerate(links):
        going = {a for a, _b in pairs}
        rows.append([c for c in stages[t] if c in going])
        if not pairs:  # nobody got this far: the stage has no nodes, the table no rows
            totals.append(None)
            continue
        # A transition whose rows are the whole earlier stage has the total of the one
        # before: one entry, so the same count is never published twice differently.
        previous = totals[t - 1] if t else None
        if previous is not None and len(rows[t]) == len(stages[t]):
            key = previous
        else:
            key = ("g", t)
            values[key] = sum(pairs.values())
        totals.append(key)
        index = {c: i for i, c in enumerate(stages[t])}
        width = len(stages[t + 1])
        for r, code in enumerate(rows[t]):
            for j, dst in enumerate(stages[t + 1]):
                values[("l", t, r, j)] = pairs.get((code, dst), 0)
            equations.append((("n", t, index[code]), [("l", t, r, j) for j in range(width)]))
        for j in range(width):
            equations.append((("n", t + 1, j), [("l", t, r, j) for r in range(len(rows[t]))]))
        equations.append((key, [("n", t, index[c]) for c in rows[t]]))
        equations.append((key, [("n", t + 1, j) for j in range(width)]))
    unique = list({(e, tuple(parts)): (e, parts) for e, parts in equations}.values())
    published = protect_linked(values, unique, policy=policy)

    def cell(e: Entry) -> Cell:
        return published[e]

    nodes = [[cell(("n", s, i)) for i in range(len(codes))] for s, codes in enumerate(stages)]
    cells = [
        [[cell(("l", t, r, j)) for j in range(len(stages[t + 1]))] for r in range(len(rows[t]))]
        for t in range(len(links))
    ]
    empty = Cell(None, primary=True)
    return nodes, rows, cells, [empty if key is None else cell(key) for key in totals]


def flows(snapshot: Snapshot, *, group: Group | None, young: bool, policy: Policy) -> Flows:
    """The protected flows of the persons counted (see the module docstring)."""
    frame = paths(snapshot, group=group, young=young)
    links = [link_counts(frame, a, b) for a, b in pairwise(COLUMNS)]
    present = [set(frame[c].drop_nulls().unique().to_list()) for c in COLUMNS]
    stages = tuple(
        tuple((code, label) for code, label in nodes if code in present[s])
        for s, nodes in enumerate(stage_nodes())
    )
    codes = [[code for code, _label in nodes] for nodes in stages]
    if frame.height == 0:
        node_cells: list[list[Cell]] = [[] for _s in stages]
        rows: list[list[str]] = [[] for _l in links]
        cells: list[list[list[Cell]]] = [[] for _l in links]
        totals = [Cell(None, primary=True) for _l in links]
    else:
        node_cells, rows, cells, totals = protect_chain(codes, links, policy=policy)
    labels = [dict(nodes) for nodes in stages]
    tables = tuple(
        ProtectedTable(
            row_labels=tuple(labels[t][c] for c in rows[t]),
            col_labels=tuple(label for _code, label in stages[t + 1]),
            cells=tuple(tuple(row) for row in cells[t]),
            row_totals=tuple(node_cells[t][codes[t].index(c)] for c in rows[t]),
            col_totals=tuple(node_cells[t + 1]),
            total=totals[t],
            policy=policy,
        )
        for t in range(len(links))
    )
    return Flows(
        on=snapshot.on,
        policy=policy,
        titles=stage_titles(),
        stages=stages,
        nodes=tuple(tuple(n) for n in node_cells),
        transitions=tables,
        row_codes=tuple(tuple(r) for r in rows),
        persons=totals[0],
    )


# -- the read ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowsView:
    flows: Flows
    group: Group | None
    young: bool
    groups: tuple[Group, ...]  # the choices of the filter


def flows_get(
    *,
    actor: Membership | None,
    target_group: str | None = None,
    young: bool = False,
    action: str = AccessAction.READ,
) -> FlowsView:
    """The flows of today's snapshot (once per snapshot, filter and language) for one
    target group (its code; None or "" everybody with a case) and/or the 18–27-year-olds
    only; logged as one aggregate read. KeyError for an unknown target group."""
    if actor is None or not actor.has_perm(Perm.ANALYTICS_VIEW):
        raise PermissionDenied
    member = actor
    groups = target_groups()
    group = None
    if target_group:
        group = next((g for g in groups if g.code == target_group), None)
        if group is None:
            raise KeyError(target_group)
    snap = snapshot_mod.current()
    policy = current_policy()
    result = snapshot_mod.memoized(
        snap,
        ("flows", group, young, policy, get_language()),
        lambda: flows(snap, group=group, young=young, policy=policy),
    )
    access_log_record_aggregate(
        actor=member,
        action=action,
        categories=CATEGORIES,
        object_type="analytics",
        object_id=f"flows:{group.code if group else 'all'}" + (":18-27" if young else ""),
    )
    return FlowsView(flows=result, group=group, young=young, groups=tuple(groups))
