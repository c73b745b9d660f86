"""Gap analysis (Angebotslücken, issue #7): demand against supply per need type and
target group.

* **Demand** — persons with an open case and an open need of the type (from their
  assessments), in the target group: counted from the pseudonymised snapshot and
  published through the disclosure control. A person with several needs counts in
  several rows, so the rows do not add up: no totals, primary suppression only.
* **Supply** — the free places in active offers answering the need type that are
  *accessible* to the target group: the offer's own constraints (statuses, age range)
  admit some of the group, and the law does not close the offer's category to every
  status of the group (``offers.access.legally_closed``, the eligibility engine of #4
  asked about the most favourable person with the status). Offers are public; they
  are not protected.
* A cell without any accessible offer is **structural**: no free place will come by
  waiting. Unmet demand = demand − free places (none where an offer has no limit).
* Each cell carries the need type's **classification** for the target group (legally
  required / locally necessary / desirable); the report sorts by it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from lotse.core.disclosure import Cell, Policy, ProtectedTable, protect
from lotse.people.codes import STATUS_GROUP

from .models import NEED_LEVEL_ORDER
from .snapshot import Snapshot

NO_AGE_LIMIT = 200


@dataclass(frozen=True)
class Group:
    id: int
    code: str
    name: str
    status_groups: tuple[str, ...]  # empty: every status
    age_min: int | None
    age_max: int | None

    def statuses(self) -> list[str]:
        if not self.status_groups:
            return list(STATUS_GROUP)
        return [s for s, g in STATUS_GROUP.items() if g in self.status_groups]

    def members(self) -> pl.Expr:
        """Persons of the group by their age and status group on the snapshot's day."""
        years = pl.col("age_months") // 12
        high = self.age_max if self.age_max is not None else NO_AGE_LIMIT
        cond = years.is_between(self.age_min or 0, high)
        if self.status_groups:
            cond &= pl.col("status_group").is_in(list(self.status_groups))
        return cond

    def persons(self, persons: pl.DataFrame) -> pl.DataFrame:
        """The group's persons with an open case (the demand of the gap analysis)."""
        return persons.filter(pl.col("open_case") & self.members())


@dataclass(frozen=True)
class Need:
    id: int
    code: str
    name: str
    life_domain: str


@dataclass(frozen=True)
class OfferSupply:
    id: int
    title: str
    provider: str
    category: str
    statuses: tuple[str, ...]  # empty: every status
    age_min: int | None
    age_max: int | None
    free: int | None  # None: no limit of places
    need_type_ids: tuple[int, ...]


# Whether the law closes an offer category to a status on a day.
Closed = Callable[[str, str, dt.date], bool]


def accessible(offer: OfferSupply, group: Group, on: dt.date, closed: Closed) -> bool:
    low, high = group.age_min or 0, group.age_max if group.age_max is not None else NO_AGE_LIMIT
    o_low = offer.age_min or 0
    o_high = offer.age_max if offer.age_max is not None else NO_AGE_LIMIT
    if o_low > high or o_high < low:
        return False
    statuses = group.statuses()
    if offer.statuses:
        statuses = [s for s in statuses if s in offer.statuses]
    return any(not closed(offer.category, s, on) for s in statuses)


@dataclass(frozen=True)
class GapCell:
    need: Need
    group: Group
    demand: Cell
    places: int  # free places in accessible offers with a limit
    unlimited: int  # accessible offers without a limit of places
    offers: tuple[int, ...]  # ids of the accessible offers
    level: str  # "" not classified

    @property
    def structural(self) -> bool:
        return not self.offers

    @property
    def unmet(self) -> int | None:
        """Demand the free places cannot take (None: demand withheld)."""
        if self.demand.value is None:
            return None
        if self.unlimited:
            return 0
        return max(0, self.demand.value - self.places)


@dataclass(frozen=True)
class GapMatrix:
    on: dt.date
    policy: Policy
    needs: tuple[Need, ...]
    groups: tuple[Group, ...]
    cells: tuple[tuple[GapCell, ...], ...]  # needs × groups

    def report(self) -> list[GapCell]:
        """Every cell with demand or a structural gap, sorted by classification (legally
        required first, unclassified last), structural gaps first, then unmet demand."""
        cells = [
            c
            for row in self.cells
            for c in row
            if c.demand.value is None or c.demand.value > 0 or c.structural
        ]
        return sorted(
            cells,
            key=lambda c: (
                NEED_LEVEL_ORDER.get(c.level, len(NEED_LEVEL_ORDER)),
                not c.structural,
                -(c.unmet or 0),
                c.need.name,
                c.group.code,
            ),
        )

    def cell(self, need_code: str, group_code: str) -> GapCell:
        for row in self.cells:
            for c in row:
                if c.need.code == need_code and c.group.code == group_code:
                    return c
        raise KeyError((need_code, group_code))


def demand_counts(
    snapshot: Snapshot, needs: Sequence[Need], groups: Sequence[Group]
) -> list[list[int]]:
    """Distinct persons with an open need per need type × target group."""
    index = {n.id: i for i, n in enumerate(needs)}
    counts = [[0] * len(groups) for _ in needs]
    for j, group in enumerate(groups):
        members = group.persons(snapshot.persons).select("pkey")
        per_need = (
            snapshot.needs.join(members, on="pkey")
            .group_by("need_type_id")
            .agg(pl.col("pkey").n_unique().alias("n"))
        )
        for need_id, n in per_need.rows():
            if need_id in index:
                counts[index[need_id]][j] = n
    return counts


def protected_demand(
    snapshot: Snapshot, needs: Sequence[Need], groups: Sequence[Group], policy: Policy
) -> ProtectedTable:
    return protect(
        demand_counts(snapshot, needs, groups),
        row_labels=[n.name for n in needs],
        col_labels=[g.name for g in groups],
        row_totals=False,
        col_totals=False,
        policy=policy,
    )


def gap_matrix(
    snapshot: Snapshot,
    *,
    needs: Sequence[Need],
    groups: Sequence[Group],
    offers: Iterable[OfferSupply],
    levels: dict[tuple[int, int], str],
    closed: Closed,
    policy: Policy,
    demand: ProtectedTable | None = None,
) -> GapMatrix:
    """The matrix; ``demand`` as computed by :func:`protected_demand` for the same needs
    and groups (computed here when not given)."""
    if demand is None:
        demand = protected_demand(snapshot, needs, groups, policy)
    places = [[0] * len(groups) for _ in needs]
    unlimited = [[0] * len(groups) for _ in needs]
    ids: list[list[list[int]]] = [[[] for _ in groups] for _ in needs]
    index = {n.id: i for i, n in enumerate(needs)}
    # Offers of the same category, statuses and ages are open to the same groups.
    patterns: dict[tuple[object, ...], list[int]] = {}
    for offer in offers:
        rows = [index[t] for t in offer.need_type_ids if t in index]
        if not rows:
            continue
        pattern = (offer.category, offer.statuses, offer.age_min, offer.age_max)
        open_to = patterns.get(pattern)
        if open_to is None:
            open_to = [j for j, g in enumerate(groups) if accessible(offer, g, snapshot.on, closed)]
            patterns[pattern] = open_to
        for j in open_to:
            for i in rows:
                ids[i][j].append(offer.id)
                if offer.free is None:
                    unlimited[i][j] += 1
                else:
                    places[i][j] += offer.free
    cells = tuple(
        tuple(
            GapCell(
                need=n,
                group=g,
                demand=demand.cells[i][j],
                places=places[i][j],
                unlimited=unlimited[i][j],
                offers=tuple(ids[i][j]),
                level=levels.get((n.id, g.id), ""),
            )
            for j, g in enumerate(groups)
        )
        for i, n in enumerate(needs)
    )
    return GapMatrix(
        on=snapshot.on, policy=policy, needs=tuple(needs), groups=tuple(groups), cells=cells
    )
