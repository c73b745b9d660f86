"""Planted measure-career patterns of `lotse synth` (#6): chosen by a hash, deterministic,
labelled, and leaving the other persons' rows as they were."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from lotse.referrals.models import Participation, Referral
from lotse.synth import loader
from lotse.synth.generator import PERSON_TABLES, Config, Generator, Rows
from lotse.synth.loader import dump_row
from lotse.synth.participations import PLANTS, STORY_TABLES, plant_candidates

TODAY = dt.date(2026, 11, 21)
# Local ids of the story tables: they move when a planted person has more or fewer rows.
STORY_IDS = {"id", "referral_id", "consent_id"}


def _generate(persons: int, seed: int, share: float) -> tuple[Rows, list[dict[str, Any]]]:
    gen = Generator(Config(persons=persons, seed=seed, today=TODAY, plant_share=share))
    rows: Rows = {t: [] for t in PERSON_TABLES}
    for _n, chunk in gen.chunks():
        for name, items in chunk.items():
            rows[name].extend(items)
    rows["offer"] = gen.offers_occupied()
    return rows, gen.labels


@pytest.fixture(scope="module")
def planted() -> tuple[Rows, list[dict[str, Any]]]:
    return _generate(600, 11, 0.4)


@pytest.fixture(scope="module")
def unplanted() -> tuple[Rows, list[dict[str, Any]]]:
    return _generate(600, 11, 0.0)


def test_persons_are_chosen_by_a_hash_and_a_larger_share_only_adds() -> None:
    small = {pid for pid in range(1, 3001) if plant_candidates(5, pid, 0.1)}
    large = {pid for pid in range(1, 3001) if plant_candidates(5, pid, 0.3)}
    assert small < large
    assert 0.08 <= len(small) / 3000 <= 0.12
    assert plant_candidates(5, 17, 0.3) == plant_candidates(5, 17, 0.3)
    assert plant_candidates(5, 17, 0.0) == []
    firsts = Counter(c[0].rule for pid in large if (c := plant_candidates(5, pid, 0.3)))
    assert set(firsts) == set(PLANTS)
    # every rule is tried, in a rotated order
    assert {c.rule for c in plant_candidates(5, min(large), 0.3)} == set(PLANTS)


def test_planting_is_deterministic(planted: tuple[Rows, list[dict[str, Any]]]) -> None:
    rows, labels = planted
    again_rows, again_labels = _generate(600, 11, 0.4)
    assert again_labels == labels
    assert {t: [dump_row(r) for r in again_rows[t]] for t in STORY_TABLES} == {
        t: [dump_row(r) for r in rows[t]] for t in STORY_TABLES
    }


def test_labels_point_at_the_planted_rows(planted: tuple[Rows, list[dict[str, Any]]]) -> None:
    rows, labels = planted
    assert len({label["person_id"] for label in labels}) == len(labels)  # one each
    assert {label["rule"] for label in labels} == set(PLANTS)
    assert Counter(label["label"] for label in labels).keys() == {"positive", "decoy"}
    parts = {p["id"]: p for p in rows["participation"]}
    refs = {r["id"]: r for r in rows["referral"]}
    by_person: dict[int, set[int]] = {}
    for p in rows["participation"]:
        by_person.setdefault(p["person_id"], set()).add(p["id"])
    for label in labels:
        pid = label["person_id"]
        # the planted story is all the person took part in
        assert set(label["participation_ids"]) == by_person.get(pid, set())
        assert all(parts[i]["ended_on"] is not None for i in label["participation_ids"])
        assert all(refs[i]["person_id"] == pid for i in label["referral_ids"])
        assert label["note"]
        if label["rule"] == "waiting":
            assert label["referral_ids"]


def test_no_share_plants_nothing_and_the_others_stay_as_they_were(
    planted: tuple[Rows, list[dict[str, Any]]], unplanted: tuple[Rows, list[dict[str, Any]]]
) -> None:
    rows, labels = planted
    plain, none = unplanted
    assert none == []
    chosen = {label["person_id"] for label in labels}
    # Tables outside the stories do not see the planting at all.
    others = [t for t in PERSON_TABLES if t not in STORY_TABLES]
    assert {t: [dump_row(r) for r in rows[t]] for t in others} == {
        t: [dump_row(r) for r in plain[t]] for t in others
    }

    # The persons not planted keep their participations and referrals (but for the
    # local ids of the story tables, which count on past the planted persons' rows).
    def story(table: Rows, name: str) -> list[str]:
        return [
            dump_row({k: v for k, v in r.items() if k not in STORY_IDS})
            for r in table[name]
            if r["person_id"] not in chosen
        ]

    for name in ("participation", "referral", "referral_consent"):
        assert story(rows, name) == story(plain, name), name


@pytest.mark.django_db
def test_out_writes_the_labels(tmp_path: Path) -> None:
    out = tmp_path / "seed"
    call_command(
        "synth",
        "--persons",
        "300",
        "--seed",
        "11",
        "--out",
        str(out),
        "--today",
        TODAY.isoformat(),
        "--plant-share",
        "0.3",
        "--no-progress",
        stdout=StringIO(),
    )
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    labels = loader.read_labels(out / manifest["labels"]["file"])
    assert manifest["labels"]["count"] == len(labels) > 0
    assert manifest["plant_share"] == 0.3
    _rows, expected = _generate(300, 11, 0.3)
    assert labels == expected
    with (out / "participation.jsonl").open(encoding="utf-8") as fh:
        owner = {row["id"]: row["person_id"] for row in map(json.loads, fh)}
    assert all(
        owner[i] == label["person_id"] for label in labels for i in label["participation_ids"]
    )


@pytest.mark.django_db
def test_load_writes_the_labels_with_database_ids(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    call_command(
        "synth",
        "--persons",
        "80",
        "--seed",
        "3",
        "--load",
        "--labels",
        str(path),
        "--plant-share",
        "0.5",
        "--today",
        TODAY.isoformat(),
        "--no-progress",
        stdout=StringIO(),
    )
    labels = loader.read_labels(path)
    assert labels
    for label in labels:
        ids = set(
            Participation.objects.filter(person_id=label["person_id"]).values_list("id", flat=True)
        )
        assert ids == set(label["participation_ids"])
        assert all(
            Referral.objects.filter(pk=i, person_id=label["person_id"]).exists()
            for i in label["referral_ids"]
        )


def test_labels_only_with_load(tmp_path: Path) -> None:
    with pytest.raises(CommandError):
        call_command(
            "synth", "--persons", "5", "--out", str(tmp_path), "--labels", str(tmp_path / "x")
        )
    with pytest.raises(CommandError):
        call_command("synth", "--persons", "5", "--out", str(tmp_path), "--plant-share", "2")
