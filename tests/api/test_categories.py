"""Category-level access through the API (DESIGN §5, issue #3), exactly like the pages:
a partner on the case team sees the categories the person's consent or a sharing
agreement covers; after withdrawal or expiry the person does not exist for it; a
break-glass access opens everything. The access log records what was returned."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from lotse.casework.codes import DocumentType
from lotse.casework.models import (
    Appointment,
    Assessment,
    AssessmentItem,
    Document,
    FollowUp,
    Intake,
    Note,
    PlanGoal,
    PlanStep,
    PlanVersion,
)
from lotse.core.models import AccessLogEntry
from lotse.people.models import Household
from lotse.privacy.access import ALL_CATEGORIES
from lotse.privacy.models import BreakGlassAccess, SharingAgreement

from ..factories import BenefitFactory, CaseFactory
from .conftest import LogWatch, set_consent_state

SECTIONS = [
    "residence",
    "benefits",
    "team",
    "household",
    "appointments",
    "notes",
    "followups",
    "documents",
    "intakes",
]
MASTER_FIELDS = [
    "birth_date",
    "birth_date_estimated",
    "gender",
    "nationality",
    "entry_date",
    "phone",
    "email",
    "address",
    "other_names",
    "languages",
    "updated_at",
]


@pytest.fixture
def full_case(world):
    """Something in every section of the world's case."""
    case, cm, today = world.case, world.case_manager.user, timezone.localdate()
    person = case.person
    person.phone = "0151 2345678"
    person.household = Household.objects.create(label="Haddad")
    person.save()
    CaseFactory(
        lead_organisation=world.lead,
        case_manager=cm,
        person__family_name="Haddad",
        person__given_names="Layla",
        person__household=person.household,
        person__household_role="child",
    )
    BenefitFactory(person=person, regime="asylblg_3")
    Intake.objects.create(
        case=case,
        conducted_on=today,
        conducted_by=cm,
        answers=[{"key": "school", "section": "Bildung", "question": "Schule?", "value": "10"}],
    )
    assessment = Assessment.objects.create(
        case=case, assessed_on=today, assessed_by=cm, summary="Gesamtbild vertraulich"
    )
    for domain, text in [("work", "Elektriker"), ("language", "Deutsch B1"), ("health", "Trauma")]:
        AssessmentItem.objects.create(
            assessment=assessment, life_domain=domain, kind="strength", description=text
        )
    work = PlanGoal.objects.create(plan=case.plan, life_domain="work", title="Ausbildung")
    PlanStep.objects.create(goal=work, title="Bewerbung", responsible_organisation=world.partner)
    health = PlanGoal.objects.create(plan=case.plan, life_domain="health", title="Therapieplatz")
    PlanStep.objects.create(goal=health, title="Termin", responsible_organisation=world.partner)
    PlanVersion.objects.create(
        plan=case.plan, number=1, agreed_on=today, agreed_by=cm, snapshot={"goals": []}
    )
    Appointment.objects.create(
        case=case,
        organisation=world.partner,
        starts_at=timezone.now() + dt.timedelta(days=2),
        purpose="Beratung Jobcenter",
        created_by=world.partner_staff.user,
    )
    Note.objects.create(
        case=case, author=cm, organisation=world.lead, text="Vermerk Team", visibility="case_team"
    )
    Note.objects.create(
        case=case,
        author=cm,
        organisation=world.lead,
        text="Befund vertraulich",
        visibility="case_team",
        is_sensitive=True,
    )
    FollowUp.objects.create(
        case=case,
        title="VerBIS pflegen",
        due_on=today,
        owner=world.partner_staff.user,
        organisation=world.partner,
        created_by=world.partner_staff.user,
    )
    Document.objects.create(
        case=case,
        doc_type=DocumentType.choices[0][0],
        title="Zeugnis",
        file="x.pdf",
        original_filename="zeugnis.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
        organisation=world.lead,
        uploaded_by=cm,
    )
    return case


@pytest.fixture
def partial(world):
    """The person's consent covers education and work only."""
    set_consent_state(world, "partial")
    return world.consent


def _logged(watch: LogWatch, world) -> set[str]:
    entries = watch.entries()
    assert entries, "no access log entry"
    assert all(e.person_id == world.case.person_id for e in entries)
    return {c for e in entries for c in e.categories}


# --- partial consent ----------------------------------------------------------------


def test_lead_sees_every_section(api, world, full_case):
    data = api.get(f"/cases/{world.case.pk}", "case_manager").json()
    assert set(data["shared_categories"]) == ALL_CATEGORIES
    assert set(data["shared_categories"].values()) == {"lead_organisation"}
    assert all(data[section] for section in SECTIONS if section != "followups"), data
    assert data["followups"] == []  # the lead's own follow-ups only; this one is the partner's
    assert [m["given_names"] for m in data["household"]] == ["Layla"]
    assert {g["title"] for g in data["plan"]["goals"]} == {"Ausbildung", "Therapieplatz"}
    assert len(data["plan"]["versions"]) == 1
    assert data["person"]["birth_date"] == "2003-05-17" and data["person"]["phone"]


def test_partial_consent_case_file_has_exactly_the_shared_sections(
    api, world, full_case, partial, log
):
    response = api.get(f"/cases/{world.case.pk}", "partner_staff")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["shared_categories"] == {"education": "consent", "work": "consent"}
    assert data["basis"] == "consent" and data["can_edit"] is False
    # The name and the case header identify the case; master data are not shared.
    assert data["case"]["person"]["family_name"] == "Haddad"
    assert data["case"]["person"]["birth_date"] is None
    assert data["case"]["lead_organisation"]["short_name"] == "KI"
    assert data["case"]["phase"] and data["case"]["opened_on"]
    assert data["person"]["given_names"] == "Mohammed"
    assert all(data["person"][field] is None for field in MASTER_FIELDS), data["person"]
    shown = {section for section in SECTIONS if data[section] is not None}
    assert shown == {"intakes"}  # education
    assert [i["answers"][0]["value"] for i in data["intakes"]] == ["10"]
    assert [g["title"] for g in data["plan"]["goals"]] == ["Ausbildung"]  # work
    assert data["plan"]["versions"] is None  # the lead's
    (assessment,) = data["assessments"]
    assert {i["description"] for i in assessment["items"]} == {"Elektriker", "Deutsch B1"}
    assert assessment["summary"] == ""  # plan data
    body = response.content.decode()
    for secret in ("2003-05-17", "duldung", "Trauma", "Therapieplatz", "vertraulich", "Vermerk"):
        assert secret not in body, secret
    assert _logged(log, world) <= {"master", "education", "work"}
    assert {e.basis for e in log.entries()} == {"consent"}


def test_partial_consent_person_and_parts_of_other_categories(api, world, full_case, partial, log):
    person_id, case_url = world.case.person_id, f"/cases/{world.case.pk}"
    person = api.get(f"/persons/{person_id}", "partner_staff")
    assert person.status_code == 200
    data = person.json()
    assert data["family_name"] == "Haddad" and data["birth_date"] is None
    assert all(data[field] is None for field in MASTER_FIELDS)
    assert data["shared_categories"] == {"education": "consent", "work": "consent"}
    assert [c["id"] for c in data["cases"]] == [world.case.pk]
    plan = api.get(f"{case_url}/plan", "partner_staff").json()
    assert [g["title"] for g in plan["goals"]] == ["Ausbildung"] and plan["versions"] is None
    # The case exists for the partner; these categories are not shared: 403, with a detail.
    for path in (
        f"/persons/{person_id}/residence-statuses",
        f"/persons/{person_id}/benefits",
        f"{case_url}/notes",
        f"{case_url}/appointments",
        f"{case_url}/followups",
        f"{case_url}/team",
    ):
        response = api.get(path, "partner_staff")
        assert response.status_code == 403, path
        assert response.json()["detail"], path
    assert _logged(log, world) <= {"master", "education", "work"}


def test_partial_consent_lists(api, world, full_case, partial, log):
    persons = api.get("/persons", "partner_staff").json()
    (item,) = persons["items"]
    assert persons["count"] == 1 and item["family_name"] == "Haddad"
    assert item["birth_date"] is None and item["gender"] is None and item["nationality"] is None
    assert item["shared_categories"] == ["education", "work"]
    assert [c["id"] for c in item["cases"]] == [world.case.pk]
    cases = api.get("/cases", "partner_staff").json()
    (row,) = cases["items"]
    assert row["id"] == world.case.pk and row["lead_organisation"]["short_name"] == "KI"
    assert row["person"]["family_name"] == "Haddad" and row["person"]["birth_date"] is None
    assert row["current_status"] is None
    assert row["shared_categories"] == ["education", "work"]
    assert _logged(log, world) <= {"master", "education", "work"}
    # Filters on categories that are not shared find nothing: they would disclose them.
    assert api.get("/cases?birth_date=2003-05-17", "partner_staff").json()["count"] == 0
    assert api.get("/cases?status=duldung", "partner_staff").json()["count"] == 0
    assert api.get("/persons?birth_date=2003-05-17", "partner_staff").json()["count"] == 0
    assert api.get("/cases?q=Haddad", "partner_staff").json()["count"] == 1
    # The lead sees all of it.
    lead_rows = api.get("/cases", "case_manager").json()["items"]
    (lead_row,) = [r for r in lead_rows if r["id"] == world.case.pk]
    assert lead_row["current_status"] == "duldung"
    assert lead_row["person"]["birth_date"] == "2003-05-17"
    assert set(lead_row["shared_categories"]) == ALL_CATEGORIES


def test_partial_consent_writes_need_the_category(api, world, full_case, partial):
    case_url = f"/cases/{world.case.pk}"
    before = (Note.objects.count(), Appointment.objects.count(), FollowUp.objects.count())
    log_before = AccessLogEntry.objects.count()
    refused = [
        api.post(f"{case_url}/notes", "partner_staff", {"text": "Neuer Vermerk"}),
        api.post(
            f"{case_url}/appointments",
            "partner_staff",
            {"starts_at": "2030-01-10T10:00:00+01:00", "purpose": "Erstgespräch"},
        ),
        api.post(f"{case_url}/followups", "partner_staff", {"title": "x", "due_on": "2030-01-01"}),
        api.post(
            f"{case_url}/followups/{FollowUp.objects.get().pk}/done",
            "partner_staff",
        ),
        api.patch(
            f"{case_url}/appointments/{Appointment.objects.get().pk}",
            "partner_staff",
            {"outcome": "?"},
        ),
        api.patch(
            f"{case_url}/plan/steps/{PlanStep.objects.get(goal__life_domain='health').pk}",
            "partner_staff",
            {"status": "done"},
        ),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert all(r.json()["detail"] for r in refused)
    assert (Note.objects.count(), Appointment.objects.count(), FollowUp.objects.count()) == before
    assert AccessLogEntry.objects.count() == log_before
    work_step = PlanStep.objects.get(goal__life_domain="work")
    ok = api.patch(f"{case_url}/plan/steps/{work_step.pk}", "partner_staff", {"status": "done"})
    assert ok.status_code == 200 and ok.json()["status"] == "done"


# --- no valid consent ---------------------------------------------------------------------


@pytest.mark.parametrize("state", ["withdrawn", "expired", "none"])
def test_without_valid_consent_the_person_does_not_exist(api, world, full_case, state):
    person_id, case_url = world.case.person_id, f"/cases/{world.case.pk}"
    assert api.get(case_url, "partner_staff").status_code == 200
    set_consent_state(world, state)
    watch, notes = LogWatch(), Note.objects.count()
    for path in (
        case_url,
        f"/persons/{person_id}",
        f"/persons/{person_id}/residence-statuses",
        f"/persons/{person_id}/benefits",
        f"{case_url}/plan",
        f"{case_url}/notes",
        f"{case_url}/team",
    ):
        response = api.get(path, "partner_staff")
        assert response.status_code == 404, (path, response.content)
    assert api.post(f"{case_url}/notes", "partner_staff", {"text": "x"}).status_code == 404
    for path in ("/cases", "/persons", "/cases?q=Haddad"):
        page = api.get(path, "partner_staff").json()
        assert page["count"] == 0 and page["items"] == [], path
    assert watch.entries() == []
    assert Note.objects.count() == notes


# --- sharing agreement, break-glass -----------------------------------------------------------


def test_sharing_agreement_without_consent_shares_only_its_categories(api, world, full_case):
    world.consent.delete()
    SharingAgreement.objects.create(
        name="KI → Jobcenter",
        source_type="ki",
        receiver_type="jobcenter",
        categories=["work"],
        purposes=["casework"],
        legal_basis="§ 69 SGB X",
        valid_from=timezone.localdate() - dt.timedelta(days=1),
    )
    watch = LogWatch()
    data = api.get(f"/cases/{world.case.pk}", "partner_staff").json()
    assert data["shared_categories"] == {"work": "agreement"} and data["basis"] == "agreement"
    assert all(data[section] is None for section in SECTIONS)
    assert [g["title"] for g in data["plan"]["goals"]] == ["Ausbildung"]
    (assessment,) = data["assessments"]
    assert [i["description"] for i in assessment["items"]] == ["Elektriker"]
    person = api.get(f"/persons/{world.case.person_id}", "partner_staff").json()
    assert person["birth_date"] is None and person["shared_categories"] == {"work": "agreement"}
    (row,) = api.get("/cases", "partner_staff").json()["items"]
    assert row["shared_categories"] == ["work"]
    residence = api.get(f"/persons/{world.case.person_id}/residence-statuses", "partner_staff")
    assert residence.status_code == 403
    assert _logged(watch, world) <= {"master", "work"}
    assert {e.basis for e in watch.entries()} == {"agreement"}


def test_break_glass_opens_every_category(api, world, full_case):
    world.consent.delete()
    assert api.get(f"/cases/{world.case.pk}", "partner_staff").status_code == 404
    BreakGlassAccess.objects.create(
        case=world.case,
        user=world.partner_staff.user,
        organisation=world.partner,
        reason="Akute Gefährdung, Fallmanagerin nicht erreichbar",
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    watch = LogWatch()
    data = api.get(f"/cases/{world.case.pk}", "partner_staff").json()
    assert data["shared_categories"] == dict.fromkeys(sorted(ALL_CATEGORIES), "break_glass")
    assert data["basis"] == "break_glass" and data["can_edit"] is False
    assert all(data[section] is not None for section in SECTIONS)
    assert {g["title"] for g in data["plan"]["goals"]} == {"Ausbildung", "Therapieplatz"}
    assert data["person"]["birth_date"] == "2003-05-17"
    person_id = world.case.person_id
    assert api.get(f"/persons/{person_id}/residence-statuses", "partner_staff").status_code == 200
    notes = api.get(f"/cases/{world.case.pk}/notes", "partner_staff").json()
    assert {n["text"] for n in notes} == {"Vermerk Team", "Befund vertraulich"}
    assert {e.basis for e in watch.entries()} == {"break_glass"}
    # Break-glass is personal: the colleague still sees nothing.
    assert api.get(f"/cases/{world.case.pk}", "partner_colleague").status_code == 404


def test_sensitive_notes_need_health_too(api, world, full_case):
    world.consent.categories = ["notes"]
    world.consent.save()
    watch = LogWatch()
    notes = api.get(f"/cases/{world.case.pk}/notes", "partner_staff").json()
    assert [n["text"] for n in notes] == ["Vermerk Team"]
    assert _logged(watch, world) == {"notes"}
    detail = api.get(f"/cases/{world.case.pk}", "partner_staff").json()
    assert [n["text"] for n in detail["notes"]] == ["Vermerk Team"]
    world.consent.categories = ["notes", "health"]
    world.consent.save()
    notes = api.get(f"/cases/{world.case.pk}/notes", "partner_staff").json()
    assert {n["text"] for n in notes} == {"Vermerk Team", "Befund vertraulich"}
