"""Storing the scan's flags: raised on the person's open case, refreshed, cleared when
no longer found, reopened when found again; resolved flags recur only on new
evidence. The incremental update runs in the services that change a person's
participations, referrals, plan steps and cases; the full scan in `lotse careers`."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from lotse.casework import services as casework
from lotse.referrals.careers_services import (
    career_flag_resolve,
    careers_person_update,
    careers_scan_all,
    careers_store,
    evidence_refs,
)
from lotse.referrals.models import CareerFlag

from .conftest import record_aborted, record_completed_a2

pytestmark = pytest.mark.django_db


def _aborted(world, start: dt.date, title: str = "BvB"):
    return record_aborted(
        world.case_manager, world.case, (timezone.localdate() - start).days, title
    )


def test_recording_a_second_drop_out_raises_a_flag_on_the_open_case(world):
    today = timezone.localdate()
    first = _aborted(world, today - dt.timedelta(days=400))
    assert not CareerFlag.objects.filter(rule="dropout_chain").exists()
    second = _aborted(world, today - dt.timedelta(days=200))
    flag = CareerFlag.objects.get(rule="dropout_chain")
    assert flag.case == world.case and flag.is_open
    assert flag.evidence_key == f"p:{first.pk},{second.pk}"
    assert flag.params == {"categories": flag.params["categories"], "n": 2}
    assert sorted(flag.participations.values_list("pk", flat=True)) == [first.pk, second.pk]
    # The scan again: nothing new.
    assert careers_person_update(world.case.person_id).raised == 0
    assert CareerFlag.objects.filter(rule="dropout_chain").count() == 1


def test_resolved_flags_recur_only_on_new_evidence(world):
    today = timezone.localdate()
    _aborted(world, today - dt.timedelta(days=500))
    _aborted(world, today - dt.timedelta(days=400))
    flag = CareerFlag.objects.get(rule="dropout_chain")
    career_flag_resolve(actor=world.case_manager, flag=flag, note="Gespräch geführt")
    assert careers_person_update(world.case.person_id).unchanged >= 1
    flag.refresh_from_db()
    assert flag.resolved_at is not None and flag.cleared_at is None
    assert CareerFlag.objects.filter(rule="dropout_chain").count() == 1
    third = _aborted(world, today - dt.timedelta(days=100))  # new evidence
    flags = CareerFlag.objects.filter(rule="dropout_chain").order_by("pk")
    assert flags.count() == 2
    assert flags[1].is_open and str(third.pk) in flags[1].evidence_key


def test_a_plan_step_clears_the_gap_and_cancelling_it_reopens_the_flag(world):
    record_completed_a2(world.case_manager, world.case)
    gap = CareerFlag.objects.get(rule="gap")
    assert gap.is_open and gap.evidence["until_today"] is True
    goal = casework.plan_goal_add(
        actor=world.case_manager, case=world.case, life_domain="language", title="B1 erreichen"
    )
    step = casework.plan_step_add(
        actor=world.case_manager,
        goal=goal,
        title="Anmeldung B1-Kurs",
        status="open",
        responsible_organisation=world.lead,
    )
    gap.refresh_from_db()
    assert gap.cleared_at is not None and not gap.is_open
    casework.plan_step_status_set(actor=world.case_manager, step=step, status="cancelled")
    gap.refresh_from_db()
    assert gap.is_open


def test_closing_the_case_clears_what_needs_an_open_case(world):
    record_completed_a2(world.case_manager, world.case)
    assert CareerFlag.objects.get(rule="gap").is_open
    casework.case_phase_set(
        actor=world.case_manager, case=world.case, phase="closed", closing_reason="moved_away"
    )
    assert not CareerFlag.objects.get(rule="gap").is_open


def test_store_keeps_the_evidence_current_and_links_what_it_names(world):
    person = world.case.person_id
    evidence = {"participations": [], "from": "2026-01-01", "days": 100}
    row = (person, "gap", "{}", "p:7", json.dumps(evidence))
    assert careers_store([row], person_ids=[person]).raised == 1
    evidence["days"] = 130
    result = careers_store(
        [(person, "gap", "{}", "p:7", json.dumps(evidence))], person_ids=[person]
    )
    assert (result.refreshed, result.raised) == (1, 0)
    assert CareerFlag.objects.get(rule="gap").evidence["days"] == 130
    # Another person's flags are not touched by a person's update.
    other = world.foreign_case.person_id
    careers_store([(other, "gap", "{}", "p:8", json.dumps(evidence))], person_ids=[other])
    assert careers_store([], person_ids=[person]).cleared == 1
    assert CareerFlag.objects.get(person_id=other).is_open


def test_evidence_refs():
    assert evidence_refs({"participations": [{"id": 3}, {"id": 1}]}) == ([1, 3], None)
    assert evidence_refs({"before": {"id": 5}, "after": None}) == ([5], None)
    assert evidence_refs({"referral_id": 9}) == ([], 9)


def test_full_scan_and_the_command(world):
    today = timezone.localdate()
    _aborted(world, today - dt.timedelta(days=400))
    _aborted(world, today - dt.timedelta(days=200))
    CareerFlag.objects.all().delete()
    frame, stored = careers_scan_all(store=False)
    assert "dropout_chain" in frame["rule"].to_list() and stored is None
    assert not CareerFlag.objects.exists()
    out, err = StringIO(), StringIO()
    call_command("careers", "--format", "json", stdout=out, stderr=err)
    flags = json.loads(out.getvalue())
    assert {f["rule"] for f in flags} >= {"dropout_chain"}
    assert all(set(f) == {"person_id", "rule", "evidence_key", "params", "evidence"} for f in flags)
    assert "raised" in err.getvalue()
    assert CareerFlag.objects.count() == len(flags)
    out = StringIO()
    call_command("careers", "--format", "csv", "--dry-run", stdout=out, stderr=StringIO())
    lines = out.getvalue().splitlines()
    assert lines[0] == "person_id,rule,evidence_key,params,evidence"
    assert len(lines) == len(flags) + 1


def test_the_command_tries_a_rule_file_without_storing(world, tmp_path):
    today = timezone.localdate()
    _aborted(world, today - dt.timedelta(days=400))
    _aborted(world, today - dt.timedelta(days=200))
    CareerFlag.objects.all().delete()
    rules = tmp_path / "rules.json"
    rules.write_text(
        json.dumps([{"kind": "dropout_chain", "code": "dropout_chain", "params": {"n": 3}}])
    )
    out = StringIO()
    call_command("careers", "--rules", str(rules), "--format", "csv", stdout=out, stderr=StringIO())
    assert out.getvalue().splitlines()[1:] == []  # two drop-outs do not make a chain of three
    assert not CareerFlag.objects.exists()
    rules.write_text("[{]")
    with pytest.raises(CommandError, match=r"rules\.json"):
        call_command("careers", "--rules", str(rules), stdout=StringIO(), stderr=StringIO())
