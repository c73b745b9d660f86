"""`lotse synth --load / --out`: what lands in the database, refusal, append, files."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.utils import timezone

from lotse.casework.models import (
    Assessment,
    AssessmentItem,
    Case,
    CaseTeamMember,
    Intake,
    IntegrationPlan,
    InterviewGuide,
    PlanGoal,
    PlanStep,
    PlanVersion,
)
from lotse.casework.services import plan_snapshot
from lotse.core.models import AccessLogEntry, Membership, Organisation, User
from lotse.people.models import BenefitPeriod, Person, ResidenceStatusPeriod
from lotse.people.names import search_keys
from lotse.privacy.access import case_access_bulk, visible_cases
from lotse.privacy.models import BreakGlassAccess, Consent, SharingAgreement
from lotse.synth import pools

pytestmark = pytest.mark.django_db
TODAY = "2026-11-21"


def synth(*args: str) -> str:
    out = StringIO()
    call_command("synth", *args, "--today", TODAY, "--no-progress", stdout=out)
    return out.getvalue()


def test_load_writes_consistent_data() -> None:
    output = synth("--persons", "120", "--seed", "5", "--load")
    assert "rows loaded into" in output
    assert Person.objects.count() == 120
    assert Organisation.objects.count() == 25
    assert not AccessLogEntry.objects.exists()  # loading is no access by a user
    # Every person has exactly one open case; every case a plan.
    assert not Person.objects.annotate(n=Count("cases")).filter(n=0).exists()
    open_per_person = Case.objects.exclude(phase="closed").values("person").annotate(n=Count("id"))
    assert all(row["n"] <= 1 for row in open_per_person)
    assert IntegrationPlan.objects.count() == Case.objects.count()
    # Historic timestamps survived the load.
    oldest = Case.objects.order_by("created_at").first()
    assert oldest is not None and oldest.created_at.date() < dt.date(2026, 1, 1)
    for person in Person.objects.prefetch_related("other_names")[:60]:
        names = [f"{person.given_names} {person.family_name}"]
        names += [f"{n.given_names} {n.family_name}" for n in person.other_names.all()]
        assert person.search_text == search_keys(*names)
    for model in (ResidenceStatusPeriod, BenefitPeriod):
        current = model.objects.filter(superseded_by__isnull=True, is_retraction=False)
        by_person: dict[int, list] = {}
        for e in current.order_by("valid_from"):
            by_person.setdefault(e.person_id, []).append(e)
        for entries in by_person.values():
            for a, b in itertools.pairwise(entries):
                assert a.valid_to is not None and a.valid_to < b.valid_from
    # Need items reference the code list; intakes the default guide.
    assert not AssessmentItem.objects.filter(kind="need", need_type__isnull=True).exists()
    guide = InterviewGuide.objects.get(organisation__isnull=True)
    assert set(Intake.objects.values_list("guide_id", flat=True)) == {guide.pk}
    assert Assessment.objects.exists()
    # Case managers and team members work where the data says.
    for case in Case.objects.select_related("case_manager")[:50]:
        assert Membership.objects.filter(
            user=case.case_manager, organisation=case.lead_organisation_id, role="case_manager"
        ).exists()
    staff = User.objects.first()
    assert staff is not None and not staff.has_usable_password()


def test_plan_versions_have_the_services_snapshot_shape() -> None:
    synth("--persons", "80", "--seed", "9", "--load")
    version = PlanVersion.objects.select_related("plan").order_by("pk").first()
    assert version is not None
    live = plan_snapshot(version.plan)
    assert [g["id"] for g in version.snapshot["goals"]] == [g["id"] for g in live["goals"]]
    for frozen, now in zip(version.snapshot["goals"], live["goals"], strict=True):
        assert set(frozen) == set(now)
        assert [s["id"] for s in frozen["steps"]] == [s["id"] for s in now["steps"]]
        for fs, ns in zip(frozen["steps"], now["steps"], strict=True):
            assert set(fs) == set(ns)
            assert fs["responsible_organisation"] == ns["responsible_organisation"]
            assert fs["responsible_user"] == ns["responsible_user"]


def test_load_refuses_a_database_with_persons_unless_append() -> None:
    synth("--persons", "30", "--seed", "1", "--load")
    agreements = SharingAgreement.objects.count()
    with pytest.raises(CommandError, match="already holds 30 persons"):
        synth("--persons", "30", "--seed", "2", "--load")
    assert Person.objects.count() == 30
    orgs, users = Organisation.objects.count(), User.objects.count()
    synth("--persons", "40", "--seed", "2", "--load", "--append")
    assert Person.objects.count() == 70
    assert SharingAgreement.objects.count() == agreements  # reused: same flow and basis
    # Consent ids and their many-to-many rows were shifted alike: one receiver each.
    assert not Consent.objects.annotate(n=Count("receiving_organisations")).exclude(n=1).exists()
    assert Organisation.objects.count() == orgs  # reference data is reused by name
    assert User.objects.count() >= users
    # Ids were shifted consistently: snapshots point at goals and steps of their plan.
    for version in PlanVersion.objects.all():
        goal_ids = [g["id"] for g in version.snapshot["goals"]]
        assert PlanGoal.objects.filter(pk__in=goal_ids, plan=version.plan_id).count() == len(
            goal_ids
        )
        step_ids = [s["id"] for g in version.snapshot["goals"] for s in g["steps"]]
        assert PlanStep.objects.filter(pk__in=step_ids, goal_id__in=goal_ids).count() == len(
            step_ids
        )


def test_out_writes_json_lines_and_a_manifest(tmp_path: Path) -> None:
    synth("--persons", "50", "--seed", "4", "--out", str(tmp_path / "a"))
    synth("--persons", "50", "--seed", "4", "--out", str(tmp_path / "b"))
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["seed"] == 4 and manifest["counts"]["person"] == 50
    for name, count in manifest["counts"].items():
        lines = (tmp_path / "a" / f"{name}.jsonl").read_text().splitlines()
        assert len(lines) == count
        assert (tmp_path / "b" / f"{name}.jsonl").read_text().splitlines() == lines
    first = json.loads((tmp_path / "a" / "person.jsonl").read_text().splitlines()[0])
    assert {"id", "family_name", "search_text", "birth_date"} <= set(first)
    assert not Person.objects.exists()  # --out leaves the database alone


def test_load_or_out_is_required() -> None:
    with pytest.raises(CommandError):
        call_command("synth", "--persons", "5")


def test_every_loaded_object_passes_model_validation() -> None:
    """SQLite does not enforce max_length or choices; the models' validation does."""
    from lotse.synth.loader import TABLES

    synth("--persons", "60", "--seed", "8", "--load")
    for table in TABLES.values():
        for obj in table.model._default_manager.all():
            # Unique keys and check constraints are enforced by the database itself.
            obj.full_clean(validate_unique=False, validate_constraints=False)


def test_load_writes_consents_agreements_and_emergency_accesses() -> None:
    output = synth("--persons", "200", "--seed", "6", "--load")
    assert "consent" in output
    assert not AccessLogEntry.objects.exists()
    generated = [name for name, *_rest in pools.SHARING_AGREEMENTS]
    assert SharingAgreement.objects.filter(name__in=generated).count() == len(generated)
    assert BreakGlassAccess.objects.filter(expires_at__gte=timezone.now()).count() == 0
    # Historic timestamps, not the time of loading.
    oldest = Consent.objects.order_by("recorded_at").first()
    assert oldest is not None and oldest.recorded_at.date() < dt.date(2026, 1, 1)
    # Every active team membership has a casework consent of the person for the
    # member's organisation (valid or not).
    for member in CaseTeamMember.objects.filter(removed_at__isnull=True).select_related("case"):
        assert Consent.objects.filter(
            person_id=member.case.person_id,
            purpose="casework",
            receiving_organisations=member.organisation_id,
        ).exists()
    named = Consent.objects.filter(named_users__isnull=False).distinct()
    for consent in named:
        users = set(consent.named_users.values_list("pk", flat=True))
        assert CaseTeamMember.objects.filter(
            case__person_id=consent.person_id, user_id__in=users
        ).exists()


def test_partner_staff_see_their_team_cases_with_a_consent() -> None:
    """The loaded consents work with the access decision: what a partner sees, in the
    list query and per case, is the same, and most of their team cases."""
    synth("--persons", "200", "--seed", "6", "--load")
    seen = 0
    for membership in Membership.objects.filter(role="partner_staff").select_related(
        "organisation", "user"
    ):
        team = list(
            Case.objects.filter(
                team__organisation=membership.organisation, team__removed_at__isnull=True
            ).distinct()
        )
        access = case_access_bulk(membership, team)
        visible = set(visible_cases(membership).values_list("pk", flat=True))
        assert visible == {pk for pk, a in access.items() if a.visible}, (
            f"visible_cases and case_access disagree for {membership.organisation}"
        )
        seen += len(visible)
        open_team = [c for c in team if c.phase != "closed"]
        if len(open_team) >= 10:
            shown = [c for c in open_team if access[c.pk].visible]
            assert len(shown) >= 0.8 * len(open_team)
    assert seen > 0


def test_load_writes_eligibility_facts_the_engine_accepts() -> None:
    """The facts rows load, fit the residence timeline, and the adapter turns every
    loaded person into facts the engine accepts."""
    from lotse.eligibility import evaluate, parse_facts
    from lotse.eligibility.adapter import facts_for_person
    from lotse.eligibility.models import PersonFacts

    output = synth("--persons", "200", "--seed", "6", "--load")
    assert "eligibility_personfacts" in output
    records = {r.person_id: r for r in PersonFacts.objects.all()}
    assert 20 < len(records) < 200
    # Historic timestamps and the lead's case manager, not the time of loading.
    assert all(r.updated_at.date() < dt.date(2026, 11, 21) for r in records.values())
    assert all(r.updated_by_id is not None for r in records.values())
    on = dt.date(2026, 11, 21)
    statuses = set()
    for person in Person.objects.prefetch_related(
        "languages", "residence_periods", "benefit_periods"
    ):
        residence = list(person.residence_periods.all())
        data = facts_for_person(
            person,
            residence=residence,
            benefits=list(person.benefit_periods.all()),
            record=records.get(person.pk),
        )
        facts = parse_facts(data)
        status = evaluate(facts, on, with_upcoming=False).status
        statuses.add(status)
        if status == "duldung_ungeklaerte_identitaet":
            assert records[person.pk].identity_clarified is False
        if status in ("gestattung", "duldung", "ausbildungsduldung"):
            assert person.pk in records
    assert {"gestattung", "duldung", "ae_25_2_gfk"} <= statuses
