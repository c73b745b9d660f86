"""The Art. 15 GDPR report: who may get it, what it contains, that it is logged, and
that it costs a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from auditlog.context import set_actor
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lotse.casework import services as cw
from lotse.casework.models import Note
from lotse.core.models import AccessLogEntry, DeletionRecord, Membership, NeedType
from lotse.core.roles import Role
from lotse.people.services import person_update
from lotse.privacy.art15 import OBJECT_TYPE
from lotse.privacy.categories import Category
from lotse.privacy.models import BreakGlassAccess, Consent, SharingAgreement
from lotse.referrals import services as referrals

from .conftest import login
from .factories import ConsentFactory, MembershipFactory, OfferFactory, OrganisationFactory
from .history import grow_case_history

# Notes are created through the ORM here: the report reads them, how they are written
# is tested elsewhere.


def _note(world, text: str, *, sensitive: bool = False, visibility: str = "case_team") -> Note:
    return Note.objects.create(
        case=world.case,
        author=world.case_manager.user,
        organisation=world.lead,
        text=text,
        visibility=visibility,
        is_sensitive=sensitive,
    )


def _grow(world, n: int, start: int = 0) -> None:
    """The shared history helper, plus sensitive notes (which go under health)."""
    grow_case_history(world, n, start)
    for i in range(start, start + n):
        _note(world, f"Sensibler Vermerk {i}", sensitive=True)


def _provider(world) -> Membership:
    """A Bildungsträger's staff member, and the person's consent to refer them there."""
    org = OrganisationFactory(
        name="Bildungswerk Lotsenstadt", short_name="BW", org_type="bildungstraeger"
    )
    ConsentFactory(
        person=world.case.person,
        purpose="referral",
        categories=["master", "education"],
        recorded_by=world.case_manager.user,
        recorded_for=world.lead,
        receivers=[org],
    )
    return MembershipFactory(organisation=org, role=Role.PARTNER_STAFF, user__username="bw")


def _refer(world, staff: Membership, n: int, start: int = 0) -> None:
    """n referrals of world.case to the provider's courses, each with needs, accepted,
    started and ended: every step and a participation."""
    needs = list(NeedType.objects.order_by("pk")[:2])
    today = timezone.localdate()
    for i in range(start, start + n):
        offer = OfferFactory(provider=staff.organisation, title=f"Kurs {i}")
        referral = referrals.referral_create(
            actor=world.case_manager,
            case=world.case,
            offer=offer,
            reason=f"Grund {i}",
            need_types=needs,
            send=True,
        )
        referral = referrals.referral_accept(actor=staff, referral=referral, note=f"Platz {i}")
        participation = referrals.participation_start(
            actor=staff, referral=referral, started_on=today
        )
        referrals.participation_end(
            actor=staff,
            participation=participation,
            ended_on=today,
            outcome="completed",
            outcome_note=f"Ende {i}",
            attendance_percent=90,
        )


ALL = [c.value for c in Category]


def _json(client: Client, case_pk: int) -> dict:
    response = client.get(reverse("privacy:art15_json", args=[case_pk]))
    assert response.status_code == 200
    return json.loads(response.content)


def _urls(case_pk: int) -> list[str]:
    return [
        reverse("privacy:art15", args=[case_pk]),
        reverse("privacy:art15_json", args=[case_pk]),
    ]


def test_case_manager_gets_html_and_json(world, as_member):
    client = as_member(world.case_manager)
    html = client.get(reverse("privacy:art15", args=[world.case.pk]))
    assert html.status_code == 200
    assert html["Content-Type"].startswith("text/html")
    assert "no-store" in html.get("Cache-Control", "") or "max-age=0" in html["Cache-Control"]
    page = html.content.decode()
    assert "Haddad" in page and "<caption" in page
    assert reverse("privacy:art15_json", args=[world.case.pk]) in page

    download = client.get(reverse("privacy:art15_json", args=[world.case.pk]))
    assert download.status_code == 200
    assert download["Content-Type"].startswith("application/json")
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment;") and ".json" in disposition
    assert "Haddad" not in disposition  # no name in the file name
    data = json.loads(download.content)
    assert set(data["categories"]) == set(ALL)
    assert data["person"]["name"] == "Mohammed Haddad"
    assert data["categories"]["master"]["tables"]["person"][0]["family_name"] == "Haddad"
    cases = data["categories"]["master"]["tables"]["cases"]
    assert [c["lead_organisation"] for c in cases] == ["KI Lotsenstadt"]
    team = data["categories"]["master"]["tables"]["case_team"]
    assert team[0]["organisation"] == "Jobcenter Lotsenstadt"
    assert data["categories"]["residence"]["tables"]["residence_periods"][0]["current"] is True


def test_team_lead_of_the_lead_organisation_may_too(world, as_member):
    client = as_member(world.team_lead)
    for url in _urls(world.case.pk):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("partner_staff", 403),
        ("outsider", 404),
        ("coordinator", 403),
        ("analyst", 403),
        ("volunteer", 403),
        ("org_admin", 403),
        ("sysadmin", 403),
    ],
)
def test_others_may_not(world, client, role, status):
    login(client, world.by_role()[role])
    for url in _urls(world.case.pk):
        assert client.get(url).status_code == status, (role, url)
    assert not AccessLogEntry.objects.filter(object_type=OBJECT_TYPE).exists()


def test_partner_colleague_may_not(world, client):
    login(client, world.partner_colleague)
    for url in _urls(world.case.pk):
        assert client.get(url).status_code == 403


def test_foreign_case_does_not_exist_for_the_case_manager(world, as_member):
    client = as_member(world.case_manager)
    for url in _urls(world.foreign_case.pk):
        assert client.get(url).status_code == 404


def test_anonymous_is_sent_to_login(world, client):
    for url in _urls(world.case.pk):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_only_get(world, as_member):
    client = as_member(world.case_manager)
    for url in _urls(world.case.pk):
        assert client.post(url).status_code == 405


def test_consents_with_the_partner_including_withdrawn_and_expired(world, as_member):
    today = timezone.localdate()
    expired = ConsentFactory(
        person=world.case.person,
        recorded_by=world.case_manager.user,
        recorded_for=world.lead,
        receivers=[world.partner],
        categories=["education", "work"],
        signed_on=today - dt.timedelta(days=400),
        valid_until=today - dt.timedelta(days=35),
    )
    withdrawn = ConsentFactory(
        person=world.case.person,
        recorded_by=world.case_manager.user,
        recorded_for=world.lead,
        receivers=[world.partner, world.other],
        categories=["health"],
    )
    Consent.objects.filter(pk=withdrawn.pk).update(
        withdrawn_at=timezone.now(), withdrawn_by=world.case_manager.user
    )
    data = _json(as_member(world.case_manager), world.case.pk)
    by_id = {c["id"]: c for c in data["consents"]}
    assert set(by_id) == {world.consent.pk, expired.pk, withdrawn.pk}
    assert by_id[world.consent.pk]["receiving_organisations"] == ["Jobcenter Lotsenstadt"]
    assert by_id[world.consent.pk]["categories"] == ALL
    assert by_id[expired.pk]["categories"] == ["education", "work"]
    statuses = {by_id[pk]["status"] for pk in (world.consent.pk, expired.pk, withdrawn.pk)}
    assert len(statuses) == 3  # valid, expired, withdrawn
    assert by_id[withdrawn.pk]["withdrawn_at"]
    recipients = {r["organisation"]: r for r in data["recipients"]}
    partner = recipients["Jobcenter Lotsenstadt"]
    assert {c["id"] for c in partner["consents"]} == {world.consent.pk, expired.pk, withdrawn.pk}
    assert partner["relations"]  # on the case team
    # The ABH is named in a (withdrawn) consent only: still listed as a recipient.
    assert {c["id"] for c in recipients["Ausländerbehörde"]["consents"]} == {withdrawn.pk}
    assert recipients["KI Lotsenstadt"]["relations"]  # the lead


def test_report_lists_the_partners_reads_with_organisation_and_categories(world, client):
    login(client, world.partner_staff)
    assert client.get(reverse("casework:detail", args=[world.case.pk])).status_code == 200
    read = AccessLogEntry.objects.filter(
        organisation=world.partner, action="read", person_id=world.case.person_id
    )
    assert read.exists()
    partner_categories = set().union(*(set(e.categories) for e in read))

    login(client, world.case_manager)
    data = _json(client, world.case.pk)
    rows = [a for a in data["accesses"] if a["organisation"] == "Jobcenter Lotsenstadt"]
    assert rows, data["accesses"]
    assert {a["user"] for a in rows} == {str(world.partner_staff.user)}
    assert set().union(*(set(a["categories"]) for a in rows)) == partner_categories
    assert all(a["channel"] == "web" and a["basis"] and a["role"] for a in rows)
    partner = next(r for r in data["recipients"] if r["organisation"] == "Jobcenter Lotsenstadt")
    assert partner["accesses"]["count"] == len(rows)
    assert set(partner["accesses"]["categories"]) == partner_categories

    page = client.get(reverse("privacy:art15", args=[world.case.pk])).content.decode()
    assert "Jobcenter Lotsenstadt" in page and str(world.partner_staff.user) in page


def test_the_export_itself_is_logged(world, as_member):
    client = as_member(world.case_manager)
    before = AccessLogEntry.objects.count()
    client.get(reverse("privacy:art15_json", args=[world.case.pk]))
    client.get(reverse("privacy:art15", args=[world.case.pk]))
    entries = list(AccessLogEntry.objects.filter(object_type=OBJECT_TYPE).order_by("seq"))
    assert len(entries) == 2
    assert AccessLogEntry.objects.count() == before + 2
    for entry in entries:
        assert entry.action == "export"
        assert entry.person_id == world.case.person_id
        assert sorted(entry.categories) == sorted(ALL)
        assert entry.user_id == world.case_manager.user_id
        assert entry.organisation_id == world.lead.pk
        assert entry.basis == "lead_organisation"
        assert entry.object_id == str(world.case.pk)
        assert entry.channel == "web" and entry.request_id
    # The next report lists the earlier export among the accesses.
    data = _json(client, world.case.pk)
    assert sum(1 for a in data["accesses"] if a["object"].startswith(OBJECT_TYPE)) == 2


def test_all_casework_content_by_category(world, as_member):
    actor, case = world.case_manager, world.case
    _note(world, "Termin beim Amt verschoben")
    _note(world, "Diabetes, Insulin", sensitive=True, visibility="organisation")
    cw.assessment_create(
        actor=actor,
        case=case,
        assessed_on=timezone.localdate(),
        summary="Motiviert",
        items=[
            {"life_domain": "health", "kind": "strength", "description": "Sportlich"},
            {"life_domain": "work", "kind": "strength", "description": "Erfahrung Elektro"},
        ],
    )
    goal = cw.plan_goal_add(actor=actor, case=case, life_domain="work", title="Ausbildung")
    cw.plan_step_add(actor=actor, goal=goal, title="Bewerbung", responsible_is_client=True)
    cw.appointment_create(
        actor=actor,
        case=case,
        purpose="Beratung",
        starts_at=timezone.now() + dt.timedelta(days=2),
        outcome="Unterlagen mitgebracht",
    )
    cw.followup_create(
        actor=actor, case=case, title="Nachfassen", due_on=timezone.localdate() + dt.timedelta(1)
    )
    data = _json(as_member(actor), case.pk)
    cats = data["categories"]
    notes = cats["notes"]["tables"]["notes"]
    assert [n["text"] for n in notes] == ["Termin beim Amt verschoben"]
    sensitive = cats["health"]["tables"]["sensitive_notes"]
    assert [(n["text"], n["special_category"]) for n in sensitive] == [("Diabetes, Insulin", True)]
    assert [i["description"] for i in cats["health"]["tables"]["assessment_items"]] == ["Sportlich"]
    assert [i["description"] for i in cats["work"]["tables"]["assessment_items"]] == [
        "Erfahrung Elektro"
    ]
    assert [g["title"] for g in cats["work"]["tables"]["plan_goals"]] == ["Ausbildung"]
    assert [s["title"] for s in cats["work"]["tables"]["plan_steps"]] == ["Bewerbung"]
    assert cats["plan"]["tables"]["assessments"][0]["summary"] == "Motiviert"
    appointment = cats["plan"]["tables"]["appointments"][0]
    assert appointment["outcome"] == "Unterlagen mitgebracht"
    assert appointment["organisation"] == "KI Lotsenstadt"
    assert cats["plan"]["tables"]["followups"][0]["title"] == "Nachfassen"
    # No referral or participation yet: the tables are there, empty.
    assert cats["participations"]["tables"] == {
        "referrals": [],
        "referral_steps": [],
        "participations": [],
        "career_flags": [],
    }
    sources = {s["record"].split(" ")[0] for s in data["sources"]}
    assert len(sources) >= 5
    note_sources = [s for s in data["sources"] if s["organisation"] and s["recorded_by"]]
    assert any(s["recorded_by"] == str(actor.user) for s in note_sources)


def test_cases_of_other_organisations_stay_out(world, as_member):
    """The report answers for the requesting organisation: another organisation's case
    of the same person (not shared with it) and that case's notes stay out."""
    from lotse.casework import services

    from .factories import CaseFactory

    second = CaseFactory(
        person=world.case.person,
        lead_organisation=world.other,
        case_manager=world.outsider.user,
    )
    services.note_create(
        actor=world.outsider, case=second, text="Interner ABH-Vermerk", visibility="case_team"
    )
    data = _json(as_member(world.case_manager), world.case.pk)
    leads = {
        c["id"]: c["lead_organisation"] for c in data["categories"]["master"]["tables"]["cases"]
    }
    assert leads == {world.case.pk: "KI Lotsenstadt"}
    assert "Interner ABH-Vermerk" not in str(data)


def test_agreements_and_break_glass_per_recipient(world, as_member):
    SharingAgreement.objects.create(
        name="§ 69 SGB X",
        receiver_type="jobcenter",
        categories=["benefits"],
        purposes=["casework"],
        legal_basis="§ 69 Abs. 1 Nr. 1 SGB X",
        valid_from=dt.date(2024, 1, 1),
    )
    SharingAgreement.objects.create(
        name="Unrelated",
        receiver_type="schule",
        categories=["education"],
        purposes=["casework"],
        legal_basis="SchulG",
        valid_from=dt.date(2024, 1, 1),
    )
    BreakGlassAccess.objects.create(
        case=world.case,
        user=world.partner_staff.user,
        organisation=world.partner,
        reason="Person im Krankenhaus, Rückfrage dringend",
        expires_at=timezone.now() + dt.timedelta(hours=4),
    )
    data = _json(as_member(world.case_manager), world.case.pk)
    partner = next(r for r in data["recipients"] if r["organisation"] == "Jobcenter Lotsenstadt")
    assert [a["name"] for a in partner["sharing_agreements"]] == ["§ 69 SGB X"]
    assert partner["sharing_agreements"][0]["categories"] == ["benefits"]
    assert partner["break_glass"][0]["reason"].startswith("Person im Krankenhaus")
    assert all("Unrelated" not in json.dumps(r) for r in data["recipients"])


def test_change_history_and_retention_runs_are_included(world, as_member):
    with set_actor(world.case_manager.user):
        person_update(actor=world.case_manager, person=world.case.person, family_name="Hadad")
    DeletionRecord.objects.create(
        performed_at=timezone.now(),
        as_of=timezone.localdate(),
        person_id=world.case.person_id,
        policy="closed_case_documents",
        period_days=1095,
        counts={"documents": 2},
        run_by="cli",
    )
    data = _json(as_member(world.case_manager), world.case.pk)
    changes = [h for h in data["change_history"] if "family_name" in h["changes"]]
    assert changes and changes[0]["changes"]["family_name"] == ["Haddad", "Hadad"]
    assert changes[0]["actor"] == str(world.case_manager.user)
    assert any("Haddad → Hadad" in line for line in changes[0]["changed_fields"])
    assert data["retention_runs"][0]["counts"] == ["documents: 2"]


def test_change_history_names_the_acting_organisation(world, as_member):
    client = as_member(world.case_manager)
    followup = cw.followup_create(
        actor=world.case_manager, case=world.case, title="WV", due_on=timezone.localdate()
    )
    url = reverse("casework:followup_done", args=[world.case.pk, followup.pk])
    assert client.post(url).status_code in (200, 302)
    data = _json(client, world.case.pk)
    done = [h for h in data["change_history"] if "done_at" in h["changes"]]
    assert done and done[0]["organisation"] == "KI Lotsenstadt"
    assert done[0]["actor"] == str(world.case_manager.user)


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_queries_do_not_grow_with_the_data(world, as_member):
    client = as_member(world.case_manager)
    urls = _urls(world.case.pk)
    staff = _provider(world)
    with set_actor(world.case_manager.user):
        _grow(world, 1)
        _refer(world, staff, 1)
    small = [_count(client, url) for url in urls]
    with set_actor(world.case_manager.user):
        _grow(world, 5, start=1)
        _refer(world, staff, 4, start=1)
    ConsentFactory(
        person=world.case.person,
        recorded_by=world.case_manager.user,
        recorded_for=world.lead,
        receivers=[world.partner, world.other],
    )
    large = [_count(client, url) for url in urls]
    assert large == small
    assert max(small) <= 45
    # The referrals are in it: each with its steps and participation.
    tables = _json(client, world.case.pk)["categories"]["participations"]["tables"]
    assert len(tables["referrals"]) == len(tables["participations"]) == 5
    assert len(tables["referral_steps"]) == 5 * 5


def test_case_page_links_the_report_for_the_lead_only(world, client):
    url = reverse("privacy:art15", args=[world.case.pk])
    login(client, world.case_manager)
    assert url in client.get(reverse("casework:detail", args=[world.case.pk])).content.decode()
    login(client, world.partner_staff)
    assert url not in client.get(reverse("casework:detail", args=[world.case.pk])).content.decode()


def test_report_lists_the_facts_for_the_eligibility_check(world, as_member):
    """The facts record of #4 is residence data of the person: the report shows each
    fact, the empty ones as not known (null)."""
    from lotse.eligibility.models import FLAG_FIELDS, PersonFacts

    PersonFacts.objects.create(
        person=world.case.person, identity_clarified=True, employed_since=dt.date(2025, 1, 15)
    )
    client = as_member(world.case_manager)
    data = json.loads(client.get(reverse("privacy:art15_json", args=[world.case.pk])).content)
    rows = data["categories"]["residence"]["tables"]["eligibility_facts"]
    assert len(rows) == len(FLAG_FIELDS)
    values = {r["fact"]: r["value"] for r in rows}
    label = str(PersonFacts._meta.get_field("employed_since").verbose_name)
    assert values[label] == "2025-01-15"
    assert sum(v is None for v in values.values()) == len(FLAG_FIELDS) - 2
