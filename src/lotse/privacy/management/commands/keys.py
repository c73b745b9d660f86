"""`lotse keys generate|rotate|check`: the keys of text encrypted at rest (DESIGN §5.5).

- ``generate`` prints a new key for LOTSE_FIELD_KEYS.
- ``rotate`` re-encrypts every value of every encrypted field that is not yet
  encrypted with the primary (first) key — values under an older key and plain
  legacy values — in batches, each batch in its own transaction with its rows
  locked; ``--dry-run`` only counts. Rotation can be interrupted and rerun.
- ``check`` verifies that every stored value decrypts with the configured keys and
  lists the rows that do not, by model and id (never their content).

Rotating a key: put the new key first (``LOTSE_FIELD_KEYS=new,old``), restart the
application, run ``lotse keys rotate``, then remove the old key.
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils.translation import gettext as _
from tqdm import tqdm

from lotse.privacy import crypto
from lotse.privacy.crypto import Stored
from lotse.privacy.fields import EncryptedTextField

BATCH_SIZE = 1000
LIST_LIMIT = 100  # undecryptable rows listed by id; a wrong key would list every row


def encrypted_fields() -> list[tuple[type[models.Model], EncryptedTextField]]:
    """Every concrete encrypted field of every installed model."""
    return [
        (model, f)
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
        for f in model._meta.concrete_fields
        if isinstance(f, EncryptedTextField)
    ]


@dataclass
class KeysReport:
    counts: Counter[Stored] = field(default_factory=Counter)
    undecryptable: list[tuple[str, Any]] = field(default_factory=list)  # (model label, pk)

    @property
    def to_write(self) -> int:
        return self.counts[Stored.OLD_KEY] + self.counts[Stored.PLAIN]


def _rotate_field(
    model: type[models.Model],
    f: EncryptedTextField,
    report: KeysReport,
    *,
    keys: tuple[str, ...],
    dry_run: bool,
    batch_size: int,
    progress: Callable[[int], object] | None,
) -> None:
    """Walk the raw stored values in primary-key order, batch by batch; each batch is
    read, locked (SELECT … FOR UPDATE where the database has it) and written in one
    transaction, so a concurrent edit is never overwritten with an older text."""
    qn = connection.ops.quote_name
    pk_field = model._meta.pk
    assert pk_field is not None and pk_field.column and f.column
    table, column, pk = qn(model._meta.db_table), qn(f.column), qn(pk_field.column)
    lock = " FOR UPDATE" if not dry_run and connection.features.has_select_for_update else ""
    # Names come from the model's metadata and are quoted; values are parameters.
    first = f"SELECT {pk}, {column} FROM {table} ORDER BY {pk} LIMIT {batch_size:d}{lock}"  # noqa: S608
    after = (
        f"SELECT {pk}, {column} FROM {table} WHERE {pk} > %s "  # noqa: S608
        f"ORDER BY {pk} LIMIT {batch_size:d}{lock}"
    )
    update = f"UPDATE {table} SET {column} = %s WHERE {pk} = %s"  # noqa: S608
    last: Any = None
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            if last is None:
                cursor.execute(first)
            else:
                cursor.execute(after, [last])
            rows = cursor.fetchall()
            if not rows:
                return
            last = rows[-1][0]
            changes = []
            for row_pk, stored in rows:
                status, new = crypto.rotate(stored, keys)
                report.counts[status] += 1
                if status is Stored.UNDECRYPTABLE:
                    report.undecryptable.append((model._meta.label, row_pk))
                elif new is not None:
                    changes.append((new, row_pk))
            if changes and not dry_run:
                cursor.executemany(update, changes)
        if progress is not None:
            progress(len(rows))


def field_keys_rotate(
    *,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], object] | None = None,
) -> KeysReport:
    """(Re-)encrypt every stored value that is not under the primary key."""
    keys = crypto.configured_keys()
    crypto.validate_keys(keys)
    report = KeysReport()
    for model, f in encrypted_fields():
        _rotate_field(
            model,
            f,
            report,
            keys=keys,
            dry_run=dry_run,
            batch_size=batch_size,
            progress=progress,
        )
    return report


def field_keys_check(
    *, batch_size: int = BATCH_SIZE, progress: Callable[[int], object] | None = None
) -> KeysReport:
    """What every stored value is; undecryptable ones are listed by model and id."""
    return field_keys_rotate(dry_run=True, batch_size=batch_size, progress=progress)


def _total_rows() -> int:
    return sum(model._base_manager.count() for model, _f in encrypted_fields())


class Command(BaseCommand):
    help = "Generate keys for encrypted text, rotate to the primary key, check stored values."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("generate", help="print a new key for LOTSE_FIELD_KEYS")
        rotate = sub.add_parser(
            "rotate", help="re-encrypt every value with the primary (first) key"
        )
        rotate.add_argument("--dry-run", action="store_true", help="only count, change nothing")
        check = sub.add_parser("check", help="verify every value decrypts with the keys")
        for p in (rotate, check):
            p.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="rows per batch")
            p.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "generate":
            self.stdout.write(crypto.generate_key())
            return
        if options["batch_size"] < 1:
            raise CommandError(_("--batch-size must be at least 1."))
        try:
            crypto.validate_keys(crypto.configured_keys())
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        show = not options["no_progress"] and options["verbosity"] > 0
        with tqdm(
            total=_total_rows() if show else None,
            desc=_("rotate") if action == "rotate" else _("check"),
            unit=_("rows"),
            file=sys.stderr,
            disable=not show,
        ) as bar:
            if action == "rotate":
                report = field_keys_rotate(
                    dry_run=options["dry_run"],
                    batch_size=options["batch_size"],
                    progress=bar.update,
                )
            else:
                report = field_keys_check(batch_size=options["batch_size"], progress=bar.update)
        if action == "rotate":
            self._rotate_summary(report, dry_run=options["dry_run"])
        else:
            self._check_summary(report)
        self._fail_on_undecryptable(report)

    def _rotate_summary(self, report: KeysReport, *, dry_run: bool) -> None:
        counts = report.counts
        values = {
            "written": report.to_write,
            "old": counts[Stored.OLD_KEY],
            "plain": counts[Stored.PLAIN],
            "current": counts[Stored.CURRENT],
            "empty": counts[Stored.EMPTY],
        }
        if dry_run:
            message = _(
                "Dry run: %(written)s values would be re-encrypted with the primary key "
                "(%(old)s under an older key, %(plain)s not encrypted yet); "
                "%(current)s already current, %(empty)s empty."
            )
        else:
            message = _(
                "%(written)s values re-encrypted with the primary key "
                "(%(old)s were under an older key, %(plain)s were not encrypted yet); "
                "%(current)s already current, %(empty)s empty."
            )
        self.stdout.write(message % values)

    def _check_summary(self, report: KeysReport) -> None:
        counts = report.counts
        self.stdout.write(
            _(
                "%(ok)s values decrypt with the configured keys (%(current)s with the primary "
                "key, %(old)s with an older one), %(empty)s empty, %(bad)s cannot be decrypted."
            )
            % {
                "ok": counts[Stored.CURRENT] + counts[Stored.OLD_KEY],
                "current": counts[Stored.CURRENT],
                "old": counts[Stored.OLD_KEY],
                "empty": counts[Stored.EMPTY],
                "bad": counts[Stored.UNDECRYPTABLE],
            }
        )
        if counts[Stored.PLAIN]:
            self.stdout.write(
                self.style.WARNING(
                    _("%(n)s values are not encrypted yet: run `lotse keys rotate`.")
                    % {"n": counts[Stored.PLAIN]}
                )
            )
        if counts[Stored.OLD_KEY]:
            self.stdout.write(
                _("%(n)s values are under an older key: run `lotse keys rotate`.")
                % {"n": counts[Stored.OLD_KEY]}
            )

    def _fail_on_undecryptable(self, report: KeysReport) -> None:
        if not report.undecryptable:
            return
        for label, pk in report.undecryptable[:LIST_LIMIT]:
            self.stderr.write(
                _("%(model)s %(id)s: cannot be decrypted with the configured keys.")
                % {"model": label, "id": pk}
            )
        if len(report.undecryptable) > LIST_LIMIT:
            self.stderr.write(
                _("… and %(n)s more.") % {"n": len(report.undecryptable) - LIST_LIMIT}
            )
        raise CommandError(
            _(
                "%(n)s stored values cannot be decrypted with LOTSE_FIELD_KEYS "
                "(encrypted with a key that is not configured, or altered); "
                "they were left unchanged."
            )
            % {"n": len(report.undecryptable)}
        )
