"""`lotse bench [--persons N] [--requests R]`: page timings, one line per figure."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from lotse.people.models import Person
from lotse.synth import bench
from lotse.synth.management.commands.synth import synth_load

BENCH_SEED = 4242


class Command(BaseCommand):
    help = (
        "Benchmark the case list, a name search, the case page and a trivial view. "
        "On SQLite it uses var/bench-<N>.sqlite3 and loads N synthetic persons into it "
        "if it holds fewer; with a PostgreSQL DATABASE_URL it measures that database as is."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--persons", type=int, default=10_000, help="Persons in the data.")
        parser.add_argument("--requests", type=int, default=200, help="Requests per figure.")
        parser.add_argument(
            "--use-configured-db",
            action="store_true",
            help="Measure the configured database as is, also on SQLite (no migrate, no load).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        persons: int = options["persons"]
        requests: int = options["requests"]
        if persons < 1 or requests < 1:
            raise CommandError("--persons and --requests must be at least 1.")
        sqlite = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
        own_db = sqlite and not options["use_configured_db"]

        def out(figure: str, value: str) -> None:
            self.stdout.write(f"{figure}: {value}")

        if own_db:
            path = bench.use_bench_sqlite(persons)
            call_command("migrate", interactive=False, verbosity=0)
            out("database", str(path))
            have = Person.objects.count()
            if have < persons:
                # Top up rather than start over, so a bigger N reuses a smaller run's data.
                counts, seconds = synth_load(
                    persons=persons - have,
                    seed=BENCH_SEED + have,
                    today=timezone.localdate(),
                    progress=options["verbosity"] > 0,
                    append=have > 0,
                )
                out("load_seconds", f"{seconds:.1f}")
                out("load_rows", str(sum(counts.values())))
        else:
            out("database", f"{connection.vendor} (configured, as is)")
        try:
            bench.run(requests=requests, out=out)
        except bench.BenchError as exc:
            raise CommandError(str(exc)) from None
