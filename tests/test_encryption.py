"""Encryption at rest (DESIGN §5.5): notes and assessment descriptions, keys, rotation."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.exceptions import FieldError, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.forms import Textarea
from django.utils import timezone

from lotse.casework.models import Assessment, AssessmentItem, Note
from lotse.privacy import crypto
from lotse.privacy.crypto import PREFIX, FieldDecryptionError
from lotse.synth import pools


@pytest.fixture(autouse=True)
def _english_cli_messages():
    """The command output is asserted in English (the source language); the German
    translation of the same messages is checked by tests/test_i18n.py."""
    from django.utils import translation

    with translation.override("en"):
        yield


pytestmark = pytest.mark.django_db
HEALTH = "Berichtet von Schlafstörungen; Anbindung an das PSZ besprochen."
NEW, OLD, STRANGER = (Fernet.generate_key().decode() for _ in range(3))
_migration = __import__(
    "lotse.casework.migrations.0004_encrypt_free_text", fromlist=["encrypt_existing"]
)


def raw(obj: models.Model, field_name: str) -> str:
    """The value as stored in the database, read past the ORM."""
    qn = connection.ops.quote_name
    meta = obj._meta
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {qn(meta.get_field(field_name).column)} FROM {qn(meta.db_table)} "  # noqa: S608
            f"WHERE {qn(meta.pk.column)} = %s",
            [obj.pk],
        )
        return cursor.fetchone()[0]


def store_raw(obj: models.Model, field_name: str, value: str) -> None:
    qn = connection.ops.quote_name
    meta = obj._meta
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {qn(meta.db_table)} SET {qn(meta.get_field(field_name).column)} = %s "  # noqa: S608
            f"WHERE {qn(meta.pk.column)} = %s",
            [value, obj.pk],
        )


def note(world, text: str = HEALTH, **kwargs) -> Note:
    return Note.objects.create(
        case=world.case,
        author=world.case_manager.user,
        organisation=world.lead,
        text=text,
        is_sensitive=True,
        **kwargs,
    )


def item(world, description: str) -> AssessmentItem:
    assessment = Assessment.objects.create(
        case=world.case, assessed_on=timezone.localdate(), assessed_by=world.case_manager.user
    )
    return AssessmentItem.objects.create(
        assessment=assessment, life_domain="health", kind="strength", description=description
    )


def keys(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("keys", *args, "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- the field -------------------------------------------------------------------------


def test_the_database_holds_only_ciphertext(world):
    n = note(world)
    i = item(world, "Diabetes, Insulin morgens")
    for obj, name, plain in ((n, "text", HEALTH), (i, "description", "Diabetes, Insulin morgens")):
        stored = raw(obj, name)
        assert stored.startswith(PREFIX)
        assert plain not in stored and "Schlaf" not in stored and "Insulin" not in stored
        obj.refresh_from_db()
        assert getattr(obj, name) == plain
    assert Note.objects.get(pk=n.pk).text == HEALTH
    assert list(Note.objects.values_list("text", flat=True)) == [HEALTH]


def test_equal_texts_give_different_ciphertexts_and_empty_stays_empty(world):
    a, b = note(world, "Anruf"), note(world, "Anruf")
    assert raw(a, "text") != raw(b, "text")
    empty = note(world, "")
    assert raw(empty, "text") == ""
    assert Note.objects.get(pk=empty.pk).text == ""


def test_unicode_survives(world):
    text = "مراجعة الطبيب · Arztbesuch · лікар 🩺"
    assert Note.objects.get(pk=note(world, text).pk).text == text


def test_plain_legacy_values_load_and_are_encrypted_on_save(world):
    n = note(world)
    store_raw(n, "text", "Altbestand im Klartext")
    n = Note.objects.get(pk=n.pk)
    assert n.text == "Altbestand im Klartext"
    n.save()
    assert raw(n, "text").startswith(PREFIX)
    assert Note.objects.get(pk=n.pk).text == "Altbestand im Klartext"


def test_queryset_update_encrypts_too(world):
    n = note(world)
    Note.objects.filter(pk=n.pk).update(text="geändert")
    assert raw(n, "text").startswith(PREFIX)
    assert Note.objects.get(pk=n.pk).text == "geändert"


def test_only_isnull_and_empty_exact_lookups_are_allowed(world):
    n = note(world)
    note(world, "")
    assert Note.objects.filter(text="").count() == 1
    assert Note.objects.exclude(text="").get() == n
    assert Note.objects.filter(text__isnull=False).count() == 2
    for lookup in ({"text": HEALTH}, {"text__icontains": "Schlaf"}, {"text__in": [HEALTH]}):
        with pytest.raises(FieldError, match=r"casework\.Note\.text is encrypted at rest"):
            Note.objects.filter(**lookup).exists()
    with pytest.raises(FieldError, match="encrypted at rest"):
        AssessmentItem.objects.filter(description__lower="x").exists()


def test_form_and_validation_behave_as_before(world):
    assert isinstance(Note._meta.get_field("text").formfield().widget, Textarea)
    field = AssessmentItem._meta.get_field("description")
    assert field.formfield().max_length == 500
    too_long = AssessmentItem(
        assessment=item(world, "x").assessment,
        life_domain="health",
        kind="strength",
        description="x" * 501,
    )
    with pytest.raises(ValidationError) as error:
        too_long.full_clean()
    assert "description" in error.value.message_dict


def test_every_encrypted_field_is_known():
    from lotse.privacy.management.commands.keys import encrypted_fields

    found = {f"{model._meta.label}.{f.name}" for model, f in encrypted_fields()}
    assert found == {"casework.Note.text", "casework.AssessmentItem.description"}
    assert all(isinstance(f, models.TextField) for _m, f in encrypted_fields())


# --- keys, rotation, check -------------------------------------------------------------


def test_generate_prints_a_usable_key():
    out = StringIO()
    call_command("keys", "generate", stdout=out)
    key = out.getvalue().strip()
    crypto.validate_keys([key])
    assert crypto.decrypt(crypto.encrypt("x", [key]), [key]) == "x"


def test_rotation_moves_every_value_to_the_primary_key(world, settings):
    settings.LOTSE_FIELD_KEYS = [OLD]
    notes = [note(world, f"Vermerk {i}") for i in range(7)]
    description = item(world, "Rollstuhl")
    legacy = note(world, "Klartext")
    store_raw(legacy, "text", "Klartext")
    note(world, "")
    before = {n.pk: raw(n, "text") for n in notes}

    settings.LOTSE_FIELD_KEYS = [NEW, OLD]
    assert Note.objects.get(pk=notes[0].pk).text == "Vermerk 0"  # old key still decrypts
    out, _err = keys("rotate", "--dry-run", "--batch-size", "3")
    assert "Dry run: 9 values would be re-encrypted" in out
    assert {n.pk: raw(n, "text") for n in notes} == before  # nothing changed

    out, _err = keys("rotate", "--batch-size", "3")
    assert "9 values re-encrypted" in out and "(8 were under an older key, 1 were not" in out
    assert "1 empty" in out
    out, _err = keys("rotate")
    assert "0 values re-encrypted" in out and "9 already current, 1 empty" in out

    settings.LOTSE_FIELD_KEYS = [NEW]
    assert sorted(Note.objects.values_list("text", flat=True)) == sorted(
        ["", "Klartext", *(f"Vermerk {i}" for i in range(7))]
    )
    assert AssessmentItem.objects.get(pk=description.pk).description == "Rollstuhl"
    for n in notes:
        assert raw(n, "text") != before[n.pk]
        assert crypto.decrypt(raw(n, "text"), [NEW]) == n.text
    out, _err = keys("check")
    assert "9 values decrypt with the configured keys (9 with the primary key" in out
    assert "0 cannot be decrypted" in out


def test_a_value_under_an_unknown_key_is_a_clear_error_and_check_reports_it(world, settings):
    settings.LOTSE_FIELD_KEYS = [STRANGER]
    lost = note(world)
    settings.LOTSE_FIELD_KEYS = [NEW, OLD]
    fine = note(world, "lesbar")

    with pytest.raises(FieldDecryptionError, match=r"casework\.Note\.text cannot be decrypted"):
        Note.objects.get(pk=lost.pk)
    assert Note.objects.get(pk=fine.pk).text == "lesbar"

    with pytest.raises(CommandError, match="1 stored values cannot be decrypted") as failed:
        keys("check")
    with pytest.raises(CommandError, match="left unchanged"):
        keys("rotate")
    assert raw(lost, "text").startswith(PREFIX)  # untouched, so the right key can still read it
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError):
        call_command("keys", "check", "--no-progress", stdout=out, stderr=err)
    assert f"casework.Note {lost.pk}: cannot be decrypted" in err.getvalue()
    for text in (out.getvalue(), err.getvalue(), str(failed.value)):
        assert "Schlaf" not in text and "lesbar" not in text and STRANGER not in text


def test_altered_ciphertext_is_reported_not_crashing_the_check(world):
    n = note(world)
    store_raw(n, "text", raw(n, "text")[:-6] + "AAAAAA")
    with pytest.raises(FieldDecryptionError):
        Note.objects.get(pk=n.pk)
    store_raw(n, "text", PREFIX + "kein Token ä")
    with pytest.raises(CommandError, match="1 stored values"):
        keys("check")


def test_unusable_configured_keys_stop_the_commands(settings):
    settings.LOTSE_FIELD_KEYS = ["not-a-key"]
    with pytest.raises(CommandError, match="key 1 of 1 is not a Fernet key"):
        keys("check")


# --- the data migration ----------------------------------------------------------------


def test_the_migration_encrypts_plain_rows_and_reverses_to_plain(world):
    n, i = note(world), item(world, "Brille")
    store_raw(n, "text", HEALTH)  # as before the migration
    editor = SimpleNamespace(connection=connection)  # all the data migration uses of it
    _migration.encrypt_existing(apps, editor)
    assert raw(n, "text").startswith(PREFIX)
    assert raw(i, "description").startswith(PREFIX)
    assert Note.objects.get(pk=n.pk).text == HEALTH
    _migration.decrypt_existing(apps, editor)
    assert raw(n, "text") == HEALTH and raw(i, "description") == "Brille"


# --- settings --------------------------------------------------------------------------


def _import_prod_settings(
    tmp_path: Path, field_keys: str | None, analytics_key: str = "a" * 40
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"LOTSE_FIELD_KEYS", "SECRET_KEY"}}
    env.update(SECRET_KEY="p" * 50, LOTSE_VAR_DIR=str(tmp_path), LOTSE_ANALYTICS_KEY=analytics_key)
    if field_keys is not None:
        env["LOTSE_FIELD_KEYS"] = field_keys
    return subprocess.run(
        [sys.executable, "-c", "import lotse.config.settings.prod"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("field_keys", "message"),
    [
        (None, "LOTSE_FIELD_KEYS must be set"),
        ("", "LOTSE_FIELD_KEYS must be set"),
        ("c2hvcnQ=", "key 1 of 1 is not a Fernet key"),
        (f"{NEW},{NEW[:-2]}!=", "key 2 of 2 is not a Fernet key"),
        (crypto.INSECURE_DEVELOPMENT_KEY, "the published development key"),
        (f"{NEW},{NEW}", "the same key twice"),
    ],
)
def test_production_refuses_to_start_without_usable_keys(tmp_path, field_keys, message):
    result = _import_prod_settings(tmp_path, field_keys)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr
    assert NEW not in result.stderr  # keys are never echoed


@pytest.mark.parametrize("analytics_key", ["", "short", "p" * 50])
def test_production_refuses_to_start_without_an_own_analytics_key(tmp_path, analytics_key):
    result = _import_prod_settings(tmp_path, NEW, analytics_key=analytics_key)
    assert result.returncode != 0
    assert "LOTSE_ANALYTICS_KEY must be set" in result.stderr


def test_production_starts_with_keys(tmp_path):
    result = _import_prod_settings(tmp_path, f" {NEW} , {OLD} ")
    assert result.returncode == 0, result.stderr


# --- synthetic data --------------------------------------------------------------------


def test_synthetic_notes_and_descriptions_are_stored_encrypted():
    args = ["--persons", "40", "--seed", "3", "--load", "--today", "2026-11-21"]
    call_command("synth", *args, "--no-progress", stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM casework_note")
        notes = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT description FROM casework_assessmentitem")
        descriptions = [row[0] for row in cursor.fetchall()]
    assert notes and descriptions
    assert all(value.startswith(PREFIX) for value in notes + descriptions)
    texts = set(Note.objects.values_list("text", flat=True))
    assert texts <= set(pools.NOTES) | set(pools.SENSITIVE_NOTES)
    assert not any(
        d.startswith(PREFIX) for d in AssessmentItem.objects.values_list("description", flat=True)
    )
    out, _err = keys("check")
    assert f"{len(notes) + len(descriptions)} values decrypt" in out
