"""The privacy matrix (issue #3): every URL pattern of the pages × every role × consent
state (none, covering, partial, withdrawn, expired) → expected status, and on the case
page exactly the categories that may appear. A URL pattern missing from the table fails
the completeness test, so new views must be added here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from lotse.casework import services
from lotse.casework.models import CaseTeamMember, InterviewGuide
from lotse.core.roles import ROLE_PERMISSIONS, Perm
from lotse.referrals import services as referral_services
from lotse.referrals.models import CareerFlag

from .conftest import login
from .factories import ConsentFactory, OfferFactory, OrganisationFactory

ROLES = [
    "case_manager",
    "team_lead",
    "partner_staff",
    "partner_colleague",
    "outsider",
    "coordinator",
    "analyst",
    "volunteer",
    "org_admin",
    "sysadmin",
]
STATES = ["none", "covering", "partial", "withdrawn", "expired"]
PARTIAL = {"education", "work"}
ALL = {
    "master",
    "residence",
    "benefits",
    "education",
    "work",
    "health",
    "family",
    "notes",
    "documents",
    "plan",
    "participations",
}


@dataclass(frozen=True)
class Spec:
    perm: str | None = Perm.CASE_VIEW  # role permission the view needs (None: any login)
    case: bool = True  # a view on one case (scope and consent apply)
    lead_only: bool = False  # only the lead organisation
    category: str | None = None  # category a partner needs besides seeing the case
    method: str = "get"
    data: tuple[tuple[str, Any], ...] = ()
    ok: int = 200  # status when allowed
    args: str = "case"  # how to build the URL arguments
    own_org: bool = False  # only the provider's organisation (or OFFER_EDIT_ALL)
    receiver_only: bool = False  # only the organisation a referral was sent to
    anonymous: bool = False  # reachable without login


EDIT = {"perm": Perm.CASE_EDIT, "lead_only": True}
CONTRIB = {"perm": Perm.CASE_CONTRIBUTE}

TABLE: dict[str, Spec] = {
    # core
    "core:dashboard": Spec(perm=None, case=False),
    "core:login": Spec(perm=None, case=False, anonymous=True),
    "core:logout": Spec(perm=None, case=False, method="post", ok=302, anonymous=True),
    "core:acting": Spec(perm=None, case=False),
    "core:health": Spec(perm=None, case=False, anonymous=True),
    "set_language": Spec(perm=None, case=False, method="post", ok=302, anonymous=True),
    # casework: lists and settings
    "casework:list": Spec(case=False),
    "casework:register": Spec(perm=Perm.CASE_CREATE, case=False),
    "casework:guides": Spec(perm=Perm.GUIDE_EDIT, case=False),
    "casework:question_new": Spec(perm=Perm.GUIDE_EDIT, case=False, args="guide"),
    "casework:question_edit": Spec(perm=Perm.GUIDE_EDIT, case=False, args="question"),
    # casework: one case
    "casework:detail": Spec(),
    "casework:plan_print": Spec(lead_only=True),
    "casework:plan_version": Spec(lead_only=True, args="version"),
    "casework:person_edit": Spec(**EDIT),
    "casework:residence_new": Spec(**EDIT),
    "casework:residence_correct": Spec(**EDIT, args="residence"),
    "casework:benefit_new": Spec(**EDIT),
    "casework:benefit_correct": Spec(**EDIT, args="benefit"),
    "casework:phase": Spec(**EDIT),
    "casework:household": Spec(**EDIT),
    "casework:reopen": Spec(**EDIT, method="post", ok=302),
    "casework:team_add": Spec(**EDIT),
    "casework:team_remove": Spec(**EDIT, method="post", ok=302, args="removed_member"),
    "casework:intake_new": Spec(**EDIT),
    "casework:assessment_new": Spec(**EDIT),
    "casework:assessment_item_new": Spec(**EDIT, args="assessment"),
    "casework:need_status": Spec(**EDIT, method="post", ok=302, args="need"),
    "casework:goal_new": Spec(**EDIT),
    "casework:goal_status": Spec(**EDIT, method="post", ok=302, args="goal"),
    "casework:step_new": Spec(**EDIT, args="goal"),
    "casework:step_status": Spec(**CONTRIB, category="work", method="post", ok=302, args="step"),
    "casework:plan_agree": Spec(**EDIT),
    "casework:appointment_new": Spec(**CONTRIB, category="plan"),
    "casework:appointment_edit": Spec(**CONTRIB, category="plan", args="appointment"),
    "casework:note_new": Spec(**CONTRIB, category="notes"),
    "casework:document_upload": Spec(**CONTRIB, category="documents"),
    "casework:document_download": Spec(category="documents", args="document"),
    "casework:followup_new": Spec(**CONTRIB, category="plan"),
    # The follow-up in the fixture is the lead's: organisations tick off only their own.
    "casework:followup_done": Spec(
        **CONTRIB, category="plan", method="post", ok=302, args="followup", lead_only=True
    ),
    # privacy
    "privacy:consents": Spec(**EDIT, args="case_pk"),
    # eligibility: the facts are residence data (plus birth date, entry, nationality)
    "eligibility:case": Spec(category="residence", args="case_pk"),
    "eligibility:facts": Spec(**EDIT, args="case_pk"),
    "eligibility:rules": Spec(perm=None, case=False),
    # offers: matching reads master data (age, German, district) at least
    "offers:matches": Spec(category="master", args="case_pk"),
    # the catalogue: no personal data; editing for the provider's own staff (the fixture
    # offer belongs to the lead agency) and coordinators
    "offers:list": Spec(perm=Perm.OFFER_VIEW, case=False),
    "offers:detail": Spec(perm=Perm.OFFER_VIEW, case=False, args="offer"),
    "offers:new": Spec(perm=Perm.OFFER_EDIT, case=False),
    "offers:edit": Spec(perm=Perm.OFFER_EDIT, case=False, args="offer", own_org=True),
    "offers:deactivate": Spec(
        perm=Perm.OFFER_EDIT, case=False, method="post", ok=302, args="offer", own_org=True
    ),
    "offers:reactivate": Spec(
        perm=Perm.OFFER_EDIT, case=False, method="post", ok=302, args="offer", own_org=True
    ),
    "offers:export": Spec(perm=Perm.OFFER_VIEW, case=False),
    "offers:import": Spec(perm=Perm.OFFER_EDIT, case=False),
    "offers:import_confirm": Spec(perm=Perm.OFFER_EDIT, case=False, method="post", ok=302),
    # referrals: the lead refers and sees the chain; partners see the chain and the
    # referrals where participations are shared; the steps of the receiving side are
    # the provider's only (nobody here: the fixture referral goes to a provider outside
    # the roles; tests/referrals/test_pages.py walks the provider's side)
    "referrals:list": Spec(case=False),
    "referrals:new": Spec(**EDIT, args="case_pk"),
    "referrals:chain": Spec(category="participations", args="case_pk"),
    "referrals:participation_new": Spec(**EDIT, args="case_pk"),
    "referrals:detail": Spec(perm=None, category="participations", args="referral"),
    "referrals:send": Spec(**EDIT, method="post", ok=302, args="referral_proposed"),
    "referrals:withdraw": Spec(**EDIT, method="post", ok=302, args="referral"),
    **{
        f"referrals:{step}": Spec(
            perm=Perm.REFERRAL_RECEIVE, method="post", receiver_only=True, args="referral"
        )
        for step in ("accept", "waitlist", "reject", "start")
    },
    "referrals:attendance": Spec(
        perm=None,
        lead_only=True,
        method="post",
        ok=302,
        args="participation",
        data=(("attendance-attendance_percent", "80"),),
    ),
    "referrals:end": Spec(
        perm=None,
        lead_only=True,
        method="post",
        ok=302,
        args="participation",
        data=(("end-ended_on", "2024-06-30"), ("end-outcome", "completed")),
    ),
    # measure careers (#6): flags on a case as its participations; counts and rules
    # for coordinators (no person)
    "referrals:career_flags": Spec(case=False),
    "referrals:career_flag": Spec(category="participations", args="career_flag"),
    "referrals:career_flag_resolve": Spec(
        **EDIT, method="post", ok=302, args="career_flag", data=(("resolve-note", "erledigt"),)
    ),
    "referrals:career_overview": Spec(perm=Perm.CAREER_STATS, case=False),
    "referrals:career_rules": Spec(perm=Perm.CAREER_RULES, case=False),
    "referrals:career_rule_edit": Spec(perm=Perm.CAREER_RULES, case=False, args="career_rule"),
    # analytics (#7): aggregates only, no case
    "analytics:index": Spec(perm=Perm.ANALYTICS_VIEW, case=False),
    "analytics:situation": Spec(perm=Perm.ANALYTICS_VIEW, case=False),
    "analytics:refresh": Spec(perm=Perm.ANALYTICS_MANAGE, case=False, method="post", ok=302),
    "analytics:gaps": Spec(perm=Perm.ANALYTICS_VIEW, case=False),
    "analytics:flows": Spec(perm=Perm.ANALYTICS_VIEW, case=False),
    "analytics:quality": Spec(perm=Perm.ANALYTICS_VIEW, case=False),
    "analytics:goals": Spec(perm=Perm.ANALYTICS_VIEW, case=False),
    "analytics:goal_new": Spec(perm=Perm.GOALS_EDIT, case=False),
    "analytics:goal_edit": Spec(perm=Perm.GOALS_EDIT, case=False, args="goal_id"),
    "analytics:goal_delete": Spec(
        perm=Perm.GOALS_EDIT, case=False, method="post", ok=302, args="goal_id"
    ),
    "analytics:gap_detail": Spec(perm=Perm.ANALYTICS_VIEW, case=False, args="gap_cell"),
    "analytics:classification": Spec(perm=Perm.ANALYTICS_VIEW, case=False),
    "analytics:population_list": Spec(perm=Perm.ANALYTICS_VIEW, case=False),
    "analytics:population_import": Spec(perm=Perm.ANALYTICS_MANAGE, case=False),
    "analytics:population_delete": Spec(
        perm=Perm.ANALYTICS_MANAGE, case=False, method="post", ok=302, args="population_list"
    ),
    "analytics:reports": Spec(perm=Perm.ANALYTICS_VIEW, case=False),
    "analytics:report_download": Spec(perm=Perm.ANALYTICS_VIEW, case=False, args="council_report"),
    # Without LOTSE_MUNICIPALITY_CODE (the tests' settings) back to the reports page.
    "analytics:monitor_export": Spec(perm=Perm.ANALYTICS_VIEW, case=False, args="monitor", ok=302),
    # network (#8): the directory of the alliance, no personal data
    "network:directory": Spec(perm=Perm.NETWORK_VIEW, case=False),
    "network:responsibilities": Spec(perm=Perm.NETWORK_VIEW, case=False),
    "network:pathways": Spec(perm=Perm.NETWORK_VIEW, case=False),
    "network:contact_new": Spec(perm=Perm.NETWORK_EDIT, case=False, args="organisation"),
    "network:contact_edit": Spec(perm=Perm.NETWORK_EDIT, case=False, args="contact"),
    "network:contact_delete": Spec(
        perm=Perm.NETWORK_EDIT, case=False, method="post", ok=302, args="contact"
    ),
    "network:responsibility_new": Spec(perm=Perm.NETWORK_EDIT, case=False),
    "network:responsibility_edit": Spec(perm=Perm.NETWORK_EDIT, case=False, args="responsibility"),
    "network:responsibility_delete": Spec(
        perm=Perm.NETWORK_EDIT, case=False, method="post", ok=302, args="responsibility"
    ),
    "privacy:consent_withdraw": Spec(**EDIT, method="post", ok=302, args="withdrawn_consent"),
    "privacy:consent_form": Spec(**EDIT, args="consent_form"),
    "privacy:consent_form_draft": Spec(**EDIT, args="case_pk"),
    "privacy:art15": Spec(**EDIT, args="case_pk"),
    "privacy:art15_json": Spec(**EDIT, args="case_pk"),
    "privacy:break_glass": Spec(perm=Perm.BREAK_GLASS, args="case_pk", lead_only=False),
    "privacy:agreements": Spec(perm=Perm.AGREEMENT_EDIT, case=False),
    "privacy:agreement_new": Spec(perm=Perm.AGREEMENT_EDIT, case=False),
    "privacy:agreement_edit": Spec(perm=Perm.AGREEMENT_EDIT, case=False, args="agreement"),
}

# URL patterns not tested here, and why.
EXEMPT = {
    "api": "the JSON API has its own matrix in tests/api/test_matrix.py",
}


def _names(resolver: URLResolver, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{prefix}{p.namespace}:" if p.namespace else prefix
            names |= _names(p, ns)
        elif isinstance(p, URLPattern) and p.name:
            names.add(prefix + p.name)
    return names


def test_every_url_pattern_is_in_the_table():
    names = {n for n in _names(get_resolver()) if n.split(":")[0] not in EXEMPT}
    missing = sorted(names - set(TABLE))
    assert not missing, f"add these views to TABLE in {__file__}: {missing}"
    stale = sorted(set(TABLE) - names)
    assert not stale, f"views in TABLE that do not exist: {stale}"


def _set_state(world, state: str) -> None:
    consent = world.consent
    consent.withdrawn_at = None
    consent.valid_until = None
    consent.categories = sorted(ALL)
    if state == "none":
        consent.delete()
        return
    if state == "partial":
        consent.categories = sorted(PARTIAL)
    elif state == "withdrawn":
        consent.withdrawn_at = timezone.now()
    elif state == "expired":
        consent.signed_on = timezone.localdate() - dt.timedelta(days=400)
        consent.valid_until = timezone.localdate() - dt.timedelta(days=1)
    consent.save()


def _objects(world) -> dict[str, Any]:
    """One object of each kind on world.case, created by the lead."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from lotse.people.models import BenefitPeriod, ResidenceStatusPeriod
    from lotse.people.services import benefit_period_add

    cm, case = world.case_manager, world.case
    goal = services.plan_goal_add(actor=cm, case=case, life_domain="work", title="Arbeit finden")
    step = services.plan_step_add(
        actor=cm, goal=goal, title="Bewerben", responsible_organisation=world.partner
    )
    services.plan_agree(actor=cm, case=case, agreed_on=timezone.localdate())
    assessment = services.assessment_create(
        actor=cm,
        case=case,
        assessed_on=timezone.localdate(),
        items=[
            {
                "life_domain": "work",
                "kind": "need",
                "description": "Job",
                "need_type": __import__(
                    "lotse.core.models", fromlist=["NeedType"]
                ).NeedType.objects.get(code="arbeitsplatz"),
                "priority": "high",
            }
        ],
    )
    appointment = services.appointment_create(
        actor=cm,
        case=case,
        purpose="Beratung",
        starts_at=timezone.now() + dt.timedelta(days=2),
        organisation=world.partner,
    )
    followup = services.followup_create(
        actor=cm, case=case, title="WV", due_on=timezone.localdate()
    )
    services.followup_done(actor=cm, followup=followup)
    document = services.document_upload(
        actor=cm,
        case=case,
        doc_type="zeugnis",
        title="Zeugnis",
        upload=SimpleUploadedFile("z.pdf", b"%PDF-1.4\n%%EOF\n"),
    )
    benefit_period_add(
        actor=cm, person=case.person, regime="asylblg_3", valid_from=dt.date(2023, 1, 1)
    )
    removed = CaseTeamMember.objects.create(
        case=case,
        user=world.team_lead.user,
        organisation=world.other,
        team_role="x",
        removed_at=timezone.now(),
    )
    withdrawn = type(world.consent).objects.create(
        person=case.person,
        purpose="casework",
        categories=["work"],
        signed_on=dt.date(2024, 1, 1),
        recorded_by=cm.user,
        recorded_for=world.lead,
        withdrawn_at=timezone.now(),
    )
    guide = InterviewGuide.objects.create(organisation=world.lead, name="KI-Leitfaden")
    question = guide.questions.create(key="k", section="goals", text="Ziel?", kind="text")
    from lotse.privacy.models import SharingAgreement

    agreement = SharingAgreement.objects.create(
        name="KI → JC",
        source_organisation=world.lead,
        receiver_organisation=world.partner,
        categories=["work"],
        purposes=["casework"],
        legal_basis="§ 69 SGB X",
        valid_from=dt.date(2030, 1, 1),
        owner=world.lead,
    )
    provider = OrganisationFactory(name="Sprachschule", org_type="bildungstraeger")
    ConsentFactory(
        person=case.person,
        purpose="referral",
        categories=["master"],
        recorded_by=cm.user,
        recorded_for=world.lead,
        receivers=[provider],
    )
    offer = OfferFactory(provider=provider)
    proposed = referral_services.referral_create(
        actor=cm, case=case, offer=offer, reason="Sprachkurs"
    )
    sent = referral_services.referral_create(
        actor=cm, case=case, receiver=provider, reason="Beratung", send=True
    )
    participation = referral_services.participation_record(
        actor=cm, case=case, title="Kurs", category="sprachkurs", started_on=dt.date(2024, 1, 1)
    )
    flag = CareerFlag.objects.create(
        person=case.person,
        case=case,
        rule="gap",
        evidence_key="p:0",
        evidence={"from": "2025-01-01", "to": "2025-06-01", "days": 151, "until_today": False},
    )
    from lotse.analytics.models import CouncilReport, Goal, PopulationList

    principle = Goal.objects.create(level="principle", title="Ausbildung für alle")

    population_list = PopulationList.objects.create(
        source="Ausländerbehörde",
        reference_date=dt.date(2026, 6, 30),
        file_name="liste.csv",
        organisation=world.lead,
        imported_by=cm.user,
    )
    report = CouncilReport.objects.create(
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 6, 30),
        title="Berichtsvorlage",
        created_by=cm.user,
        organisation=world.lead,
        k=5,
        rounding=0,
        seconds=1.0,
        pdf=b"%PDF-1.7",
        xlsx=b"PK",
    )
    from lotse.network.models import Contact, Responsibility
    from lotse.people.models import TargetGroup

    responsibility = Responsibility.objects.create(
        organisation=world.lead,
        target_group=TargetGroup.objects.get(code="jv_geduldet"),
        field_of_action="education",
    )
    contact = Contact.objects.create(organisation=world.lead, name="Beratung KI")
    return {
        "organisation": [world.lead.pk],
        "contact": [contact.pk],
        "responsibility": [responsibility.pk],
        "council_report": [report.pk, "pdf"],
        "monitor": ["json"],
        "gap_cell": ["deutsch_b1", "jv_geduldet"],
        "goal_id": [principle.pk],
        "population_list": [population_list.pk],
        "case": [case.pk],
        "case_pk": [case.pk],
        "career_flag": [flag.pk],
        "career_rule": ["gap"],
        "referral": [sent.pk],
        "referral_proposed": [proposed.pk],
        "participation": [participation.pk],
        "goal": [case.pk, goal.pk],
        "step": [case.pk, step.pk],
        "version": [case.pk, 1],
        "assessment": [case.pk, assessment.pk],
        "need": [case.pk, assessment.items.get().pk],
        "appointment": [case.pk, appointment.pk],
        "followup": [case.pk, followup.pk],
        "document": [case.pk, document.pk],
        "residence": [case.pk, ResidenceStatusPeriod.objects.get(person=case.person).pk],
        "benefit": [case.pk, BenefitPeriod.objects.get(person=case.person).pk],
        "removed_member": [case.pk, removed.pk],
        "withdrawn_consent": [case.pk, withdrawn.pk],
        "consent_form": [withdrawn.pk],
        "guide": [guide.pk],
        "question": [guide.pk, question.pk],
        "agreement": [agreement.pk],
        "offer": [OfferFactory(provider=world.lead).pk],
    }


PARTNER_ROLES = ("partner_staff", "partner_colleague")


def _expected(role: str, state: str, spec: Spec) -> int:
    member_role = {"partner_colleague": "partner_staff", "outsider": "case_manager"}.get(role, role)
    perms = ROLE_PERMISSIONS[member_role]
    if spec.perm is not None and spec.perm not in perms:
        return 403
    if spec.own_org and Perm.OFFER_EDIT_ALL not in perms and role in PARTNER_ROLES:
        return 403  # the fixture offer belongs to the lead agency
    if not spec.case:
        return spec.ok
    lead = role in ("case_manager", "team_lead")
    partner = role in ("partner_staff", "partner_colleague")
    if not lead and not (partner and state in ("covering", "partial")):
        return 404
    if spec.receiver_only:
        return 403  # sees the case, but the referral was not sent to them
    if lead:
        return spec.ok
    if spec.lead_only:
        return 403
    if state == "partial" and spec.category and spec.category not in PARTIAL:
        return 403
    return spec.ok


def _membership(world, role):
    return world.partner_colleague if role == "partner_colleague" else world.by_role()[role]


CASE_VIEWS = [name for name, spec in TABLE.items() if spec.case]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
def test_case_views_by_role_and_consent_state(world, client, role, state):
    objects = _objects(world)
    _set_state(world, state)
    login(client, _membership(world, role))
    failures = []
    for name in CASE_VIEWS:
        spec = TABLE[name]
        url = reverse(name, args=objects[spec.args])
        response = getattr(client, spec.method)(url, dict(spec.data))
        want = _expected(role, state, spec)
        if response.status_code != want:
            failures.append(f"{name}: {response.status_code} != {want}")
    assert not failures, failures


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ["case_manager", "partner_staff", "partner_colleague"])
def test_case_page_shows_exactly_the_shared_categories(world, client, role, state):
    _set_state(world, state)
    login(client, _membership(world, role))
    response = client.get(reverse("casework:detail", args=[world.case.pk]))
    expected = ALL if role == "case_manager" else {"covering": ALL, "partial": PARTIAL}.get(state)
    if expected is None:
        assert response.status_code == 404
        return
    assert set(response.context["d"].access.categories) == expected
    body = response.content.decode()
    assert ("Duldung" in body) == ("residence" in expected)


@pytest.mark.parametrize("role", ROLES)
def test_global_views_by_role(world, client, role):
    objects = _objects(world)
    login(client, _membership(world, role))
    failures = []
    for name, spec in TABLE.items():
        if spec.case or spec.anonymous:
            continue
        url = reverse(name, args=objects.get(spec.args, []) if spec.args != "case" else [])
        response = getattr(client, spec.method)(url)
        want = _expected(role, "covering", spec)
        if name == "casework:question_edit" and role == "sysadmin":
            want = 200
        if response.status_code != want:
            failures.append(f"{name}: {response.status_code} != {want}")
    assert not failures, failures
