"""CategoryTimeline evaluates lazily (a breakpoint and category only when asked for):
whatever is asked first, every day gives what evaluating all breakpoints up front
gives, and the same decision as evaluating that day directly."""

import bisect
import datetime as dt
import random

import pytest

from lotse.eligibility.codes import CODES
from lotse.eligibility.engine import (
    UNDECIDED,
    CategoryTimeline,
    Ctx,
    _entries,
    _item,
    breakpoints,
    decide,
    evaluate_category,
    load_rule_set,
)

from .helpers import facts

START, END = dt.date(2026, 1, 1), dt.date(2027, 6, 30)


def _eager(f, rs):
    """Every category on every breakpoint, as the timeline was first written."""
    days = [START, *breakpoints(f, rs, START, END)]
    items = {}
    for day in days:
        c = Ctx(f, day)
        plan = rs.plan(day)
        for category in CODES.categories:
            entries = plan.get(category)
            decision = decide(_entries(entries, c.status), c) if entries else UNDECIDED
            items.setdefault(category, []).append(_item(category, decision, rs, day))
    return days, items, [Ctx(f, d).status for d in days]


def _fact_sets():
    from lotse.synth.eligibility_bench import synthetic_fact_sets

    out = synthetic_fact_sets(12, 5, dt.date(2026, 11, 21))
    out.append(
        facts(
            ("gestattung", "2025-03-01", "2026-04-30"),
            ("duldung", "2026-05-01", "2026-12-31"),
            ("ae_25_2_gfk", "2027-02-01", None),  # a gap before it
            birth="2008-03-15",
            entry="2025-02-20",
            asylum_application_date="2025-03-01",
            work_ban_60a6=False,
        )
    )
    out.append(facts(birth="2001-01-01"))  # no status known
    return out


@pytest.mark.parametrize("order", ["forward", "backward", "random"])
def test_lazy_timeline_equals_the_eager_one_on_every_day(order):
    rs = load_rule_set()
    days = [START + dt.timedelta(days=i) for i in range((END - START).days + 1)]
    if order == "backward":
        days.reverse()
    elif order == "random":
        random.Random(7).shuffle(days)
    for f in _fact_sets():
        eager_days, eager_items, eager_statuses = _eager(f, rs)
        timeline = CategoryTimeline(f, CODES.categories, START, END, rs)
        assert timeline.days == eager_days
        for day in days:
            i = max(bisect.bisect_right(eager_days, day) - 1, 0)
            assert timeline.status(day) == eager_statuses[i] == Ctx(f, day).status
            for category in CODES.categories:
                got = timeline.item(category, day)
                assert got == eager_items[category][i], (category, day)
        assert timeline.items == eager_items
        assert timeline.statuses == eager_statuses


def test_lazy_timeline_decides_as_evaluating_the_day():
    rs = load_rule_set()
    for f in _fact_sets()[-2:]:
        timeline = CategoryTimeline(f, CODES.categories, START, END, rs)
        day = START
        while day <= END:
            for category in CODES.categories:
                direct = evaluate_category(f, day, category, rule_set=rs)
                got = timeline.item(category, day)
                assert (got.result, got.rule_id, got.missing, got.available) == (
                    direct.result,
                    direct.rule_id,
                    direct.missing,
                    direct.available,
                ), (category, day)
            day += dt.timedelta(days=1)


def test_lazy_timeline_evaluates_only_what_is_asked_and_knows_its_categories():
    rs = load_rule_set()
    f = _fact_sets()[-2]
    timeline = CategoryTimeline(f, ["integrationskurs", "bvb"], START, END, rs)
    timeline.item("bvb", dt.date(2026, 6, 1))
    assert len(timeline._items) == 1 and len(timeline._ctx) == 1
    with pytest.raises(KeyError):
        timeline.item("eq", dt.date(2026, 6, 1))
