"""`lotse eligibility --facts FILE.json [--on YYYY-MM-DD]`: evaluate facts (DESIGN §6).

Prints the result JSON (indent 2, UTF-8), evaluated with the active rule set
(``LOTSE_ELIGIBILITY_RULES`` or the packaged one). Bad input — unreadable file,
malformed JSON, invalid facts or date — prints a message naming the field on stderr
and exits with code 2.

`lotse eligibility --check-rules DIR` compiles a rule directory (e.g. a
municipality's reviewed set before it is configured) and prints a summary: rules
per category, overlays, change dates and the digest. A file that cannot be
compiled prints the error (file and rule named) on stderr and exits with code 2.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError

from lotse.eligibility import FactsError, evaluate, parse_facts
from lotse.eligibility.engine import RuleSet, compile_rule_set
from lotse.eligibility.ruleset import active_rule_set


def _day(d: dt.date | None) -> str:
    return d.isoformat() if d else "open"


class Command(BaseCommand):
    help = (
        "Evaluate eligibility facts (JSON file) on a date and print the result JSON, "
        "or check a rule directory with --check-rules DIR."
    )
    # The system checks compile the configured rule set; --check-rules must work (and
    # name the error) exactly when that set is broken, so the command reports itself.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--facts",
            default=None,
            help="facts JSON file ('-' for stdin); required unless --check-rules is given",
        )
        parser.add_argument("--on", default=None, help="date YYYY-MM-DD (default: today)")
        parser.add_argument(
            "--check-rules",
            default=None,
            metavar="DIR",
            help="compile the rule files of DIR and print a summary (exit 2 on errors)",
        )

    def _fail(self, message: str) -> NoReturn:
        self.stderr.write(message)
        sys.exit(2)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["check_rules"]:
            self._check_rules(Path(options["check_rules"]))
            return
        if not options["facts"]:
            raise CommandError("--facts FILE.json is required (or --check-rules DIR)", returncode=2)
        self._evaluate(options["facts"], options["on"])

    def _check_rules(self, directory: Path) -> None:
        try:
            rs = compile_rule_set(directory)
        except (OSError, ValueError) as exc:
            self._fail(f"rule set {directory}: cannot be compiled: {exc}")
        self.stdout.write(self._summary(rs))

    def _summary(self, rs: RuleSet) -> str:
        meta = rs.meta
        lines = [f"rule set {rs.directory}: OK"]
        if meta:
            lines.append(
                "  {name} {version} ({publisher}); reviewed by: {reviewed} {on}".format(
                    name=meta.get("name", "?"),
                    version=meta.get("version", ""),
                    publisher=meta.get("publisher", ""),
                    reviewed=meta.get("reviewed_by") or "not reviewed",
                    on=meta.get("reviewed_on") or "",
                ).rstrip()
            )
        lines.append(f"  sha256 {rs.digest}")
        lines.append(f"  {len(rs.all_rules())} rules:")
        width = max(len(c) for c in rs.rules)
        for category, rules in rs.rules.items():
            lines.append(f"    {category:<{width}}  {len(rules)}")
        lines.append(f"  {len(rs.overlays)} overlays:")
        for o in rs.overlays:
            lines.append(
                f"    {o.id} ({o.category}, {o.file}): {_day(o.valid_from)} – {_day(o.valid_to)}"
            )
        lines.append(f"  {len(rs.change_dates)} change dates:")
        lines.append("    " + ", ".join(d.isoformat() for d in rs.change_dates))
        return "\n".join(lines)

    def _evaluate(self, path: str, on_text: str | None) -> None:
        on = dt.date.today()
        if on_text:
            try:
                on = dt.date.fromisoformat(on_text)
            except ValueError:
                self._fail(f"--on: not a valid date (YYYY-MM-DD): {on_text!r}")
        try:
            if path == "-":
                text = sys.stdin.read()
            else:
                with open(path, encoding="utf-8") as fh:
                    text = fh.read()
        except OSError as exc:
            self._fail(f"--facts: cannot read {path}: {exc.strerror}")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            self._fail(f"facts: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
        try:
            rule_set = active_rule_set()
        except (OSError, ValueError) as exc:
            self._fail(f"the configured rule set (LOTSE_ELIGIBILITY_RULES) is broken: {exc}")
        try:
            facts = parse_facts(data, rule_set.codes)
        except FactsError as exc:
            self._fail("invalid facts:\n" + "\n".join(f"  {k}: {v}" for k, v in exc.errors.items()))
        result = evaluate(facts, on, rule_set=rule_set)
        self.stdout.write(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
