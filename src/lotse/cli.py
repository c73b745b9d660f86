"""The `lotse` command: a thin front for lotse's Django management commands.

`lotse demo`, `lotse synth`, `lotse bench`, `lotse token create` … are management
commands of the lotse apps; any other Django command (migrate, createsuperuser)
works too. Settings default to `dev` so the CLI runs on a fresh checkout.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lotse.config.settings.dev")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else ["lotse", *argv])
    args[0] = "lotse"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
