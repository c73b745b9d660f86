"""Disclosure control (core/disclosure.py): no published count below k, and no
withheld count that can be worked out from what is published.

The oracle here is independent of the module: it reads only the published table,
writes down the equations a reader knows (rows and columns add up to their totals,
counts are not negative) and asks an LP solver — and, for small tables, plain
enumeration of every integer filling — which values each withheld entry can take.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from lotse.core.disclosure import Policy, ProtectedTable, current_policy, protect, protect_counts

COUNT = st.one_of(st.integers(0, 6), st.integers(0, 40), st.integers(100, 400))


@st.composite
def tables(draw, max_rows=5, max_cols=4):
    n_rows = draw(st.integers(1, max_rows))
    n_cols = draw(st.integers(1, max_cols))
    counts = [[draw(COUNT) for _ in range(n_cols)] for _ in range(n_rows)]
    return counts, draw(st.booleans()), draw(st.booleans()), draw(st.sampled_from([3, 5]))


def _published(table: ProtectedTable):
    """Unknowns and equations as a reader of the published table sees them."""
    entries = {}
    for i, row in enumerate(table.cells):
        for j, c in enumerate(row):
            entries[("c", i, j)] = c.value
    equations = []
    n_rows, n_cols = len(table.row_labels), len(table.col_labels)
    if table.row_totals is not None:
        for i, c in enumerate(table.row_totals):
            entries[("r", i)] = c.value
            equations.append((("r", i), [("c", i, j) for j in range(n_cols)]))
    if table.col_totals is not None:
        for j, c in enumerate(table.col_totals):
            entries[("k", j)] = c.value
            equations.append((("k", j), [("c", i, j) for i in range(n_rows)]))
    if table.total is not None:
        entries[("t",)] = table.total.value
        equations.append((("t",), [("r", i) for i in range(n_rows)]))
        equations.append((("t",), [("k", j) for j in range(n_cols)]))
    return entries, equations


def _lp_bounds(table: ProtectedTable):
    entries, equations = _published(table)
    unknown = sorted((e for e, v in entries.items() if v is None), key=repr)
    if not unknown:
        return {}
    col = {e: n for n, e in enumerate(unknown)}
    a, b = [], []
    for total, parts in equations:
        row, rhs = np.zeros(len(unknown)), 0.0
        for e, sign in [(total, 1), *((p, -1) for p in parts)]:
            if entries[e] is None:
                row[col[e]] += sign
            else:
                rhs -= sign * entries[e]
        if row.any():
            a.append(row)
            b.append(rhs)
    result = {}
    for e, n in col.items():
        lim = []
        for sense in (1, -1):
            c = np.zeros(len(unknown))
            c[n] = sense
            r = linprog(c, A_eq=np.array(a) if a else None, b_eq=b or None, bounds=(0, None))
            lim.append(np.inf if r.status == 3 else sense * r.fun)
        result[e] = tuple(lim)
    return result


def _true(counts, e):
    if e[0] == "c":
        return counts[e[1]][e[2]]
    if e[0] == "r":
        return sum(counts[e[1]])
    if e[0] == "k":
        return sum(row[e[1]] for row in counts)
    return sum(map(sum, counts))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_nothing_below_k_is_published_and_nothing_withheld_can_be_worked_out(case):
    counts, row_totals, col_totals, k = case
    table = protect(
        counts,
        row_labels=[f"r{i}" for i in range(len(counts))],
        col_labels=[f"c{j}" for j in range(len(counts[0]))],
        row_totals=row_totals,
        col_totals=col_totals,
        policy=Policy(k=k),
    )
    entries, _eq = _published(table)
    for e, value in entries.items():
        true = _true(counts, e)
        if value is not None:
            assert value >= k and value == true  # published as it is, never small
        else:
            assert true < k or not table_is_primary(table, e)
    for e, (low, high) in _lp_bounds(table).items():
        true = _true(counts, e)
        assert low <= true <= high
        assert high - low >= 1, f"{e} = {true} can be worked out: [{low}, {high}]"
        if 0 < true < k:
            assert high >= k, f"{e} = {true} is known to be small: [{low}, {high}]"


def table_is_primary(table: ProtectedTable, e) -> bool:
    if e[0] == "c":
        return table.cells[e[1]][e[2]].primary
    if e[0] == "r":
        return table.row_totals[e[1]].primary
    if e[0] == "k":
        return table.col_totals[e[1]].primary
    return table.total.primary


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 7), min_size=2, max_size=2), min_size=2, max_size=2),
    st.sampled_from([3, 5]),
)
def test_integer_fillings_agree(counts, k):
    """Brute force on 2×2 tables: every withheld entry takes at least two values among
    all integer fillings of the four counts that agree with the published table."""
    table = protect(counts, row_labels=["a", "b"], col_labels=["x", "y"], policy=Policy(k=k))
    entries, equations = _published(table)
    cap = sum(map(sum, counts)) + 3  # enough to see that an unlimited entry varies
    inner = [("c", i, j) for i in range(2) for j in range(2)]
    axes = [np.arange(cap) if entries[e] is None else np.array([entries[e]]) for e in inner]
    grid = dict(zip(inner, np.meshgrid(*axes, indexing="ij"), strict=True))
    filled = {
        **grid,
        ("r", 0): grid[("c", 0, 0)] + grid[("c", 0, 1)],
        ("r", 1): grid[("c", 1, 0)] + grid[("c", 1, 1)],
        ("k", 0): grid[("c", 0, 0)] + grid[("c", 1, 0)],
        ("k", 1): grid[("c", 0, 1)] + grid[("c", 1, 1)],
    }
    filled[("t",)] = filled[("r", 0)] + filled[("r", 1)]
    agree = np.ones(filled[("t",)].shape, dtype=bool)
    for e, v in entries.items():
        if v is not None:
            agree &= filled[e] == v
    assert equations  # the oracle knows the table adds up
    for e, v in entries.items():
        if v is None:
            possible = set(np.unique(filled[e][agree]).tolist())
            assert _true(counts, e) in possible
            assert len(possible) >= 2, f"{e} can be worked out"


def test_one_way_table_with_total():
    # 0 and 3 are withheld; alone they would add up to 420 − 300 − 120.
    t = protect_counts([300, 120, 3], labels=["m", "w", "d"], column="n", policy=Policy())
    assert [str(c[0]) for c in t.cells] == ["300", "•", "•"]
    assert str(t.col_totals[0]) == "423"
    # Everything small but the total: only the total is left.
    t = protect_counts([8, 3, 0], labels=["m", "w", "d"], column="n", policy=Policy())
    assert [c[0].value for c in t.cells] == [None, None, None]
    assert t.col_totals[0].value == 11
    assert [c[0].primary for c in t.cells] == [False, True, True]


def test_counts_that_do_not_add_up_need_primary_suppression_only():
    t = protect(
        [[12, 2], [0, 40]],
        row_labels=["a", "b"],
        col_labels=["x", "y"],
        row_totals=False,
        col_totals=False,
        policy=Policy(k=5),
    )
    assert [[c.value for c in row] for row in t.cells] == [[12, None], [None, 40]]
    assert t.row_totals is None and t.col_totals is None and t.total is None


def test_rounding_applies_to_published_counts_only():
    t = protect_counts(
        [12, 23, 2, 3], labels=list("abcd"), column="n", policy=Policy(k=5, rounding=10)
    )
    assert [c[0].value for c in t.cells] == [10, 20, None, None]
    assert t.col_totals[0].value == 40
    # A published count never rounds down to nothing.
    assert (
        protect_counts([3], labels=["a"], column="n", total=False, policy=Policy(3, 10))
        .cells[0][0]
        .value
        == 10
    )


def test_policy_limits(settings):
    with pytest.raises(ValueError):
        Policy(k=2)
    with pytest.raises(ValueError):
        Policy(rounding=7)
    settings.LOTSE_DISCLOSURE_K = 7
    settings.LOTSE_DISCLOSURE_ROUNDING = 5
    assert current_policy() == Policy(k=7, rounding=5)
    assert "7" in current_policy().legend() and "5" in current_policy().legend()


def test_empty_tables():
    t = protect_counts([], labels=[], column="n", policy=Policy())
    assert t.cells == () and t.col_totals[0].value is None  # a total of 0 is below k
    t = protect([], row_labels=[], col_labels=["x", "y"], policy=Policy())
    assert [c.value for c in t.col_totals] == [None, None] and t.total.value is None


def test_labels_must_match():
    with pytest.raises(ValueError):
        protect([[1, 2]], row_labels=["a"], col_labels=["x"])
    with pytest.raises(ValueError):
        protect([[-1]], row_labels=["a"], col_labels=["x"])


def test_bounds_take_published_figures_as_intervals():
    from lotse.core.disclosure import bounds

    equations = [(("t",), [("a",), ("b",)])]
    values = {("t",): 12, ("a",): 7, ("b",): None}
    assert bounds(values, equations) == {("b",): (5.0, 5.0)}
    # A rounded total (10 or 15 published as "known to lie in 10–14"): b is 3–7.
    low, high = bounds(values, equations, intervals={("t",): (10, 14)})[("b",)]
    assert (round(low), round(high)) == (3, 7)


def test_withhold_more_treats_every_withheld_figure_as_possibly_small():
    from lotse.core.disclosure import withhold_more

    equations = [(("t",), [("a",), ("b",), ("c",)])]
    # b is withheld; published t and a, c would pin it: one more must go.
    values = {("t",): 30, ("a",): 12, ("b",): None, ("c",): 9}
    withheld = withhold_more(values, equations, k=5)
    assert ("b",) in withheld and len(withheld) == 2
    assert ("t",) not in withheld  # an inner count goes before the total
    # Two withheld with a range reaching k: nothing more.
    values = {("t",): 30, ("a",): None, ("b",): None, ("c",): 9}
    assert withhold_more(values, equations, k=5) == {("a",), ("b",)}
