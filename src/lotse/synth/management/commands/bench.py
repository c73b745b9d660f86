"""`lotse bench [--persons N] [--requests R] [--offers K] [--eligibility-persons M]
[--careers-participations P] [--analytics-persons A] [--only WHAT]`: page timings,
catalogue search timings, eligibility engine throughput, the measure-career scan and
the analytics, one line per figure."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone
from tqdm import tqdm

from lotse.offers.models import Offer
from lotse.people.models import Person
from lotse.synth import (
    analytics_bench,
    bench,
    careers_bench,
    eligibility_bench,
    loader,
    offers_bench,
)
from lotse.synth.management.commands.synth import synth_load

BENCH_SEED = 4242
BENCH_OFFERS = 10_000


class Command(BaseCommand):
    help = (
        "Benchmark the case list, a name search, the case page and a trivial view, the "
        "offer catalogue search, and the eligibility engine on synthetic fact sets. "
        "On SQLite it uses var/bench-<N>.sqlite3 and loads N synthetic persons (and K "
        "offers) into it if it holds fewer; with a PostgreSQL DATABASE_URL it measures "
        "that database as is. "
        "The eligibility figures need no database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--persons", type=int, default=10_000, help="Persons in the data.")
        parser.add_argument("--requests", type=int, default=200, help="Requests per figure.")
        parser.add_argument(
            "--use-configured-db",
            action="store_true",
            help="Measure the configured database as is, also on SQLite (no migrate, no load).",
        )
        parser.add_argument(
            "--eligibility-persons",
            type=int,
            default=100_000,
            help="Synthetic fact sets for the eligibility figures (built in memory).",
        )
        parser.add_argument(
            "--offers",
            type=int,
            default=BENCH_OFFERS,
            help="Offers in the bench database for the catalogue figures (topped up with "
            "synthetic catalogues of further seeds; not on a configured database).",
        )
        parser.add_argument(
            "--only",
            choices=["pages", "offers", "eligibility", "careers", "analytics"],
            default=None,
            help="Run only the page benchmark, only the catalogue search benchmark, only "
            "the eligibility benchmark (without any database) or only the measure-career "
            "scan, or only the analytics. Default: all.",
        )
        parser.add_argument(
            "--analytics-persons",
            type=int,
            default=1_000_000,
            help="Persons of the in-memory analytics snapshot (synthetic; the issue's "
            "figure: 1,000,000).",
        )
        parser.add_argument(
            "--careers-participations",
            type=int,
            default=1_000_000,
            help="Participations of the in-memory full measure-career scan (synthetic "
            "frames; the issue's figures: 1,000,000 and 10,000,000).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        persons: int = options["persons"]
        requests: int = options["requests"]
        eligibility: int = options["eligibility_persons"]
        offers: int = options["offers"]
        only: str | None = options["only"]
        sizes = (options["careers_participations"], options["analytics_persons"])
        if min(persons, requests, eligibility, offers, *sizes) < 1:
            raise CommandError(
                "--persons, --requests, --offers, --eligibility-persons, "
                "--careers-participations and --analytics-persons must be at least 1."
            )
        own_db = False
        if only != "eligibility":
            own_db = self._database(persons, options)
        if only in (None, "pages"):
            try:
                bench.run(requests=requests, out=self._out)
            except bench.BenchError as exc:
                raise CommandError(str(exc)) from None
        if only in (None, "offers"):
            self._offers(offers if own_db else None, requests)
        if only in (None, "eligibility"):
            self._eligibility(eligibility, progress=options["verbosity"] > 0)
        if only in (None, "careers"):
            careers_bench.run_scan(
                participations=options["careers_participations"], out=self._out, seed=BENCH_SEED
            )
            try:
                careers_bench.run_db(
                    samples=requests, out=self._out, today=timezone.localdate(), seed=BENCH_SEED
                )
            except bench.BenchError as exc:
                raise CommandError(str(exc)) from None
        if only in (None, "analytics"):
            analytics_bench.run_memory(
                persons=options["analytics_persons"], out=self._out, seed=BENCH_SEED
            )
            analytics_bench.run_db(out=self._out)

    def _out(self, figure: str, value: str) -> None:
        self.stdout.write(f"{figure}: {value}")

    def _eligibility(self, n: int, *, progress: bool) -> None:
        with tqdm(
            total=n,
            desc="eligibility fact sets",
            unit="persons",
            file=sys.stderr,
            disable=not progress,
        ) as bar:

            def advance(k: int) -> None:
                bar.update(k)
                if bar.n >= n:
                    bar.close()  # before the figures are printed

            eligibility_bench.run(
                n=n, seed=BENCH_SEED, today=timezone.localdate(), out=self._out, progress=advance
            )

    def _offers(self, total: int | None, requests: int) -> None:
        """The catalogue figures; first top the catalogue up to `total` offers (None: the
        configured database, measured as is)."""
        today = timezone.localdate()
        if total is not None and Offer.objects.count() < total:
            config = loader.config_from_db(persons=1, seed=BENCH_SEED + 1, today=today)
            start = time.perf_counter()
            added = loader.add_offers(config, total)
            self._out("catalogue_load_seconds", f"{time.perf_counter() - start:.1f}")
            self._out("catalogue_offers_added", str(added))
        try:
            offers_bench.run(requests=requests, out=self._out, today=today, seed=BENCH_SEED)
        except bench.BenchError as exc:
            raise CommandError(str(exc)) from None

    def _database(self, persons: int, options: dict[str, Any]) -> bool:
        """Prepare the database to measure; True if it is the command's own bench file."""
        sqlite = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
        own_db = sqlite and not options["use_configured_db"]
        out = self._out

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
        return own_db
