"""`lotse audit verify`: check the access log's hash chain (DESIGN §5.4).

Prints "ok: N entries" and exits 0, or "broken at entry #seq" (on stderr) and
exits 1, so cron jobs and monitoring can act on the exit code.
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from lotse.core.models import AccessLogEntry
from lotse.core.services import access_log_verify

EXIT_BROKEN = 1


class Command(BaseCommand):
    help = "Check the tamper evidence of the access log."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser(
            "verify", help="walk the hash chain; exit 1 at the first broken entry"
        )
        verify.add_argument("--batch-size", type=int, default=5000, help="entries read per query")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            self._verify(options)

    def _verify(self, options: dict[str, Any]) -> None:
        batch_size: int = options["batch_size"]
        if batch_size < 1:
            raise CommandError(_("--batch-size must be 1 or more."))
        total = AccessLogEntry.objects.count()
        checked = 0

        with tqdm(
            total=total,
            desc=_("access log"),
            unit=_("entries"),
            file=sys.stderr,
            disable=options["verbosity"] < 1 or None,  # None: only on a terminal
        ) as bar:

            def advance(count: int) -> None:
                nonlocal checked
                checked += count
                bar.update(count)

            ok, seq = access_log_verify(batch_size=batch_size, progress=advance)
        if ok:
            self.stdout.write(_("ok: %(count)s entries") % {"count": checked})
            return
        self.stderr.write(_("broken at entry #%(seq)s") % {"seq": seq})
        raise SystemExit(EXIT_BROKEN)
