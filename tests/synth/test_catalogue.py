"""The synthetic offer catalogue: fixed size, deterministic, valid, plausible, loaded."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from io import StringIO

import pytest
from django.core.management import call_command

from lotse.offers.codes import FieldOfAction, Funding, Level, OfferCategory
from lotse.people.codes import CefrLevel, Language, ResidenceStatus
from lotse.synth import catalogue, pools
from lotse.synth.generator import (
    OFFER_TABLES,
    STORY_TABLES,
    Config,
    Generator,
    Rows,
    default_need_types,
    generate_all,
)
from lotse.synth.loader import dump_row

TODAY = dt.date(2026, 11, 21)


def offers_of(seed: int, persons: int = 30, today: dt.date = TODAY) -> Rows:
    return Generator(Config(persons=persons, seed=seed, today=today)).offers()


def _dump(rows: Rows) -> dict[str, list[str]]:
    return {name: [dump_row(r) for r in items] for name, items in rows.items()}


@pytest.fixture(scope="module")
def rows() -> Rows:
    return generate_all(Config(persons=200, seed=11, today=TODAY))


def test_about_150_offers_whatever_the_number_of_persons(rows: Rows) -> None:
    assert len(rows["offer"]) == catalogue.CATALOGUE_SIZE
    assert 140 <= catalogue.CATALOGUE_SIZE <= 160
    few = offers_of(11, persons=5)
    many = offers_of(11, persons=1500)
    assert _dump(few) == _dump(many)
    # The persons' participations set the places taken (and when they last changed).
    assert _dump({t: rows[t] for t in OFFER_TABLES}) == _dump(
        {
            "offer": [
                {**o, "occupied": row["occupied"], "updated_at": row["updated_at"]}
                for o, row in zip(few["offer"], rows["offer"], strict=True)
            ],
            "offer_need_type": few["offer_need_type"],
        }
    )


def test_deterministic_for_a_seed() -> None:
    assert _dump(offers_of(3)) == _dump(offers_of(3))
    assert _dump(offers_of(3))["offer"] != _dump(offers_of(4))["offer"]
    later = offers_of(3, today=TODAY + dt.timedelta(days=30))
    assert [o["starts_on"] for o in later["offer"]] != [
        o["starts_on"] for o in offers_of(3)["offer"]
    ]


def test_offers_have_their_own_random_stream(rows: Rows, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the offers every other table of the seed is byte for byte the same (but
    the participation histories: they take places in the offers)."""
    monkeypatch.setattr(catalogue.Catalogue, "rows", lambda self: {t: [] for t in OFFER_TABLES})
    without = generate_all(Config(persons=200, seed=11, today=TODAY))
    assert without["offer"] == [] and rows["offer"]
    others = [t for t in rows if t not in OFFER_TABLES and t not in STORY_TABLES]
    assert {t: _dump(without)[t] for t in others} == {t: _dump(rows)[t] for t in others}


def test_every_offer_is_valid(rows: Rows) -> None:
    orgs = {o["id"]: o for o in rows["organisation"]}
    districts = {d["id"] for d in rows["district"]}
    need_codes = {n.code for n in default_need_types()}
    statuses = {s.value for s in ResidenceStatus}
    languages = {c.value for c in Language}
    not_providers = {"abh", "sozialamt", "jugendamt"}
    keys = {spec.name: spec.key for spec in pools.ORGANISATIONS}
    ids = [o["id"] for o in rows["offer"]]
    assert ids == list(range(1, len(ids) + 1))
    for o in rows["offer"]:
        assert o["provider_id"] in orgs
        assert keys[orgs[o["provider_id"]]["name"]] not in not_providers
        assert o["district_id"] in districts
        assert o["title"] and len(o["title"]) <= 200 and o["description"]
        assert o["category"] in OfferCategory.values
        assert o["field_of_action"] in FieldOfAction.values
        assert o["funding"] in Funding.values
        assert o["level"] in Level.values
        assert o["german_min"] == "" or o["german_min"] in CefrLevel.values
        assert set(o["statuses"]) <= statuses
        assert o["languages"][0] == "de" and set(o["languages"]) <= languages
        assert len(set(o["languages"])) == len(o["languages"])
        # Places taken: the participations running in the offer (test_participations).
        if o["capacity"] is not None:
            assert o["capacity"] >= 1 and 0 <= o["occupied"] <= o["capacity"]
        else:
            assert o["occupied"] >= 0
        if o["starts_on"] and o["ends_on"]:
            assert o["ends_on"] >= o["starts_on"]
        if o["age_min"] is not None and o["age_max"] is not None:
            assert o["age_min"] <= o["age_max"]
        assert o["contact_email"].endswith(".auental.example") and "@" in o["contact_email"]
        assert o["created_at"] <= o["updated_at"]
        assert o["updated_at"].date() < TODAY
        assert len(o["schedule"]) <= 200 and len(o["address"]) <= 200
        assert len(o["prerequisites"]) <= 300 and len(o["cost_note"]) <= 200
    links = rows["offer_need_type"]
    assert {n["need_type"] for n in links} <= need_codes
    assert {n["offer_id"] for n in links} <= set(ids)
    assert len({(n["offer_id"], n["need_type"]) for n in links}) == len(links)


def test_search_text_is_what_the_selector_builds(rows: Rows) -> None:
    orgs = {o["id"]: o for o in rows["organisation"]}
    names = {n.code: n.name for n in default_need_types()}
    needs: dict[int, list[str]] = defaultdict(list)
    for n in rows["offer_need_type"]:
        needs[n["offer_id"]].append(names[n["need_type"]])
    for o in rows["offer"]:
        provider = orgs[o["provider_id"]]
        expected = catalogue.search_text(
            title=o["title"],
            description=o["description"],
            prerequisites=o["prerequisites"],
            provider_name=provider["name"],
            provider_short_name=provider["short_name"],
            address=o["address"],
            need_names=needs[o["id"]],
        )
        assert o["search_text"] == expected
        assert o["search_text"] == o["search_text"].lower().strip()


def test_categories_and_proportions_are_plausible(rows: Rows) -> None:
    offers = rows["offer"]
    n = len(offers)
    categories = Counter(o["category"] for o in offers)
    assert set(categories) == set(OfferCategory.values)
    assert categories["integrationskurs"] >= 15 and categories["berufssprachkurs"] >= 10
    assert categories["beratung"] >= 20 and categories["ausbildung"] >= 8
    assert categories["bvb"] >= 3 and categories["eq"] >= 3 and categories["asa_flex"] >= 2
    language = sum(categories[c] for c in ("integrationskurs", "berufssprachkurs", "sprachkurs"))
    assert 0.25 <= language / n <= 0.45
    # Dates around today: some ended, many running, some starting soon, rolling entry.
    ended = [o for o in offers if o["ends_on"] and o["ends_on"] < TODAY]
    soon = [o for o in offers if o["starts_on"] and o["starts_on"] > TODAY]
    running = [
        o
        for o in offers
        if o["starts_on"]
        and o["starts_on"] <= TODAY
        and (o["ends_on"] is None or o["ends_on"] >= TODAY)
    ]
    assert 0.03 * n <= len(ended) <= 0.2 * n
    assert 0.15 * n <= len(soon) <= 0.5 * n
    assert len(running) >= 0.3 * n
    assert 0.3 * n <= sum(o["rolling_entry"] for o in offers) <= 0.7 * n
    # Review overdue for about one in ten.
    outdated = [o for o in offers if o["review_due"] < TODAY]
    assert 0.04 * n <= len(outdated) <= 0.2 * n
    # Places: some full, most courses 12–25 places; restrictions for a few.
    courses = [o for o in offers if o["category"] in ("integrationskurs", "berufssprachkurs")]
    assert all(12 <= o["capacity"] <= 25 for o in courses)
    assert 3 <= sum(1 for o in offers if o["statuses"]) <= 0.15 * n
    assert any(o["childcare"] for o in offers)
    assert any(len(o["languages"]) > 1 for o in offers)
    assert sum(1 for o in offers if o["is_active"]) >= 0.9 * n
    assert len({o["district_id"] for o in offers}) >= 8
    assert len({o["provider_id"] for o in offers}) >= 18


def test_constraints_and_needs_fit_the_category(rows: Rows) -> None:
    needs: dict[int, set[str]] = defaultdict(set)
    for n in rows["offer_need_type"]:
        needs[n["offer_id"]].add(n["need_type"])
    level_need = {"A1": "deutsch_a1", "A2": "deutsch_a2", "B1": "deutsch_b1"}
    level_need |= {"B2": "deutsch_b2", "C1": "deutsch_c1"}
    language_categories = ("integrationskurs", "berufssprachkurs", "sprachkurs")
    for o in rows["offer"]:
        assert needs[o["id"]], o["title"]
        if o["category"] in language_categories:
            assert o["field_of_action"] == "language"
            if o["level"]:
                assert level_need[o["level"]] in needs[o["id"]], o["title"]
        if o["category"] in ("integrationskurs", "berufssprachkurs"):
            assert o["funding"] == "bamf"
        if o["category"] == "berufssprachkurs":
            assert o["german_min"] in ("A2", "B1", "B2")
        if o["category"] in ("bvb", "eq", "asa_flex", "ausbildung", "produktionsschule"):
            assert o["field_of_action"] == "training"
        if o["category"] == "bvb":
            assert o["age_max"] is not None and o["age_max"] < 25
        if o["title"].startswith("Jugendintegrationskurs"):
            assert (o["age_min"], o["age_max"]) == (16, 27)
        if o["category"] == "ausbildung":
            assert "ausbildungsplatz" in needs[o["id"]] and o["capacity"] <= 3
        if o["category"] == "beratung":
            assert o["capacity"] is None
    for o in rows["offer"]:
        if o["title"].startswith("Migrationsberatung für Erwachsene"):
            assert o["age_min"] == 27
        if o["title"].startswith("Jugendmigrationsdienst"):
            assert (o["age_min"], o["age_max"]) == (12, 27)


# --- loading ----------------------------------------------------------------------


@pytest.mark.django_db
def test_load_writes_the_catalogue_once() -> None:
    from lotse.offers.models import Offer
    from lotse.offers.selectors import CatalogueFilters, catalogue, offer_search_text

    out = StringIO()
    args = ["--today", TODAY.isoformat(), "--no-progress"]
    call_command("synth", "--persons", "40", "--seed", "5", "--load", *args, stdout=out)
    assert "offer" in out.getvalue()
    assert Offer.objects.count() == catalogue_size()
    links = Offer.need_types.through.objects.count()
    assert links >= Offer.objects.count()
    for offer in Offer.objects.select_related("provider").prefetch_related("need_types"):
        through = Offer.need_types.through.objects.filter(offer=offer).order_by("pk")
        names = [t.needtype.name for t in through.select_related("needtype")]
        assert offer.search_text == offer_search_text(offer, names)
        offer.full_clean(validate_unique=False, validate_constraints=False)
    # Historic timestamps, not the time of loading.
    oldest = Offer.objects.order_by("created_at").first()
    assert oldest is not None and oldest.created_at.date() < TODAY
    # The selector finds them.
    found = catalogue(CatalogueFilters(q="integrationskurs"), today=TODAY)
    assert found.exists()
    assert catalogue(CatalogueFilters(category="beratung"), today=TODAY).count() >= 20
    # Appending persons leaves the catalogue as it is.
    call_command(
        "synth", "--persons", "10", "--seed", "6", "--load", "--append", *args, stdout=StringIO()
    )
    assert Offer.objects.count() == catalogue_size()
    assert Offer.need_types.through.objects.count() == links


def catalogue_size() -> int:
    return catalogue.CATALOGUE_SIZE


@pytest.mark.django_db
def test_add_offers_tops_the_catalogue_up() -> None:
    from lotse.offers.models import Offer
    from lotse.synth.loader import add_offers, config_from_db

    call_command(
        "synth",
        "--persons",
        "10",
        "--seed",
        "5",
        "--load",
        "--today",
        TODAY.isoformat(),
        "--no-progress",
        stdout=StringIO(),
    )
    config = config_from_db(persons=1, seed=100, today=TODAY)
    assert add_offers(config, 400) == 400 - catalogue_size()
    assert Offer.objects.count() == 400
    assert add_offers(config, 300) == 0
    # Every offer's needs came along (the last catalogue was cut short with its links).
    assert not Offer.objects.filter(need_types__isnull=True).exists()
    assert Offer.objects.values("provider").distinct().count() >= 18
