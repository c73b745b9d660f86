"""`lotse eligibility --facts FILE.json [--on YYYY-MM-DD]`: evaluate facts (DESIGN §6).

Prints the result JSON (indent 2, UTF-8). Bad input — unreadable file, malformed
JSON, invalid facts or date — prints a message naming the field on stderr and
exits with code 2.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from lotse.eligibility import FactsError, evaluate, parse_facts


class Command(BaseCommand):
    help = "Evaluate eligibility facts (JSON file) on a date and print the result JSON."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--facts", required=True, help="facts JSON file ('-' for stdin)")
        parser.add_argument("--on", default=None, help="date YYYY-MM-DD (default: today)")

    def _fail(self, message: str) -> None:
        self.stderr.write(message)
        sys.exit(2)

    def handle(self, *args: Any, **options: Any) -> None:
        on = dt.date.today()
        if options["on"]:
            try:
                on = dt.date.fromisoformat(options["on"])
            except ValueError:
                self._fail(f"--on: not a valid date (YYYY-MM-DD): {options['on']!r}")
        path = options["facts"]
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
            facts = parse_facts(data)
        except FactsError as exc:
            self._fail("invalid facts:\n" + "\n".join(f"  {k}: {v}" for k, v in exc.errors.items()))
        result = evaluate(facts, on)
        self.stdout.write(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
