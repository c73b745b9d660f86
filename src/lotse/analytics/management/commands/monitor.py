"""`lotse monitor export|merge`: the state monitoring data set (issue #7).

``lotse monitor export [--format json|csv] [--out FILE] [--today D] [--from D --to D]
[--municipality AGS --name NAME]`` computes the municipality's aggregates from the
pseudonymised snapshot of ``--today`` (the reference date, default today) for the
period ``--from`` … ``--to`` (default: the four quarters up to the reference date),
protected by the disclosure control, and writes them as JSON (schema
``analytics/monitor_schema.json``) or CSV (long format). The key and name of the
municipality come from the settings ``LOTSE_MUNICIPALITY_CODE`` /
``LOTSE_MUNICIPALITY_NAME`` where set, else from the options. Each export is recorded
in the access log as one aggregate export, without a person.

``lotse monitor merge FILE... [--format json|csv] [--out FILE] [--name NAME]`` reads
JSON exports of several municipalities and writes the merged state picture
(``monitor.merge``).

Progress and the summary go to stderr, the data to stdout or ``--out``. Any error
(unreadable or invalid file, wrong key, impossible period, exports that cannot be
merged) is printed on stderr in the active language (German by default) and exits
with code 2; nothing is written then.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _
from tqdm import tqdm

from lotse.analytics import monitor, snapshot
from lotse.core.management.args import iso_date


class Command(BaseCommand):
    help = "State monitoring: export the municipality's aggregates, or merge exports."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{export,merge}")
        ex = actions.add_parser("export", help="export this municipality's aggregates")
        ex.add_argument("--format", choices=("json", "csv"), default="json")
        ex.add_argument("--out", type=Path, default=None, help="file to write (default: stdout)")
        ex.add_argument(
            "--today", type=iso_date, default=None, metavar="YYYY-MM-DD", help="reference date"
        )
        ex.add_argument(
            "--from", dest="start", type=iso_date, metavar="YYYY-MM-DD", help="period start"
        )
        ex.add_argument("--to", dest="end", type=iso_date, metavar="YYYY-MM-DD", help="period end")
        ex.add_argument(
            "--municipality", default=None, metavar="AGS", help="official municipality key"
        )
        ex.add_argument("--name", default=None, help="name of the municipality")
        mg = actions.add_parser("merge", help="merge JSON exports of several municipalities")
        mg.add_argument("files", nargs="+", type=Path, metavar="FILE")
        mg.add_argument("--format", choices=("json", "csv"), default="json")
        mg.add_argument("--out", type=Path, default=None, help="file to write (default: stdout)")
        mg.add_argument("--name", default="", help="name of the merged area, e.g. the Land")

    def _fail(self, message: str) -> NoReturn:
        self.stderr.write(message)
        sys.exit(2)

    def handle(self, *args: Any, **options: Any) -> None:
        run = self._export if options["action"] == "export" else self._merge
        try:
            data = run(options)
        except monitor.MonitorError as exc:
            self._fail("\n".join(exc.messages))
        text = monitor.to_csv(data) if options["format"] == "csv" else monitor.to_json(data)
        if options["out"] is None:
            self.stdout.write(text, ending="")
        else:
            try:
                with open(options["out"], "w", encoding="utf-8", newline="") as fh:
                    fh.write(text)
            except OSError as exc:
                self._fail(
                    _("%(file)s: cannot be written: %(error)s")
                    % {"file": options["out"], "error": exc.strerror}
                )
        if options["verbosity"] > 0:
            withheld, total = monitor.figures(data)
            self.stderr.write(
                _(
                    "Monitoring data %(area)s %(name)s as of %(day)s: %(tables)d tables, "
                    "%(withheld)d of %(figures)d figures withheld."
                )
                % {
                    "area": data["area"]["code"] or "-",
                    "name": data["area"]["name"],
                    "day": data["reference_date"],
                    "tables": len(data["tables"]),
                    "withheld": withheld,
                    "figures": total,
                }
            )

    def _export(self, options: dict[str, Any]) -> dict[str, Any]:
        code, name = monitor.municipality_configured(options["municipality"], options["name"])
        today: dt.date = options["today"] or timezone.localdate()
        start, end = monitor.default_period(today)
        start, end = options["start"] or start, options["end"] or end
        stages = ("snapshot", "tables and disclosure control")
        with tqdm(
            total=len(stages),
            desc="monitor",
            unit="stage",
            file=sys.stderr,
            disable=options["verbosity"] < 1 or None,  # None: only on a terminal
        ) as bar:
            bar.set_description(f"monitor: {stages[0]}")
            # Checked before the snapshot is built: a wrong period fails at once.
            monitor.check_period(start, end, today)
            snap = snapshot.current(on=today)
            bar.update()
            bar.set_description(f"monitor: {stages[1]}")
            data = monitor.export_logged(
                actor=None,
                code=code,
                name=name,
                today=today,
                period_start=start,
                period_end=end,
                snap=snap,
            )
            bar.update()
        return data

    def _merge(self, options: dict[str, Any]) -> dict[str, Any]:
        datasets = []
        for path in options["files"]:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) else str(exc)
                raise monitor.MonitorError(
                    _("%(file)s: cannot be read: %(error)s") % {"file": path, "error": reason}
                ) from exc
            try:
                datasets.append(json.loads(text))
            except json.JSONDecodeError as exc:
                raise monitor.MonitorError(
                    _("%(file)s: not valid JSON (line %(line)d, column %(column)d): %(error)s")
                    % {"file": path, "line": exc.lineno, "column": exc.colno, "error": exc.msg}
                ) from exc
        return monitor.merge(datasets, name=options["name"])
