"""Retention with time travel: who is anonymised when, what stays, what goes, and the log."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from lotse.casework import services as cw
from lotse.casework.models import (
    Appointment,
    Assessment,
    AssessmentItem,
    Case,
    Document,
    FollowUp,
    Intake,
    InterviewGuide,
    Note,
    PlanGoal,
    PlanStep,
    PlanVersion,
)
from lotse.core.models import AccessLogEntry, DeletionRecord, Membership, NeedType
from lotse.core.roles import Role
from lotse.core.services import access_log_verify
from lotse.people import services as people
from lotse.people.models import Household, Person, PersonLanguage, PersonName
from lotse.privacy import retention
from lotse.privacy.auditing import person_change_history
from lotse.privacy.models import BreakGlassAccess, Consent
from lotse.privacy.retention import (
    ANONYMISED_FAMILY_NAME,
    retention_periods,
    retention_plan,
    retention_run,
)
from lotse.referrals import services as referrals
from lotse.referrals.models import Participation, Referral, ReferralEvent

from .factories import ConsentFactory, MembershipFactory, OfferFactory, OrganisationFactory


@pytest.fixture(autouse=True)
def _english_cli_messages():
    """The command output is asserted in English (the source language); the German
    translation of the same messages is checked by tests/test_i18n.py."""
    from django.utils import translation

    with translation.override("en"):
        yield


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DAYS = 1095  # the default: three years
T0 = dt.date(2026, 3, 2)  # when the cases are worked on and the first ones close
RUN = T0 + dt.timedelta(days=DAYS + 1)  # the retention run: T0 was 3 years + 1 day ago
NOON = dt.time(12, 0)


def at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, NOON))


def pdf(name: str, salt: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF + salt.encode())


@dataclass
class Town:
    cm: Membership
    other_cm: Membership
    anna: Person  # all cases closed at T0: due at RUN
    bilal: Person  # closed at T0 + 2 days: 3 years - 1 day at RUN, not due
    carla: Person  # a case closed at T0 and an open one elsewhere: not due
    dario: Person  # open case, household with anna
    anna_case: Case
    anna_doc: Document
    anna_doc_path: Path
    bilal_doc_path: Path
    carla_closed_doc_path: Path
    carla_open_doc_path: Path


def _register(cm: Membership, family: str, given: str, **extra: Any) -> Case:
    values = {
        "family_name": family,
        "given_names": given,
        "birth_date": dt.date(1990, 11, 23),
        "gender": "female",
        "nationality": "AF",
        "phone": "0170 1234567",
        "email": f"{given.lower()}@example.org",
        "address": "Hafenstraße 1, Lotsenstadt",
        "entry_date": dt.date(2022, 8, 1),
        "opened_on": T0 - dt.timedelta(days=200),
    }
    values.update(extra)
    return cw.case_register(actor=cm, **values)


def _close(cm: Membership, case: Case, day: dt.date) -> None:
    with time_machine.travel(at(day), tick=False):
        cw.case_phase_set(
            actor=cm,
            case=Case.objects.get(pk=case.pk),
            phase="closed",
            closing_reason="goals_achieved",
            closing_note="Frau hat eine Stelle bei Bäckerei Sommer in der Altstadt.",
            closed_on=day,
        )


def _work_on(cm: Membership, case: Case, text: str) -> Document:
    """Casework through the services: all record types retention handles."""
    person = case.person
    residence = people.residence_status_add(
        actor=cm, person=person, status="gestattung", valid_from=dt.date(2022, 8, 1)
    )
    people.residence_status_correct(
        actor=cm,
        entry=residence,
        reason=f"Bescheid von {text} lag falsch vor",
        valid_from=dt.date(2022, 8, 2),
    )
    people.benefit_period_add(
        actor=cm, person=person, regime="asylblg_3", valid_from=dt.date(2022, 8, 2)
    )
    guide = InterviewGuide.objects.get(organisation=None)
    cw.intake_create(
        actor=cm,
        case=case,
        guide=guide,
        conducted_on=T0 - dt.timedelta(days=150),
        answers={
            "school_years": 9,
            "school_certificate": "Abitur / Hochschulreife",
            "goals_short": f"{text}: Ausbildung als Pflegefachkraft",
        },
    )
    cw.assessment_create(
        actor=cm,
        case=case,
        assessed_on=T0 - dt.timedelta(days=140),
        summary=f"{text} spricht gut Englisch, Trauma nach der Flucht.",
        items=[
            {
                "life_domain": "language",
                "kind": "need",
                "description": f"{text} braucht einen B1-Kurs",
                "need_type": NeedType.objects.get(code="deutsch_b1"),
                "priority": "high",
            }
        ],
    )
    goal = cw.plan_goal_add(
        actor=cm,
        case=case,
        life_domain="language",
        title=f"{text} erreicht B1",
        target_date=T0 - dt.timedelta(days=10),
    )
    cw.plan_step_add(
        actor=cm,
        goal=goal,
        title=f"{text} meldet sich beim VHS-Kurs an",
        responsible_is_client=True,
    )
    cw.plan_agree(actor=cm, case=case, agreed_on=T0 - dt.timedelta(days=100), remarks=text)
    cw.appointment_create(
        actor=cm,
        case=case,
        starts_at=at(T0 - dt.timedelta(days=90)),
        purpose=f"Gespräch mit {text}",
        location="Büro 3, Rathaus",
        outcome="Kurs gefunden",
        agreements=f"{text} bringt Zeugnisse mit",
    )
    cw.note_create(actor=cm, case=case, text=f"{text} hat Schulden bei der Vermieterin.")
    cw.followup_create(actor=cm, case=case, title=f"{text} anrufen", due_on=T0)
    document = cw.document_upload(
        actor=cm, case=case, doc_type="other", title=f"Zeugnis {text}", upload=pdf("z.pdf", text)
    )
    Consent.objects.create(
        person=person,
        purpose="casework",
        categories=["education", "work"],
        signed_on=T0 - dt.timedelta(days=180),
        document=document,
        recorded_by=cm.user,
        recorded_for=cm.organisation,
        withdrawn_at=at(T0 - dt.timedelta(days=5)),
        withdrawn_by=cm.user,
        withdrawal_note=f"{text} will nicht mehr",
    )
    BreakGlassAccess.objects.create(
        case=case,
        user=cm.user,
        organisation=cm.organisation,
        reason=f"Notfall: {text} im Krankenhaus",
        expires_at=at(T0 - dt.timedelta(days=60)),
    )
    return document


def _refer(cm: Membership, case: Case, text: str) -> None:
    """A referral to a provider's course the person is excluded from (too old), sent,
    accepted, attended and aborted, and an earlier course the lead organisation records:
    every free-text field of referrals and participations filled."""
    provider = OrganisationFactory(
        name="Bildungswerk Lotsenstadt", short_name="BW", org_type="bildungstraeger"
    )
    staff = MembershipFactory(organisation=provider, role=Role.PARTNER_STAFF, user__username="bw")
    offer = OfferFactory(provider=provider, title="Deutsch B1 für junge Erwachsene", age_max=25)
    ConsentFactory(
        person=case.person,
        purpose="referral",
        categories=["master", "education"],
        recorded_by=cm.user,
        recorded_for=cm.organisation,
        receivers=[provider],
    )
    referral = referrals.referral_create(
        actor=cm,
        case=case,
        offer=offer,
        reason=f"{text} braucht B1 für die Pflegeausbildung",
        override_reason=f"{text} ist sehr motiviert",
        need_types=[NeedType.objects.get(code="deutsch_b1")],
        send=True,
    )
    referral = referrals.referral_accept(
        actor=staff, referral=referral, note=f"{text} beginnt am Montag"
    )
    participation = referrals.participation_start(
        actor=staff, referral=referral, started_on=T0 - dt.timedelta(days=60)
    )
    referrals.participation_end(
        actor=staff,
        participation=participation,
        ended_on=T0 - dt.timedelta(days=5),
        outcome="aborted",
        abort_reason="health",
        outcome_note=f"{text} war lange krank",
        attendance_percent=40,
        attendance_note=f"{text} fehlte oft",
    )
    referrals.participation_record(
        actor=cm,
        case=case,
        title="Integrationskurs",
        category="integrationskurs",
        level="B1",
        started_on=dt.date(2023, 1, 9),
        ended_on=dt.date(2023, 9, 29),
        outcome="completed_certificate",
        outcome_note=f"{text} hat den DTZ mit A2 bestanden",
        level_reached="A2",
        attendance_percent=85,
    )


@pytest.fixture
def town(db) -> Town:
    lead = OrganisationFactory(name="KI Lotsenstadt", short_name="KI", org_type="ki")
    other = OrganisationFactory(name="JMD Lotsenstadt", short_name="JMD", org_type="jmd")
    cm = MembershipFactory(organisation=lead, role=Role.CASE_MANAGER, user__username="cm")
    other_cm = MembershipFactory(organisation=other, role=Role.CASE_MANAGER, user__username="o")
    with time_machine.travel(at(T0 - dt.timedelta(days=1)), tick=False):
        anna_case = _register(
            cm,
            "Sultani",
            "Anna",
            other_names=[("سلطانی", "آنا")],
            languages=[("fa", "native"), ("de", "B1")],
        )
        anna_doc = _work_on(cm, anna_case, "Anna")
        _refer(cm, anna_case, "Anna")
        bilal_case = _register(cm, "Yousef", "Bilal", gender="male")
        bilal_doc = cw.document_upload(
            actor=cm, case=bilal_case, doc_type="other", title="Pass", upload=pdf("p.pdf", "b")
        )
        carla_case = _register(cm, "Rahimi", "Carla")
        carla_closed_doc = cw.document_upload(
            actor=cm, case=carla_case, doc_type="other", title="Alt", upload=pdf("a.pdf", "c")
        )
        dario_case = _register(cm, "Sultani", "Dario", gender="male")
        people.household_link(
            actor=cm, person=anna_case.person, other=dario_case.person, role="partner"
        )
    _close(cm, anna_case, T0)
    _close(cm, bilal_case, T0 + dt.timedelta(days=2))
    _close(cm, carla_case, T0)
    with time_machine.travel(at(T0 + dt.timedelta(days=30)), tick=False):
        # Carla comes back, now to another agency.
        carla_open = Case.objects.create(
            person=carla_case.person,
            lead_organisation=other_cm.organisation,
            case_manager=other_cm.user,
            opened_on=T0 + dt.timedelta(days=30),
        )
        carla_open_doc = cw.document_upload(
            actor=other_cm, case=carla_open, doc_type="other", title="Neu", upload=pdf("n.pdf", "d")
        )
    return Town(
        cm=cm,
        other_cm=other_cm,
        anna=anna_case.person,
        bilal=bilal_case.person,
        carla=carla_case.person,
        dario=dario_case.person,
        anna_case=anna_case,
        anna_doc=anna_doc,
        anna_doc_path=Path(anna_doc.file.path),
        bilal_doc_path=Path(bilal_doc.file.path),
        carla_closed_doc_path=Path(carla_closed_doc.file.path),
        carla_open_doc_path=Path(carla_open_doc.file.path),
    )


def _state() -> dict[str, Any]:
    """Everything retention could change, to show a dry run changes nothing."""
    return {
        "persons": list(Person.objects.order_by("pk").values()),
        "names": PersonName.objects.count(),
        "languages": PersonLanguage.objects.count(),
        "notes": list(Note.objects.values_list("text", flat=True)),
        "documents": Document.objects.count(),
        "followups": FollowUp.objects.count(),
        "appointments": list(Appointment.objects.values()),
        "items": list(AssessmentItem.objects.values()),
        "consents": list(Consent.objects.values()),
        "log": list(AccessLogEntry.objects.values()),
        "records": DeletionRecord.objects.count(),
        "households": list(Household.objects.values()),
        "referrals": list(Referral.objects.values()),
        "referral_steps": list(ReferralEvent.objects.values()),
        "participations": list(Participation.objects.values()),
    }


def test_default_period_is_three_years_and_env_configurable():
    assert retention_periods().closed_cases == DAYS
    assert retention_periods().closed_case_documents == DAYS
    with override_settings(LOTSE_RETENTION={"closed_cases": 30}):
        assert retention_periods().closed_case_documents == 30
    with override_settings(LOTSE_RETENTION={"closed_cases": 0}), pytest.raises(Exception):  # noqa: B017
        retention_periods()


def test_who_is_due_when(town):
    with time_machine.travel(at(RUN), tick=False):
        plan = retention_plan(today=timezone.localdate())
    assert plan.anonymise == [town.anna.pk]
    # Carla's closed case is old enough for its documents; Bilal's is a day short.
    assert list(plan.documents) == [town.carla.pk]
    # A day earlier nobody is due: Anna's case closed exactly three years ago.
    day_before = retention_plan(today=RUN - dt.timedelta(days=1))
    assert day_before.anonymise == [] and day_before.documents == {}
    # Bilal becomes due two days later.
    assert retention_plan(today=RUN + dt.timedelta(days=2)).anonymise == [
        town.anna.pk,
        town.bilal.pk,
    ]


def test_selection_is_set_based(town, django_assert_num_queries):
    for i in range(5):
        case = _register(town.cm, f"Extra{i}", "Emil")
        _close(town.cm, case, T0)
    with django_assert_num_queries(2):
        plan = retention_plan(today=RUN)
    assert len(plan.anonymise) == 6


def test_dry_run_changes_nothing(town):
    before = _state()
    with time_machine.travel(at(RUN), tick=False):
        result = retention_run(dry_run=True)
    assert _state() == before
    assert town.anna_doc_path.exists() and town.carla_closed_doc_path.exists()
    anna = next(i for i in result.items if i.person_id == town.anna.pk)
    assert anna.counts["notes"] == 1 and anna.counts["documents"] == 1
    assert anna.counts["person_names"] == 1 and anna.counts["person_languages"] == 2
    assert anna.counts["households"] == 0  # Dario still lives there
    assert anna.counts["referrals"] == 1 and anna.counts["participations"] == 2
    assert anna.counts["referral_steps"] == 5  # proposed, sent, accepted, started, aborted
    assert (
        anna.counts["access_log_entries"]
        == AccessLogEntry.objects.filter(person_id=town.anna.pk).count()
    )


def test_run_anonymises_the_due_person_and_keeps_statistics(town):
    with time_machine.travel(at(RUN), tick=False):
        result = retention_run()
    assert not result.failures
    anna = Person.objects.get(pk=town.anna.pk)
    assert (anna.family_name, anna.given_names) == (ANONYMISED_FAMILY_NAME, f"#{anna.pk}")
    assert anna.birth_date == dt.date(1990, 7, 1) and anna.birth_date_estimated
    assert (anna.gender, str(anna.nationality)) == ("female", "AF")
    assert (anna.phone, anna.email, anna.address, anna.entry_date) == ("", "", "", None)
    assert anna.search_text == "" and anna.household_id is None and anna.household_role == ""
    assert not anna.other_names.exists() and not anna.languages.exists()
    # The household stays for Dario.
    assert Person.objects.get(pk=town.dario.pk).household_id is not None

    residence = list(anna.residence_periods.order_by("pk"))
    assert [r.status for r in residence] == ["gestattung", "gestattung"]
    assert residence[1].valid_from == dt.date(2022, 8, 2)
    assert all(r.correction_reason == "" and r.recorded_by_id is None for r in residence)
    assert anna.benefit_periods.get().regime == "asylblg_3"

    case = Case.objects.get(pk=town.anna_case.pk)
    assert case.closing_note == "" and case.closing_reason == "goals_achieved"
    assert case.closed_on == T0
    assert Intake.objects.get(case=case).answers == []
    assessment = Assessment.objects.get(case=case)
    assert assessment.summary == ""
    item = AssessmentItem.objects.get(assessment=assessment)
    assert item.description == ""
    assert (item.need_type.code, item.priority, item.life_domain) == (
        "deutsch_b1",
        "high",
        "language",
    )
    goal = PlanGoal.objects.get(plan__case=case)
    assert goal.title == "" and goal.life_domain == "language" and goal.target_date is not None
    assert PlanStep.objects.get(goal=goal).title == ""
    version = PlanVersion.objects.get(plan__case=case)
    assert version.remarks == "" and "Anna" not in json.dumps(version.snapshot)
    assert version.snapshot["goals"][0]["life_domain"] == "language"
    appointment = Appointment.objects.get(case=case)
    assert (appointment.purpose, appointment.location, appointment.outcome) == ("", "", "")
    assert appointment.agreements == "" and appointment.status == "planned"
    assert not Note.objects.filter(case=case).exists()
    assert not FollowUp.objects.filter(case=case).exists()
    assert not Document.objects.filter(case=case).exists()
    consent = Consent.objects.get(person=anna, purpose="casework")
    assert consent.document_id is None and consent.withdrawal_note == ""
    assert consent.categories == ["education", "work"] and consent.signed_on is not None
    assert BreakGlassAccess.objects.get(case=case).reason == ""

    # Others untouched.
    for person, family in [(town.bilal, "Yousef"), (town.carla, "Rahimi"), (town.dario, "Sultani")]:
        assert Person.objects.get(pk=person.pk).family_name == family


def test_referrals_and_participations_keep_codes_and_lose_their_free_text(town):
    """The new PROTECT foreign keys (referral and participation → person, case) do not
    block anonymising; what statistics and measure careers need stays."""
    referral = Referral.objects.get(person=town.anna)
    assert referral.exclusion_reasons and referral.override_reason  # excluded: too old
    before = {
        "referral": Referral.objects.filter(person=town.anna)
        .values("status", "offer", "receiver", "sender", "shared_categories", "sharing_basis")
        .get(),
        "needs": list(referral.need_types.values_list("code", flat=True)),
        "steps": list(
            ReferralEvent.objects.filter(referral=referral).values_list(
                "status", "at", "by_organisation"
            )
        ),
        "participations": list(
            Participation.objects.filter(person=town.anna)
            .order_by("pk")
            .values(
                "title",
                "category",
                "level",
                "started_on",
                "ended_on",
                "attendance_percent",
                "outcome",
                "abort_reason",
                "level_reached",
                "offer",
                "provider",
                "recorded_by",
            )
        ),
    }
    with time_machine.travel(at(RUN), tick=False):
        result = retention_run()
    assert not result.failures
    counts = DeletionRecord.objects.get(person_id=town.anna.pk, policy="closed_cases").counts
    assert (counts["referrals"], counts["referral_steps"], counts["participations"]) == (1, 5, 2)

    referral.refresh_from_db()
    assert (referral.reason, referral.override_reason, referral.exclusion_reasons) == ("", "", [])
    assert referral.sent_at is not None and referral.status == "aborted"
    assert set(ReferralEvent.objects.filter(referral=referral).values_list("note", flat=True)) == {
        ""
    }
    participations = Participation.objects.filter(person=town.anna).order_by("pk")
    assert {(p.attendance_note, p.outcome_note) for p in participations} == {("", "")}
    after = {
        "referral": Referral.objects.filter(person=town.anna)
        .values("status", "offer", "receiver", "sender", "shared_categories", "sharing_basis")
        .get(),
        "needs": list(referral.need_types.values_list("code", flat=True)),
        "steps": list(
            ReferralEvent.objects.filter(referral=referral).values_list(
                "status", "at", "by_organisation"
            )
        ),
        "participations": list(
            participations.values(
                "title",
                "category",
                "level",
                "started_on",
                "ended_on",
                "attendance_percent",
                "outcome",
                "abort_reason",
                "level_reached",
                "offer",
                "provider",
                "recorded_by",
            )
        ),
    }
    assert after == before
    assert after["participations"][0]["outcome"] == "aborted"
    assert after["participations"][1]["level_reached"] == "A2"
    left = json.dumps(
        [
            list(Referral.objects.filter(person=town.anna).values()),
            list(ReferralEvent.objects.filter(referral__person=town.anna).values()),
            list(Participation.objects.filter(person=town.anna).values()),
        ],
        default=str,
    )
    assert "Anna" not in left
    # The person and their case are still there for the rows that point to them.
    assert Person.objects.filter(pk=town.anna.pk).exists()


def test_documents_and_their_files_are_deleted(town):
    assert town.anna_doc_path.exists()
    with time_machine.travel(at(RUN), tick=False):
        retention_run()
    assert not town.anna_doc_path.exists()
    # Carla: the closed case's document goes, the open case's stays; she is not anonymised.
    assert not town.carla_closed_doc_path.exists()
    assert town.carla_open_doc_path.exists()
    assert Document.objects.filter(case__person=town.carla).count() == 1
    assert Person.objects.get(pk=town.carla.pk).given_names == "Carla"
    # Bilal's case closed a day too late.
    assert town.bilal_doc_path.exists()
    deleted = AccessLogEntry.objects.filter(
        person_id=town.carla.pk, action="delete", object_type="document"
    )
    assert deleted.count() == 1 and deleted.get().basis == "retention"


def test_document_signed_for_a_consent_in_force_is_kept(town):
    carla_doc = Document.objects.get(case__person=town.carla, case__closed_on__isnull=False)
    Consent.objects.create(
        person=town.carla,
        purpose="casework",
        categories=["work"],
        signed_on=T0 - dt.timedelta(days=10),
        document=carla_doc,
        recorded_by=town.cm.user,
        recorded_for=town.cm.organisation,
    )
    plan = retention_plan(today=RUN)
    assert town.carla.pk not in plan.documents


def test_access_log_is_redacted_and_still_verifies(town):
    anna_entries = AccessLogEntry.objects.filter(person_id=town.anna.pk).count()
    assert anna_entries > 10
    with time_machine.travel(at(RUN), tick=False):
        retention_run()
    assert not AccessLogEntry.objects.filter(person_id=town.anna.pk).exists()
    assert AccessLogEntry.objects.filter(redacted_at__isnull=False).count() == anna_entries
    assert AccessLogEntry.objects.filter(person_id=town.bilal.pk).exists()
    assert access_log_verify() == (True, None)


def test_deletion_record_has_counts_and_no_personal_data(town):
    with time_machine.travel(at(RUN), tick=False):
        retention_run(run_by="cli")
    record = DeletionRecord.objects.get(person_id=town.anna.pk, policy="closed_cases")
    assert record.as_of == RUN and record.period_days == DAYS
    assert record.run_by == "cli" and record.dry_run is False
    assert record.performed_at == at(RUN)
    counts = record.counts
    assert counts["person"] == 1 and counts["notes"] == 1 and counts["documents"] == 1
    assert counts["followups"] == 1 and counts["appointments"] == 1
    assert counts["person_names"] == 1 and counts["person_languages"] == 2
    assert counts["access_log_entries"] > 10
    stored = json.dumps(
        {k: str(v) for k, v in DeletionRecord.objects.filter(pk=record.pk).values().get().items()}
    )
    for word in ("Anna", "Sultani", "سلطانی", "Hafenstraße", "1990-11-23", "example.org"):
        assert word not in stored
    documents = DeletionRecord.objects.get(person_id=town.carla.pk)
    assert documents.policy == "closed_case_documents" and documents.counts["documents"] == 1


def test_field_change_history_of_the_person_is_deleted(town):
    def mentions_anna() -> bool:
        return any("Anna" in json.dumps(e.changes) for e in LogEntry.objects.all())

    assert person_change_history(town.anna.pk).exists() and mentions_anna()
    with time_machine.travel(at(RUN), tick=False):
        result = retention_run()
    assert not person_change_history(town.anna.pk).exists()
    assert not mentions_anna()
    assert result.done()[0].counts["change_history"] > 0
    assert person_change_history(town.dario.pk).exists()


def test_second_run_is_idempotent(town):
    with time_machine.travel(at(RUN), tick=False):
        retention_run()
        before = _state()
        again = retention_run()
    assert again.items == []
    assert _state() == before
    assert access_log_verify() == (True, None)
    # A year later still nothing: anonymised persons are not taken up again.
    with time_machine.travel(at(RUN + dt.timedelta(days=365)), tick=False):
        assert [i.person_id for i in retention_run().items] == [town.bilal.pk]


def test_failure_for_one_person_leaves_that_person_untouched(town, monkeypatch):
    def broken(**kwargs: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(retention, "access_log_redact_person", broken)
    with time_machine.travel(at(RUN), tick=False):
        result = retention_run()
    assert [(i.person_id, i.error) for i in result.failures] == [(town.anna.pk, "RuntimeError")]
    anna = Person.objects.get(pk=town.anna.pk)
    assert anna.given_names == "Anna" and anna.other_names.exists()
    assert Note.objects.filter(case__person=anna).exists()
    assert town.anna_doc_path.exists()
    assert Consent.objects.get(person=anna, purpose="casework").document_id == town.anna_doc.pk
    assert Referral.objects.get(person=anna).reason.startswith("Anna")
    assert ReferralEvent.objects.filter(referral__person=anna).exclude(note="").exists()
    assert not DeletionRecord.objects.filter(person_id=anna.pk).exists()
    # The others went on.
    assert not town.carla_closed_doc_path.exists()
    assert access_log_verify() == (True, None)


def test_person_no_longer_due_when_their_turn_comes_is_skipped(town):
    plan = retention_plan(today=RUN)
    with time_machine.travel(at(RUN), tick=False):
        cw.case_reopen(actor=town.cm, case=Case.objects.get(pk=town.anna_case.pk))
        result = retention_run(plan=plan)
    assert [(i.person_id, i.skipped) for i in result.items] == [
        (town.anna.pk, True),
        (town.carla.pk, False),
    ]
    assert Person.objects.get(pk=town.anna.pk).given_names == "Anna"
    assert town.anna_doc_path.exists()
    assert not DeletionRecord.objects.filter(person_id=town.anna.pk).exists()


# --- lotse retention run ---------------------------------------------------------


def test_command_dry_run_lists_and_changes_nothing(town):
    before = _state()
    out = StringIO()
    call_command("retention", "run", "--dry-run", "--today", RUN.isoformat(), stdout=out)
    assert _state() == before
    text = out.getvalue()
    assert f"person {town.anna.pk}: anonymise (closed_cases, {DAYS} days):" in text
    assert "notes=1" in text and "documents=1" in text
    assert f"person {town.carla.pk}: delete documents" in text
    assert "Dry run as of" in text and "1 persons would be anonymised" in text
    assert "2 documents deleted" in text and "Nothing was changed." in text


def test_command_run(town):
    out = StringIO()
    with time_machine.travel(at(RUN), tick=False):
        call_command("retention", "run", stdout=out)
    assert "1 persons anonymised, 2 documents deleted" in out.getvalue()
    assert "0 failed" in out.getvalue()
    assert Person.objects.get(pk=town.anna.pk).family_name == ANONYMISED_FAMILY_NAME
    out = StringIO()
    call_command("retention", "run", "--today", RUN.isoformat(), stdout=out)
    assert "0 persons anonymised, 0 documents deleted" in out.getvalue()


def test_command_exits_1_when_a_person_failed(town, monkeypatch):
    def broken(**kwargs: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(retention, "access_log_redact_person", broken)
    err = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("retention", "run", "--today", RUN.isoformat(), stdout=StringIO(), stderr=err)
    assert exit_info.value.code == 1
    assert f"person {town.anna.pk}: failed (RuntimeError)" in err.getvalue()


def test_command_rejects_a_bad_date(db):
    with pytest.raises(CommandError):
        call_command("retention", "run", "--today", "2029-02-30")
