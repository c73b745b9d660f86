"""`lotse retention run [--dry-run] [--today YYYY-MM-DD]`: apply the retention periods.

Anonymises persons whose cases have all been closed longer than the period,
deletes documents of long-closed cases and writes a deletion record per person
(docs/privacy.md, "Retention and the access log"). `--dry-run` lists the person
ids and counts per record type and changes nothing. Exits 1 if any person failed.
"""

from __future__ import annotations

import datetime as dt
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _
from tqdm import tqdm

from lotse.core.management.args import iso_date
from lotse.core.models import RetentionPolicy
from lotse.privacy.retention import CLI, RetentionItem, retention_plan, retention_run

EXIT_FAILED = 1


def _counts(counts: dict[str, int]) -> str:
    shown = [f"{key}={value}" for key, value in sorted(counts.items()) if value]
    return ", ".join(shown) or "-"


class Command(BaseCommand):
    help = "Apply the retention periods: anonymise persons, delete documents of closed cases."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="anonymise and delete what is due")
        run.add_argument(
            "--dry-run", action="store_true", help="list what would happen; change nothing"
        )
        run.add_argument(
            "--today",
            type=iso_date,
            default=None,
            help="reference date (default: today), e.g. to catch up a missed run",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "run":
            self._run(options)

    def _line(self, item: RetentionItem, dry_run: bool) -> str:
        if item.policy == RetentionPolicy.CLOSED_CASES:
            what = _("anonymise") if dry_run else _("anonymised")
        else:
            what = _("delete documents") if dry_run else _("documents deleted")
        return _("person %(id)s: %(what)s (%(policy)s, %(days)s days): %(counts)s") % {
            "id": item.person_id,
            "what": what,
            "policy": item.policy,
            "days": item.period_days,
            "counts": _counts(item.counts),
        }

    def _run(self, options: dict[str, Any]) -> None:
        today: dt.date = options["today"] or timezone.localdate()
        dry_run: bool = options["dry_run"]
        plan = retention_plan(today=today)
        with tqdm(
            total=len(plan),
            desc=_("retention"),
            unit=_("persons"),
            file=sys.stderr,
            disable=options["verbosity"] < 1 or None,  # None: only on a terminal
        ) as bar:
            result = retention_run(
                today=today, dry_run=dry_run, run_by=CLI, plan=plan, progress=bar.update
            )
        if dry_run or options["verbosity"] > 1:
            for item in result.done():
                self.stdout.write(self._line(item, dry_run))
        for item in result.items:
            if item.skipped:
                self.stdout.write(
                    _("person %(id)s: skipped, no longer due") % {"id": item.person_id}
                )
        for item in result.failures:
            self.stderr.write(
                _("person %(id)s: failed (%(error)s); nothing was changed for this person")
                % {"id": item.person_id, "error": item.error}
            )
        params = {
            "today": today.isoformat(),
            "persons": len(result.done(RetentionPolicy.CLOSED_CASES)),
            "documents": result.total("documents"),
            "entries": result.total("access_log_entries"),
            "failed": len(result.failures),
        }
        if dry_run:
            summary = _(
                "Dry run as of %(today)s: %(persons)s persons would be anonymised, "
                "%(documents)s documents deleted, %(entries)s access log entries redacted. "
                "Nothing was changed."
            )
        else:
            summary = _(
                "Retention as of %(today)s: %(persons)s persons anonymised, "
                "%(documents)s documents deleted, %(entries)s access log entries redacted, "
                "%(failed)s failed."
            )
        self.stdout.write(summary % params)
        if result.failures:
            raise SystemExit(EXIT_FAILED)
