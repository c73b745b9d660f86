"""Every API endpoint × role, like tests/test_permissions_matrix.py for the pages:
the roles that may use it get data and an access log entry; a case out of scope
does not exist (404); a role without the right gets 403 whatever the id; and a
refused call writes nothing. Then every endpoint × consent state of the partner on
the case team (DESIGN §5): which status, and which categories appear in the log."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from lotse.casework.models import (
    Appointment,
    Case,
    CaseTeamMember,
    FollowUp,
    Note,
    PlanGoal,
    PlanStep,
    PlanVersion,
)
from lotse.core.models import AccessLogEntry
from lotse.offers.models import Offer
from lotse.people.models import BenefitPeriod, Person, ResidenceStatusPeriod
from lotse.privacy.access import ALL_CATEGORIES
from lotse.referrals.models import CareerFlag, Participation, Referral, ReferralEvent

from ..factories import (
    BenefitFactory,
    MembershipFactory,
    OfferFactory,
    OrganisationFactory,
    ResidenceFactory,
    TeamMemberFactory,
)
from .conftest import CONSENT_STATES, PARTIAL, LogWatch, set_consent_state


@dataclass
class Objects:
    """Ids used in paths: one set on the world's case, one on the foreign case."""

    ids: dict[str, int]
    foreign: dict[str, int]


def _case_objects(
    case: Case, lead_user: Any, step_org: Any, appointment_org: Any
) -> dict[str, int]:
    goal = PlanGoal.objects.create(plan=case.plan, life_domain="work", title="Ausbildung finden")
    step = PlanStep.objects.create(goal=goal, title="Bewerbung", responsible_organisation=step_org)
    appointment = Appointment.objects.create(
        case=case,
        organisation=appointment_org,
        starts_at=timezone.now() + dt.timedelta(days=3),
        purpose="Beratung",
        created_by=lead_user,
    )
    note = Note.objects.create(
        case=case,
        author=lead_user,
        organisation=case.lead_organisation,
        text="Vermerk",
        visibility="case_team",
    )
    followup = FollowUp.objects.create(
        case=case,
        title="Nachfassen",
        due_on=timezone.localdate(),
        owner=lead_user,
        organisation=case.lead_organisation,
        created_by=lead_user,
    )
    benefit = BenefitFactory(person=case.person)
    residence = ResidenceStatusPeriod.objects.filter(
        person=case.person
    ).first() or ResidenceFactory(person=case.person)
    team = CaseTeamMember.objects.filter(case=case).first()
    return {
        "case": case.pk,
        "person": case.person_id,
        "goal": goal.pk,
        "step": step.pk,
        "appointment": appointment.pk,
        "note": note.pk,
        "followup": followup.pk,
        "benefit": benefit.pk,
        "residence": residence.pk,
        "team": team.pk if team else 0,
    }


def _referral_objects(case: Case, lead_user: Any, provider_org: Any) -> dict[str, int]:
    """A proposed and a sent referral of the case to offers of the provider, a
    participation recorded by the lead organisation, and an offer not yet referred to."""
    now, today = timezone.now(), timezone.localdate()
    ids: dict[str, int] = {}
    for key, status in (("proposed", "proposed"), ("referral", "sent")):
        offer = OfferFactory(provider=provider_org)
        referral = Referral.objects.create(
            case=case,
            person_id=case.person_id,
            offer=offer,
            receiver=provider_org,
            sender=case.lead_organisation,
            status=status,
            reason="Deutsch B1",
            created_by=lead_user,
            sent_at=now if status == "sent" else None,
            shared_categories=["education", "master"] if status == "sent" else [],
            sharing_basis="consent" if status == "sent" else "",
            receiver_snapshot={"organisation": provider_org.name, "offer": offer.title},
        )
        for step in ("proposed", "sent")[: 1 if status == "proposed" else 2]:
            ReferralEvent.objects.create(
                referral=referral,
                status=step,
                by=lead_user,
                by_organisation=case.lead_organisation,
            )
        ids[key] = referral.pk
    participation = Participation.objects.create(
        person_id=case.person_id,
        case=case,
        title="Integrationskurs VHS",
        category="integrationskurs",
        started_on=today - dt.timedelta(days=30),
        recorded_by=case.lead_organisation,
        created_by=lead_user,
    )
    ids["participation"] = participation.pk
    ids["offer"] = OfferFactory(provider=provider_org).pk
    ids["flag"] = CareerFlag.objects.create(
        person_id=case.person_id,
        case=case,
        rule="gap",
        evidence_key=f"p:{participation.pk}",
        evidence={"from": "2025-01-01", "to": "2025-06-01", "days": 151, "until_today": False},
    ).pk
    return ids


@pytest.fixture
def objects(world, provider) -> Objects:
    # The partner is responsible for the step and holds the appointment, so that
    # partner staff may report on them (contribute rights on their own things).
    ids = _case_objects(world.case, world.case_manager.user, world.partner, world.partner)
    # Referrals go to the provider (tests/referrals/conftest.py), which the person's
    # consent for the purpose referral covers; none of the world's roles receives them.
    ids |= _referral_objects(world.case, world.case_manager.user, provider.org)
    TeamMemberFactory(case=world.foreign_case)  # somebody of a fourth organisation
    foreign = _case_objects(world.foreign_case, world.outsider.user, world.other, world.other)
    foreign |= _referral_objects(world.foreign_case, world.outsider.user, provider.org)
    return Objects(ids=ids, foreign=foreign)


@pytest.fixture
def newcomer(world):
    """A case worker of a fourth organisation who could join a case team."""
    return MembershipFactory(
        organisation=OrganisationFactory(name="JMD Lotsenstadt", short_name="JMD"),
        role="case_manager",
    )


# name → (method, path, right, body). Body may use {member} (a membership id).
ENDPOINTS: dict[str, tuple[str, str, str, dict[str, Any] | None]] = {
    "person": ("get", "/persons/{person}", "view", None),
    "residence_list": ("get", "/persons/{person}/residence-statuses", "view", None),
    "benefit_list": ("get", "/persons/{person}/benefits", "view", None),
    # Needs master and residence data (the facts); 403 when they are not shared.
    "eligibility": ("get", "/persons/{person}/eligibility", "view", None),
    # Needs master data; residence and the life domains of needs only if shared.
    "matches": ("get", "/persons/{person}/matches", "view", None),
    "case": ("get", "/cases/{case}", "view", None),
    "team_list": ("get", "/cases/{case}/team", "view", None),
    "plan": ("get", "/cases/{case}/plan", "view", None),
    "appointment_list": ("get", "/cases/{case}/appointments", "view", None),
    "note_list": ("get", "/cases/{case}/notes", "view", None),
    "followup_list": ("get", "/cases/{case}/followups", "view", None),
    "person_patch": ("patch", "/persons/{person}", "edit", {"given_names": "Mohamed"}),
    "residence_add": (
        "post",
        "/persons/{person}/residence-statuses",
        "edit",
        {"status": "ae_25a", "valid_from": "2025-01-01"},
    ),
    "residence_correct": (
        "post",
        "/persons/{person}/residence-statuses/{residence}/correction",
        "edit",
        {"correction_reason": "Tippfehler", "valid_from": "2022-12-01"},
    ),
    "benefit_add": (
        "post",
        "/persons/{person}/benefits",
        "edit",
        {"regime": "asylblg_2", "valid_from": "2025-01-01"},
    ),
    "benefit_correct": (
        "post",
        "/persons/{person}/benefits/{benefit}/correction",
        "edit",
        {"correction_reason": "Bescheid", "regime": "asylblg_2"},
    ),
    "case_patch": ("patch", "/cases/{case}", "edit", {"phase": "assessment"}),
    "case_reopen": ("post", "/cases/{case}/reopen", "edit", None),
    "team_add": (
        "post",
        "/cases/{case}/team",
        "edit",
        {"member": "{member}", "team_role": "Beratung"},
    ),
    "team_remove": ("delete", "/cases/{case}/team/{team}", "edit", None),
    "goal_add": (
        "post",
        "/cases/{case}/plan/goals",
        "edit",
        {"life_domain": "language", "title": "Deutsch B1"},
    ),
    "goal_patch": ("patch", "/cases/{case}/plan/goals/{goal}", "edit", {"status": "achieved"}),
    "step_add": (
        "post",
        "/cases/{case}/plan/goals/{goal}/steps",
        "edit",
        {"title": "Kurs suchen", "responsible_is_client": True},
    ),
    "plan_agree": ("post", "/cases/{case}/plan/agree", "edit", {"agreed_on": "{today}"}),
    "step_patch": ("patch", "/cases/{case}/plan/steps/{step}", "contribute", {"status": "done"}),
    "appointment_add": (
        "post",
        "/cases/{case}/appointments",
        "contribute",
        {"starts_at": "2030-01-10T10:00:00+01:00", "purpose": "Erstgespräch"},
    ),
    "appointment_patch": (
        "patch",
        "/cases/{case}/appointments/{appointment}",
        "contribute",
        {"outcome": "Termin wahrgenommen", "status": "held"},
    ),
    "note_add": ("post", "/cases/{case}/notes", "contribute", {"text": "Neuer Vermerk"}),
    "followup_add": (
        "post",
        "/cases/{case}/followups",
        "contribute",
        {"title": "Bescheid prüfen", "due_on": "2030-01-01"},
    ),
    "followup_done": ("post", "/cases/{case}/followups/{followup}/done", "contribute", None),
    # Referrals and participations (api/referrals.py). The chain and the participations
    # list are the case's category participations; recording is the lead's.
    "chain": ("get", "/cases/{case}/chain", "view", None),
    "participation_list": ("get", "/cases/{case}/participations", "view", None),
    "referral_add": (
        "post",
        "/cases/{case}/referrals",
        "edit",
        {"offer_id": "{offer}", "reason": "Deutsch B1 für die Ausbildung"},
    ),
    "participation_add": (
        "post",
        "/cases/{case}/participations",
        "edit",
        {"title": "Sprachcafé", "category": "sprachkurs", "started_on": "2024-03-01"},
    ),
    # A referral exists for the lead organisation, the case team (403 unless
    # participations are shared) and its receiver; 404 for everybody else, whatever
    # the role. Then the step's side and the role decide (403).
    "referral": ("get", "/referrals/{referral}", "referral_view", None),
    "referral_send": ("post", "/referrals/{proposed}/send", "referral_edit", {"note": ""}),
    "referral_withdraw": ("post", "/referrals/{referral}/withdraw", "referral_edit", None),
    "participation_attendance": (
        "post",
        "/participations/{participation}/attendance",
        "referral_edit",
        {"attendance_percent": 80, "attendance_note": "regelmäßig"},
    ),
    "participation_end": (
        "post",
        "/participations/{participation}/end",
        "referral_edit",
        {"ended_on": "{today}", "outcome": "completed"},
    ),
    # Steps of the receiving organisation (the provider, none of the roles here; its
    # own path is in test_referrals_api.py).
    "referral_accept": ("post", "/referrals/{referral}/accept", "referral_receive", None),
    "referral_waitlist": ("post", "/referrals/{referral}/waitlist", "referral_receive", None),
    "referral_reject": (
        "post",
        "/referrals/{referral}/reject",
        "referral_receive",
        {"reject_reason": "no_place"},
    ),
    "participation_start": (
        "post",
        "/referrals/{referral}/start",
        "referral_receive",
        {"started_on": "{today}"},
    ),
    # Measure-career flags (api/careers.py): on the case, as its participations;
    # resolving is the lead's.
    "career_flag": ("get", "/careers/flags/{flag}", "view", None),
    "career_flag_resolve": (
        "post",
        "/careers/flags/{flag}/resolve",
        "edit",
        {"note": "Gespräch geführt, Kurs ab März"},
    ),
}

# role → status per right on the world's case (volunteer and sysadmin hold no token).
# referral_*: on the world's referrals and participations; the partner sees them as a
# case team member (participations shared), the lead organisation as the sender.
OK, DENIED, HIDDEN = "ok", 403, 404
_NONE = {
    "view": DENIED,
    "edit": DENIED,
    "contribute": DENIED,
    "referral_view": DENIED,
    "referral_edit": DENIED,
    "referral_receive": DENIED,
}
_LEAD = {
    "view": OK,
    "edit": OK,
    "contribute": OK,
    "referral_view": OK,
    "referral_edit": OK,
    "referral_receive": DENIED,
}
_PARTNER = {
    "view": OK,
    "edit": DENIED,
    "contribute": OK,
    "referral_view": OK,
    "referral_edit": DENIED,
    "referral_receive": DENIED,
}
EXPECTED = {
    "case_manager": _LEAD,
    "team_lead": _LEAD,
    "partner_staff": _PARTNER,
    "partner_colleague": _PARTNER,
    "outsider": dict.fromkeys(_NONE, HIDDEN),
    "coordinator": _NONE,
    "analyst": _NONE,
    "org_admin": _NONE,
}
# Follow-ups are the organisation's own: another organisation's do not exist for it.
OVERRIDES = {
    ("followup_done", "partner_staff"): HIDDEN,
    ("followup_done", "partner_colleague"): HIDDEN,
}
# An open case cannot be reopened: allowed roles get the service's 422.
OK_STATUS = {"case_reopen": 422}


def _fill(value: Any, ids: dict[str, int], extra: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, ids, extra) for k, v in value.items()}
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        key = value[1:-1]
        return extra[key] if key in extra else ids[key]
    return value


def _request(api, name: str, who: str, ids: dict[str, int], newcomer) -> Any:
    method, path, _right, body = ENDPOINTS[name]
    extra = {"member": newcomer.pk, "today": timezone.localdate().isoformat()}
    url = path.format(**ids)
    if method == "get":
        return api.get(url, who)
    if method == "delete":
        return api.delete(url, who)
    return api.call(method, url, who, data=_fill(body or {}, ids, extra))


def snapshot() -> dict[str, Any]:
    """What a refused call must not change."""
    return {
        "persons": list(Person.objects.values_list("pk", "family_name", "given_names")),
        "cases": list(Case.objects.values_list("pk", "phase", "case_manager_id", "updated_at")),
        "residence": ResidenceStatusPeriod.objects.count(),
        "benefits": BenefitPeriod.objects.count(),
        "team": list(CaseTeamMember.objects.values_list("pk", "removed_at")),
        "goals": list(PlanGoal.objects.values_list("pk", "status", "title")),
        "steps": list(PlanStep.objects.values_list("pk", "status")),
        "versions": PlanVersion.objects.count(),
        "appointments": list(Appointment.objects.values_list("pk", "status", "outcome")),
        "notes": Note.objects.count(),
        "followups": list(FollowUp.objects.values_list("pk", "done_at")),
        "referrals": list(Referral.objects.values_list("pk", "status", "sent_at", "updated_at")),
        "referral_steps": ReferralEvent.objects.count(),
        "participations": list(
            Participation.objects.values_list(
                "pk", "ended_on", "attendance_percent", "attendance_note", "updated_at"
            )
        ),
        "occupied": list(Offer.objects.values_list("pk", "occupied")),
        "career_flags": list(CareerFlag.objects.values_list("pk", "resolved_at", "cleared_at")),
        "log": AccessLogEntry.objects.count(),
    }


def _expected(name: str, role: str) -> Any:
    return OVERRIDES.get((name, role), EXPECTED[role][ENDPOINTS[name][2]])


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_refused_roles_get_404_or_403_and_nothing_is_written(api, world, objects, newcomer, name):
    for role in EXPECTED:
        expected = _expected(name, role)
        if expected == OK:
            continue
        before = snapshot()
        response = _request(api, name, role, objects.ids, newcomer)
        assert response.status_code == expected, (name, role, response.content)
        assert response["Content-Type"].startswith("application/json")
        assert "detail" in response.json()
        assert snapshot() == before, (name, role)


ALLOWED = [(name, role) for name in ENDPOINTS for role in EXPECTED if _expected(name, role) == OK]


REFERRAL_OBJECT_ENDPOINTS = [
    name
    for name, (_m, path, right, _b) in ENDPOINTS.items()
    # (a flag's resolve is an edit: 403 for roles without it, whatever the id)
    if right != "edit"
    and any(f"{{{key}}}" in path for key in ("referral", "proposed", "participation", "flag"))
]


@pytest.mark.parametrize("name", REFERRAL_OBJECT_ENDPOINTS)
def test_referrals_of_another_organisation_do_not_exist(api, world, objects, newcomer, name):
    """The foreign case's referrals and participations: 404 for every role that works
    with cases, not 403 (that would confirm they exist)."""
    for role in ("case_manager", "team_lead", "partner_staff"):
        before = snapshot()
        response = _request(api, name, role, objects.foreign, newcomer)
        assert response.status_code == 404, (name, role, response.content)
        assert snapshot() == before, (name, role)


@pytest.mark.parametrize(("name", "role"), ALLOWED)
def test_allowed_roles_get_data_and_the_access_is_logged(
    api, world, objects, newcomer, log, name, role
):
    response = _request(api, name, role, objects.ids, newcomer)
    expected = OK_STATUS.get(name)
    if expected:
        assert response.status_code == expected, response.content
        return
    assert response.status_code in (200, 201, 204), (name, role, response.content)
    if response.status_code != 204:
        assert response.json() is not None
    entries = log.entries(person_id=world.case.person_id)
    assert entries, "no access log entry"
    member = world.partner_colleague if role == "partner_colleague" else world.by_role()[role]
    assert all(e.user_id == member.user_id and e.channel == "api" for e in entries)
    assert entries[-1].organisation_id == member.organisation_id
    if ENDPOINTS[name][0] == "get":
        assert {e.action for e in entries} <= {"read", "list"}
        # The partner sees the case through the person's consent (all categories).
        basis = "lead_organisation" if member.organisation_id == world.lead.pk else "consent"
        assert {e.basis for e in entries} == {basis}
        assert all(e.categories for e in entries)


CASE_OBJECT_ENDPOINTS = [
    name
    for name, (_m, path, _r, _b) in ENDPOINTS.items()
    if any(f"{{{key}}}" in path for key in ("goal", "step", "appointment", "followup", "team"))
]


@pytest.mark.parametrize("name", CASE_OBJECT_ENDPOINTS)
def test_objects_of_a_foreign_case_are_not_reachable_through_my_case(
    api, world, objects, newcomer, name
):
    """Ids of the foreign case's goals, steps, … combined with my own case id: 404."""
    ids = dict(objects.foreign, case=world.case.pk, person=world.case.person_id)
    before = snapshot()
    response = _request(api, name, "case_manager", ids, newcomer)
    assert response.status_code == 404, response.content
    assert snapshot() == before


@pytest.mark.parametrize("name", ["residence_correct", "benefit_correct"])
def test_timeline_entries_of_another_person_are_not_reachable(api, world, objects, newcomer, name):
    ids = dict(objects.foreign, person=world.case.person_id)
    before = snapshot()
    assert _request(api, name, "case_manager", ids, newcomer).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("role", ["volunteer", "sysadmin"])
def test_roles_that_may_not_hold_tokens_are_refused(api, world, role):
    from lotse.api.models import ApiToken
    from lotse.api.services import token_hash

    # Such a token can only exist if the role table changed after it was made.
    plain = "lotse_0123456789_" + "x" * 43
    ApiToken.objects.create(
        membership=world.by_role()[role], prefix="0123456789", token_hash=token_hash(plain)
    )
    assert api.get(f"/cases/{world.case.pk}", token=plain).status_code == 401


# --- the partner by consent state -------------------------------------------------------

# With a consent for education and work only (the step's goal is in the life domain work).
PARTIAL_OK = {"person", "case", "plan", "step_patch"}


def _expected_for_partner(name: str, state: str) -> Any:
    right = ENDPOINTS[name][2]
    if right == "edit":
        return DENIED  # the role may not edit, whatever the id or the consent
    if state == "covering":
        return _expected(name, "partner_staff")
    if state == "partial":
        return OK if name in PARTIAL_OK else DENIED  # the case exists, the category is not shared
    return HIDDEN  # withdrawn, expired, none: the person does not exist for the partner


@pytest.mark.parametrize("state", CONSENT_STATES)
@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_partner_by_consent_state(api, world, objects, newcomer, name, state):
    set_consent_state(world, state)
    watch, before = LogWatch(), snapshot()
    response = _request(api, name, "partner_staff", objects.ids, newcomer)
    expected = _expected_for_partner(name, state)
    assert response["Content-Type"].startswith("application/json")
    if expected != OK:
        assert response.status_code == expected, (name, state, response.content)
        assert response.json()["detail"]
        assert snapshot() == before, (name, state)
        return
    assert response.status_code in (200, 201), (name, state, response.content)
    entries = watch.entries(person_id=world.case.person_id)
    assert entries, "no access log entry"
    if ENDPOINTS[name][0] == "get":
        shared = set(PARTIAL) if state == "partial" else ALL_CATEGORIES
        assert {c for e in entries for c in e.categories} <= shared | {"master"}
        assert {e.basis for e in entries} == {"consent"}


@pytest.mark.parametrize("state", CONSENT_STATES)
def test_partner_lists_by_consent_state(api, world, state):
    """Lists and counts agree with the case page: the person is listed with what is
    shared, or does not exist at all."""
    set_consent_state(world, state)
    persons = api.get("/persons", "partner_staff").json()
    cases = api.get("/cases", "partner_staff").json()
    if state in ("withdrawn", "expired", "none"):
        assert persons == {**persons, "count": 0, "items": []}
        assert cases == {**cases, "count": 0, "items": []}
        return
    shared = PARTIAL if state == "partial" else sorted(ALL_CATEGORIES)
    (person,) = persons["items"]
    (case,) = cases["items"]
    assert person["id"] == world.case.person_id and case["id"] == world.case.pk
    assert person["shared_categories"] == shared and case["shared_categories"] == shared
    assert (person["birth_date"] is None) == (state == "partial")
    assert (case["current_status"] is None) == (state == "partial")


# Operations outside ENDPOINTS, and where they are tested per role and consent state.
ELSEWHERE = {
    ("get", "/persons"): "test_partner_lists_by_consent_state, test_categories.py",
    ("get", "/cases"): "test_partner_lists_by_consent_state, test_categories.py",
    ("post", "/persons"): "test_persons.py: registering opens a case led by the caller",
    # Facts sent by the client, no personal data of lotse: any token, nothing logged.
    ("post", "/eligibility"): "test_eligibility_api.py: any role with a token, no log entry",
    # The catalogue: no personal data, every role, nothing logged.
    ("get", "/offers"): "test_offers_api.py: every role with a token, filters, no log entry",
    ("get", "/offers/{}"): "test_offers_api.py: every role with a token, 404 for unknown ids",
    # Incoming (receiver) and outgoing (lead organisation) boxes.
    ("get", "/referrals"): "test_referrals_api.py: boxes per role, consent withdrawn, queries",
    ("get", "/careers/flags"): "test_careers_api.py: scoped list per role, logged, queries",
    ("get", "/careers/counts"): "test_careers_api.py: coordinators and analysts, suppression",
    ("get", "/analytics/situation"): "test_analytics_api.py: roles, logging, withheld counts",
    ("get", "/analytics/gaps"): "test_analytics_api.py: roles, logging, withheld counts",
    ("get", "/analytics/flows"): "tests/analytics/test_flows.py: roles, logging, withheld, filter",
    ("get", "/analytics/quality"): "test_analytics_api.py: roles, logging",
    ("get", "/analytics/goals"): "test_analytics_api.py: roles, logging",
    ("get", "/analytics/report"): "tests/analytics/test_report.py: roles, logging, bad period",
    ("get", "/analytics/monitoring"): "test_analytics_api.py: roles, logging, not configured",
    # The directory of the alliance (#8): no personal data, nothing logged.
    ("get", "/network/organisations"): "tests/network/test_api.py: roles, search, queries",
    ("get", "/network/responsibilities"): "tests/network/test_api.py: roles, gap, duplicate",
    ("get", "/network/pathways"): "tests/network/test_api.py: roles, finder, bad input 422",
}


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_every_api_operation_is_in_the_matrix(db):
    doc = Client().get("/api/v1/openapi.json").json()
    operations = {
        (method, _shape(path.removeprefix("/api/v1")))
        for path, methods in doc["paths"].items()
        for method in methods
    }
    covered = {(method, _shape(path)) for method, path, _r, _b in ENDPOINTS.values()}
    covered |= set(ELSEWHERE)
    missing = sorted(operations - covered)
    assert not missing, f"add these API operations to ENDPOINTS in {__file__}: {missing}"
