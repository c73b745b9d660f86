"""`lotse careers [--format text|json|csv] [--today YYYY-MM-DD] [--dry-run] [--rules FILE]`:
the measure-career scan (issue #6).

Scans every person with the active rules, set-based (``careers_scan``), stores the
flags (new ones raised on the person's open case, open ones no longer found cleared,
resolved ones left alone) and prints them to stdout: person id, rule, evidence key,
evidence — no names. ``--rules FILE`` tries a rule set from a JSON file (a list of
rules as ``careers_rules.rules_from_json`` reads them) and never stores. The summary
goes to stderr, so the output stays machine-readable. Meant to run nightly; the
services rescan a person on every change in between.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

import polars as pl
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from lotse.core.management.args import iso_date
from lotse.referrals.careers_rules import rules_from_json
from lotse.referrals.careers_services import SCAN_STAGES, careers_scan_all


class Command(BaseCommand):
    help = "Scan all persons for measure careers (issue #6), store and print the flags."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--format", choices=("text", "json", "csv"), default="text")
        parser.add_argument("--today", type=iso_date, default=None, help="reference date")
        parser.add_argument("--dry-run", action="store_true", help="print the flags; store nothing")
        parser.add_argument(
            "--rules",
            type=Path,
            default=None,
            help="JSON file with a rule set to try instead of the active rules (implies --dry-run)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today: dt.date = options["today"] or timezone.localdate()
        rules = None
        if options["rules"] is not None:
            try:
                rules = rules_from_json(options["rules"].read_text(encoding="utf-8"))
            except (OSError, ValueError, TypeError) as exc:
                raise CommandError(f"{options['rules']}: {exc}") from exc
        store = not options["dry_run"] and rules is None
        with tqdm(
            total=len(SCAN_STAGES) - (not store),
            desc="careers",
            unit="stage",
            file=sys.stderr,
            disable=options["verbosity"] < 1 or None,  # None: only on a terminal
        ) as bar:

            def stage(name: str) -> None:
                if bar.n or name != SCAN_STAGES[0]:
                    bar.update()
                bar.set_description(f"careers: {name}")

            frame, stored = careers_scan_all(today=today, rules=rules, store=store, stage=stage)
            bar.update()
        self._print(frame, options["format"])
        if options["verbosity"] > 0:
            counts = frame.group_by("rule").len().sort("rule").iter_rows()
            by_rule = ", ".join(f"{rule}={n}" for rule, n in counts) or "-"
            summary = f"Measure careers as of {today.isoformat()}: {frame.height} flags ({by_rule})"
            summary += f"; stored: {stored.summary()}." if stored else "; nothing stored."
            self.stderr.write(summary)

    def _print(self, frame: pl.DataFrame, fmt: str) -> None:
        columns = ("person_id", "rule", "evidence_key", "params", "evidence")
        if fmt == "csv":
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows(frame.select(columns).iter_rows())
        elif fmt == "json":
            self.stdout.write(
                json.dumps(
                    [
                        {
                            "person_id": pid,
                            "rule": rule,
                            "evidence_key": key,
                            "params": json.loads(params),
                            "evidence": json.loads(evidence),
                        }
                        for pid, rule, key, params, evidence in frame.select(columns).iter_rows()
                    ],
                    ensure_ascii=False,
                    indent=1,
                )
            )
        else:
            for pid, rule, key, _params, evidence in frame.select(columns).iter_rows():
                self.stdout.write(f"person {pid}: {rule} [{key}] {evidence}")
