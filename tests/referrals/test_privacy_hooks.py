"""Referrals and participations in the Art. 15 report and in retention, through the
registration in privacy (privacy itself does not import referrals, DESIGN §4).

Retention of persons with referrals and participations runs in tests/test_retention.py
(the town fixture refers Anna); the query count of the report with referrals is in
tests/test_art15.py."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import lotse.privacy
from lotse.core.models import NeedType
from lotse.core.roles import Role
from lotse.privacy import art15, retention
from lotse.privacy.models import SharingAgreement
from lotse.referrals import privacy_hooks, services
from lotse.referrals.careers_services import career_flag_resolve
from lotse.referrals.models import CareerFlag, Participation, Referral

from ..conftest import login
from ..factories import CaseFactory, ConsentFactory, MembershipFactory, TeamMemberFactory
from .conftest import record_aborted

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate
REASON = "Braucht Deutsch B1 für die Ausbildung."


def _json(client: Client, case_pk: int) -> dict:
    response = client.get(reverse("privacy:art15_json", args=[case_pk]))
    assert response.status_code == 200
    return json.loads(response.content)


def _aborted(world, provider) -> tuple[Referral, Participation]:
    """A referral of world.case to the provider's course: sent, accepted, started a month
    ago, aborted today."""
    r = services.referral_create(
        actor=world.case_manager,
        case=world.case,
        offer=provider.offer,
        reason=REASON,
        need_types=[NeedType.objects.get(code="deutsch_b1")],
        send=True,
    )
    r = services.referral_accept(actor=provider.staff, referral=r, note="Platz ab Montag")
    p = services.participation_start(
        actor=provider.staff, referral=r, started_on=TODAY() - dt.timedelta(days=30)
    )
    p = services.participation_end(
        actor=provider.colleague,
        participation=p,
        ended_on=TODAY(),
        outcome="aborted",
        abort_reason="health",
        outcome_note="Lange krank",
        attendance_percent=45,
        attendance_note="Fehlte oft",
    )
    r.refresh_from_db()
    return r, p


def _participations(data: dict) -> dict:
    return data["categories"]["participations"]["tables"]


def test_report_lists_referrals_steps_and_participations(world, provider, client):
    r, p = _aborted(world, provider)
    data = _json(login(client, world.case_manager), world.case.pk)
    tables = _participations(data)

    [row] = tables["referrals"]
    assert row["id"] == r.pk and row["case"] == world.case.pk
    assert row["sent_at"] and row["created_by"] == str(world.case_manager.user)
    assert (row["offer"], row["receiver"], row["sender"]) == (
        "Deutsch B1 am Vormittag",
        "Bildungswerk Lotsenstadt",
        "KI Lotsenstadt",
    )
    assert row["status"] == "aborted" and row["reason"] == REASON
    assert row["needs"] == [NeedType.objects.get(code="deutsch_b1").name]
    assert row["shared_categories"] == ["master", "education"]
    assert row["sharing_basis"] == "consent" and row["consent"] == provider.consent.pk
    assert (row["override_reason"], row["exclusion_reasons"]) == ("", [])
    assert row["decided_at"] and row["closed_at"]

    steps = tables["referral_steps"]
    assert [s["status"] for s in steps] == ["proposed", "sent", "accepted", "started", "aborted"]
    assert [s["organisation"] for s in steps] == ["KI Lotsenstadt"] * 2 + [
        "Bildungswerk Lotsenstadt"
    ] * 3
    assert steps[2]["by"] == str(provider.staff.user) and steps[2]["note"] == "Platz ab Montag"
    assert steps[4]["by"] == str(provider.colleague.user) and "Lange krank" in steps[4]["note"]
    assert all(s["referral"] == r.pk and s["at"] for s in steps)

    [part] = tables["participations"]
    assert (part["id"], part["referral"], part["case"]) == (p.pk, r.pk, world.case.pk)
    assert (part["offer"], part["provider"]) == (
        "Deutsch B1 am Vormittag",
        "Bildungswerk Lotsenstadt",
    )
    assert part["category"] == str(p.get_category_display())
    assert part["started_on"] == (TODAY() - dt.timedelta(days=30)).isoformat()
    assert part["ended_on"] == TODAY().isoformat()
    assert (part["attendance_percent"], part["attendance_note"]) == (45, "Fehlte oft")
    assert (part["outcome"], part["abort_reason"]) == ("aborted", "illness")
    assert (part["outcome_note"], part["level_reached"]) == ("Lange krank", "")
    assert part["recorded_by"] == "Bildungswerk Lotsenstadt"
    assert part["created_by"] == str(provider.staff.user)

    sources = {s["record"]: s for s in data["sources"]}
    assert sources[f"referral #{r.pk}"]["organisation"] == "KI Lotsenstadt"
    assert sources[f"participation #{p.pk}"]["organisation"] == "Bildungswerk Lotsenstadt"


def test_receiver_is_a_recipient_with_its_accesses(world, provider, client):
    """Art. 15 (1) (c) GDPR: the organisation a referral went to, when, what and why;
    and its own accesses to the data, which it received through the lead's case."""
    r, _p = _aborted(world, provider)
    data = _json(login(client, world.case_manager), world.case.pk)
    recipients = {x["organisation"]: x for x in data["recipients"]}
    bw = recipients["Bildungswerk Lotsenstadt"]
    [line] = [rel for rel in bw["relations"] if rel.startswith("received referral")]
    assert line.startswith(f"received referral {r.pk} on ")
    assert line.endswith(": categories master data, education, basis consent")
    assert bw["accesses"]["count"] > 0
    assert "participations" in bw["accesses"]["categories"]
    assert {a["organisation"] for a in data["accesses"]} >= {
        "KI Lotsenstadt",
        "Bildungswerk Lotsenstadt",
    }
    disclosed = [a for a in data["accesses"] if a["object"] == f"referral {r.pk}"]
    assert any(
        a["action"] == "disclose" and a["organisation"] == "KI Lotsenstadt" for a in disclosed
    )


def test_receiver_on_an_agreement_is_a_recipient_with_its_accesses(world, provider, client):
    """Sent on a cooperation agreement instead of a consent: no consent names the
    provider, still it is a recipient and its accesses are listed."""
    provider.consent.delete()
    SharingAgreement.objects.create(
        name="Kooperationsvertrag Sprachkurse",
        receiver_organisation=provider.org,
        categories=["master", "education"],
        purposes=["referral"],
        legal_basis="Kooperationsvertrag § 3",
        valid_from=dt.date(2024, 1, 1),
    )
    r, _p = _aborted(world, provider)
    assert r.sharing_basis == "agreement"
    data = _json(login(client, world.case_manager), world.case.pk)
    bw = next(x for x in data["recipients"] if x["organisation"] == "Bildungswerk Lotsenstadt")
    assert bw["consents"] == []
    assert any(
        rel.startswith(f"received referral {r.pk} on ")
        and rel.endswith("basis agreement / legal basis")
        for rel in bw["relations"]
    )
    assert bw["accesses"]["count"] > 0
    assert any(a["organisation"] == "Bildungswerk Lotsenstadt" for a in data["accesses"])


def test_the_page_shows_them(world, provider, client):
    r, _p = _aborted(world, provider)
    login(client, world.case_manager)
    page = client.get(reverse("privacy:art15", args=[world.case.pk])).content.decode()
    assert "Referrals to offers and organisations" in page
    assert "Participations in offers" in page and "Steps of the referrals" in page
    assert REASON in page and "Fehlte oft" in page and "Platz ab Montag" in page
    assert f"received referral {r.pk} on" in page
    assert "lotse stores no data of this category" not in page


def test_an_other_organisations_case_shows_them_only_where_participations_are_shared(
    world, provider, client
):
    """The Jobcenter leads a second case of the person with the KI on its team; the
    person's consent shares master data only: the KI's report lists that case, not its
    referrals and participations — until the consent covers participations."""
    jc_cm = MembershipFactory(organisation=world.partner, role=Role.CASE_MANAGER)
    jc_case = CaseFactory(
        person=world.case.person, lead_organisation=world.partner, case_manager=jc_cm.user
    )
    TeamMemberFactory(case=jc_case, user=world.case_manager.user, organisation=world.lead)
    consent = ConsentFactory(
        person=world.case.person,
        recorded_by=jc_cm.user,
        recorded_for=world.partner,
        receivers=[world.lead],
        categories=["master"],
    )
    jc_referral = services.referral_create(
        actor=jc_cm, case=jc_case, offer=provider.offer, reason="Vermittlung aus dem Jobcenter"
    )
    jc_participation = services.participation_record(
        actor=jc_cm,
        case=jc_case,
        title="Arbeitsgelegenheit Stadtgrün",
        category="arbeit",
        started_on=TODAY() - dt.timedelta(days=10),
    )
    own, _p = _aborted(world, provider)
    client = login(client, world.case_manager)

    data = _json(client, world.case.pk)
    cases = {c["id"] for c in data["categories"]["master"]["tables"]["cases"]}
    assert cases == {world.case.pk, jc_case.pk}
    tables = _participations(data)
    assert [x["id"] for x in tables["referrals"]] == [own.pk]
    assert {s["referral"] for s in tables["referral_steps"]} == {own.pk}
    assert jc_participation.pk not in {x["id"] for x in tables["participations"]}
    assert "Vermittlung aus dem Jobcenter" not in json.dumps(data)
    assert "Arbeitsgelegenheit" not in json.dumps(data)

    consent.categories = ["master", "participations"]
    consent.save()
    tables = _participations(_json(client, world.case.pk))
    assert {x["id"] for x in tables["referrals"]} == {own.pk, jc_referral.pk}
    assert jc_participation.pk in {x["id"] for x in tables["participations"]}


def test_a_referral_received_from_an_other_organisations_case_is_included(world, provider, client):
    """The KI received a referral of the person from the Ausländerbehörde's case (which
    it does not see otherwise): it answers for that copy. That case's unsent referral
    and its own participations stay out."""
    abh_case = CaseFactory(
        person=world.case.person, lead_organisation=world.other, case_manager=world.outsider.user
    )
    ConsentFactory(
        person=world.case.person,
        purpose="referral",
        categories=["master"],
        recorded_by=world.outsider.user,
        recorded_for=world.other,
        receivers=[world.lead],
    )
    received = services.referral_create(
        actor=world.outsider,
        case=abh_case,
        receiver=world.lead,
        reason="Bitte Beratung übernehmen",
        send=True,
    )
    services.referral_create(
        actor=world.outsider, case=abh_case, offer=provider.offer, reason="ABH intern"
    )
    services.participation_record(
        actor=world.outsider,
        case=abh_case,
        title="Kurs der ABH",
        category="beratung",
        started_on=TODAY() - dt.timedelta(days=3),
    )
    data = _json(login(client, world.case_manager), world.case.pk)
    cases = {c["id"] for c in data["categories"]["master"]["tables"]["cases"]}
    assert cases == {world.case.pk}
    tables = _participations(data)
    [row] = tables["referrals"]
    assert (row["id"], row["reason"], row["sender"]) == (
        received.pk,
        "Bitte Beratung übernehmen",
        "Ausländerbehörde",
    )
    assert {s["referral"] for s in tables["referral_steps"]} == {received.pk}
    assert tables["participations"] == []
    assert "ABH intern" not in json.dumps(data) and "Kurs der ABH" not in json.dumps(data)


def test_registration_is_idempotent_and_refuses_clashes():
    privacy_hooks.register()  # ready() registered already
    assert art15._REGISTERED_SECTIONS["participations"] == [privacy_hooks.art15_tables]
    assert art15._RECIPIENT_SOURCES.count(privacy_hooks.art15_recipients) == 1
    assert art15._SOURCE_ROWS.count(privacy_hooks.art15_sources) == 1
    keys = [s.key for s in retention.anonymise_steps()]
    assert len(keys) == len(set(keys))
    # Before the person's own row, which is coarsened last.
    assert keys[-5:] == [
        "referrals",
        "referral_steps",
        "participations",
        "career_flags",
        "person",
    ]
    with pytest.raises(ValueError):
        retention.register_anonymise_step(
            retention.AnonymiseStep("referrals", lambda pid: Referral.objects.none(), len)
        )
    with pytest.raises(ValueError):
        art15.register_data(privacy_hooks.KEY, load=lambda pid: None, restrict=lambda d, s: d)
    with pytest.raises(ValueError):
        art15.register_section_builder("no-such-category", privacy_hooks.art15_tables)
    assert [s.key for s in retention.anonymise_steps()] == keys


def test_privacy_does_not_import_referrals():
    """DESIGN §4: referrals → privacy, never the other way round."""
    root = Path(lotse.privacy.__file__).parent
    pattern = re.compile(r"^\s*(from|import)\s+(lotse\.referrals|\.\.referrals)", re.MULTILINE)
    offending = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offending == []


def test_report_lists_the_measure_career_flags_and_retention_blanks_the_note(world, client):
    for days in (300, 200):
        record_aborted(world.case_manager, world.case, days)
    flag = CareerFlag.objects.get(rule="dropout_chain")
    career_flag_resolve(actor=world.case_manager, flag=flag, note="Praktikum vereinbart")
    rows = {
        r["id"]: r
        for r in _participations(_json(login(client, world.case_manager), world.case.pk))[
            "career_flags"
        ]
    }
    row = rows[flag.pk]
    assert row["rule"] == "Chain of drop-outs" and row["case"] == world.case.pk
    assert "aborted in a row" in row["reason"] and row["resolution_note"] == "Praktikum vereinbart"
    assert row["state"].startswith("resolved on")
    assert CareerFlag.objects.filter(person=world.case.person).count() == len(rows)
    step = next(s for s in retention.anonymise_steps() if s.key == "career_flags")
    assert step.apply(step.queryset(world.case.person_id)) == len(rows)
    flag.refresh_from_db()
    assert flag.resolution_note == "" and flag.rule == "dropout_chain"
