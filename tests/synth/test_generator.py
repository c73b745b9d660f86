"""The generator on its own (no database): deterministic, plausible, consistent."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from typing import Any

import pytest

from lotse.people.names import search_keys
from lotse.synth.generator import (
    PERSON_TABLES,
    Config,
    Generator,
    Rows,
    age_on,
    generate_all,
)
from lotse.synth.loader import dump_row

TODAY = dt.date(2026, 11, 21)
PERSONS = 400


def _dump(rows: Rows) -> dict[str, list[str]]:
    return {name: [dump_row(r) for r in items] for name, items in rows.items()}


@pytest.fixture(scope="module")
def rows() -> Rows:
    return generate_all(Config(persons=PERSONS, seed=11, today=TODAY))


def test_same_seed_same_output(rows: Rows) -> None:
    again = generate_all(Config(persons=PERSONS, seed=11, today=TODAY))
    assert _dump(again) == _dump(rows)


def test_different_seed_or_date_different_output(rows: Rows) -> None:
    other_seed = generate_all(Config(persons=PERSONS, seed=12, today=TODAY))
    assert _dump(other_seed)["person"] != _dump(rows)["person"]
    other_day = generate_all(Config(persons=PERSONS, seed=11, today=TODAY + dt.timedelta(days=1)))
    assert _dump(other_day)["person"] != _dump(rows)["person"]


def test_chunking_does_not_change_the_output(rows: Rows) -> None:
    gen = Generator(Config(persons=PERSONS, seed=11, today=TODAY))
    gen.reference()
    merged: dict[str, list[Any]] = {t: [] for t in PERSON_TABLES}
    for _n, chunk in gen.chunks(size=37):
        for name, items in chunk.items():
            merged[name].extend(items)
    assert {t: [dump_row(r) for r in merged[t]] for t in PERSON_TABLES} == {
        t: [dump_row(r) for r in rows[t]] for t in PERSON_TABLES
    }


def test_exact_number_of_persons_each_with_one_open_case(rows: Rows) -> None:
    assert len(rows["person"]) == PERSONS
    cases = defaultdict(list)
    for case in rows["case"]:
        cases[case["person_id"]].append(case)
    assert set(cases) == {p["id"] for p in rows["person"]}
    earlier = 0
    for items in cases.values():
        assert len(items) in (1, 2)
        if len(items) == 2:
            earlier += 1
            first, main = sorted(items, key=lambda c: c["opened_on"])
            assert first["phase"] == "closed"
            assert first["closed_on"] < main["opened_on"]
            assert first["lead_organisation_id"] != main["lead_organisation_id"]
    assert 0 < earlier < PERSONS * 0.12


def test_age_gender_and_nationality_are_plausible(rows: Rows) -> None:
    persons = rows["person"]
    ages = [age_on(p["birth_date"], TODAY) for p in persons]
    target = sum(1 for a in ages if 18 <= a <= 27) / len(ages)
    assert 0.6 <= target <= 0.8
    assert min(ages) >= 16 and max(ages) <= 46  # 46: a fictitious 1 January birthday
    genders = Counter(p["gender"] for p in persons)
    assert 0.55 <= genders["male"] / len(persons) <= 0.75
    assert 0.25 <= genders["female"] / len(persons) <= 0.45
    nationalities = Counter(p["nationality"] for p in persons)
    assert nationalities.most_common(1)[0][0] == "SY"
    assert {"AF", "UA", "IQ"} <= set(nationalities)
    estimated = [p for p in persons if p["birth_date_estimated"]]
    assert estimated and all(p["birth_date"].timetuple()[1:3] == (1, 1) for p in estimated)
    for p in persons:
        assert dt.date(2015, 1, 1) <= p["entry_date"] <= TODAY
        assert p["entry_date"] > p["birth_date"]


def test_search_text_covers_all_spellings(rows: Rows) -> None:
    others = defaultdict(list)
    for n in rows["person_name"]:
        others[n["person_id"]].append(f"{n['given_names']} {n['family_name']}")
    scripts = 0
    for p in rows["person"]:
        names = [f"{p['given_names']} {p['family_name']}", *others[p["id"]]]
        assert p["search_text"] == search_keys(*names)
    for n in rows["person_name"]:
        if any("\u0600" <= ch <= "\u06ff" for ch in n["family_name"]):
            scripts += 1
    assert scripts > 0  # Arabic/Persian script names exist


def test_languages_first_native_and_german(rows: Rows) -> None:
    by_person: dict[int, dict[str, str]] = defaultdict(dict)
    for item in rows["person_language"]:
        assert item["language"] not in by_person[item["person_id"]]
        by_person[item["person_id"]][item["language"]] = item["level"]
    for langs in by_person.values():
        assert "de" in langs
        assert list(langs.values()).count("native") == 1


def _current(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    superseded = {e["supersedes_id"] for e in entries if e["supersedes_id"]}
    return [e for e in entries if e["id"] not in superseded and not e["is_retraction"]]


@pytest.mark.parametrize("table", ["residence_period", "benefit_period"])
def test_current_timeline_entries_never_overlap(rows: Rows, table: str) -> None:
    by_person = defaultdict(list)
    ids = {e["id"] for e in rows[table]}
    for e in rows[table]:
        assert e["valid_to"] is None or e["valid_to"] >= e["valid_from"]
        if e["supersedes_id"]:
            assert e["supersedes_id"] in ids
            assert e["correction_reason"]
        by_person[e["person_id"]].append(e)
    targets = Counter(e["supersedes_id"] for e in rows[table] if e["supersedes_id"])
    assert all(n == 1 for n in targets.values())  # one-to-one
    for entries in by_person.values():
        current = sorted(_current(entries), key=lambda e: e["valid_from"])
        assert current
        for before, after in itertools.pairwise(current):
            assert before["valid_to"] is not None
            assert before["valid_to"] < after["valid_from"]


def test_some_corrections_exist() -> None:
    rows = generate_all(Config(persons=1500, seed=3, today=TODAY))
    corrections = [e for e in rows["residence_period"] if e["supersedes_id"]]
    assert corrections
    assert any(e["is_retraction"] for t in ("residence_period", "benefit_period") for e in rows[t])


def test_status_and_benefits_tell_one_story(rows: Rows) -> None:
    persons = {p["id"]: p for p in rows["person"]}
    status_by_person: dict[int, list[str]] = defaultdict(list)
    last_start: dict[int, dt.date] = {}
    for e in sorted(_current(rows["residence_period"]), key=lambda e: e["valid_from"]):
        status_by_person[e["person_id"]].append(e["status"])
        last_start[e["person_id"]] = e["valid_from"]
    regimes: dict[int, list[str]] = defaultdict(list)
    for e in sorted(_current(rows["benefit_period"]), key=lambda e: e["valid_from"]):
        regimes[e["person_id"]].append(e["regime"])
    for pid, statuses in status_by_person.items():
        if persons[pid]["nationality"] == "UA":
            assert statuses[-1] in ("ae_24", "fiktionsbescheinigung")
        elif statuses[0] == "ankunftsnachweis":
            assert statuses[1:2] in ([], ["gestattung"])
        if statuses[-1] == "gestattung":
            assert set(regimes[pid]) <= {"asylblg_3", "asylblg_2"}
        if statuses[-1] in ("ae_25_2_gfk", "ae_25_2_subsidiaer") and len(statuses) > 1:
            assert regimes[pid][0] in ("asylblg_3", "asylblg_2")  # before recognition
            if last_start[pid] < TODAY - dt.timedelta(days=40):
                # Rechtskreiswechsel: recognised persons leave the AsylbLG.
                assert regimes[pid][-1] not in ("asylblg_3", "asylblg_2")


def test_casework_is_consistent(rows: Rows) -> None:
    cases = {c["id"]: c for c in rows["case"]}
    plans = {p["case_id"]: p for p in rows["integration_plan"]}
    assert set(plans) == set(cases)  # every case has exactly one plan
    phases = Counter(c["phase"] for c in cases.values())
    assert phases["implementation"] > phases["evaluation"]
    for c in cases.values():
        if c["phase"] == "closed":
            assert c["closed_on"] and c["closing_reason"] and c["closed_on"] >= c["opened_on"]
        else:
            assert c["closed_on"] is None
    for item in rows["assessment_item"]:
        if item["kind"] == "need":
            assert item["need_type"] and item["priority"]
        else:
            assert item["need_type"] is None and item["priority"] == ""
    agreed = {v["plan_id"] for v in rows["plan_version"]}
    by_plan = {p["id"]: p["case_id"] for p in rows["integration_plan"]}
    for plan_id, case_id in by_plan.items():
        if cases[case_id]["phase"] in ("implementation", "evaluation"):
            assert plan_id in agreed  # agreeing the plan is what starts implementation
        if cases[case_id]["phase"] in ("intake", "assessment", "planning"):
            assert plan_id not in agreed
    goals = {g["id"]: g for g in rows["plan_goal"]}
    for g in goals.values():
        assert g["target_date"] >= cases[by_plan[g["plan_id"]]]["opened_on"]
    steps = {s["id"]: s for s in rows["plan_step"]}
    for s in steps.values():
        assert s["responsible_is_client"] or s["responsible_organisation_id"]
    for v in rows["plan_version"]:
        for g in v["snapshot"]["goals"]:
            assert goals[g["id"]]["plan_id"] == v["plan_id"]
            assert set(g) == {"id", "life_domain", "title", "target_date", "status", "steps"}
            for s in g["steps"]:
                assert steps[s["id"]]["goal_id"] == g["id"]
    today = TODAY
    for a in rows["appointment"]:
        if a["status"] == "planned":
            assert a["starts_at"].date() > today
        else:
            assert a["starts_at"].date() < today
    overdue = [f for f in rows["followup"] if f["done_at"] is None and f["due_on"] < today]
    assert overdue and any(f["done_at"] for f in rows["followup"])
    assert any(n["is_sensitive"] for n in rows["note"])
    assert {n["visibility"] for n in rows["note"]} == {"organisation", "case_team"}


def test_intake_answers_follow_the_guide(rows: Rows) -> None:
    from lotse.synth.generator import default_guide

    keys = [q.key for q in default_guide()]
    for intake in rows["intake"]:
        assert [a["key"] for a in intake["answers"]] == keys
        assert all(set(a) == {"key", "section", "question", "value"} for a in intake["answers"])


def test_team_members_are_partner_staff_of_their_organisation(rows: Rows) -> None:
    memberships = {(m["user_id"], m["organisation_id"]): m["role"] for m in rows["membership"]}
    for member in rows["case_team_member"]:
        assert memberships[(member["user_id"], member["organisation_id"])] == "partner_staff"
    for case in rows["case"]:
        assert memberships[(case["case_manager_id"], case["lead_organisation_id"])] == (
            "case_manager"
        )


# --- consents, sharing agreements, emergency access -----------------------------------


@pytest.fixture(scope="module")
def big() -> Rows:
    return generate_all(Config(persons=1500, seed=7, today=TODAY))


def _receivers(rows: Rows) -> dict[int, int]:
    return {r["consent_id"]: r["organisation_id"] for r in rows["consent_receiving_organisation"]}


def test_every_team_membership_has_a_consent_signed_when_it_began(rows: Rows) -> None:
    cases = {c["id"]: c for c in rows["case"]}
    receivers = _receivers(rows)
    assert set(receivers) == {c["id"] for c in rows["consent"]}  # exactly one receiver each
    first_signed: dict[tuple[int, int], dt.date] = {}
    for c in rows["consent"]:
        if c["purpose"] == "casework":
            key = (c["person_id"], receivers[c["id"]])
            first_signed[key] = min(c["signed_on"], first_signed.get(key, c["signed_on"]))
    for m in rows["case_team_member"]:
        case = cases[m["case_id"]]
        signed = first_signed[(case["person_id"], m["organisation_id"])]
        # Signed before the member joined (earliest for an earlier case of the person).
        assert signed <= m["added_at"].date()
        if m["removed_at"] is None:
            assert signed <= case["opened_on"] + dt.timedelta(days=60)


def test_consents_are_well_formed(rows: Rows) -> None:
    cases_by_person: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for case in rows["case"]:
        cases_by_person[case["person_id"]].append(case)
    memberships = {(m["user_id"], m["organisation_id"]) for m in rows["membership"]}
    team_users = {m["user_id"] for m in rows["case_team_member"]}
    now = dt.datetime.combine(TODAY, dt.time(), tzinfo=dt.UTC)
    for c in rows["consent"]:
        assert c["purpose"] in ("casework", "referral")
        assert "master" in c["categories"] and len(set(c["categories"])) == len(c["categories"])
        assert c["valid_until"] is None or c["valid_until"] >= c["signed_on"]
        assert c["signed_on"] < TODAY and c["recorded_at"] < now
        assert c["form_language"] in {"de", "ar", "fa", "en", "ti", "tr", "uk"}
        case = next(
            k
            for k in cases_by_person[c["person_id"]]
            if k["lead_organisation_id"] == c["recorded_for_id"]
        )
        assert (case["case_manager_id"], case["lead_organisation_id"]) in memberships
        if c["withdrawn_at"] is not None:
            assert c["recorded_at"] <= c["withdrawn_at"] < now
            assert c["withdrawn_by_id"] and c["withdrawal_note"]
        else:
            assert c["withdrawn_by_id"] is None and c["withdrawal_note"] == ""
    assert {n["user_id"] for n in rows["consent_named_user"]} <= team_users


def _latest_casework_consents(rows: Rows) -> list[dict[str, Any]]:
    """The latest consent of each active team membership of an open case."""
    cases = {c["id"]: c for c in rows["case"]}
    receivers = _receivers(rows)
    by_key: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for c in rows["consent"]:
        if c["purpose"] == "casework":
            by_key[(c["person_id"], receivers[c["id"]])].append(c)
    latest = []
    for m in rows["case_team_member"]:
        case = cases[m["case_id"]]
        if m["removed_at"] is None and case["closed_on"] is None:
            consents = by_key[(case["person_id"], m["organisation_id"])]
            latest.append(max(consents, key=lambda c: (c["signed_on"], c["id"])))
    return latest


def test_shares_of_withdrawn_expired_and_partial_consents(big: Rows) -> None:
    from lotse.synth import pools

    latest = _latest_casework_consents(big)
    assert len(latest) > 1000
    withdrawn = [c for c in latest if c["withdrawn_at"] is not None]
    expired = [
        c
        for c in latest
        if c["withdrawn_at"] is None and c["valid_until"] and c["valid_until"] < TODAY
    ]
    org_type = {o["id"]: o["org_type"] for o in big["organisation"]}
    receivers = _receivers(big)
    partial = [
        c
        for c in latest
        if not set(pools.CONSENT_CATEGORIES[org_type[receivers[c["id"]]]][0])
        <= set(c["categories"])
    ]
    named = {n["consent_id"] for n in big["consent_named_user"]}
    open_ended = [c for c in latest if c["valid_until"] is None]
    assert 0.03 <= len(withdrawn) / len(latest) <= 0.07
    assert 0.03 <= len(expired) / len(latest) <= 0.07
    assert 0.07 <= len(partial) / len(latest) <= 0.13
    assert 0.01 <= len(named & {c["id"] for c in latest}) / len(latest) <= 0.06
    # Without end at each signing about one in ten; the chain of renewals ends there.
    assert 0.08 <= len(open_ended) / len(latest) <= 0.25
    # Expired recently (the reminder 30 days before did not lead to a renewal).
    assert all(TODAY - c["valid_until"] <= dt.timedelta(days=120) for c in expired)
    # Consents of long-running cases were renewed rather than left to lapse.
    renewals = len([c for c in big["consent"] if c["purpose"] == "casework"]) - len(
        big["case_team_member"]
    )
    assert renewals > 0


def test_referral_consents_go_to_education_providers(big: Rows) -> None:
    org_type = {o["id"]: o["org_type"] for o in big["organisation"]}
    receivers = _receivers(big)
    referrals = [c for c in big["consent"] if c["purpose"] == "referral"]
    assert 0 < len(referrals) < 0.1 * len(big["case"])
    assert {org_type[receivers[c["id"]]] for c in referrals} == {"bildungstraeger"}


def test_interpreter_for_about_half_of_those_with_little_german(big: Rows) -> None:
    german = {
        item["person_id"]: item["level"]
        for item in big["person_language"]
        if item["language"] == "de"
    }
    native = {
        item["person_id"]: item["language"]
        for item in big["person_language"]
        if item["level"] == "native"
    }
    little = [c for c in big["consent"] if german[c["person_id"]] in ("none", "A1", "A2")]
    with_interpreter = [c for c in little if c["interpreter_language"]]
    assert 0.4 <= len(with_interpreter) / len(little) <= 0.6
    assert all(c["interpreter_language"] == native[c["person_id"]] for c in with_interpreter)
    assert not any(
        c["interpreter_language"]
        for c in big["consent"]
        if german[c["person_id"]] not in ("none", "A1", "A2")
    )
    for c in big["consent"]:
        expected = {"prs": "fa"}.get(native[c["person_id"]], native[c["person_id"]])
        if expected in ("ar", "fa", "en", "ti", "tr", "uk"):
            assert c["form_language"] == expected
        else:
            assert c["form_language"] == "de"


def test_sharing_agreements_and_expired_emergency_accesses(big: Rows) -> None:
    agreements = big["sharing_agreement"]
    assert 2 <= len(agreements) <= 3
    # The foreigners' authority's legal basis comes with a migration, not from here.
    assert not any(a["receiver_type"] == "auslaenderbehoerde" for a in agreements)
    for a in agreements:
        assert a["valid_from"] <= TODAY and (a["valid_to"] is None or a["valid_to"] >= TODAY)
        assert "SGB X" in a["legal_basis"] and a["purposes"] == ["casework"]
        assert a["receiver_organisation_id"] and a["source_organisation_id"]
    glass = big["break_glass_access"]
    assert glass
    start_of_today = dt.datetime.combine(TODAY, dt.time(), tzinfo=dt.UTC)
    cases = {c["id"]: c for c in big["case"]}
    for g in glass:
        assert g["granted_at"] < g["expires_at"] < start_of_today and g["reason"]
        assert g["granted_at"].date() >= cases[g["case_id"]]["opened_on"]


# --- facts for the eligibility check (eligibility_personfacts) ---------------------


def test_person_facts_have_their_own_random_stream(
    rows: Rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the facts rows every other table of the seed is byte for byte the same:
    the flags draw from a stream of their own."""
    from lotse.synth import generator

    monkeypatch.setattr(generator, "eligibility_facts", lambda *a, **kw: None)
    without = generate_all(Config(persons=PERSONS, seed=11, today=TODAY))
    assert without["eligibility_personfacts"] == []
    assert rows["eligibility_personfacts"]
    # The participation histories read the facts (an apprenticeship begins when they
    # say), and the offers' places follow the histories.
    story = {*generator.STORY_TABLES, "offer"}
    others = [t for t in rows if t != "eligibility_personfacts" and t not in story]
    assert {t: _dump(without)[t] for t in others} == {t: _dump(rows)[t] for t in others}


def _current_status(rows: Rows) -> dict[int, dict[str, Any]]:
    return {
        e["person_id"]: e
        for e in sorted(_current(rows["residence_period"]), key=lambda e: e["valid_from"])
    }


def test_person_facts_follow_the_story(big: Rows) -> None:
    from lotse.eligibility.models import FLAG_FIELDS
    from lotse.synth.generator import ASYLUM, FACTS_STATUSES, TOLERATED

    facts = {f["person_id"]: f for f in big["eligibility_personfacts"]}
    assert len(facts) == len(big["eligibility_personfacts"])  # at most one per person
    persons = {p["id"]: p for p in big["person"]}
    current = _current_status(big)
    gestattung: dict[int, dt.date] = {}
    for e in sorted(_current(big["residence_period"]), key=lambda e: e["valid_from"]):
        if e["status"] == "gestattung":
            gestattung.setdefault(e["person_id"], e["valid_from"])
    users = {u["id"] for u in big["user"]}
    others = 0
    for pid, entry in current.items():
        status = entry["status"]
        if status in FACTS_STATUSES:
            assert pid in facts, status
        elif pid in facts:
            others += 1
    assert 0 < others < len(persons) * 0.3
    for pid, f in facts.items():
        person, status = persons[pid], current[pid]["status"]
        assert set(FLAG_FIELDS) <= set(f)
        assert f["updated_by_id"] in users
        assert f["updated_at"].date() < TODAY
        if status == "duldung_ungeklaerte_identitaet":
            assert f["identity_clarified"] is False
        if f["asylum_application_date"] is not None:
            # After the arrival, up to three days before the Gestattung is certified (a
            # corrected entry may start up to 14 days later than first recorded).
            assert person["entry_date"] <= f["asylum_application_date"] <= gestattung[pid]
            assert (gestattung[pid] - f["asylum_application_date"]).days <= 3 + 14
        if f["reception_centre"]:
            assert status in ASYLUM | TOLERATED
            assert person["entry_date"] > TODAY - dt.timedelta(days=2 * 366)
        if f["work_ban_60a6"]:
            assert status in TOLERATED
            if status == "duldung":
                assert current[pid]["work_permission"] == "not_allowed"
        hours = f["weekly_hours_employed"]
        assert hours is None or 0 <= hours <= 80
        for name in ("employed_since", "training_since", "livelihood_secured_since"):
            assert f[name] is None or person["entry_date"] <= f[name] <= TODAY
        if f["livelihood_secured_since"] and f["employed_since"]:
            assert f["livelihood_secured_since"] >= f["employed_since"]
        if status in ("ausbildungsduldung", "ae_16g"):
            assert f["in_training"] is True and f["training_since"] is not None
        if status == "beschaeftigungsduldung":
            assert f["employed_since"] <= current[pid]["valid_from"] - dt.timedelta(days=365)
            assert hours is not None and hours >= 20
        if f["training_since"] is not None:
            assert f["in_training"] is True
    # Every field is left empty (not known) for some, and filled for others.
    for name in FLAG_FIELDS:
        values = [f[name] for f in facts.values()]
        assert any(v is None for v in values), name
        assert any(v is not None for v in values), name
    # Employment for § 60d: some tolerated persons reach twelve months within a year.
    reaching = [
        f
        for pid, f in facts.items()
        if current[pid]["status"] in ("duldung", "duldung_ermessen")
        and f["employed_since"]
        and TODAY - dt.timedelta(days=365) < f["employed_since"] < TODAY
    ]
    assert reaching
