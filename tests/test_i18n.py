"""The German catalogue is complete: every source string has a reviewed translation."""

from __future__ import annotations

import re
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parents[1] / "src" / "lotse" / "locale" / "de" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def test_no_untranslated_or_fuzzy_entries():
    catalogue = polib.pofile(str(LOCALE / "django.po"))
    untranslated = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    assert not untranslated, untranslated[:20]
    assert not fuzzy, fuzzy[:20]


def test_placeholders_survive_translation():
    catalogue = polib.pofile(str(LOCALE / "django.po"))
    for entry in catalogue.translated_entries():
        wanted = set(PLACEHOLDER.findall(entry.msgid))
        if entry.msgstr_plural:
            for text in entry.msgstr_plural.values():
                assert set(PLACEHOLDER.findall(text)) <= wanted | set(
                    PLACEHOLDER.findall(entry.msgid_plural)
                ), entry.msgid
        else:
            assert set(PLACEHOLDER.findall(entry.msgstr)) == wanted, entry.msgid


def test_compiled_catalogue_is_current():
    po, mo = LOCALE / "django.po", LOCALE / "django.mo"
    assert mo.exists(), "run `make messages`"
    compiled = polib.mofile(str(mo))
    source = polib.pofile(str(po))
    assert {e.msgid for e in compiled} >= {e.msgid for e in source.translated_entries()}
