"""Statistical disclosure control: the one place that decides which counts may be
published (DESIGN §5.6, issue #7). Tables, charts, exports and the API all publish
:class:`ProtectedTable` objects made here, never raw counts.

The rules, for a table of person counts with optional row and column totals:

1. **Primary suppression** — every count below ``k`` (default 5, at least 3),
   zero included, is withheld ("•"). Margins (totals) are counts like any other.
2. **Secondary suppression** — the published counts and totals must not allow
   anybody to work a withheld count out. For every withheld entry the smallest and
   largest value that agree with everything published (all counts ≥ 0, the rows and
   columns adding up to their totals) are computed by linear programming (HiGHS via
   SciPy; a two-way table with totals has integral vertices, so these bounds are the
   integer bounds). An entry is protected when the two differ, and a primary entry
   (1 … k−1) only when its largest possible value is at least ``k`` — so the
   published figures cannot even tell that it is small. While an entry is not
   protected, the smallest published count that shares a row or column with it is
   withheld too (inner counts before totals), and the audit repeats. Withholding
   more only widens the other bounds, so entries once protected stay protected and
   only the failing ones are audited again.
3. **Rounding** (optional, 5 or 10) — published counts are then rounded to the
   nearest multiple, each on its own (totals may then differ from the sum of the
   rounded counts; the legend says so).

Tables whose entries do not add up (a person counted under several rules) pass
``row_totals=False`` / ``col_totals=False``: no equation links them, so primary
suppression is all they need.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

K_FLOOR = 3
ROUNDINGS = (0, 5, 10)
SUPPRESSED_MARK = "•"


@dataclass(frozen=True)
class Policy:
    k: int = 5
    rounding: int = 0  # 0: none; else published counts rounded to this multiple

    def __post_init__(self) -> None:
        if self.k < K_FLOOR:
            raise ValueError(f"k must be at least {K_FLOOR}, not {self.k}")
        if self.rounding not in ROUNDINGS:
            raise ValueError(f"rounding must be one of {ROUNDINGS}, not {self.rounding}")

    def legend(self) -> str:
        """The sentence under every published table."""
        text = ngettext(
            "• withheld: fewer than %(k)d person, or a count from which such a one could "
            "be worked out.",
            "• withheld: fewer than %(k)d persons, or a count from which such a one could "
            "be worked out.",
            self.k,
        ) % {"k": self.k}
        if self.rounding:
            text += " " + _(
                "Counts are rounded to multiples of %(n)d; totals are rounded on their "
                "own and may differ from the sum of the rows."
            ) % {"n": self.rounding}
        return text


def current_policy() -> Policy:
    """The configured policy (``LOTSE_DISCLOSURE_K``, ``LOTSE_DISCLOSURE_ROUNDING``)."""
    try:
        return Policy(
            k=int(settings.LOTSE_DISCLOSURE_K), rounding=int(settings.LOTSE_DISCLOSURE_ROUNDING)
        )
    except ValueError as exc:
        raise ImproperlyConfigured(f"LOTSE_DISCLOSURE_*: {exc}") from exc


@dataclass(frozen=True)
class Cell:
    """One published entry: ``value`` is None when withheld."""

    value: int | None
    primary: bool = False  # withheld because the count itself is below k

    @property
    def suppressed(self) -> bool:
        return self.value is None

    def __str__(self) -> str:
        return SUPPRESSED_MARK if self.value is None else f"{self.value:,}".replace(",", ".")


@dataclass(frozen=True)
class ProtectedTable:
    """A table as it may be published. Totals are None when the table has none."""

    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]
    cells: tuple[tuple[Cell, ...], ...]
    row_totals: tuple[Cell, ...] | None
    col_totals: tuple[Cell, ...] | None
    total: Cell | None
    policy: Policy

    @property
    def suppressed_count(self) -> int:
        entries = [c for row in self.cells for c in row]
        entries += list(self.row_totals or ()) + list(self.col_totals or ())
        entries += [self.total] if self.total else []
        return sum(1 for c in entries if c.suppressed)

    def column(self, j: int) -> tuple[Cell, ...]:
        return tuple(row[j] for row in self.cells)

    def rows(self) -> list[tuple[str, tuple[Cell, ...], Cell | None]]:
        """(label, cells, row total) per row, for templates."""
        totals = self.row_totals or (None,) * len(self.cells)
        return list(zip(self.row_labels, self.cells, totals, strict=True))


# --- the audit ---------------------------------------------------------------------------

# An entry of the table: ("c", i, j) inner count, ("r", i) row total, ("k", j) column
# total, ("t",) grand total.
Entry = tuple[object, ...]


@dataclass
class _Layout:
    values: dict[Entry, int]
    equations: list[tuple[Entry, list[Entry]]]  # total = sum(parts)
    neighbours: dict[Entry, set[Entry]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for total, parts in self.equations:
            line = [total, *parts]
            for e in line:
                self.neighbours.setdefault(e, set()).update(x for x in line if x != e)


def _layout(
    counts: Sequence[Sequence[int]], n_cols: int, row_totals: bool, col_totals: bool
) -> _Layout:
    n_rows = len(counts)
    values: dict[Entry, int] = {}
    for i, row in enumerate(counts):
        for j, v in enumerate(row):
            values[("c", i, j)] = v
    equations: list[tuple[Entry, list[Entry]]] = []
    if row_totals:
        for i, row in enumerate(counts):
            values[("r", i)] = sum(row)
            equations.append((("r", i), [("c", i, j) for j in range(n_cols)]))
    if col_totals:
        for j in range(n_cols):
            values[("k", j)] = sum(row[j] for row in counts)
            equations.append((("k", j), [("c", i, j) for i in range(n_rows)]))
    if row_totals and col_totals:
        values[("t",)] = sum(map(sum, counts))
        equations.append((("t",), [("r", i) for i in range(n_rows)]))
        equations.append((("t",), [("k", j) for j in range(n_cols)]))
    return _Layout(values, equations)


def bounds(
    values: Mapping[Entry, int | None],
    equations: Sequence[tuple[Entry, Sequence[Entry]]],
    *,
    only: set[Entry] | None = None,
    intervals: Mapping[Entry, tuple[int, int]] | None = None,
) -> dict[Entry, tuple[float, float]]:
    """Smallest and largest value of every withheld entry (``None`` in ``values``)
    consistent with the published ones, the equations and non-negativity. The upper
    bound is ``inf`` when nothing limits it. Used by the audit and by the tests.

    ``intervals``: published entries known only to lie in a range (a rounded count:
    the sum of several rounded figures, say); they enter as bounded unknowns."""
    import numpy as np
    from scipy.optimize import linprog

    ranged = {
        e: r for e, r in (intervals or {}).items() if values.get(e) is not None and r[0] != r[1]
    }
    unknown = [e for e, v in values.items() if v is None or e in ranged]
    if all(e in ranged for e in unknown):
        return {}
    index = {e: n for n, e in enumerate(unknown)}
    box: list[tuple[float, float | None]] = [
        (float(ranged[e][0]), float(ranged[e][1])) if e in ranged else (0.0, None) for e in unknown
    ]
    rows: list[list[float]] = []
    rhs: list[float] = []
    for total, parts in equations:
        coef = [0.0] * len(unknown)
        const = 0.0
        for e, sign in [(total, 1.0), *((p, -1.0) for p in parts)]:
            v = values[e]
            if e in index:
                coef[index[e]] += sign
            else:
                const -= sign * (v or 0)
        if any(coef):
            rows.append(coef)
            rhs.append(const)
    a_eq = np.array(rows) if rows else None
    b_eq = np.array(rhs) if rows else None
    out: dict[Entry, tuple[float, float]] = {}
    for e, n in index.items():
        if e in ranged or (only is not None and e not in only):
            continue
        limits: list[float] = []
        for sense in (1.0, -1.0):
            objective = np.zeros(len(unknown))
            objective[n] = sense
            result = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=box, method="highs")
            if result.status == 3:  # unbounded: only the maximum can be
                limits.append(float("inf"))
            elif result.status != 0:
                raise RuntimeError(f"disclosure audit failed: {result.message}")
            else:
                limits.append(sense * float(result.fun))
        out[e] = (limits[0], limits[1])
    return out


def _protected(low: float, high: float, true: int, k: int) -> bool:
    if high - low < 0.5:  # a single value: it can be worked out
        return False
    return not (0 < true < k) or high >= k - 0.5


def _suppress(layout: _Layout, k: int) -> tuple[set[Entry], set[Entry]]:
    primary = {e for e, v in layout.values.items() if v < k}
    withheld = set(primary)
    # A cheap first pass: no line with exactly one withheld entry.
    changed = True
    while changed:
        changed = False
        for total, parts in layout.equations:
            line = [total, *parts]
            if sum(1 for e in line if e in withheld) == 1 and len(line) > 1:
                withheld.add(_cheapest(layout, line, withheld))
                changed = True
    audit = set(withheld)
    while audit:
        current = {e: (None if e in withheld else v) for e, v in layout.values.items()}
        limits = bounds(current, layout.equations, only=audit)
        failing = sorted(
            (e for e in audit if not _protected(*limits[e], layout.values[e], k)), key=repr
        )
        added = set()
        for e in failing:
            line = list(layout.neighbours.get(e, set()) - withheld)
            if not line:  # its lines are all withheld: widen anywhere
                line = [x for x in layout.values if x not in withheld]
            if line:
                added.add(_cheapest(layout, line, withheld))
        withheld |= added
        # Withholding more only widens bounds: audit the failing and the new ones.
        audit = set(failing) | added if added else set()
    return primary, withheld


def withhold_more(
    values: Mapping[Entry, int | None],
    equations: Sequence[tuple[Entry, Sequence[Entry]]],
    *,
    k: int,
    intervals: Mapping[Entry, tuple[int, int]] | None = None,
) -> set[Entry]:
    """Secondary suppression for figures whose true values are not known (a merge of
    published data sets): everything withheld already (``None``) or below k stays
    withheld, and more is withheld until every withheld figure may take more than one
    value and may be at least k — each treated as if it might be small. Returns the
    withheld entries."""
    withheld = {e for e, v in values.items() if v is None or v < k}
    layout = _Layout({e: v or 0 for e, v in values.items()}, [(t, list(p)) for t, p in equations])
    audit = set(withheld)
    while audit:
        current = {e: None if e in withheld else values[e] for e in values}
        limits = bounds(current, equations, only=audit, intervals=intervals)
        failing = sorted(
            (
                e
                for e in audit
                if not (limits[e][1] - limits[e][0] >= 0.5 and limits[e][1] >= k - 0.5)
            ),
            key=repr,
        )
        added: set[Entry] = set()
        for e in failing:
            line = list(layout.neighbours.get(e, set()) - withheld - added)
            if not line:  # its lines are all withheld: widen anywhere
                line = [x for x in values if x not in withheld | added]
            if line:
                added.add(_cheapest(layout, line, withheld | added))
        withheld |= added
        audit = set(failing) | added if added else set()
    return withheld


def _cheapest(layout: _Layout, line: Sequence[Entry], withheld: set[Entry]) -> Entry:
    """The published entry whose loss costs least: inner counts before totals, then
    the smallest."""
    candidates = [e for e in line if e not in withheld]
    return min(candidates, key=lambda e: (e[0] != "c", layout.values[e], repr(e)))


def _round(v: int, base: int) -> int:
    """Nearest multiple of ``base``; never 0 (a published count is at least k > 0)."""
    return v if not base else max(base, int((v + base / 2) // base * base))


def protect(
    counts: Sequence[Sequence[int]],
    *,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    row_totals: bool = True,
    col_totals: bool = True,
    policy: Policy | None = None,
) -> ProtectedTable:
    """Protect a two-way table of counts (rows × columns) with the totals asked for."""
    pol = policy or current_policy()
    if len(counts) != len(row_labels) or any(len(r) != len(col_labels) for r in counts):
        raise ValueError("counts do not match the labels")
    if any(v < 0 for row in counts for v in row):
        raise ValueError("counts cannot be negative")
    layout = _layout(counts, len(col_labels), row_totals, col_totals)
    primary, withheld = _suppress(layout, pol.k)

    def cell(e: Entry) -> Cell:
        if e in withheld:
            return Cell(None, primary=e in primary)
        return Cell(_round(layout.values[e], pol.rounding))

    n_rows, n_cols = len(row_labels), len(col_labels)
    return ProtectedTable(
        row_labels=tuple(row_labels),
        col_labels=tuple(col_labels),
        cells=tuple(tuple(cell(("c", i, j)) for j in range(n_cols)) for i in range(n_rows)),
        row_totals=tuple(cell(("r", i)) for i in range(n_rows)) if row_totals else None,
        col_totals=tuple(cell(("k", j)) for j in range(n_cols)) if col_totals else None,
        total=cell(("t",)) if row_totals and col_totals else None,
        policy=pol,
    )


def protect_linked(
    values: Mapping[Entry, int],
    equations: Sequence[tuple[Entry, Sequence[Entry]]],
    *,
    policy: Policy,
) -> dict[Entry, Cell]:
    """Protect counts linked by any additive equations (``total = sum(parts)``), e.g.
    several tables sharing totals (the stages of a flow diagram). The same primary and
    audited secondary suppression as ``protect``, over the whole system at once — tables
    protected one by one could withhold a count in one and publish it in another."""
    layout = _Layout(dict(values), [(total, list(parts)) for total, parts in equations])
    primary, withheld = _suppress(layout, policy.k)
    return {
        e: Cell(None, primary=e in primary) if e in withheld else Cell(_round(v, policy.rounding))
        for e, v in layout.values.items()
    }


def protect_counts(
    counts: Sequence[int],
    *,
    labels: Sequence[str],
    column: str,
    total: bool = True,
    policy: Policy | None = None,
) -> ProtectedTable:
    """A one-way table (one column) with its total, or without one when the counts
    do not add up (``total=False``)."""
    return protect(
        [[n] for n in counts],
        row_labels=labels,
        col_labels=[column],
        row_totals=False,
        col_totals=total,
        policy=policy,
    )
