"""The access log: hash chain, tamper evidence below the ORM, redaction, `lotse audit verify`."""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from lotse.core.models import (
    GENESIS_HASH,
    REDACTION_OBJECT_TYPE,
    AccessLogEntry,
    AccessLogHead,
    AppendOnlyError,
)
from lotse.core.services import access_log_record, access_log_redact_person, access_log_verify


@pytest.fixture(autouse=True)
def _english_cli_messages():
    """The command output is asserted in English (the source language); the German
    translation of the same messages is checked by tests/test_i18n.py."""
    from django.utils import translation

    with translation.override("en"):
        yield


TABLE = AccessLogEntry._meta.db_table


def _sql_update(seq: int, field_name: str, value: Any) -> None:
    """Change one column below the ORM, as someone with database access could."""
    field = AccessLogEntry._meta.get_field(field_name)
    column = connection.ops.quote_name(field.column)
    is_json = field.get_internal_type() == "JSONField"
    json_cast = "::jsonb" if is_json and connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET {column} = %s{json_cast} WHERE seq = %s",  # noqa: S608
            [value, seq],
        )


def _sql_delete(seq: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE seq = %s", [seq])  # noqa: S608


def _db_datetime(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


@pytest.fixture
def log(world):
    """Five entries: persons 1, 2, 3 read by the lead, person 2 twice more by the partner."""
    access_log_record(
        actor=world.case_manager,
        action="read",
        person_ids=[1, 2, 3],
        categories=["master", "residence"],
        basis="lead_organisation",
        object_type="case",
        object_id=17,
    )
    access_log_record(
        actor=world.partner_staff,
        action="read",
        person_ids=[2],
        categories=["plan"],
        basis="consent",
    )
    access_log_record(
        actor=world.partner_staff,
        action="update",
        person_ids=[2],
        categories=["plan"],
        basis="consent",
        object_type="plan",
        object_id=5,
    )
    return world


def test_entries_chain_and_verify(log):
    entries = list(AccessLogEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS_HASH
    for before, entry in itertools.pairwise(entries):
        assert entry.prev_hash == before.hash
    for entry in entries:
        assert entry.payload_digest == entry.compute_payload_digest()
        assert entry.hash == entry.compute_hash()
    head = AccessLogHead.objects.get(pk=1)
    assert (head.count, head.last_hash) == (5, entries[-1].hash)
    assert access_log_verify() == (True, None)
    assert access_log_verify(batch_size=2) == (True, None)


def test_empty_log_verifies(db):
    assert access_log_verify() == (True, None)


def test_orm_refuses_changes_and_deletes(log):
    entry = AccessLogEntry.objects.get(seq=2)
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AccessLogEntry.objects.filter(seq=2).update(categories=["health"])
    with pytest.raises(AppendOnlyError):
        AccessLogEntry.objects.filter(seq=2).delete()
    entry.categories = ["health"]
    with pytest.raises(AppendOnlyError):
        AccessLogEntry.objects.bulk_update([entry], ["categories"])
    assert access_log_verify() == (True, None)


TAMPERING = {
    # payload
    "person_id": 999,
    "categories": '["health"]',
    "object_type": "note",
    "object_id": "18",
    # metadata
    "seq": 99,
    "at": "at",
    "user": "team_lead",
    "organisation": "other",
    "role": "sysadmin",
    "action": "delete",
    "basis": "break_glass",
    "purpose": "referral",
    "channel": "api",
    "request_id": "00000000-0000-0000-0000-000000000000",
    # chain and redaction fields
    "payload_digest": "0" * 64,
    "prev_hash": "f" * 64,
    "hash": "e" * 64,
    "redacted_at": "now",
    "redacted_by_seq": 5,
}


@pytest.mark.parametrize("field_name", sorted(TAMPERING))
def test_raw_sql_update_of_any_field_breaks_the_chain_there(log, field_name):
    value = TAMPERING[field_name]
    if field_name == "at":
        value = _db_datetime(AccessLogEntry.objects.get(seq=2).at + dt.timedelta(seconds=1))
    elif field_name == "redacted_at":
        value = _db_datetime(timezone.now())
    elif field_name == "user":
        value = log.team_lead.user_id
    elif field_name == "organisation":
        value = log.other.pk
    _sql_update(2, field_name, value)
    assert access_log_verify() == (False, 2)


def test_deleting_a_row_breaks_the_chain(log):
    _sql_delete(2)
    assert access_log_verify() == (False, 2)


def test_deleting_the_last_row_breaks_the_chain(log):
    _sql_delete(5)
    assert access_log_verify() == (False, 5)


def test_a_changed_head_is_detected(log):
    AccessLogHead.objects.filter(pk=1).update(last_hash="a" * 64)
    assert access_log_verify() == (False, 5)


def test_redaction_blanks_the_payload_and_the_chain_still_verifies(log):
    before = {e.seq: e for e in AccessLogEntry.objects.all()}
    assert access_log_redact_person(person_id=2) == 3
    assert access_log_verify() == (True, None)
    assert not AccessLogEntry.objects.filter(person_id=2).exists()

    record = AccessLogEntry.objects.get(seq=6)
    assert record.object_type == REDACTION_OBJECT_TYPE and record.person_id is None
    assert record.action == "delete" and record.basis == "retention"
    for seq in (2, 4, 5):
        entry = AccessLogEntry.objects.get(seq=seq)
        old = before[seq]
        assert entry.is_redacted and entry.redacted_at == record.at
        assert entry.redacted_by_seq == 6
        assert (entry.person_id, entry.categories, entry.object_type, entry.object_id) == (
            None,
            [],
            "",
            "",
        )
        # Metadata and hashes stay.
        assert entry.metadata() == old.metadata()
        assert (entry.payload_digest, entry.hash) == (old.payload_digest, old.hash)
    for seq in (1, 3):
        assert not AccessLogEntry.objects.get(seq=seq).is_redacted

    # Nothing left to redact; appending goes on after the redaction record.
    assert access_log_redact_person(person_id=2) == 0
    access_log_record(
        actor=log.case_manager, action="read", person_ids=[3], categories=["master"], basis="x"
    )
    assert access_log_verify() == (True, None)


def test_redaction_of_a_person_without_entries_writes_nothing(log):
    assert access_log_redact_person(person_id=4711) == 0
    assert AccessLogEntry.objects.count() == 5


@pytest.mark.parametrize(
    ("field_name", "value"),
    [
        ("person_id", 2),
        ("categories", '["plan"]'),
        ("object_id", "5"),
        ("redacted_by_seq", None),
        ("redacted_by_seq", 3),
        ("redacted_at", None),
        ("redacted_at", "later"),
    ],
)
def test_tampering_with_a_redacted_entry_is_detected(log, field_name, value):
    access_log_redact_person(person_id=2)
    if value == "later":
        value = _db_datetime(timezone.now() + dt.timedelta(hours=1))
    _sql_update(4, field_name, value)
    assert access_log_verify() == (False, 4)


def test_blanking_another_entry_under_a_redaction_is_detected(log):
    """Posing an entry of person 3 as part of person 2's redaction breaks the redaction record."""
    access_log_redact_person(person_id=2)
    record = AccessLogEntry.objects.get(seq=6)
    for name, value in [
        ("person_id", None),
        ("categories", "[]"),
        ("object_type", ""),
        ("object_id", ""),
        ("redacted_at", _db_datetime(record.at)),
        ("redacted_by_seq", 6),
    ]:
        _sql_update(3, name, value)
    assert access_log_verify() == (False, 6)


def test_redacted_entries_pointing_to_an_ordinary_entry_are_detected(log):
    for name, value in [
        ("person_id", None),
        ("categories", "[]"),
        ("object_type", ""),
        ("object_id", ""),
        ("redacted_at", _db_datetime(timezone.now())),
        ("redacted_by_seq", 4),
    ]:
        _sql_update(3, name, value)
    assert access_log_verify() == (False, 3)


# --- lotse audit verify -----------------------------------------------------------


def test_audit_verify_command_ok(log):
    out, err = StringIO(), StringIO()
    call_command("audit", "verify", "--batch-size", "2", stdout=out, stderr=err)
    assert out.getvalue().strip() == "ok: 5 entries"


def test_audit_verify_command_on_an_empty_log(db):
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert out.getvalue().strip() == "ok: 0 entries"


def test_audit_verify_command_reports_the_broken_entry_and_exits_1(log):
    _sql_update(3, "basis", "forged")
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit", "verify", stdout=out, stderr=err)
    assert exit_info.value.code == 1
    assert err.getvalue().strip() == "broken at entry #3"
    assert "ok" not in out.getvalue()


def test_audit_verify_command_rejects_bad_arguments(db):
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--batch-size", "0")
    with pytest.raises(CommandError):
        call_command("audit")


# --- the upgrade migration ----------------------------------------------------


@pytest.fixture
def rehash_migration():
    module = importlib.import_module("lotse.core.migrations.0004_access_log_rehash")
    state = MigrationExecutor(connection).loader.project_state(("core", "0004_access_log_rehash"))
    return module, state.apps


def test_migration_rebuilds_an_old_chain(log, rehash_migration):
    module, apps = rehash_migration
    module.rehash_back(apps, None)  # the chain as the old code wrote it
    assert access_log_verify() == (False, 1)
    module.rehash(apps, None)
    assert access_log_verify() == (True, None)


def test_migration_refuses_to_seal_a_broken_old_chain(log, rehash_migration, monkeypatch):
    module, apps = rehash_migration
    module.rehash_back(apps, None)
    _sql_update(3, "basis", "forged")
    with pytest.raises(RuntimeError, match="broken at entry #3"):
        module.rehash(apps, None)
    monkeypatch.setenv(module.FORCE_ENV, "1")
    module.rehash(apps, None)
    assert access_log_verify() == (True, None)


def test_migration_refuses_an_old_chain_cut_short(log, rehash_migration):
    module, apps = rehash_migration
    module.rehash_back(apps, None)
    _sql_delete(5)
    with pytest.raises(RuntimeError, match="broken at entry #5"):
        module.rehash(apps, None)
