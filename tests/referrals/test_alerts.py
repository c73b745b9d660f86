"""Transition alerts (issue #6): each kind fires exactly inside its window, only for open
cases, once; the follow-up goes to the case manager of the lead organisation, due
`days` before; every follow-up is in the access log; the selection costs the same
number of queries for 3 and 15 persons; `lotse alerts` prints what it did."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lotse.casework.models import FollowUp, PlanGoal, PlanStep
from lotse.core.models import AccessLogEntry
from lotse.eligibility.engine import add_months, add_years
from lotse.eligibility.models import PersonFacts
from lotse.people.models import PersonLanguage
from lotse.referrals import alerts
from lotse.referrals.alerts import transition_alerts_plan, transition_alerts_run
from lotse.referrals.models import Participation, TransitionAlert

from ..factories import CaseFactory, PersonFactory, ResidenceFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 2)
DAY = dt.timedelta(days=1)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def born_to_turn(age: int, on: dt.date) -> dt.date:
    """A birth date whose `age`-th birthday is `on` (not 29 February)."""
    return add_years(on, -age)


def case_for(world, **person):
    return CaseFactory(
        lead_organisation=world.lead,
        case_manager=world.case_manager.user,
        person=PersonFactory(**person),
    )


def run(today: dt.date = TODAY, **kw):
    return transition_alerts_run(today=today, **kw)


def alerts_of(case, kind: str | None = None) -> list[TransitionAlert]:
    qs = TransitionAlert.objects.filter(case=case).select_related("followup")
    return list(qs.filter(kind=kind) if kind else qs)


def participation(case, *, ended_on, next_step="", started_on=None, outcome="completed", **kw):
    return Participation.objects.create(
        person=case.person,
        case=case,
        title=kw.pop("title", "Deutsch B1 Abendkurs"),
        category="integrationskurs",
        started_on=started_on or (ended_on - days(120) if ended_on else TODAY - days(30)),
        ended_on=ended_on,
        outcome=outcome if ended_on else "",
        next_step=next_step,
        recorded_by=case.lead_organisation,
        created_by=case.case_manager,
        **kw,
    )


def plan_step(case, *, status="open", due_date=None, created_at=None) -> PlanStep:
    goal = PlanGoal.objects.create(plan=case.plan, life_domain="work", title="Ausbildung finden")
    step = PlanStep.objects.create(goal=goal, title="Bewerbungen", status=status, due_date=due_date)
    if created_at is not None:
        PlanStep.objects.filter(pk=step.pk).update(created_at=created_at)
    return step


# --- birthdays ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "fires"),
    [(-1, False), (0, True), (1, True), (60, True), (61, False)],
)
def test_birthday_27_fires_inside_the_60_day_window(world, offset, fires):
    event = TODAY + days(offset)
    case = case_for(world, birth_date=born_to_turn(27, event))
    run()
    found = alerts_of(case, "birthday_27")
    assert len(found) == int(fires)
    if fires:
        alert = found[0]
        assert alert.event_date == event and alert.key == f"birthday_27:{event}"
        # Due 60 days before, never before today: on a daily run that is the day it fires.
        assert alert.followup.due_on == max(event - days(60), TODAY)
        assert "Turns 27 on" in alert.followup.title


@pytest.mark.parametrize("age", [21, 25])
def test_birthdays_21_and_25(world, age):
    event = TODAY + days(60)
    case = case_for(world, birth_date=born_to_turn(age, event))
    run()
    assert [a.kind for a in alerts_of(case)] == [f"birthday_{age}"]
    assert alerts_of(case)[0].followup.title.startswith(f"Turns {age} on ")


def test_birthday_on_29_february_is_28_february_in_other_years(world):
    case = case_for(world, birth_date=dt.date(2004, 2, 29))
    run(today=dt.date(2025, 1, 1))
    [alert] = alerts_of(case)
    assert alert.kind == "birthday_21" and alert.event_date == dt.date(2025, 2, 28)


def test_followup_goes_to_the_case_manager_of_the_lead_organisation(world):
    case = case_for(world, birth_date=born_to_turn(27, TODAY + days(60)))
    run()
    [alert] = alerts_of(case)
    followup = alert.followup
    assert followup.case == case
    assert followup.owner == world.case_manager.user
    assert followup.organisation == world.lead
    assert followup.created_by == world.case_manager.user
    assert followup.due_on == TODAY and followup.done_at is None


def test_every_open_case_of_the_person_gets_its_own_alert(world):
    case = case_for(world, birth_date=born_to_turn(27, TODAY + days(10)))
    other = CaseFactory(
        person=case.person,
        lead_organisation=world.other,
        case_manager=world.outsider.user,
    )
    run()
    assert len(alerts_of(case)) == 1
    [alert] = alerts_of(other)
    assert alert.followup.owner == world.outsider.user
    assert alert.followup.organisation == world.other


# --- residence status and document ----------------------------------------------------


@pytest.mark.parametrize(("offset", "fires"), [(-1, False), (0, True), (90, True), (91, False)])
def test_status_end_fires_inside_the_90_day_window(world, offset, fires):
    case = case_for(world)
    end = TODAY + days(offset)
    ResidenceFactory(person=case.person, status="duldung", valid_to=end)
    run()
    found = alerts_of(case, "status_end")
    assert len(found) == int(fires)
    if fires:
        assert found[0].event_date == end
        assert found[0].followup.title.startswith("Residence status “")
        assert f"ends on {end:%m/%d/%Y}" in found[0].followup.title


@pytest.mark.parametrize(("offset", "fires"), [(-1, False), (0, True), (90, True), (91, False)])
def test_document_end_fires_inside_the_90_day_window(world, offset, fires):
    case = case_for(world)
    expiry = TODAY + days(offset)
    ResidenceFactory(person=case.person, status="ae_25_2_gfk", document_expiry=expiry)
    run()
    found = alerts_of(case, "document_end")
    assert len(found) == int(fires)
    assert not alerts_of(case, "status_end")
    if fires:
        assert found[0].event_date == expiry and "expires on" in found[0].followup.title


def test_document_expiring_with_the_status_gives_one_alert(world):
    case = case_for(world)
    end = TODAY + days(30)
    ResidenceFactory(person=case.person, status="duldung", valid_to=end, document_expiry=end)
    run()
    assert [a.kind for a in alerts_of(case)] == ["status_end"]


def test_only_the_latest_current_period_counts(world):
    case = case_for(world)
    old = ResidenceFactory(
        person=case.person,
        status="gestattung",
        valid_from=dt.date(2024, 1, 1),
        valid_to=TODAY + days(20),
        document_expiry=TODAY + days(20),
    )
    # The follow-up status is recorded already: the old period's end is no alert.
    ResidenceFactory(person=case.person, status="ae_25_2_gfk", valid_from=old.valid_to + DAY)
    # A superseded (corrected) period is not current either.
    wrong = ResidenceFactory(
        person=world.case.person, valid_from=dt.date(2025, 1, 1), valid_to=TODAY + days(5)
    )
    ResidenceFactory(
        person=world.case.person,
        valid_from=dt.date(2025, 1, 1),
        valid_to=TODAY + days(400),
        supersedes=wrong,
    )
    run()
    assert not alerts_of(case, "status_end") and not alerts_of(case, "document_end")
    assert not alerts_of(world.case, "status_end")


# --- participations ---------------------------------------------------------------------


@pytest.mark.parametrize(("offset", "fires"), [(-31, False), (-30, True), (0, True), (1, False)])
def test_participation_end_without_next_step_looks_back_30_days(world, offset, fires):
    ended = TODAY + days(offset)
    p = participation(world.case, ended_on=ended, next_step="none")
    run()
    found = alerts_of(world.case, "participation_end_without_next")
    assert len(found) == int(fires)
    if fires:
        assert found[0].event_date == ended
        assert found[0].key == f"participation_end_without_next:{ended}:p{p.pk}"
        assert found[0].followup.due_on == TODAY  # days 0: due the day it ended, or today
        assert "“Deutsch B1 Abendkurs” ended on" in found[0].followup.title


@pytest.mark.parametrize("next_step", ["apprenticeship", "employment", "school_qualification"])
def test_no_participation_alert_after_an_exit(world, next_step):
    participation(world.case, ended_on=TODAY - days(3), next_step=next_step)
    run()
    assert not alerts_of(world.case, "participation_end_without_next")


def test_no_participation_alert_when_a_plan_step_follows(world):
    ended = TODAY - days(3)
    participation(world.case, ended_on=ended)
    plan_step(world.case, status="in_progress")  # created after the end (now)
    run()
    assert not alerts_of(world.case, "participation_end_without_next")


def test_an_earlier_step_counts_only_if_due_after_the_end(world):
    ended = TODAY - days(3)
    participation(world.case, ended_on=ended)
    before = dt.datetime(2025, 6, 1, 10, 0, tzinfo=dt.UTC)
    step = plan_step(world.case, created_at=before)  # open, no due date, long before
    run()
    assert len(alerts_of(world.case, "participation_end_without_next")) == 1

    TransitionAlert.objects.all().delete()
    PlanStep.objects.filter(pk=step.pk).update(due_date=ended + days(30))
    run()
    assert not alerts_of(world.case, "participation_end_without_next")


@pytest.mark.parametrize("status", ["done", "cancelled"])
def test_a_closed_plan_step_is_no_next_step(world, status):
    participation(world.case, ended_on=TODAY - days(3))
    plan_step(world.case, status=status)
    run()
    assert len(alerts_of(world.case, "participation_end_without_next")) == 1


def test_no_participation_alert_when_another_participation_runs_on(world):
    participation(world.case, ended_on=TODAY - days(3), outcome="transferred")
    participation(world.case, ended_on=None, started_on=TODAY - days(2), title="BvB")
    run()
    assert not alerts_of(world.case, "participation_end_without_next")


# --- benefit switch ---------------------------------------------------------------------


def asylblg_case(world, switch_on: dt.date):
    """A Gestattung since entry: § 2 AsylbLG after 36 months, i.e. on `switch_on`."""
    entry = add_months(switch_on, -36)
    case = case_for(world, entry_date=entry, nationality="AF")
    ResidenceFactory(person=case.person, status="gestattung", valid_from=entry)
    return case


@pytest.mark.parametrize(("offset", "fires"), [(0, True), (30, True), (31, False)])
def test_benefit_switch_from_the_engine_inside_the_30_day_window(world, offset, fires):
    switch = TODAY + days(offset)
    case = asylblg_case(world, switch)
    run()
    found = alerts_of(case, "benefit_switch")
    assert len(found) == int(fires)
    if fires:
        alert = found[0]
        assert alert.event_date == switch and alert.key == f"benefit_switch:{switch}:asylblg_2"
        assert alert.followup.title.startswith("Benefit switch expected on")
        assert "§ 2 Abs. 1 AsylbLG" in alert.followup.title


def test_a_switch_already_in_effect_is_no_alert(world):
    asylblg_case(world, TODAY - days(1))
    case = asylblg_case(world, TODAY - days(40))
    run()
    assert not TransitionAlert.objects.filter(kind="benefit_switch").exists()
    assert not alerts_of(case)


def test_facts_the_engine_refuses_are_counted_not_fatal(world):
    case = asylblg_case(world, TODAY + days(5))
    # Overlapping current periods: the engine refuses these facts.
    ResidenceFactory(person=case.person, status="duldung", valid_from=TODAY - days(100))
    summary = run()
    assert summary.facts_errors == 1 and not alerts_of(case, "benefit_switch")


# --- scope, idempotency, log, settings ----------------------------------------------------


def test_closed_cases_get_no_alerts(world):
    case = CaseFactory(
        lead_organisation=world.lead,
        case_manager=world.case_manager.user,
        person=PersonFactory(birth_date=born_to_turn(27, TODAY + days(5))),
        phase="closed",
        closed_on=TODAY - days(10),
        closing_reason="moved_away",
    )
    ResidenceFactory(person=case.person, status="duldung", valid_to=TODAY + days(5))
    participation(case, ended_on=TODAY - days(1))
    summary = run()
    assert not alerts_of(case) and summary.created == []


def test_a_second_run_creates_nothing(world):
    case = case_for(world, birth_date=born_to_turn(27, TODAY + days(5)))
    ResidenceFactory(person=case.person, status="duldung", valid_to=TODAY + days(5))
    participation(case, ended_on=TODAY - days(1))
    first = run()
    assert sorted(first.by_kind()) == [
        "birthday_27",
        "participation_end_without_next",
        "status_end",
    ]
    followups, log = FollowUp.objects.count(), AccessLogEntry.objects.count()
    second = run()
    assert second.created == [] and second.existing == 3
    # Nor the next day, nor when the follow-up was done or deleted.
    FollowUp.objects.filter(case=case).first().delete()
    assert run(today=TODAY + DAY).created == []
    assert FollowUp.objects.count() == followups - 1 and AccessLogEntry.objects.count() == log


def test_unique_key_per_case_guards_against_a_concurrent_run(world):
    case = case_for(world, birth_date=born_to_turn(27, TODAY + days(5)))
    plan = transition_alerts_plan(today=TODAY)
    run()  # the other run
    summary = run(plan=plan)
    assert summary.failed == [(case.pk, "IntegrityError")]
    assert FollowUp.objects.filter(case=case).count() == 1  # rolled back with the alert


def test_each_followup_is_in_the_access_log(world):
    case = case_for(world, birth_date=born_to_turn(27, TODAY + days(5)))
    participation(case, ended_on=TODAY)
    summary = run()
    assert len(summary.created) == 2
    for item in summary.created:
        entry = AccessLogEntry.objects.get(
            object_type="transition_alert", object_id=str(item.alert_id)
        )
        assert entry.person_id == case.person_id and entry.action == "create"
        assert entry.user_id is None and entry.organisation_id is None  # the system
        assert entry.basis == "lead_organisation" and entry.purpose == "casework"
        assert "plan" in entry.categories
    assert AccessLogEntry.objects.filter(object_type="transition_alert").count() == 2


def test_dry_run_writes_nothing(world):
    case_for(world, birth_date=born_to_turn(27, TODAY + days(5)))
    log = AccessLogEntry.objects.count()
    summary = run(dry_run=True)
    assert [i.kind for i in summary.created] == ["birthday_27"]
    assert summary.created[0].alert_id is None
    assert not TransitionAlert.objects.exists() and not FollowUp.objects.exists()
    assert AccessLogEntry.objects.count() == log


def test_days_come_from_the_setting(world, settings):
    case = case_for(world, birth_date=born_to_turn(27, TODAY + days(20)))
    settings.LOTSE_TRANSITION_ALERT_DAYS = {"birthday_27": 10, "status_end": None}
    ResidenceFactory(person=case.person, status="duldung", valid_to=TODAY + days(1))
    run()
    assert not alerts_of(case)
    run(today=TODAY + days(10))
    [alert] = alerts_of(case)
    assert alert.kind == "birthday_27" and alert.followup.due_on == TODAY + days(10)
    assert alerts.alert_days()["benefit_switch"] == 30  # the defaults for the rest


@pytest.mark.parametrize(
    "value", [{"birthday_30": 10}, {"status_end": -1}, {"status_end": "90"}, {"status_end": True}]
)
def test_bad_settings_are_refused(settings, value):
    settings.LOTSE_TRANSITION_ALERT_DAYS = value
    with pytest.raises(ImproperlyConfigured):
        alerts.alert_days()


def test_the_anonymise_step_removes_the_alerts_of_the_person(world):
    case = case_for(world, birth_date=born_to_turn(27, TODAY + days(5)))
    run()
    step = alerts.ANONYMISE_STEP
    assert step.apply(step.queryset(case.person_id)) == 1
    assert not alerts_of(case) and FollowUp.objects.filter(case=case).exists()


# --- queries ----------------------------------------------------------------------------


def population(world, n: int, due_cases: int) -> None:
    """`n` persons with every kind of data; the first `due_cases` are due for alerts."""
    for i in range(n):
        due = i < due_cases
        birthday = TODAY + days(5 if due else 200 + i)
        case = case_for(world, birth_date=born_to_turn(27, birthday), entry_date=TODAY - days(900))
        ResidenceFactory(
            person=case.person,
            status="gestattung",
            valid_from=TODAY - days(900),
            valid_to=TODAY + days(30 if due else 300),
        )
        PersonLanguage.objects.create(person=case.person, language="de", level="A2")
        PersonFacts.objects.create(person=case.person, identity_clarified=True)
        participation(case, ended_on=TODAY - days(2 if due else 200))
        plan_step(case, status="done")


def count_queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_selection_queries_do_not_grow_with_the_number_of_persons(
    world, django_assert_max_num_queries
):
    population(world, 3, due_cases=3)
    few = count_queries(lambda: transition_alerts_plan(today=TODAY))
    population(world, 12, due_cases=0)  # 15 persons now
    with django_assert_max_num_queries(few):
        plan = transition_alerts_plan(today=TODAY)
    assert len(plan) == 3  # three cases, each with a birthday, a status end, a participation


def test_run_queries_grow_with_the_alerts_created_not_the_persons(
    world, django_assert_max_num_queries
):
    population(world, 3, due_cases=3)
    few = count_queries(run)
    TransitionAlert.objects.all().delete()
    population(world, 12, due_cases=0)  # 15 persons, the same three due
    with django_assert_max_num_queries(few):
        summary = run()
    assert len(summary.created) == 9
    with django_assert_max_num_queries(few):
        assert run().created == []


# --- command ------------------------------------------------------------------------------


def test_command_prints_what_it_created(world):
    case = case_for(world, birth_date=born_to_turn(27, TODAY + days(5)))
    out = StringIO()
    call_command("alerts", "--today", TODAY.isoformat(), "--dry-run", stdout=out)
    text = out.getvalue()
    event = TODAY + days(5)
    line = f"case {case.pk} (person {case.person_id}): birthday_27 on {event}, due {TODAY}: "
    assert line in text
    assert "1 follow-ups would be created (birthday_27=1)" in text
    assert "Nothing was changed." in text and not TransitionAlert.objects.exists()

    out = StringIO()
    call_command("alerts", "--today", TODAY.isoformat(), stdout=out)
    assert line in out.getvalue() and "1 follow-ups created (birthday_27=1)" in out.getvalue()
    assert len(alerts_of(case)) == 1

    out = StringIO()
    call_command("alerts", "--today", TODAY.isoformat(), stdout=out)
    assert "0 follow-ups created (-); 1 alerted before." in out.getvalue()


def test_command_refuses_a_bad_date(world):
    with pytest.raises(CommandError):
        call_command("alerts", "--today", "02.03.2026", stdout=StringIO())
