"""Referrals and participations over the API: the whole path from the case manager to a
provider of another organisation and back, invalid input (422 per field, nothing
written), the consent for the purpose referral, scope (404) and roles (403), the access
log and the number of queries of the list."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lotse.core.models import AccessLogEntry
from lotse.core.roles import Role
from lotse.offers.models import Offer
from lotse.referrals.models import Participation, Referral, ReferralEvent

from ..factories import (
    CaseFactory,
    ConsentFactory,
    MembershipFactory,
    OfferFactory,
    OrganisationFactory,
)
from .conftest import LogWatch

TODAY = timezone.localdate
REASON = "Braucht Deutsch B1 für die Ausbildung."


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


def refer(api, world, provider, who: str = "case_manager", **body: Any) -> Any:
    data = {"offer_id": provider.offer.pk, "reason": REASON} | body
    return api.post(f"/cases/{world.case.pk}/referrals", who, data)


def sent(api, world, provider) -> int:
    response = refer(api, world, provider, send=True)
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "sent"
    return int(response.json()["id"])


def started(api, world, provider) -> tuple[int, int]:
    rid = sent(api, world, provider)
    assert api.post(f"/referrals/{rid}/accept", "provider").status_code == 200
    response = api.post(f"/referrals/{rid}/start", "provider", {"started_on": str(TODAY())})
    assert response.status_code == 201, response.content
    return rid, int(response.json()["id"])


def written() -> dict[str, Any]:
    """What a refused or invalid call must not change."""
    return {
        "referrals": list(
            Referral.objects.values_list("pk", "status", "sent_at", "updated_at", "reject_reason")
        ),
        "steps": ReferralEvent.objects.count(),
        "participations": list(
            Participation.objects.values_list(
                "pk", "ended_on", "outcome", "attendance_percent", "updated_at"
            )
        ),
        "occupied": list(Offer.objects.values_list("pk", "occupied")),
        "log": AccessLogEntry.objects.count(),
    }


# --- the whole path ----------------------------------------------------------------


def test_whole_path_from_the_case_manager_to_the_provider_and_back(
    provider_api, world, provider, log
):
    api = provider_api
    response = refer(api, world, provider)
    assert response.status_code == 201, response.content
    r = response.json()
    assert r["status"] == "proposed" and r["side"] == "sender"
    assert r["case_id"] == world.case.pk and r["offer_id"] == provider.offer.pk
    assert r["receiver"]["id"] == provider.org.pk and r["sender"]["id"] == world.lead.pk
    assert r["person"]["family_name"] == "Haddad" and r["reason"] == REASON
    rid = r["id"]
    # A proposal does not exist for the provider yet.
    assert api.get(f"/referrals/{rid}", "provider").status_code == 404
    assert api.get("/referrals?box=incoming", "provider").json()["count"] == 0

    response = api.post(f"/referrals/{rid}/send", "case_manager", {"note": "Bitte bald."})
    assert response.status_code == 200, response.content
    r = response.json()
    assert r["status"] == "sent" and r["sent_at"]
    assert r["sent_categories"] == ["education", "master"] and r["sharing_basis"] == "consent"
    assert r["receiver_snapshot"]["offer"] == "Deutsch B1 am Vormittag"
    assert r["sender_snapshot"]["organisation"] == "KI Lotsenstadt"

    inbox = api.get("/referrals?box=incoming", "provider").json()
    assert inbox["count"] == 1
    (item,) = inbox["items"]
    assert item["id"] == rid and item["side"] == "receiver"
    assert item["case_id"] is None  # the case is the lead organisation's
    assert item["offer_title"] == "Deutsch B1 am Vormittag"
    assert item["person"] == {
        "id": world.case.person_id,
        "family_name": "Haddad",
        "given_names": "Mohammed",
        "birth_date": world.case.person.birth_date.isoformat(),
    }
    assert item["shared_categories"] == ["education", "master"]

    detail = api.get(f"/referrals/{rid}", "provider").json()
    assert detail["side"] == "receiver" and detail["case_id"] is None
    assert [s["status"] for s in detail["steps"]] == ["proposed", "sent"]
    assert detail["steps"][1]["note"] == "Bitte bald."
    assert detail["steps"][1]["by_organisation"]["id"] == world.lead.pk
    assert detail["participation"] is None

    response = api.post(f"/referrals/{rid}/accept", "provider", {"note": ""})
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert response.json()["decided_at"]
    response = api.post(f"/referrals/{rid}/start", "provider", {"started_on": str(TODAY())})
    assert response.status_code == 201, response.content
    p = response.json()
    assert p["running"] and p["referral_id"] == rid and p["title"] == "Deutsch B1 am Vormittag"
    assert p["provider"]["id"] == provider.org.pk and p["recorded_by"]["id"] == provider.org.pk
    assert Offer.objects.get(pk=provider.offer.pk).occupied == 1

    response = api.post(
        f"/participations/{p['id']}/attendance",
        "provider_lead",
        {"attendance_percent": 92, "attendance_note": "regelmäßig"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["attendance_percent"] == 92
    response = api.post(
        f"/participations/{p['id']}/end",
        "provider",
        {"ended_on": str(TODAY()), "outcome": "completed_certificate", "level_reached": "B1"},
    )
    assert response.status_code == 200, response.content
    p = response.json()
    assert not p["running"] and p["outcome"] == "completed_certificate"
    assert p["level_reached"] == "B1" and p["attendance_percent"] == 92
    assert Offer.objects.get(pk=provider.offer.pk).occupied == 0

    # The case manager sees the outcome in the referral, the chain and the list.
    detail = api.get(f"/referrals/{rid}", "case_manager").json()
    assert detail["status"] == "completed" and detail["closed_at"]
    assert [s["status"] for s in detail["steps"]] == [
        "proposed",
        "sent",
        "accepted",
        "started",
        "completed",
    ]
    assert detail["participation"]["outcome"] == "completed_certificate"
    chain = api.get(f"/cases/{world.case.pk}/chain", "case_manager")
    assert chain.status_code == 200, chain.content
    entries = chain.json()["entries"]
    (entry,) = [e for e in entries if e["kind"] == "participation"]
    assert entry["participation_id"] == p["id"] and entry["referral_id"] == rid
    assert entry["status"] == "completed_certificate" and entry["until"] == str(TODAY())
    assert entry["detail"] == "Bildungswerk Lotsenstadt"
    # The referral is represented by its participation; the residence status is there.
    assert not [e for e in entries if e["kind"] == "referral"]
    assert "residence" in {e["kind"] for e in entries} and chain.json()["residence_shown"]
    listed = api.get(f"/cases/{world.case.pk}/participations", "case_manager").json()
    assert [x["id"] for x in listed] == [p["id"]]
    outbox = api.get("/referrals?box=outgoing", "case_manager").json()
    assert [(i["id"], i["case_id"], i["status"]) for i in outbox["items"]] == [
        (rid, world.case.pk, "completed")
    ]

    # Every step was logged by whoever took it, through the API.
    assert log.entries(action="disclose", purpose="referral", user=world.case_manager.user)
    assert log.entries(action="update", purpose="referral", user=provider.staff.user)
    assert log.entries(action="update", object_type="participation", user=provider.colleague.user)
    assert all(e.channel == "api" for e in log.entries())


def test_waitlist_reject_and_withdraw(provider_api, world, provider):
    api = provider_api
    rid = sent(api, world, provider)
    response = api.post(f"/referrals/{rid}/waitlist", "provider")
    assert response.status_code == 200 and response.json()["status"] == "waitlisted"
    assert response.json()["waitlisted_on"] == str(TODAY())
    response = api.post(f"/referrals/{rid}/reject", "provider", {"reject_reason": "no_place"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "rejected"
    assert response.json()["reject_reason"] == "no_place"
    assert response.json()["days_waited"] == 0
    # After the rejection, a new referral is possible and may be withdrawn.
    rid = sent(api, world, provider)
    response = api.post(f"/referrals/{rid}/withdraw", "case_manager", {"note": "erledigt"})
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"


def test_referral_to_an_organisation_and_an_earlier_participation(provider_api, world, provider):
    api = provider_api
    response = api.post(
        f"/cases/{world.case.pk}/referrals",
        "case_manager",
        {"receiver_id": provider.org.pk, "reason": "Beratung zur Ausbildung"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["offer_id"] is None and response.json()["title"]
    response = api.post(
        f"/cases/{world.case.pk}/participations",
        "case_manager",
        {
            "title": "Integrationskurs VHS",
            "category": "integrationskurs",
            "level": "A2",
            "started_on": "2024-03-01",
            "ended_on": "2024-11-30",
            "outcome": "completed",
            "level_reached": "A2",
        },
    )
    assert response.status_code == 201, response.content
    p = response.json()
    assert p["referral_id"] is None and p["recorded_by"]["id"] == world.lead.pk
    assert p["outcome"] == "completed" and not p["running"]
    chain = api.get(f"/cases/{world.case.pk}/chain", "case_manager").json()
    kinds = [(e["kind"], e["title"], e["detail"]) for e in chain["entries"]]
    assert ("participation", "Integrationskurs VHS", "") in kinds
    assert ("referral", "Bildungswerk Lotsenstadt", "Bildungswerk Lotsenstadt") in kinds
    # The lead organisation records on its own participation; the provider may not.
    response = api.post(
        f"/participations/{p['id']}/attendance", "case_manager", {"attendance_percent": 70}
    )
    assert response.status_code == 200, response.content
    assert (
        api.post(
            f"/participations/{p['id']}/attendance", "provider", {"attendance_percent": 10}
        ).status_code
        == 404
    )


# --- invalid input: 422 per field, nothing written ----------------------------------


def test_duplicate_referral(api, world, provider):
    assert refer(api, world, provider).status_code == 201
    before = written()
    response = refer(api, world, provider)
    assert response.status_code == 422
    assert "already an open referral" in response.json()["errors"]["offer_id"][0]
    assert written() == before


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"reason": None}, "reason", "required"),
        ({"reason": "   "}, "reason", "Say why"),
        ({"offer_id": 999999}, "offer_id", "Unknown offer"),
        ({"need_type_ids": [999999]}, "need_type_ids", "Unknown need type"),
        ({"offer_id": None}, "offer_id", "Choose an offer"),
        ({"colour": "red"}, "colour", "Unknown field"),
    ],
)
def test_bad_referral_input(api, world, provider, body, field, message):
    data = {"offer_id": provider.offer.pk, "reason": REASON} | body
    data = {k: v for k, v in data.items() if not (k == "reason" and v is None)}
    before = written()
    response = api.post(f"/cases/{world.case.pk}/referrals", "case_manager", data)
    assert response.status_code == 422, response.content
    assert message in response.json()["errors"][field][0]
    assert written() == before


def test_excluded_offer_needs_an_override_reason(api, world, provider):
    course = OfferFactory(provider=provider.org, statuses=["ae_25_2_gfk"], title="Nur GFK")
    before = written()
    response = refer(api, world, provider, offer_id=course.pk)
    assert response.status_code == 422
    assert "excluded" in response.json()["errors"]["override_reason"][0]
    assert written() == before
    response = refer(api, world, provider, offer_id=course.pk, override_reason="Einzelfall")
    assert response.status_code == 201, response.content
    assert response.json()["override_reason"] == "Einzelfall"
    assert response.json()["exclusion_reasons"]


def test_end_before_start_and_other_bad_steps(provider_api, world, provider):
    api = provider_api
    rid, pid = started(api, world, provider)
    before = written()
    response = api.post(
        f"/participations/{pid}/end",
        "provider",
        {"ended_on": str(TODAY() - dt.timedelta(days=3)), "outcome": "aborted"},
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert "before it started" in errors["ended_on"][0] and "abort_reason" in errors
    for path, body, field in [
        (f"/participations/{pid}/end", {"ended_on": "2025-13-01", "outcome": "completed"}, None),
        (f"/participations/{pid}/end", {"ended_on": str(TODAY()), "outcome": "x"}, "outcome"),
        (f"/participations/{pid}/attendance", {"attendance_percent": 101}, None),
        (f"/referrals/{rid}/accept", {}, "status"),  # started: cannot be accepted again
        (f"/referrals/{rid}/reject", {"reject_reason": "weather"}, "reject_reason"),
        (f"/referrals/{rid}/start", {"started_on": str(TODAY())}, "status"),
    ]:
        response = api.post(path, "provider", body)
        assert response.status_code == 422, (path, body, response.content)
        if field:
            assert field in response.json()["errors"], (path, response.json())
    assert written() == before


def test_start_in_the_future_and_reject_without_reason(provider_api, world, provider):
    api = provider_api
    rid = sent(api, world, provider)
    before = written()
    response = api.post(f"/referrals/{rid}/reject", "provider", {"reject_reason": "other"})
    assert response.status_code == 422 and "note" in response.json()["errors"]
    response = api.post(f"/referrals/{rid}/reject", "provider", {})
    assert response.status_code == 422 and "reject_reason" in response.json()["errors"]
    assert written() == before
    tomorrow = str(TODAY() + dt.timedelta(days=1))
    api.post(f"/referrals/{rid}/accept", "provider")
    before = written()
    response = api.post(f"/referrals/{rid}/start", "provider", {"started_on": tomorrow})
    assert response.status_code == 422 and "future" in response.json()["errors"]["started_on"][0]
    assert written() == before


# --- the consent for the purpose referral -------------------------------------------


def test_no_consent_for_referrals_nothing_is_sent(api, world, provider, log):
    provider.consent.withdrawn_at = timezone.now()
    provider.consent.save()
    rid = refer(api, world, provider).json()["id"]
    second = OfferFactory(provider=provider.org)
    before = written()
    response = api.post(f"/referrals/{rid}/send", "case_manager")
    assert response.status_code == 422
    assert "no valid consent" in response.json()["errors"]["__all__"][0]
    assert written() == before
    r = Referral.objects.get(pk=rid)
    assert r.status == "proposed" and r.sent_at is None and r.shared_categories == []
    # Sending at once: the referral is not even saved.
    response = refer(api, world, provider, offer_id=second.pk, send=True)
    assert response.status_code == 422
    assert written() == before
    assert not log.entries(action="disclose")


def test_consent_withdrawn_after_sending_hides_the_person_from_the_provider(
    provider_api, world, provider
):
    api = provider_api
    rid = sent(api, world, provider)
    provider.consent.withdrawn_at = timezone.now()
    provider.consent.save()
    watch = LogWatch()
    detail = api.get(f"/referrals/{rid}", "provider")
    assert detail.status_code == 200  # the referral itself was sent to the provider
    assert detail.json()["person"] is None and detail.json()["shared_categories"] == []
    assert detail.json()["sent_categories"] == ["education", "master"]  # as it was then
    (item,) = api.get("/referrals?box=incoming", "provider").json()["items"]
    assert item["id"] == rid and item["person"] is None
    # Reading the referral is logged all the same, for the purpose referral.
    entries = watch.entries(user=provider.staff.user)
    assert {e.action for e in entries} == {"read", "list"}
    assert {e.purpose for e in entries} == {"referral"}
    assert all("master" not in e.categories for e in entries if e.action == "read")
    # The sender still sees everything.
    assert api.get(f"/referrals/{rid}", "case_manager").json()["person"] is not None


# --- scope and roles ------------------------------------------------------------------


def _all_calls(world, rid: int, pid: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    case = world.case.pk
    today = str(TODAY())
    return [
        ("get", f"/referrals/{rid}", None),
        ("post", f"/referrals/{rid}/send", {}),
        ("post", f"/referrals/{rid}/withdraw", {}),
        ("post", f"/referrals/{rid}/accept", {}),
        ("post", f"/referrals/{rid}/waitlist", {}),
        ("post", f"/referrals/{rid}/reject", {"reject_reason": "no_place"}),
        ("post", f"/referrals/{rid}/start", {"started_on": today}),
        ("post", f"/participations/{pid}/attendance", {"attendance_percent": 50}),
        ("post", f"/participations/{pid}/end", {"ended_on": today, "outcome": "completed"}),
        ("get", f"/cases/{case}/chain", None),
        ("get", f"/cases/{case}/participations", None),
        ("post", f"/cases/{case}/referrals", {"receiver_id": world.other.pk, "reason": "x"}),
        (
            "post",
            f"/cases/{case}/participations",
            {"title": "Kurs", "category": "sprachkurs", "started_on": "2024-01-01"},
        ),
    ]


def _call(api, method: str, path: str, who: str, body: Any) -> Any:
    if method == "get":
        return api.get(path, who)
    return api.post(path, who, body)


@pytest.fixture
def strangers(provider_api, world):
    """The outsider (a case manager of the Ausländerbehörde) and a second provider's
    team lead and staff: none of them sees the world's case or its referrals."""
    other = OrganisationFactory(name="Sprachschule", short_name="SPS", org_type="bildungstraeger")
    for name, role in (("other_lead", Role.TEAM_LEAD), ("other_staff", Role.PARTNER_STAFF)):
        from lotse.api.services import token_create

        _token, plain = token_create(membership=MembershipFactory(organisation=other, role=role))
        provider_api.tokens[name] = plain
    return provider_api


def test_who_does_not_see_the_referral_gets_404_everywhere(strangers, world, provider):
    api = strangers
    rid, pid = started(api, world, provider)
    before = written()
    for who in ("outsider", "other_lead", "other_staff"):
        for method, path, body in _all_calls(world, rid, pid):
            response = _call(api, method, path, who, body)
            expected = 404
            if who == "other_staff" and path.startswith("/cases/") and method == "post":
                expected = 403  # recording on a case needs a right partner staff lack
            assert response.status_code == expected, (who, method, path, response.content)
            assert response.json()["detail"]
    assert api.get("/referrals?box=incoming", "other_lead").json()["count"] == 0
    assert api.get("/referrals?box=outgoing", "outsider").json()["count"] == 0
    assert written() == before


@pytest.mark.parametrize("who", ["coordinator", "analyst", "org_admin"])
def test_roles_without_casework_get_403_everywhere(provider_api, world, provider, who):
    api = provider_api
    rid, pid = started(api, world, provider)
    before = written()
    calls = [
        *_all_calls(world, rid, pid),
        ("get", "/referrals?box=incoming", None),
        ("get", "/referrals?box=outgoing", None),
    ]
    for method, path, body in calls:
        response = _call(api, method, path, who, body)
        assert response.status_code == 403, (who, method, path, response.content)
    assert written() == before


def test_each_side_takes_only_its_own_steps(provider_api, world, provider):
    api = provider_api
    rid = sent(api, world, provider)
    before = written()
    for who in ("case_manager", "partner_staff"):  # sender; case team (sees the referral)
        for step in ("accept", "waitlist", "start"):
            body = {"started_on": str(TODAY())} if step == "start" else {}
            response = api.post(f"/referrals/{rid}/{step}", who, body)
            assert response.status_code == 403, (who, step, response.content)
    for step in ("send", "withdraw"):
        response = api.post(f"/referrals/{rid}/{step}", "provider")
        assert response.status_code == 403, (step, response.content)
        assert "leads the case" in response.json()["detail"]
        # Partner staff on the case team may see it, but not act for the lead.
        assert api.post(f"/referrals/{rid}/{step}", "partner_staff").status_code == 403
    # The provider does not see the case.
    assert api.get(f"/cases/{world.case.pk}/chain", "provider").status_code == 404
    assert written() == before


def test_case_team_sees_referrals_only_with_participations_shared(provider_api, world, provider):
    api = provider_api
    rid = sent(api, world, provider)
    response = api.get(f"/referrals/{rid}", "partner_staff")
    assert response.status_code == 200 and response.json()["side"] == "team"
    assert response.json()["case_id"] == world.case.pk
    assert api.get(f"/cases/{world.case.pk}/chain", "partner_staff").status_code == 200
    world.consent.categories = ["education", "work"]
    world.consent.save()
    before = written()
    for path in (f"/referrals/{rid}", f"/cases/{world.case.pk}/chain"):
        response = api.get(path, "partner_staff")
        assert response.status_code == 403, (path, response.content)
    assert api.get(f"/cases/{world.case.pk}/participations", "partner_staff").status_code == 403
    assert written() == before
    world.consent.withdrawn_at = timezone.now()
    world.consent.save()
    assert api.get(f"/referrals/{rid}", "partner_staff").status_code == 404


def test_a_proposal_withdrawn_before_sending_never_reaches_the_receiver(
    provider_api, world, provider
):
    api = provider_api
    rid = refer(api, world, provider).json()["id"]
    assert api.post(f"/referrals/{rid}/withdraw", "case_manager").status_code == 200
    assert api.get("/referrals?box=incoming", "provider").json()["count"] == 0
    assert api.get(f"/referrals/{rid}", "provider").status_code == 404


def test_list_boxes(provider_api, world, provider):
    api = provider_api
    rid = sent(api, world, provider)
    proposal = refer(api, world, provider, offer_id=OfferFactory(provider=provider.org).pk)
    outbox = api.get("/referrals?box=outgoing", "case_manager").json()
    assert {i["id"] for i in outbox["items"]} == {rid, proposal.json()["id"]}
    assert api.get("/referrals?box=outgoing&status=sent", "case_manager").json()["count"] == 1
    assert api.get("/referrals?box=outgoing&open=true", "case_manager").json()["count"] == 2
    # The lead organisation receives nothing; the provider leads no case.
    assert api.get("/referrals?box=incoming", "case_manager").json()["count"] == 0
    assert api.get("/referrals?box=outgoing", "provider").json()["count"] == 0
    assert api.get("/referrals", "provider").json()["count"] == 1  # incoming by default
    response = api.get("/referrals?box=sideways", "provider")
    assert response.status_code == 422 and "box" in response.json()["errors"]


# --- the access log -----------------------------------------------------------------------


def test_reads_are_logged_with_side_and_purpose(provider_api, world, provider):
    api = provider_api
    rid = sent(api, world, provider)
    watch = LogWatch()
    api.get(f"/referrals/{rid}", "provider")
    api.get("/referrals?box=incoming", "provider")
    entries = watch.entries(user=provider.staff.user)
    assert {(e.action, e.purpose, e.basis) for e in entries} == {
        ("read", "referral", "consent"),
        ("list", "referral", "consent"),
    }
    assert all(e.person_id == world.case.person_id and e.channel == "api" for e in entries)
    assert any("master" in e.categories for e in entries if e.action == "read")
    watch = LogWatch()
    api.get(f"/referrals/{rid}", "case_manager")
    api.get(f"/cases/{world.case.pk}/chain", "case_manager")
    api.get(f"/cases/{world.case.pk}/participations", "case_manager")
    entries = watch.entries(user=world.case_manager.user)
    assert {(e.action, e.purpose, e.basis) for e in entries} == {
        ("read", "casework", "lead_organisation")
    }
    assert {e.object_type for e in entries} == {"referral", "chain"}
    # The participations list logs that category only, not the chain's timelines.
    assert entries[-1].categories == ["participations"]


# --- queries ------------------------------------------------------------------------------


def _more_referrals(world, provider, n: int) -> None:
    """n sent referrals of further cases of the lead organisation to the provider, every
    other one with the person's consent for referrals."""
    now = timezone.now()
    for i in range(n):
        case = CaseFactory(lead_organisation=world.lead, case_manager=world.case_manager.user)
        if i % 2 == 0:
            ConsentFactory(
                person=case.person,
                purpose="referral",
                categories=["master"],
                recorded_by=world.case_manager.user,
                recorded_for=world.lead,
                receivers=[provider.org],
            )
        Referral.objects.create(
            case=case,
            person_id=case.person_id,
            offer=provider.offer,
            receiver=provider.org,
            sender=world.lead,
            status="sent",
            reason=REASON,
            created_by=world.case_manager.user,
            sent_at=now,
            shared_categories=["master"],
            sharing_basis="consent",
            receiver_snapshot={"organisation": provider.org.name, "offer": provider.offer.title},
        )


@pytest.mark.parametrize(("who", "box"), [("provider", "incoming"), ("case_manager", "outgoing")])
def test_list_queries_do_not_grow_with_the_rows(
    provider_api, world, provider, django_assert_max_num_queries, who, box
):
    api = provider_api
    url = f"/referrals?box={box}"
    _more_referrals(world, provider, 3)
    api.get(url, who)  # the token's first use is recorded once
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(url, who)
    assert response.status_code == 200 and response.json()["count"] == 3
    small = len(ctx.captured_queries)
    _more_referrals(world, provider, 9)
    with django_assert_max_num_queries(small):
        response = api.get(url, who)
    assert response.json()["count"] == 12
    shown = [i["person"] is not None for i in response.json()["items"]]
    # The provider sees the persons whose consent covers it: 2 of 3, then 5 of 9 more.
    assert all(shown) if box == "outgoing" else sum(shown) == 7
