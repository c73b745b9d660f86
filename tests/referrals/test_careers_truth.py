"""Ground truth for the measure-career detection (#6): `lotse synth` plants each rule's
pattern (positives) and near misses (decoys) in a known share of persons and labels
them; the full scan over the loaded database must find the positives and leave the
decoys alone — precision and recall at least 0.95 per rule and overall.

Only labelled persons are measured: the drawn stories of the other persons may show
the patterns by themselves (that is what the detection is for), so they are neither
positives nor decoys. A person carries one label, for one rule; a flag of another
rule on a planted person is not counted."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from typing import Any

import pytest

from lotse.referrals.careers_rules import default_rules
from lotse.referrals.careers_scan import load_frames, scan
from lotse.synth import loader
from lotse.synth.management.commands.synth import synth_load
from lotse.synth.participations import PLANTS

TODAY = dt.date(2026, 11, 21)
PERSONS = 2000
SEED = 11
MINIMUM = 0.95


def _measure(labels: list[dict[str, Any]], flagged: set[tuple[int, str]]) -> dict[str, Counter]:
    out: dict[str, Counter] = {rule: Counter() for rule in [*PLANTS, "all"]}
    for label in labels:
        hit = (label["person_id"], label["rule"]) in flagged
        positive = label["label"] == "positive"
        key = ("TP" if hit else "FN") if positive else ("FP" if hit else "TN")
        for rule in (label["rule"], "all"):
            out[rule]["positives" if positive else "decoys"] += 1
            out[rule][key] += 1
    return out


def _ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


@pytest.mark.django_db
def test_scan_finds_the_planted_patterns(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    labels: list[dict[str, Any]] = []
    synth_load(persons=PERSONS, seed=SEED, today=TODAY, labels=labels)
    loaded = time.perf_counter()
    flags = scan(load_frames(), default_rules(), TODAY)
    scanned = time.perf_counter()
    flagged = set(zip(flags["person_id"].to_list(), flags["rule"].to_list(), strict=True))
    # The labels point at rows that were loaded.
    assert {label["rule"] for label in labels} == set(PLANTS)
    assert all(label["participation_ids"] or label["referral_ids"] for label in labels)
    stats = _measure(labels, flagged)

    lines = [
        f"ground truth of the measure-career scan: {PERSONS} persons, seed {SEED}, "
        f"today {TODAY}; load {loaded - started:.1f} s, scan {scanned - loaded:.1f} s",
        f"{'rule':<16}{'pos':>5}{'decoy':>6}{'TP':>5}{'FP':>4}{'FN':>4}{'prec':>7}{'recall':>7}",
    ]
    for rule, st in stats.items():
        precision = _ratio(st["TP"], st["TP"] + st["FP"])
        recall = _ratio(st["TP"], st["TP"] + st["FN"])
        lines.append(
            f"{rule:<16}{st['positives']:>5}{st['decoys']:>6}{st['TP']:>5}{st['FP']:>4}"
            f"{st['FN']:>4}{precision:>7.3f}{recall:>7.3f}"
        )
    with capsys.disabled():
        print("\n" + "\n".join(lines))

    for rule, st in stats.items():
        assert st["positives"] >= 20 and st["decoys"] >= 10, rule
        assert _ratio(st["TP"], st["TP"] + st["FP"]) >= MINIMUM, rule
        assert _ratio(st["TP"], st["TP"] + st["FN"]) >= MINIMUM, rule


def test_labels_file_round_trips(tmp_path: Any) -> None:
    labels = [
        {
            "person_id": 1,
            "rule": "gap",
            "label": "decoy",
            "participation_ids": [3, 4],
            "referral_ids": [],
            "note": "gaps of 40–85 days only",
        }
    ]
    path = tmp_path / "labels.jsonl"
    loader.write_labels(labels, path)
    assert loader.read_labels(path) == labels
