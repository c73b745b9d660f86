"""`lotse synth --persons N --seed S [--out DIR | --load [--append] [--labels PATH]]
[--today YYYY-MM-DD] [--plant-share F]`."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone
from tqdm import tqdm

from lotse.people.models import Person
from lotse.synth import loader


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value}") from None


def parse_share(value: str) -> float:
    try:
        share = float(value)
    except ValueError:
        share = -1.0
    if not 0.0 <= share <= 1.0:
        raise CommandError(f"Not a share between 0 and 1: {value}")
    return share


def synth_load(
    *,
    persons: int,
    seed: int,
    today: dt.date,
    progress: bool = False,
    append: bool = False,
    plant_share: float | None = None,
    labels: list[dict[str, Any]] | None = None,
) -> tuple[dict[str, int], float]:
    """Load a synthetic municipality; returns row counts and seconds taken. ``labels``
    receives the labels of the planted patterns (with database ids)."""
    if not append and Person.objects.exists():
        raise CommandError(
            f"The database already holds {Person.objects.count()} persons. "
            "Use --append to add synthetic persons to them."
        )
    config = loader.config_from_db(persons=persons, seed=seed, today=today, plant_share=plant_share)
    start = time.perf_counter()
    with tqdm(
        total=persons,
        desc="generate and load",
        unit="persons",
        file=sys.stderr,
        disable=not progress,
    ) as bar:
        counts = loader.load(config, progress=bar.update, labels=labels)
    return counts, time.perf_counter() - start


class Command(BaseCommand):
    verbosity = 1
    help = "Generate a synthetic municipality (deterministic per seed) and load or write it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--persons", type=int, default=1000, help="Number of persons.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed.")
        parser.add_argument(
            "--today",
            type=parse_date,
            default=None,
            help="Reference date of the data (default: today). Same seed and date, same data.",
        )
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--out", type=Path, help="Write JSON lines per table into DIR.")
        target.add_argument("--load", action="store_true", help="Load into the database.")
        parser.add_argument(
            "--append",
            action="store_true",
            help="With --load: add to a database that already holds persons.",
        )
        parser.add_argument(
            "--plant-share",
            type=parse_share,
            default=None,
            help="Share of persons with a planted measure-career pattern or near miss "
            "(0 plants none; default: the generator's).",
        )
        parser.add_argument(
            "--labels",
            type=Path,
            default=None,
            help="With --load: write the labels of the planted patterns to PATH "
            "(JSON lines; --out writes them to DIR/career_labels.jsonl).",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not show a progress bar."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        persons: int = options["persons"]
        if persons < 1:
            raise CommandError("--persons must be at least 1.")
        today: dt.date = options["today"] or timezone.localdate()
        seed: int = options["seed"]
        self.verbosity = options["verbosity"]
        progress = not options["no_progress"] and self.verbosity > 0
        share: float | None = options["plant_share"]
        labels_path: Path | None = options["labels"]
        if options["load"]:
            labels: list[dict[str, Any]] = []
            counts, seconds = synth_load(
                persons=persons,
                seed=seed,
                today=today,
                progress=progress,
                append=options["append"],
                plant_share=share,
                labels=labels,
            )
            self._summary(counts, seconds, f"loaded into {connection.vendor}")
            if labels_path is not None:
                loader.write_labels(labels, labels_path)
                if self.verbosity:
                    self.stdout.write(f"{len(labels)} labels written to {labels_path}")
            return
        if options["append"]:
            raise CommandError("--append only goes with --load.")
        if labels_path is not None:
            raise CommandError("--labels only goes with --load (--out writes them to DIR).")
        config = loader.config_from_db(persons=persons, seed=seed, today=today, plant_share=share)
        start = time.perf_counter()
        with tqdm(
            total=persons,
            desc="generate",
            unit="persons",
            file=sys.stderr,
            disable=not progress,
        ) as bar:
            counts = loader.write(config, options["out"], progress=bar.update)
        self._summary(counts, time.perf_counter() - start, f"written to {options['out']}")

    def _summary(self, counts: dict[str, int], seconds: float, where: str) -> None:
        if self.verbosity == 0:
            return
        total = sum(counts.values())
        self.stdout.write(f"{total} rows {where} in {seconds:.1f} s")
        for name, count in counts.items():
            self.stdout.write(f"  {name:<24} {count:>9}")
