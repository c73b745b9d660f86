"""Every status code on dates across the law changes gives a well-formed answer."""

import datetime as dt

import pytest

from lotse.eligibility import evaluate
from lotse.eligibility.codes import CODES
from lotse.eligibility.model import RESULTS

from .helpers import facts

DATES = ["2019-08-20", "2019-08-21", "2022-12-31", "2024-02-26", "2024-02-27", "2026-01-01"]


@pytest.mark.parametrize("status", sorted(CODES.statuses))
def test_every_status_gives_a_wellformed_result(status):
    f = facts(
        (status, "2019-01-01", None),
        birth="2000-06-01",
        entry="2018-12-01",
        asylum_application_date="2018-12-05",
        reception_centre=False,
        rejected_manifestly_unfounded=False,
        work_ban_60a6=False,
        sgb8_help_before_21=True,
    )
    for day in DATES:
        res = evaluate(f, dt.date.fromisoformat(day))
        assert [i.category for i in res.access] == list(CODES.categories)
        assert res.benefit_regime is None or res.benefit_regime in CODES.regimes
        for item in res.access:
            assert item.result in RESULTS
            if item.result != "unknown":
                assert item.citation and item.explanation
        dates = [u.date for u in res.upcoming]
        assert dates == sorted(dates)
        assert all(d > res.on for d in dates)


@pytest.mark.parametrize("day", ["2019-08-20", "2023-06-01", "2026-11-21"])
def test_batch_path_gives_the_same_decisions_as_evaluate(day):
    """evaluate_batch (statistics) skips explanations but must decide exactly as evaluate,
    for every status (constant and checked outcomes) and for facts without a status."""
    from lotse.eligibility.engine import evaluate_batch
    from lotse.synth.eligibility_bench import synthetic_fact_sets

    on_day = dt.date.fromisoformat(day)
    fact_sets = synthetic_fact_sets(400, 7, dt.date(2026, 11, 21))
    fact_sets += [facts((s, "2018-01-01", None), birth="2001-01-01") for s in CODES.statuses]
    fact_sets.append(facts(birth="2001-01-01"))  # no status known
    batch = evaluate_batch(fact_sets, on_day)
    for f, (regime, results) in zip(fact_sets, batch, strict=True):
        full = evaluate(f, on_day, with_upcoming=False)
        assert regime == full.benefit_regime
        assert results == tuple(i.result for i in full.access)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_category_timeline_equals_evaluating_every_day(seed):
    """CategoryTimeline (breakpoints) gives on every day of two years the same result as
    evaluating that day directly, for realistic histories with flags."""
    from lotse.eligibility.engine import CategoryTimeline, evaluate_category
    from lotse.synth.eligibility_bench import synthetic_fact_sets

    start = dt.date(2025, 1, 1)
    for f in synthetic_fact_sets(5, seed, dt.date(2026, 11, 21)):
        timeline = CategoryTimeline(f, CODES.categories, start, dt.date(2026, 12, 31))
        day = start
        while day <= dt.date(2026, 12, 31):
            for category in CODES.categories:
                direct = evaluate_category(f, day, category)
                got = timeline.item(category, day)
                assert (got.result, got.rule_id, got.available) == (
                    direct.result,
                    direct.rule_id,
                    direct.available,
                ), (category, day)
            day += dt.timedelta(days=1)
