"""The detection core of measure careers (issue #6): the six rules on hand-built rows
(cases that fire and near misses), rules as configuration, stable evidence keys, and
the polars full scan against the plain-Python engine for one person.

Every hand-built case runs through both engines (``flags_of`` asserts they agree), so
each boundary test checks the set-based scan as well as the reference."""

from __future__ import annotations

import datetime as dt
import json
import random
import time

import polars as pl
import pytest

from lotse.referrals import careers_rules as cr
from lotse.referrals import careers_scan as cs
from lotse.referrals.careers_rules import (
    CycleRule,
    DropoutChainRule,
    Flag,
    GapRule,
    NoProgressionRule,
    ParticipationRow,
    PersonRecords,
    PlanStepRow,
    ReferralRow,
    RepetitionRule,
    WaitingRule,
    default_rules,
    rule_from_dict,
    rules_from_json,
    scan_person,
)
from lotse.referrals.careers_scan import CareerFrames, frames_from_records, scan

TODAY = dt.date(2026, 6, 30)
PID = 7


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def part(
    pid: int,
    start: str,
    end: str | None = None,
    *,
    cat: str = "bvb",
    level: str = "",
    outcome: str | None = None,
    reached: str = "",
    next_step: str = "",
    person: int = PID,
) -> ParticipationRow:
    if outcome is None:
        outcome = "completed" if end else ""
    return ParticipationRow(
        person, pid, cat, level, d(start), d(end) if end else None, outcome, reached, next_step
    )


def step(
    sid: int, created: str, status: str = "open", due: str | None = None, person: int = PID
) -> PlanStepRow:
    return PlanStepRow(person, sid, status, d(created), d(due) if due else None)


def referral(
    rid: int,
    sent: str | None,
    status: str = "sent",
    started: str | None = None,
    cat: str | None = "integrationskurs",
    person: int = PID,
) -> ReferralRow:
    return ReferralRow(
        person, rid, cat, d(sent) if sent else None, status, d(started) if started else None
    )


def flags_of(
    parts=(),
    *,
    rules=None,
    steps=(),
    refs=(),
    today: dt.date = TODAY,
    open_case: bool = True,
) -> list[Flag]:
    """The flags of one person by the Python engine; the polars scan must agree."""
    rules = default_rules() if rules is None else rules
    person = PersonRecords(PID, list(parts), list(steps), list(refs), open_case)
    expected = scan_person(person, rules, today)
    polars = scan(frames_from_records([person]), rules, today, engine="polars")
    assert polars.rows() == [tuple(f) for f in expected]
    return expected


def only(rule: cr.Rule, parts=(), **kw) -> list[Flag]:
    return flags_of(parts, rules=[rule], **kw)


def evidence(flag: Flag) -> dict:
    return json.loads(flag.evidence)


def ids(flag: Flag) -> list[int]:
    return [p["id"] for p in evidence(flag)["participations"]]


# --- 1. cycle ---------------------------------------------------------------------------


def test_cycle_three_measures_within_24_months_fire():
    rows = [
        part(1, "2023-01-10", "2023-06-30", cat="integrationskurs", level="B1"),
        part(2, "2023-09-01", "2024-02-28", cat="bvb", level="preparation"),
        part(3, "2024-05-01", "2024-12-20", cat="eq"),
    ]
    [flag] = only(CycleRule(), rows)
    assert flag.rule == "cycle" and flag.person_id == PID
    assert flag.evidence_key == "p:1,2,3"
    ev = evidence(flag)
    assert ev["window_from"] == "2023-01-10" and ev["window_to"] == "2024-05-01"
    assert ids(flag) == [1, 2, 3]
    assert ev["participations"][0] == {
        "id": 1,
        "category": "integrationskurs",
        "level": "B1",
        "started_on": "2023-01-10",
        "ended_on": "2023-06-30",
        "outcome": "completed",
        "level_reached": "",
        "next_step": "",
    }
    assert json.loads(flag.params)["min_count"] == 3


@pytest.mark.parametrize(("last_start", "fires"), [("2024-03-15", True), ("2024-03-16", False)])
def test_cycle_window_is_24_months_inclusive(last_start, fires):
    rows = [
        part(1, "2022-03-15", "2022-09-01"),
        part(2, "2023-01-01", "2023-06-01", cat="sprachkurs"),
        part(3, last_start, "2024-09-01", cat="arbeit"),
    ]
    assert bool(only(CycleRule(), rows)) is fires


@pytest.mark.parametrize(("first_start", "fires"), [("2022-02-28", True), ("2022-02-27", False)])
def test_cycle_months_are_calendar_months_clamped_at_the_month_end(first_start, fires):
    # 29 Feb 2024 minus 24 months is 28 Feb 2022.
    rows = [
        part(1, first_start, "2022-05-01"),
        part(2, "2023-01-01", "2023-03-01"),
        part(3, "2024-02-29", "2024-05-01"),
    ]
    assert bool(only(CycleRule(), rows)) is fires


def test_cycle_counts_only_measure_categories():
    rows = [
        part(1, "2024-01-01", "2024-02-01", cat="beratung"),
        part(2, "2024-03-01", "2024-04-01", cat="bvb"),
        part(3, "2024-05-01", "2024-06-01", cat="mentoring"),
        part(4, "2024-07-01", "2024-08-01", cat="eq"),
    ]
    assert not only(CycleRule(), rows)
    assert only(CycleRule(categories=frozenset({"beratung", "bvb", "eq"})), rows)


@pytest.mark.parametrize(
    "exit_row",
    [
        # the last one ended with an apprenticeship
        part(3, "2024-05-01", "2024-12-20", cat="eq", next_step="apprenticeship"),
        # the middle one ended with employment
        part(3, "2024-05-01", "2024-12-20", cat="eq", next_step="employment"),
        # a school-leaving certificate reached
        part(3, "2024-05-01", "2024-12-20", cat="schulabschluss", reached="school_certificate"),
    ],
)
def test_cycle_exit_inside_the_window_prevents_the_flag(exit_row):
    rows = [part(1, "2023-01-10", "2023-06-30"), part(2, "2023-09-01", "2024-02-28"), exit_row]
    assert not only(CycleRule(), rows)


def test_cycle_apprenticeship_started_inside_the_window_prevents_the_flag():
    rows = [
        part(1, "2023-01-10", "2023-06-30"),
        part(2, "2023-09-01", "2024-02-28"),
        part(9, "2024-03-01", "2024-04-01", cat="ausbildung", outcome="aborted"),
        part(3, "2024-05-01", "2024-12-20", cat="eq"),
    ]
    assert not only(CycleRule(), rows)
    # ... unless apprenticeships are not exits in this rule set
    assert only(CycleRule(exit_categories=frozenset()), rows)


def test_cycle_exit_before_or_after_the_window_does_not_count():
    rows = [
        part(0, "2021-01-01", "2022-06-01", cat="bvb", next_step="employment"),
        part(1, "2023-01-10", "2023-06-30"),
        part(2, "2023-09-01", "2024-02-28"),
        part(3, "2024-05-01", "2024-12-20", cat="eq"),
        part(4, "2025-06-01", cat="ausbildung"),  # an apprenticeship half a year later
    ]
    [flag] = only(CycleRule(), rows)
    assert flag.evidence_key == "p:1,2,3"


def test_cycle_evidence_is_the_latest_window_after_the_last_exit():
    rows = [
        part(1, "2023-01-01", "2023-03-01"),
        part(2, "2023-04-01", "2023-06-01", next_step="employment"),
        part(3, "2023-08-01", "2023-10-01"),
        part(4, "2023-11-01", "2024-01-01"),
        part(5, "2024-02-01", "2024-04-01"),
        part(6, "2024-05-01", "2024-07-01"),
    ]
    [flag] = only(CycleRule(), rows)
    assert ids(flag) == [3, 4, 5, 6]


def test_cycle_running_participation_lasts_until_today():
    rows = [
        part(1, "2025-01-01", "2025-03-01"),
        part(2, "2025-04-01", "2025-06-01"),
        part(3, "2025-07-01"),  # running
    ]
    assert only(CycleRule(), rows)
    # an apprenticeship starting before today falls inside the running window
    assert not only(CycleRule(), [*rows, part(9, "2026-01-01", cat="ausbildung")])


def test_cycle_min_count_is_a_parameter():
    rows = [part(i, f"2024-0{i}-01", f"2024-0{i}-20") for i in range(1, 4)]
    assert only(CycleRule(), rows)
    assert not only(CycleRule(min_count=4), rows)
    assert only(CycleRule(min_count=4), [*rows, part(4, "2024-04-01", "2024-04-20")])
    assert not only(CycleRule(months=1), rows)


# --- 2. repetition ----------------------------------------------------------------------


def b1(pid: int, start: str, end: str | None, **kw) -> ParticipationRow:
    return part(pid, start, end, cat="integrationskurs", level="B1", **kw)


def test_repetition_second_b1_course_without_b1_certificate():
    [flag] = only(
        RepetitionRule(),
        [b1(1, "2024-01-01", "2024-06-01", outcome="aborted"), b1(2, "2024-09-01", None)],
    )
    assert flag.evidence_key == "p:1,2"
    ev = evidence(flag)
    assert ev["category"] == "integrationskurs" and ev["level"] == "B1"


@pytest.mark.parametrize(
    ("outcome", "reached", "fires"),
    [
        ("completed_certificate", "B1", False),
        ("completed_certificate", "B2", False),
        ("completed_certificate", "", False),  # a certificate, level not recorded
        ("completed_certificate", "A2", True),  # a DTZ with A2 only
        ("completed_certificate", "orientation", True),  # another track is no B1
        ("completed", "", True),
        ("completed", "B1", True),  # no certificate
        ("aborted", "", True),
        ("transferred", "", False),  # a transfer is a continuation
    ],
)
def test_repetition_when_the_earlier_one_did_not_reach_the_level(outcome, reached, fires):
    rows = [
        b1(1, "2024-01-01", "2024-06-01", outcome=outcome, reached=reached),
        b1(2, "2024-09-01", "2025-01-01"),
    ]
    assert bool(only(RepetitionRule(), rows)) is fires


def test_repetition_transfers_count_when_configured():
    rows = [b1(1, "2024-01-01", "2024-06-01", outcome="transferred"), b1(2, "2024-06-02", None)]
    assert not only(RepetitionRule(), rows)
    assert only(RepetitionRule(count_transfers=True), rows)


def test_repetition_needs_same_category_same_level_and_an_ended_earlier_one():
    failed = b1(1, "2024-01-01", "2024-06-01", outcome="aborted")
    assert not only(
        RepetitionRule(), [failed, part(2, "2024-09-01", cat="integrationskurs", level="B2")]
    )
    assert not only(
        RepetitionRule(), [failed, part(2, "2024-09-01", cat="berufssprachkurs", level="B1")]
    )
    no_level = [part(1, "2024-01-01", "2024-02-01", outcome="aborted"), part(2, "2024-03-01")]
    assert not only(RepetitionRule(), no_level)
    running_first = [b1(1, "2024-01-01", None), b1(2, "2024-02-01", None)]
    assert not only(RepetitionRule(), running_first)


def test_repetition_one_flag_per_category_and_level():
    rows = [
        b1(1, "2023-01-01", "2023-03-01", outcome="aborted"),
        b1(2, "2023-04-01", "2023-06-01", outcome="completed"),
        b1(3, "2023-07-01", "2023-09-01", outcome="completed_certificate", reached="B1"),
        b1(4, "2023-10-01", "2023-12-01"),  # after a certificate: no repetition
        part(5, "2024-01-01", "2024-02-01", cat="bvb", level="preparation", outcome="aborted"),
        part(6, "2024-03-01", None, cat="bvb", level="preparation"),
    ]
    found = only(RepetitionRule(), rows)
    assert [f.evidence_key for f in found] == ["p:1,2,3", "p:5,6"]
    assert only(RepetitionRule(categories=frozenset({"bvb"})), rows)[0].evidence_key == "p:5,6"


# --- 3. no progression ------------------------------------------------------------------


def reached(pid: int, start: str, level: str, *, cat: str = "sprachkurs") -> ParticipationRow:
    end = (d(start) + dt.timedelta(days=60)).isoformat()
    outcome = "completed_certificate" if level else "completed"
    return part(pid, start, end, cat=cat, outcome=outcome, reached=level)


def test_no_progression_over_the_last_three():
    rows = [
        reached(1, "2022-01-01", "A2"),
        reached(2, "2023-01-01", "A2"),
        reached(3, "2023-06-01", ""),
        reached(4, "2024-01-01", "A1"),
    ]
    [flag] = only(NoProgressionRule(), rows)
    assert flag.evidence_key == "p:2,3,4"
    ev = evidence(flag)
    assert ev["best_before"] == {"language": "A2", "qualification": None}
    assert ev["best_recent"] == {"language": "A2", "qualification": None}


def test_progression_on_either_track_counts_and_tracks_are_not_mixed():
    before = [
        reached(1, "2022-01-01", "B2"),
        reached(2, "2022-06-01", "qualification", cat="ausbildung"),
    ]
    rows = [
        *before,
        reached(3, "2023-01-01", ""),
        reached(4, "2023-06-01", ""),
        reached(5, "2024-01-01", "B2"),
    ]
    assert only(NoProgressionRule(), rows)
    # "preparation" ranks below "B2" by position, but it is progress on its own track
    rows_q = [
        reached(1, "2022-01-01", "B2"),
        reached(3, "2023-01-01", ""),
        reached(4, "2023-06-01", "preparation", cat="bvb"),
        reached(5, "2024-01-01", "A1"),
    ]
    assert not only(NoProgressionRule(), rows_q)
    rows_l = [
        reached(1, "2022-01-01", "qualification", cat="ausbildung"),
        reached(3, "2023-01-01", "A1"),
        reached(4, "2023-06-01", "", cat="bvb"),
        reached(5, "2024-01-01", ""),
    ]
    assert not only(NoProgressionRule(), rows_l)


def test_no_progression_first_levels_are_progress():
    rows = [
        reached(1, "2023-01-01", ""),
        reached(2, "2023-06-01", ""),
        reached(3, "2024-01-01", ""),
    ]
    assert only(NoProgressionRule(), rows)
    rows[1] = reached(2, "2023-06-01", "A1")
    assert not only(NoProgressionRule(), rows)


def test_no_progression_needs_n_ended_and_ignores_running_and_other_categories():
    rows = [reached(1, "2023-01-01", ""), reached(2, "2023-06-01", ""), part(3, "2024-01-01")]
    assert not only(NoProgressionRule(), rows)
    assert not only(NoProgressionRule(), [*rows, reached(4, "2024-02-01", "", cat="beratung")])
    assert only(NoProgressionRule(n=2), rows)


def test_no_progression_orders_by_end_date():
    rows = [
        part(
            1,
            "2022-01-01",
            "2024-06-01",
            cat="sprachkurs",
            outcome="completed_certificate",
            reached="B1",
        ),
        reached(2, "2023-01-01", "A2"),
        reached(3, "2023-06-01", "A2"),
        reached(4, "2023-09-01", "A1"),
    ]
    # By end date the B1 comes last: progress over the A2 before.
    assert not only(NoProgressionRule(), rows)


# --- 4. gap -----------------------------------------------------------------------------


@pytest.mark.parametrize(("next_start", "fires"), [("2025-04-01", False), ("2025-04-02", True)])
def test_gap_between_participations_more_than_90_days(next_start, fires):
    rows = [part(1, "2024-06-01", "2025-01-01"), part(2, next_start)]
    found = only(GapRule(), rows)
    assert bool(found) is fires
    if fires:
        ev = evidence(found[0])
        assert ev["from"] == "2025-01-01" and ev["to"] == next_start and ev["days"] == 91
        assert ev["before"]["id"] == 1 and ev["after"]["id"] == 2 and not ev["until_today"]
        assert found[0].evidence_key == "p:1"


@pytest.mark.parametrize(("days_ago", "fires"), [(90, False), (91, True)])
def test_gap_until_today_when_nothing_runs(days_ago, fires):
    end = (TODAY - dt.timedelta(days=days_ago)).isoformat()
    found = only(GapRule(), [part(1, "2024-01-01", end)])
    assert bool(found) is fires
    if fires:
        ev = evidence(found[0])
        assert ev["until_today"] and ev["after"] is None and ev["to"] == TODAY.isoformat()


def test_gap_not_while_a_participation_runs():
    assert not only(GapRule(), [part(1, "2020-01-01", "2020-02-01"), part(2, "2020-01-15")])


def test_gap_is_measured_from_the_latest_end_of_overlapping_participations():
    rows = [
        part(1, "2024-01-01", "2024-12-31"),
        part(2, "2024-03-01", "2024-06-30"),
        part(3, "2025-02-01", "2025-06-01"),
        part(4, "2025-06-15"),
    ]
    assert not only(GapRule(), rows)  # 32 days after the end of 1, not 216 after 2


@pytest.mark.parametrize(
    ("plan_step", "fires"),
    [
        (step(1, "2025-02-01", "open"), False),
        (step(1, "2025-02-01", "in_progress", due="2024-01-01"), False),  # overdue but active
        (step(1, "2024-12-01", "done", due="2025-03-01"), False),  # due in the gap
        (step(1, "2024-12-01", "done", due="2025-01-01"), False),  # due on its first day
        (step(1, "2024-12-01", "done", due="2024-12-31"), True),  # due before it
        (step(1, "2025-02-01", "cancelled"), True),
        (step(1, "2025-06-01", "open"), True),  # created after the gap ended
        (step(1, "2025-04-02", "open"), False),  # created on its last day
    ],
)
def test_gap_without_an_active_plan_step(plan_step, fires):
    rows = [part(1, "2024-06-01", "2025-01-01"), part(2, "2025-04-02")]
    assert bool(only(GapRule(), rows, steps=[plan_step])) is fires


def test_gap_after_an_exit_is_no_gap():
    rows = [part(1, "2024-06-01", "2025-01-01", next_step="employment")]
    assert not only(GapRule(), rows)
    rows = [part(1, "2024-06-01", "2025-01-01", next_step="measure")]
    assert only(GapRule(), rows)


@pytest.mark.parametrize(
    ("next_start", "months", "fires"),
    [
        ("2024-06-30", 24, True),  # ended exactly 24 months before today
        ("2024-06-29", 24, False),  # a day earlier: history
        ("2024-06-29", 25, True),
    ],
)
def test_gap_counts_only_when_it_ended_within_the_look_back(next_start, months, fires):
    rows = [part(1, "2023-06-01", "2024-01-01"), part(2, next_start, "2026-06-01")]
    assert bool(only(GapRule(within_months=months), rows)) is fires


def test_gap_only_for_open_cases_and_only_the_latest():
    rows = [
        part(1, "2025-01-01", "2025-02-01"),
        part(2, "2025-06-01", "2025-07-01"),  # 120 days after 1
        part(3, "2026-01-01"),  # 184 days after 2, running
    ]
    [flag] = only(GapRule(), rows)
    assert flag.evidence_key == "p:2" and evidence(flag)["days"] == 184
    assert not only(GapRule(), rows, open_case=False)
    # the later gap covered by a plan step: the earlier one is the latest open one
    [flag] = only(GapRule(), rows, steps=[step(1, "2025-08-01", "done", due="2025-09-01")])
    assert flag.evidence_key == "p:1"
    assert not only(GapRule(days=200), rows)


# --- 5. waiting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cat", "started", "fires"),
    [
        ("integrationskurs", "2025-02-26", False),  # 56 days = 8 weeks
        ("integrationskurs", "2025-02-27", True),
        ("bvb", "2025-04-01", False),  # 90 days, the default
        ("bvb", "2025-04-02", True),
        (None, "2025-04-02", True),  # no offer: the default
    ],
)
def test_waiting_until_the_start(cat, started, fires):
    ref = referral(5, "2025-01-01", "started", started=started, cat=cat)
    found = only(WaitingRule(), refs=[ref])
    assert bool(found) is fires
    if fires:
        ev = evidence(found[0])
        assert found[0].evidence_key == "r:5"
        assert ev["until"] == started and ev["started_on"] == started
        assert ev["limit_days"] == (56 if cat == "integrationskurs" else 90)


@pytest.mark.parametrize(
    ("status", "days", "fires"),
    [
        ("sent", 56, False),
        ("sent", 57, True),
        ("waitlisted", 57, True),
        ("accepted", 57, True),
        ("rejected", 300, False),
        ("withdrawn", 300, False),
        ("proposed", 300, False),
    ],
)
def test_waiting_still_open(status, days, fires):
    ref = referral(5, (TODAY - dt.timedelta(days=days)).isoformat(), status)
    found = only(WaitingRule(), refs=[ref])
    assert bool(found) is fires
    if fires:
        ev = evidence(found[0])
        assert ev["until"] == TODAY.isoformat() and ev["started_on"] is None and ev["days"] == days


def test_waiting_limits_are_configurable_and_only_for_open_cases():
    refs = [
        referral(1, "2025-01-01", "started", started="2025-02-20", cat="integrationskurs"),
        referral(2, "2025-01-01", "started", started="2025-02-20", cat="sprachkurs"),
        referral(3, None, "proposed"),
    ]
    assert not only(WaitingRule(), refs=refs)
    rule = WaitingRule(default_days=30, days_by_category={"integrationskurs": 40})
    assert [f.evidence_key for f in only(rule, refs=refs)] == ["r:1", "r:2"]
    assert not only(rule, refs=refs, open_case=False)


# --- 6. drop-out chain ------------------------------------------------------------------


def test_dropout_chain_two_aborted_in_a_row():
    rows = [
        part(1, "2023-01-01", "2023-02-01", outcome="aborted"),
        part(2, "2023-03-01", "2023-04-01", outcome="aborted"),
        part(3, "2023-05-01", "2023-06-01", outcome="aborted"),
    ]
    [flag] = only(DropoutChainRule(), rows)
    assert ids(flag) == [1, 2, 3]
    assert only(DropoutChainRule(n=3), rows)
    assert not only(DropoutChainRule(n=4), rows)


def test_aborted_completed_aborted_is_no_chain():
    rows = [
        part(1, "2023-01-01", "2023-02-01", outcome="aborted"),
        part(2, "2023-03-01", "2023-04-01", outcome="completed"),
        part(3, "2023-05-01", "2023-06-01", outcome="aborted"),
    ]
    assert not only(DropoutChainRule(), rows)
    rows[1] = part(2, "2023-03-01", "2023-04-01", outcome="transferred")
    assert not only(DropoutChainRule(), rows)


def test_dropout_chain_skips_running_ones_and_other_categories_and_takes_the_latest():
    rows = [
        part(1, "2022-01-01", "2022-02-01", outcome="aborted"),
        part(2, "2022-03-01", "2022-04-01", outcome="aborted"),
        part(3, "2022-05-01", "2022-06-01", outcome="completed"),
        part(4, "2023-01-01", "2023-02-01", outcome="aborted"),
        part(5, "2023-02-15", None),  # running: not part of the sequence
        part(6, "2023-03-01", "2023-03-20", cat="beratung", outcome="completed"),
        part(7, "2023-04-01", "2023-05-01", outcome="aborted"),
    ]
    [flag] = only(DropoutChainRule(), rows)
    assert flag.evidence_key == "p:4,7"
    assert (
        only(DropoutChainRule(categories=frozenset({"bvb", "beratung"})), rows)[0].evidence_key
        == "p:1,2"
    )


# --- evidence keys, dates, several rules ------------------------------------------------


def test_evidence_key_is_stable_and_changes_with_new_evidence():
    rows = [part(i, f"2024-0{i}-01", f"2024-0{i}-20", outcome="aborted") for i in range(1, 4)]
    first = flags_of(rows)
    assert flags_of(list(reversed(rows))) == first  # order of the input does not matter
    keys = {f.rule: f.evidence_key for f in first}
    assert keys["cycle"] == "p:1,2,3" and keys["dropout_chain"] == "p:1,2,3"
    more = flags_of([*rows, part(4, "2024-05-01", "2024-05-20", outcome="aborted")])
    new_keys = {f.rule: f.evidence_key for f in more}
    assert new_keys["cycle"] == "p:1,2,3,4" != keys["cycle"]
    assert new_keys["dropout_chain"] == "p:1,2,3,4"


def test_gap_key_survives_the_gap_closing():
    """A gap flagged while open and resolved does not come back once the person starts
    again: the key names the participation before the gap."""
    open_gap = only(GapRule(), [part(1, "2025-01-01", "2025-02-01")])
    closed = only(GapRule(), [part(1, "2025-01-01", "2025-02-01"), part(2, "2026-06-01")])
    assert open_gap[0].evidence_key == closed[0].evidence_key == "p:1"
    assert evidence(open_gap[0])["until_today"] and not evidence(closed[0])["until_today"]


def test_future_rows_are_not_seen():
    rows = [part(1, "2025-01-01", "2025-02-01"), part(2, "2026-08-01", cat="ausbildung")]
    [now] = only(GapRule(), rows)
    assert evidence(now)["until_today"] and evidence(now)["after"] is None
    [later] = only(GapRule(), rows, today=dt.date(2026, 9, 1))
    assert evidence(later)["after"]["id"] == 2 and evidence(later)["to"] == "2026-08-01"
    refs = [referral(1, "2026-07-01")]
    assert not only(WaitingRule(), refs=refs)


def test_all_default_rules_on_one_person():
    rows = [
        b1(1, "2023-01-01", "2023-03-01", outcome="aborted"),
        b1(2, "2023-04-01", "2023-06-01", outcome="aborted"),
        part(3, "2023-08-01", "2023-10-01", cat="bvb"),
        part(4, "2024-01-01", "2024-03-01", cat="eq"),
    ]
    refs = [referral(9, "2026-01-01")]
    found = flags_of(rows, refs=refs)
    assert [f.rule for f in found] == [
        "cycle",
        "repetition",
        "no_progression",
        "gap",
        "waiting",
        "dropout_chain",
    ]


def test_disabled_rules_and_two_rules_of_one_kind():
    rows = [part(i, f"2024-0{i}-01", f"2024-0{i}-20") for i in range(1, 5)]
    strict = CycleRule(code="cycle_strict", min_count=4)
    found = flags_of(rows, rules=[CycleRule(enabled=False), strict, CycleRule(code="cycle_3")])
    assert [f.rule for f in found] == ["cycle_strict", "cycle_3"]
    assert json.loads(found[0].params)["min_count"] == 4
    with pytest.raises(ValueError, match="twice"):
        flags_of(rows, rules=[CycleRule(), CycleRule()])


def test_empty_input_gives_an_empty_frame_with_the_schema():
    for engine in ("polars", "python"):
        out = scan(CareerFrames(), default_rules(), TODAY, engine=engine)  # type: ignore[arg-type]
        assert out.height == 0 and out.schema == pl.Schema(cs.FLAG_SCHEMA)
    assert scan(CareerFrames(), [], TODAY, engine="polars").height == 0


def test_frames_are_checked_and_typed():
    with pytest.raises(ValueError, match="missing column"):
        scan(CareerFrames(participations=pl.DataFrame({"person_id": [1]})), default_rules(), TODAY)
    # dates as ISO text and a null category are accepted
    frames = CareerFrames(
        participations=pl.DataFrame(
            {
                "person_id": [1, 1, 1],
                "id": [1, 2, 3],
                "category": ["bvb", "eq", "bvb"],
                "level": [None, "", ""],
                "started_on": ["2024-01-01", "2024-03-01", "2024-05-01"],
                "ended_on": ["2024-02-01", "2024-04-01", None],
                "outcome": ["aborted", "aborted", None],
                "level_reached": [None, None, None],
                "next_step": [None, None, None],
            }
        ),
    )
    out = scan(frames, [CycleRule(), DropoutChainRule()], TODAY, engine="polars")
    assert out["evidence_key"].to_list() == ["p:1,2,3", "p:1,2"]
    bad = CareerFrames(participations=frames.participations.with_columns(person_id=pl.lit(-1)))
    with pytest.raises(ValueError, match="person ids"):
        scan(bad, default_rules(), TODAY, engine="polars")


# --- rules as configuration -------------------------------------------------------------


def test_default_rules_have_names_explanations_and_the_issues_parameters():
    rules = {r.code: r for r in default_rules()}
    assert list(rules) == [
        "cycle",
        "repetition",
        "no_progression",
        "gap",
        "waiting",
        "dropout_chain",
    ]
    assert all(r.name and r.explanation and r.enabled for r in rules.values())
    assert json.loads(rules["cycle"].params_json) == {
        "categories": sorted(cr.MEASURE_CATEGORIES),
        "exit_categories": ["ausbildung"],
        "exit_levels": ["school_certificate"],
        "exit_next_steps": sorted(cr.EXIT_NEXT_STEPS),
        "min_count": 3,
        "months": 24,
    }
    assert rules["gap"].params()["days"] == 90
    assert rules["waiting"].params()["days_by_category"] == {"integrationskurs": 56}
    assert rules["dropout_chain"].params()["n"] == 2
    assert rules["no_progression"].params()["n"] == 3


def test_rule_from_dict_round_trips_and_fills_defaults():
    row = {"kind": "cycle", "code": "cycle4", "name": "Strenger Zyklus", "params": {"min_count": 4}}
    rule = rule_from_dict(row)
    assert isinstance(rule, CycleRule) and rule.min_count == 4 and rule.months == 24
    assert rule.explanation == CycleRule.default_explanation
    assert rule_from_dict(rule.to_dict()) == rule
    assert rule_from_dict(json.loads(json.dumps(rule.to_dict()))) == rule
    waiting = rule_from_dict({"kind": "waiting", "params": {"days_by_category": {"bvb": 30}}})
    assert isinstance(waiting, WaitingRule)
    assert waiting.limit("bvb") == 30 and waiting.limit(None) == 90 and waiting.code == "waiting"
    rules = rules_from_json(json.dumps([r.to_dict() for r in default_rules()]))
    assert rules == default_rules()
    assert default_rules()[0].with_params(months=12) == CycleRule(months=12)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "nope"}, "unknown rule kind"),
        ({"kind": "cycle", "params": {"minimum": 3}}, "unknown parameter"),
        ({"kind": "cycle", "params": {"min_count": 1}}, "min_count"),
        ({"kind": "cycle", "params": {"min_count": "3"}}, "min_count"),
        ({"kind": "gap", "params": {"days": -1}}, "days"),
        ({"kind": "gap", "params": {"categories": "bvb"}}, "categories"),
        ({"kind": "waiting", "params": {"days_by_category": {"bvb": -3}}}, "days_by_category"),
        ({"kind": "waiting", "params": {"days_by_category": [1]}}, "days_by_category"),
        ({"kind": "dropout_chain", "params": {"n": 0}}, "n must"),
        ({"kind": "gap", "enabled": "yes"}, "enabled"),
        ({"kind": "gap", "colour": "red"}, "unknown key"),
        ({"kind": "gap", "params": []}, "params"),
    ],
)
def test_rule_from_dict_refuses_bad_rows(data, message):
    with pytest.raises(ValueError, match=message):
        rule_from_dict(data)


def test_rules_from_json_refuses_duplicate_codes():
    with pytest.raises(ValueError, match="twice"):
        rules_from_json(json.dumps([{"kind": "gap"}, {"kind": "gap"}]))


def test_code_values_match_the_projects_code_lists():
    from lotse.casework.codes import StepStatus
    from lotse.offers.codes import LEVEL_ORDER, OfferCategory
    from lotse.referrals.codes import EXIT_NEXT_STEPS, NextStep, Outcome, ReferralStatus

    assert {str(s) for s in EXIT_NEXT_STEPS} == cr.EXIT_NEXT_STEPS
    assert [*cr.LANGUAGE_LEVELS, *cr.QUALIFICATION_LEVELS] == LEVEL_ORDER
    assert cr.CERTIFICATE == Outcome.COMPLETED_CERTIFICATE
    assert cr.ABORTED == Outcome.ABORTED and cr.TRANSFERRED == Outcome.TRANSFERRED
    assert {StepStatus.OPEN, StepStatus.IN_PROGRESS} == cr.ACTIVE_STEP_STATUSES
    assert cr.CANCELLED_STEP == StepStatus.CANCELLED
    assert set(ReferralStatus.values) >= cr.WAITING_REFERRAL_STATUSES
    assert set(OfferCategory.values) >= cr.CAREER_CATEGORIES
    assert set(NextStep.values) >= cr.EXIT_NEXT_STEPS
    assert CycleRule().exit_categories <= set(OfferCategory.values)


# --- the two engines agree --------------------------------------------------------------

CATS = ["integrationskurs", "sprachkurs", "bvb", "eq", "ausbildung", "beratung", "arbeit"]
LEVELS = ["", "", "A1", "A2", "B1", "B2", "orientation", "preparation", "school_certificate", "x"]
OUTCOMES = ["completed_certificate", "completed", "aborted", "transferred"]
NEXT = ["", "measure", "none", "unknown", "employment", "apprenticeship", "school_qualification"]


def random_persons(seed: int, n: int) -> list[PersonRecords]:
    """Dense, adversarial rows: few dates (many ties), overlaps, unknown level codes,
    running and future participations, referrals without an offer or a date."""
    rnd = random.Random(seed)
    base = dt.date(2022, 1, 1)

    def day(span: int = 1800) -> dt.date:
        return base + dt.timedelta(days=rnd.randrange(0, span, rnd.choice([1, 7, 30])))

    persons, pid, sid, rid = [], 0, 0, 0
    for person_id in range(1, n + 1):
        parts = []
        for _ in range(rnd.randrange(0, 9)):
            pid += 1
            start = day()
            ended = rnd.random() < 0.8
            end = start + dt.timedelta(days=rnd.randrange(0, 400)) if ended else None
            parts.append(
                ParticipationRow(
                    person_id,
                    pid,
                    rnd.choice(CATS),
                    rnd.choice(LEVELS),
                    start,
                    end,
                    rnd.choice(OUTCOMES) if ended else "",
                    rnd.choice(LEVELS) if ended else "",
                    rnd.choice(NEXT) if ended else "",
                )
            )
        steps = []
        for _ in range(rnd.randrange(0, 3)):
            sid += 1
            created = day()
            due = (
                created + dt.timedelta(days=rnd.randrange(-30, 200)) if rnd.random() < 0.8 else None
            )
            steps.append(
                PlanStepRow(
                    person_id,
                    sid,
                    rnd.choice(["open", "in_progress", "done", "cancelled"]),
                    created,
                    due,
                )
            )
        refs = []
        for _ in range(rnd.randrange(0, 3)):
            rid += 1
            sent = day() if rnd.random() < 0.9 else None
            started = (
                sent + dt.timedelta(days=rnd.randrange(0, 150))
                if sent and rnd.random() < 0.5
                else None
            )
            status = rnd.choice(
                ["proposed", "sent", "accepted", "waitlisted", "started", "rejected"]
            )
            refs.append(
                ReferralRow(person_id, rid, rnd.choice([*CATS, None]), sent, status, started)
            )
        persons.append(PersonRecords(person_id, parts, steps, refs, rnd.random() < 0.7))
    return persons


def random_rules(seed: int) -> list[cr.Rule]:
    rnd = random.Random(seed)
    return [
        CycleRule(min_count=rnd.choice([2, 3, 4]), months=rnd.choice([6, 12, 24])),
        RepetitionRule(count_transfers=rnd.random() < 0.5),
        NoProgressionRule(n=rnd.choice([1, 2, 3])),
        GapRule(days=rnd.choice([0, 30, 90])),
        WaitingRule(default_days=rnd.choice([10, 90]), days_by_category={"bvb": 20}),
        DropoutChainRule(n=rnd.choice([1, 2, 3])),
    ]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_polars_scan_equals_the_python_engine_on_random_data(seed):
    persons = random_persons(seed, 1500)
    rules = default_rules() if seed == 1 else random_rules(seed)
    today = dt.date(2025, 6, 30) if seed % 2 else TODAY
    frames = frames_from_records(persons)
    polars = scan(frames, rules, today, engine="polars")
    python = scan(frames, rules, today, engine="python")
    assert polars.height > 300 and set(polars["rule"]) == {r.code for r in rules}
    assert polars.equals(python)
    # the incremental path for single persons gives that person's rows
    for person in persons[:50]:
        mine = polars.filter(pl.col("person_id") == person.person_id)
        assert sorted(mine.rows()) == sorted(tuple(f) for f in scan_person(person, rules, today))


def test_polars_scan_equals_the_python_engine_on_the_bench_data():
    frames = cs.bench_frames(3000, seed=5)
    polars = scan(frames, default_rules(), cs.BENCH_TODAY, engine="polars")
    python = scan(frames, default_rules(), cs.BENCH_TODAY, engine="python")
    assert polars.height > 1000 and polars.equals(python)


def test_unsorted_input_gives_the_same_flags():
    frames = cs.bench_frames(500, seed=9)
    shuffled = CareerFrames(
        participations=frames.participations.sample(fraction=1.0, shuffle=True, seed=1),
        plan_steps=frames.plan_steps.sample(fraction=1.0, shuffle=True, seed=2),
        referrals=frames.referrals.sample(fraction=1.0, shuffle=True, seed=3),
        open_persons=frames.open_persons,
    )
    a = scan(frames, default_rules(), cs.BENCH_TODAY, engine="polars")
    assert a.height and a.equals(scan(shuffled, default_rules(), cs.BENCH_TODAY, engine="polars"))


def test_auto_engine_uses_python_for_small_inputs_with_the_same_result():
    frames = frames_from_records(random_persons(11, 3))
    small = scan(frames, default_rules(), TODAY)
    assert small.equals(scan(frames, default_rules(), TODAY, engine="polars"))
    with pytest.raises(ValueError, match="engine"):
        scan(frames, default_rules(), TODAY, engine="spark")  # type: ignore[arg-type]


def test_one_person_is_scanned_within_5_ms():
    person = max(random_persons(12, 200), key=lambda p: len(p.participations))
    rules = default_rules()
    scan_person(person, rules, TODAY)
    timings = []
    for _ in range(50):
        start = time.perf_counter()
        scan_person(person, rules, TODAY)
        timings.append(time.perf_counter() - start)
    assert sorted(timings)[len(timings) // 2] < 0.005


def test_bench_scan_reports_figures():
    result = cs.bench_scan(300, seed=2, person_samples=20)
    assert result.participations > 1000 and result.flags > 0
    assert set(result.flags_by_rule) == {r.code for r in default_rules()}
    assert result.scan_seconds > 0 and 0 < result.person_ms < 5
    assert "participations" in result.lines()[0]


# --- the loaders (database) -------------------------------------------------------------


@pytest.mark.django_db
def test_load_frames_and_load_person_read_the_database(world, provider):
    from django.utils import timezone

    from lotse.casework.models import PlanGoal, PlanStep
    from lotse.referrals.models import Participation, Referral

    case = world.case
    person = case.person
    today = timezone.localdate()

    def participation(start: dt.date, end: dt.date | None, outcome: str = "", **kw):
        return Participation.objects.create(
            person=person,
            case=case,
            title="Kurs",
            category=kw.pop("category", "bvb"),
            started_on=start,
            ended_on=end,
            outcome=outcome,
            abort_reason="motivation" if outcome == "aborted" else "",
            recorded_by=case.lead_organisation,
            created_by=case.case_manager,
            **kw,
        )

    days = dt.timedelta(days=1)
    p1 = participation(today - 400 * days, today - 300 * days, "aborted", level="B1")
    p2 = participation(today - 250 * days, today - 200 * days, "aborted", category="eq")
    ref = Referral.objects.create(
        case=case,
        person=person,
        offer=provider.offer,
        receiver=provider.org,
        sender=case.lead_organisation,
        status="sent",
        reason="Deutsch",
        created_by=case.case_manager,
        sent_at=timezone.now() - 100 * days,
    )
    goal = PlanGoal.objects.create(plan=case.plan, life_domain="work", title="Arbeit")
    PlanStep.objects.create(goal=goal, title="Bewerben", status="cancelled", due_date=today)

    frames = cs.load_frames()
    parts = frames.participations
    assert parts.schema == pl.Schema(cs.PARTICIPATION_SCHEMA)
    assert parts["id"].to_list() == [p1.pk, p2.pk]
    assert parts.row(0, named=True)["started_on"] == p1.started_on
    assert parts.row(0, named=True)["ended_on"] == p1.ended_on
    assert parts.row(0, named=True)["level"] == "B1"
    assert frames.referrals.row(0) == (
        person.pk,
        ref.pk,
        "sprachkurs",
        today - 100 * days,
        "sent",
        None,
    )
    assert frames.plan_steps.row(0)[0] == person.pk
    assert frames.plan_steps.row(0)[3] == today
    assert frames.open_persons is not None
    assert set(frames.open_persons["person_id"]) == {person.pk, world.foreign_case.person_id}

    flags = scan(frames, default_rules(), today, engine="polars")
    assert set(flags["rule"]) == {"gap", "waiting", "dropout_chain"}
    record = cs.load_person(person.pk)
    assert record.open_case and len(record.participations) == 2
    assert scan_person(record, default_rules(), today) == [Flag(*row) for row in flags.rows()]
    assert cs.load_frames(person_ids=[world.foreign_case.person_id]).participations.height == 0

    start = time.perf_counter()
    scan_person(cs.load_person(person.pk), default_rules(), today)
    assert time.perf_counter() - start < 0.5  # four queries and the rules


def test_explanations_name_the_parameters_and_rules_hash():
    assert CycleRule(min_count=4).explain().startswith("At least 4 participations")
    assert "integrationskurs 56" in WaitingRule().explain()
    assert GapRule(explanation="Mehr als {days} Tage {").explain() == "Mehr als {days} Tage {"
    assert GapRule(explanation="Mehr als {days} Tage, {unbekannt}").explain() == (
        "Mehr als 90 Tage, {unbekannt}"
    )
    assert GapRule().explain("Mehr als {days} Tage") == "Mehr als 90 Tage"
    assert len({*default_rules(), *default_rules()}) == 6
    with pytest.raises(ValueError, match="count_transfers"):
        rule_from_dict({"kind": "repetition", "params": {"count_transfers": 1}})
