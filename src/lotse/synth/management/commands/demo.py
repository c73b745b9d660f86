"""`lotse demo [--port 8000] [--no-serve] [--persons 300]`."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.utils import timezone

from lotse.people.models import Person
from lotse.synth.demo import DEMO_PERSONS, DEMO_SEED, demo_users, format_logins
from lotse.synth.management.commands.synth import synth_load


class Command(BaseCommand):
    help = (
        "Migrate the database, load the demo municipality if it holds no persons, "
        "create one demo user per role and serve on http://127.0.0.1:PORT."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="Port to serve on.")
        parser.add_argument(
            "--no-serve", action="store_true", help="Prepare everything but do not serve."
        )
        parser.add_argument(
            "--persons", type=int, default=DEMO_PERSONS, help="Persons in the demo data."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        call_command("migrate", interactive=False, verbosity=0)
        if Person.objects.exists():
            if verbosity:
                self.stdout.write(
                    f"The database already holds {Person.objects.count()} persons; "
                    "no demo data loaded."
                )
        else:
            counts, seconds = synth_load(
                persons=options["persons"],
                seed=DEMO_SEED,
                today=timezone.localdate(),
                progress=verbosity > 0,
            )
            if verbosity:
                self.stdout.write(
                    f"Loaded the demo municipality: {counts['person']} persons, "
                    f"{counts['case']} cases, {counts['organisation']} organisations "
                    f"in {seconds:.1f} s."
                )
        logins = demo_users()
        url = f"http://127.0.0.1:{options['port']}/"
        if verbosity:
            self.stdout.write("")
            self.stdout.write("Demo users:")
            for line in format_logins(logins):
                self.stdout.write(f"  {line}")
            self.stdout.write("")
            self.stdout.write(f"Database: {connection.vendor} {connection.settings_dict['NAME']}")
            self.stdout.write(f"Open {url} and log in as one of these users.")
        if not options["no_serve"]:
            call_command("runserver", f"127.0.0.1:{options['port']}", use_reloader=False)
