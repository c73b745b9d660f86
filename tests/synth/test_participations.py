"""Referral and participation histories of `lotse synth` (participations.py): their own
random stream, plausible shares, and rows as the referral services would write them."""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections import Counter, defaultdict
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Count, Q

from lotse.referrals.codes import OUTCOME_STATUS, TRANSITIONS
from lotse.synth import participations
from lotse.synth.generator import PERSON_TABLES, Config, Generator, Rows, age_on, generate_all
from lotse.synth.loader import dump_row
from lotse.synth.participations import LANGUAGE_CATEGORIES, STORY_TABLES, rank

TODAY = dt.date(2026, 11, 21)
YESTERDAY_EVENING = dt.datetime(2026, 11, 20, 18, tzinfo=participations.BERLIN)
OPEN = {"proposed", "sent", "accepted", "waitlisted", "started"}


def _dump(rows: Rows) -> dict[str, list[str]]:
    return {name: [dump_row(r) for r in items] for name, items in rows.items()}


@pytest.fixture(scope="module")
def rows() -> Rows:
    return generate_all(Config(persons=2500, seed=7, today=TODAY))


@pytest.fixture(scope="module")
def small() -> Rows:
    return generate_all(Config(persons=300, seed=11, today=TODAY))


# --- stability ------------------------------------------------------------------------


def test_histories_have_their_own_random_stream(
    small: Rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the histories every other table of the seed is byte for byte the same;
    the offers only lose the places the participations took."""
    monkeypatch.setattr(participations.Histories, "person", lambda self, rows, p, d: None)
    without = generate_all(Config(persons=300, seed=11, today=TODAY))
    assert all(without[t] == [] for t in STORY_TABLES)
    assert all(small[t] for t in STORY_TABLES)
    others = [t for t in small if t not in STORY_TABLES and t != "offer"]
    assert {t: _dump(without)[t] for t in others} == {t: _dump(small)[t] for t in others}
    strip = {"occupied", "updated_at"}
    assert [{k: v for k, v in o.items() if k not in strip} for o in without["offer"]] == [
        {k: v for k, v in o.items() if k not in strip} for o in small["offer"]
    ]
    assert all(o["occupied"] == 0 for o in without["offer"])


def test_histories_are_deterministic_and_independent_of_chunks(small: Rows) -> None:
    again = generate_all(Config(persons=300, seed=11, today=TODAY))
    assert {t: _dump(again)[t] for t in [*STORY_TABLES, "offer"]} == {
        t: _dump(small)[t] for t in [*STORY_TABLES, "offer"]
    }
    gen = Generator(Config(persons=300, seed=11, today=TODAY))
    merged: dict[str, list[Any]] = {t: [] for t in PERSON_TABLES}
    for _n, chunk in gen.chunks(size=41):
        for name, items in chunk.items():
            merged[name].extend(items)
    assert {t: [dump_row(r) for r in merged[t]] for t in STORY_TABLES} == {
        t: [dump_row(r) for r in small[t]] for t in STORY_TABLES
    }
    assert [dump_row(o) for o in gen.offers_occupied()] == [dump_row(o) for o in small["offer"]]


# --- shares -----------------------------------------------------------------------------


def test_participations_per_person_drop_outs_and_repeats(rows: Rows) -> None:
    persons = rows["person"]
    items = rows["participation"]
    per_person = Counter(p["person_id"] for p in items)
    assert max(per_person.values()) <= 6
    assert 0.6 <= len(items) / len(persons) <= 2.0
    assert 0.25 <= sum(1 for p in persons if p["id"] not in per_person) / len(persons) <= 0.55
    young = [p for p in persons if 18 <= age_on(p["birth_date"], TODAY) <= 27]
    assert sum(per_person[p["id"]] for p in young) / len(young) >= 0.7
    # Drop-outs: 15–35 % of the ended ones, by category (where there are enough).
    ended = [p for p in items if p["ended_on"] is not None]
    aborted = [p for p in ended if p["outcome"] == "aborted"]
    assert 0.15 <= len(aborted) / len(ended) <= 0.35
    by_category: dict[str, Counter[str]] = defaultdict(Counter)
    for p in ended:
        by_category[p["category"]][p["outcome"]] += 1
    for category, outcomes in by_category.items():
        total = sum(outcomes.values())
        if total >= 60:
            assert 0.1 <= outcomes["aborted"] / total <= 0.45, category
    reasons = Counter(p["abort_reason"] for p in aborted)
    assert {"work", "moved", "health", "family", "motivation"} <= set(reasons)
    # Repeated levels: a second B1 course after one that did not certify B1.
    courses: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for p in sorted(items, key=lambda p: p["started_on"]):
        if p["category"] == "integrationskurs":
            courses[p["person_id"]].append(p)
    repeated = [
        v
        for v in courses.values()
        if any(
            a["level"] == "B1" and a["level_reached"] != "B1" and b["level"] == "B1"
            for a, b in itertools.pairwise(v)
        )
    ]
    assert len(repeated) >= 0.03 * len(courses)
    # Running today, and the waiting list.
    running = [p for p in items if p["ended_on"] is None]
    assert 0.1 <= len(running) / len(persons) <= 0.35
    waited = [r["days_waited"] for r in rows["referral"] if r["days_waited"] is not None]
    assert 28 <= statistics.median(waited) <= 112


def test_categories_follow_age_status_and_german(rows: Rows) -> None:
    persons = {p["id"]: p for p in rows["person"]}
    german = {i["person_id"]: i["level"] for i in rows["person_language"] if i["language"] == "de"}
    timeline: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
    superseded = {e["supersedes_id"] for e in rows["residence_period"] if e["supersedes_id"]}
    for e in sorted(rows["residence_period"], key=lambda e: e["valid_from"]):
        if e["id"] not in superseded and not e["is_retraction"]:
            timeline[e["person_id"]].append((e["valid_from"], e["status"]))

    def status_on(pid: int, day: dt.date) -> str:
        return next((s for start, s in reversed(timeline[pid]) if start <= day), "")

    categories = Counter(p["category"] for p in rows["participation"])
    wanted = {"integrationskurs", "berufssprachkurs", "bvb", "eq", "asa_flex", "ausbildung"}
    assert wanted | {"schulabschluss", "produktionsschule", "beratung"} <= set(categories)
    integration = [p for p in rows["participation"] if p["category"] == "integrationskurs"]
    tolerated = [p for p in integration if "duldung" in status_on(p["person_id"], p["started_on"])]
    assert len(tolerated) / len(integration) < 0.08  # Geduldete: rarely
    for p in rows["participation"]:
        person = persons[p["person_id"]]
        age = age_on(person["birth_date"], p["started_on"])
        if p["category"] in ("bvb", "produktionsschule"):
            assert age <= 24
        if p["category"] in LANGUAGE_CATEGORIES and p["level_reached"]:
            # never more than the person speaks today
            assert rank(p["level_reached"]) <= rank(german[p["person_id"]])
        assert p["started_on"] >= person["entry_date"]


# --- rows as the services write them ------------------------------------------------------


def _events(rows: Rows) -> dict[int, list[dict[str, Any]]]:
    events: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for e in rows["referral_event"]:
        events[e["referral_id"]].append(e)
    return events


def test_referral_steps_follow_the_transitions(rows: Rows) -> None:
    events = _events(rows)
    statuses = Counter(r["status"] for r in rows["referral"])
    assert {"sent", "accepted", "waitlisted", "started", "completed", "aborted"} <= set(statuses)
    assert statuses["rejected"] and statuses["withdrawn"] and statuses["proposed"]
    for r in rows["referral"]:
        steps = events[r["id"]]
        assert steps[0]["status"] == "proposed"
        for before, after in itertools.pairwise(steps):
            assert after["status"] in TRANSITIONS[before["status"]], (before, after)
            assert before["at"] <= after["at"]
            assert before["id"] < after["id"]
        assert steps[-1]["status"] == r["status"]
        assert r["created_at"] == steps[0]["at"] and r["updated_at"] == steps[-1]["at"]
        assert steps[-1]["at"] <= YESTERDAY_EVENING
        by_status = {e["status"]: e for e in steps}
        if "sent" in by_status:
            assert r["sent_at"] == by_status["sent"]["at"]
        else:
            assert r["sent_at"] is None and r["shared_categories"] == []
            assert r["sharing_basis"] == "" and r["consent_id"] is None
            assert r["sender_snapshot"] == {} and r["receiver_snapshot"] == {}
        if r["status"] == "rejected":
            assert r["reject_reason"] and r["decided_at"] == by_status["rejected"]["at"]
        else:
            assert r["reject_reason"] == ""
        closing = r["status"] in ("completed", "aborted", "rejected", "withdrawn")
        assert (r["closed_at"] == steps[-1]["at"]) if closing else r["closed_at"] is None
        if "waitlisted" in by_status:
            assert r["waitlisted_on"] == by_status["waitlisted"]["at"].date()
            leaving = steps[[e["status"] for e in steps].index("waitlisted") + 1 :]
            if leaving:
                assert r["days_waited"] == (leaving[0]["at"].date() - r["waitlisted_on"]).days
            else:
                assert r["days_waited"] is None and r["status"] == "waitlisted"
        else:
            assert r["waitlisted_on"] is None and r["days_waited"] is None
        # sender steps by the case's lead, the others by the receiver
        for e in steps:
            side = r["sender_id"] if e["status"] in ("proposed", "sent", "withdrawn") else None
            assert e["by_organisation_id"] == (side or r["receiver_id"])


def test_every_sent_referral_has_its_basis(rows: Rows) -> None:
    """Consent for the purpose referral to the receiver, valid when sent, covering the
    master data; the categories shared are what all such consents covered then."""
    consents: dict[int, list[tuple[int | None, dict[str, Any]]]] = defaultdict(list)
    story_receivers = {
        link["consent_id"]: link["organisation_id"]
        for link in rows["referral_consent_receiving_organisation"]
    }
    for c in rows["referral_consent"]:
        assert c["purpose"] == "referral" and "master" in c["categories"]
        consents[c["person_id"]].append((story_receivers[c["id"]], c))
    privacy_receivers = {
        link["consent_id"]: link["organisation_id"]
        for link in rows["consent_receiving_organisation"]
    }
    for c in rows["consent"]:
        if c["purpose"] == "referral":
            consents[c["person_id"]].append((privacy_receivers[c["id"]], c))
    story = {c["id"]: c for c in rows["referral_consent"]}
    cases = {c["id"]: c for c in rows["case"]}
    every = sorted(participations.ALL_CATEGORIES)
    sent = [r for r in rows["referral"] if r["sent_at"] is not None]
    assert sent
    bases = Counter(r["sharing_basis"] for r in sent)
    assert bases["consent"] > 0.9 * len(sent)
    for r in sent:
        day = r["sent_at"].date()
        case = cases[r["case_id"]]
        assert case["opened_on"] <= day and (case["closed_on"] is None or day <= case["closed_on"])
        assert r["sender_id"] == case["lead_organisation_id"]
        assert r["sender_snapshot"]["organisation"] and r["receiver_snapshot"]["organisation"]
        if r["offer_id"] is not None:
            assert r["receiver_snapshot"]["offer"]
        if r["sharing_basis"] == "lead_organisation":
            assert r["receiver_id"] == r["sender_id"] and r["shared_categories"] == every
            continue
        assert r["sharing_basis"] == "consent"
        consent = story[r["consent_id"]]
        assert consent["person_id"] == r["person_id"]
        assert story_receivers[consent["id"]] == r["receiver_id"]
        assert consent["signed_on"] <= day
        assert consent["valid_until"] is None or day <= consent["valid_until"]
        valid = [
            c
            for org, c in consents[r["person_id"]]
            if org == r["receiver_id"]
            and c["signed_on"] <= day
            and (c["valid_until"] is None or day <= c["valid_until"])
            and (c["withdrawn_at"] is None or c["withdrawn_at"] > r["sent_at"])
        ]
        assert r["shared_categories"] == sorted({cat for c in valid for cat in c["categories"]})
    master_only = [r for r in sent if r["shared_categories"] == ["master"]]
    assert master_only  # the receiver sees the person's name, nothing more


def test_participations_match_their_referrals(rows: Rows) -> None:
    referrals = {r["id"]: r for r in rows["referral"]}
    events = _events(rows)
    cases = {c["id"]: c for c in rows["case"]}
    leads = {c["id"]: c["lead_organisation_id"] for c in rows["case"]}
    linked = Counter(p["referral_id"] for p in rows["participation"] if p["referral_id"])
    assert all(n == 1 for n in linked.values())  # one-to-one
    with_referral = sum(1 for p in rows["participation"] if p["referral_id"])
    assert with_referral > 0.5 * len(rows["participation"])  # most come from a referral
    for p in rows["participation"]:
        assert cases[p["case_id"]]["person_id"] == p["person_id"]
        # the database's checks: an end has an outcome, an abort a reason
        assert (p["ended_on"] is None) == (p["outcome"] == "")
        assert (p["outcome"] == "aborted") == (p["abort_reason"] != "")
        if p["ended_on"] is not None:
            assert p["started_on"] <= p["ended_on"] < TODAY
        assert p["started_on"] < TODAY
        if p["outcome"] == "aborted":
            assert p["level_reached"] == ""
        if p["outcome"] == "completed_certificate" and p["category"] in LANGUAGE_CATEGORIES:
            assert p["level_reached"]
        assert p["title"] and p["category"]
        if p["referral_id"] is None:
            assert p["recorded_by_id"] == leads[p["case_id"]]
            continue
        r = referrals[p["referral_id"]]
        assert r["person_id"] == p["person_id"] and r["case_id"] == p["case_id"]
        assert p["provider_id"] == r["receiver_id"] == p["recorded_by_id"]
        assert p["offer_id"] == r["offer_id"]
        started = next(e for e in events[r["id"]] if e["status"] == "started")
        assert started["at"].date() == p["started_on"]
        if p["ended_on"] is None:
            assert r["status"] == "started"
        else:
            assert r["status"] == OUTCOME_STATUS[p["outcome"]]
            assert r["closed_at"].date() == p["ended_on"]
    for r in rows["referral"]:
        if r["status"] in ("started", "completed", "aborted"):
            assert linked[r["id"]] == 1


def test_offers_places_taken_are_the_running_participations(rows: Rows) -> None:
    running = Counter(
        p["offer_id"] for p in rows["participation"] if p["offer_id"] and p["ended_on"] is None
    )
    offers = {o["id"]: o for o in rows["offer"]}
    for o in offers.values():
        assert o["occupied"] == running[o["id"]]
        assert o["capacity"] is None or o["occupied"] <= o["capacity"]
    assert sum(running.values()) > 0
    assert any(o["capacity"] and o["occupied"] == o["capacity"] for o in offers.values())
    for p in rows["participation"]:
        if p["offer_id"] is None:
            continue
        o = offers[p["offer_id"]]
        assert p["title"] == o["title"] and p["category"] == o["category"]
        assert p["level"] == o["level"] and p["provider_id"] == o["provider_id"]
        if o["starts_on"] is not None:
            assert p["started_on"] >= o["starts_on"]
        if o["ends_on"] is not None and p["ended_on"] is not None:
            assert p["ended_on"] <= o["ends_on"]
    # Full offers: more people on their waiting lists.
    waiting = [r for r in rows["referral"] if r["status"] == "waitlisted" and r["offer_id"]]
    assert waiting


def test_open_referrals_today(rows: Rows) -> None:
    """Work for the providers: sent, accepted and waitlisted referrals of open cases, at
    most one open per case and offer (or, without an offer, per receiver)."""
    cases = {c["id"]: c for c in rows["case"]}
    open_ = [r for r in rows["referral"] if r["status"] in OPEN]
    by_status = Counter(r["status"] for r in open_)
    assert min(by_status["sent"], by_status["accepted"], by_status["waitlisted"]) >= 20
    assert 0.05 <= (len(open_) - by_status["started"]) / len(rows["person"]) <= 0.3
    per_offer = Counter((r["case_id"], r["offer_id"]) for r in open_ if r["offer_id"])
    per_receiver = Counter((r["case_id"], r["receiver_id"]) for r in open_)
    assert max(per_offer.values()) == 1 and max(per_receiver.values()) == 1
    for r in open_:
        if r["status"] != "started":
            assert cases[r["case_id"]]["closed_on"] is None
    waiting = [(TODAY - r["waitlisted_on"]).days for r in open_ if r["status"] == "waitlisted"]
    assert all(1 <= w <= 112 for w in waiting)
    codes = Counter(n["need_type"] for n in rows["referral_need_type"])
    assert {"deutsch_b1", "ausbildungsvorbereitung", "ausbildungsplatz"} <= set(codes)


# --- loading ------------------------------------------------------------------------------


def synth(*args: str) -> str:
    out = StringIO()
    call_command("synth", *args, "--today", TODAY.isoformat(), "--no-progress", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_load_sets_places_taken_and_the_receivers_see_what_was_shared() -> None:
    from lotse.casework.models import Case
    from lotse.offers.models import Offer
    from lotse.privacy.access import receiver_access
    from lotse.privacy.models import Consent
    from lotse.referrals.models import Participation, Referral, ReferralEvent

    output = synth("--persons", "300", "--seed", "5", "--load")
    assert "participation" in output and "referral_consent" in output
    assert Participation.objects.exists() and ReferralEvent.objects.exists()
    # Consents of both generator tables, with distinct ids, one receiver each.
    assert not Consent.objects.annotate(n=Count("receiving_organisations")).exclude(n=1).exists()
    assert Consent.objects.filter(purpose="referral").count() > 0
    running = Count("participations", filter=Q(participations__ended_on__isnull=True))
    offers = Offer.objects.annotate(running=running)
    assert offers.filter(running__gt=0).exists()
    for offer in offers:
        assert offer.occupied == offer.running
        assert offer.capacity is None or offer.occupied <= offer.capacity
    # What the receivers see of the persons of open referrals, today: the master data.
    today = dt.datetime.combine(TODAY, dt.time(12), tzinfo=participations.BERLIN)
    open_ = Referral.objects.filter(
        status__in=["sent", "accepted", "waitlisted", "started"]
    ).select_related("case", "receiver", "consent")
    assert open_.exists()
    for r in open_:
        if r.sharing_basis == "consent":
            assert r.consent is not None and r.consent.purpose == "referral"
            assert r.consent.receiving_organisations.filter(pk=r.receiver_id).exists()
            access = receiver_access(r.case, r.receiver, now=today)
            assert access.allows("master"), r.pk
            assert set(r.shared_categories) <= set(access.categories)
    # Appending persons: their referrals and participations name no offer of the
    # catalogue (it was loaded before), and the places taken stay as they are.
    before = list(Offer.objects.order_by("pk").values_list("pk", "occupied"))
    synth("--persons", "120", "--seed", "6", "--load", "--append")
    assert list(Offer.objects.order_by("pk").values_list("pk", "occupied")) == before
    newest = Case.objects.order_by("-pk")[:100]
    assert not Participation.objects.filter(case__in=newest, offer__isnull=False).exists()
    assert Participation.objects.filter(case__in=newest).exists()


def test_what_followed_comes_from_the_story(rows: Rows) -> None:
    """Running participations have nothing after them; an apprenticeship started within
    six months of an ended one is its exit; shares stay plausible."""
    from collections import Counter

    by_person: dict[int, list[dict[str, Any]]] = {}
    for r in rows["participation"]:
        by_person.setdefault(r["person_id"], []).append(r)
    seen: Counter[str] = Counter()
    for items in by_person.values():
        items.sort(key=lambda r: r["started_on"])
        for i, r in enumerate(items):
            if r["ended_on"] is None:
                assert r["next_step"] == ""
                continue
            seen[r["next_step"]] += 1
            later = [
                x
                for x in items[i + 1 :]
                if x["category"] == "ausbildung"
                and r["started_on"] < x["started_on"] <= r["ended_on"] + dt.timedelta(days=183)
            ]
            if later and r["category"] != "ausbildung":
                assert r["next_step"] == "apprenticeship", (r, later)
    ended = sum(seen.values())
    assert seen["apprenticeship"] > 0 and seen["measure"] > 0 and seen["none"] > 0
    assert 0.05 < seen["unknown"] / ended < 0.4
