"""`lotse alerts [--today YYYY-MM-DD] [--dry-run]`: transition alerts (issue #6).

Turns the transitions ahead of the persons of open cases (birthdays 21/25/27, end of
the residence status or document, benefit switch, end of a participation without a
next step) into follow-ups of the case managers; see `lotse.referrals.alerts`. Meant
to run daily (cron, systemd timer); a second run on the same data creates nothing.
Prints one line per follow-up (case and person ids, no names) and a summary; exits 1
if a case failed.
"""

from __future__ import annotations

import datetime as dt
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone
from tqdm import tqdm

from lotse.core.management.args import iso_date
from lotse.referrals.alerts import AlertItem, transition_alerts_plan, transition_alerts_run

EXIT_FAILED = 1


def _line(item: AlertItem) -> str:
    return (
        f"case {item.case_id} (person {item.person_id}): {item.kind} on "
        f"{item.event_date.isoformat()}, due {item.due_on.isoformat()}: {item.title}"
    )


class Command(BaseCommand):
    help = "Create follow-ups for the case managers from the transitions ahead (issue #6)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--today",
            type=iso_date,
            default=None,
            help="reference date (default: today), e.g. to catch up a missed run",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would be created; change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today: dt.date = options["today"] or timezone.localdate()
        dry_run: bool = options["dry_run"]
        plan = transition_alerts_plan(today=today)
        with tqdm(
            total=len(plan),
            desc="alerts",
            unit="cases",
            file=sys.stderr,
            disable=options["verbosity"] < 1 or None,  # None: only on a terminal
        ) as bar:
            result = transition_alerts_run(
                today=today, dry_run=dry_run, plan=plan, progress=bar.update
            )
        if options["verbosity"] > 0:
            for item in result.created:
                self.stdout.write(_line(item))
        for case_id, error in result.failed:
            self.stderr.write(f"case {case_id}: failed ({error}); nothing was created for it")
        kinds = ", ".join(f"{k}={n}" for k, n in sorted(result.by_kind().items())) or "-"
        verb = "would be created" if dry_run else "created"
        summary = (
            f"Transition alerts as of {today.isoformat()}: {len(result.created)} follow-ups "
            f"{verb} ({kinds}); {result.existing} alerted before"
        )
        if result.facts_errors:
            summary += f"; {result.facts_errors} persons with facts the engine cannot read"
        if result.failed:
            summary += f"; {len(result.failed)} cases failed"
        self.stdout.write(summary + (". Nothing was changed." if dry_run else "."))
        if result.failed:
            raise SystemExit(EXIT_FAILED)
