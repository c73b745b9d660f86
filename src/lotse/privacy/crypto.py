"""Encryption at rest for free text that may hold special categories (DESIGN §5.5).

Keys come from the environment: ``LOTSE_FIELD_KEYS`` is a comma-separated list of
Fernet keys (URL-safe base64 of 32 random bytes), separate from ``SECRET_KEY``.
The first key encrypts; every key decrypts, so a key can be rotated by putting a
new key in front, running ``lotse keys rotate`` and then removing the old key.

A stored value is ``fernet:`` followed by a Fernet token (AES-128-CBC with
HMAC-SHA256, random IV, so equal texts give different tokens). Values without the
prefix are plain legacy values; they are returned as they are and encrypted on the
next save or rotation.

This module imports nothing of the project: settings import it to check keys.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Sequence
from enum import StrEnum

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "fernet:"

# INSECURE — published in the source code. For development and tests only; the
# production settings refuse it. Decodes to b"lotse-insecure-dev-and-test-key!".
INSECURE_DEVELOPMENT_KEY = "bG90c2UtaW5zZWN1cmUtZGV2LWFuZC10ZXN0LWtleSE="


class FieldDecryptionError(Exception):
    """A stored value could not be decrypted with any of the configured keys."""


def generate_key() -> str:
    """A new random key for LOTSE_FIELD_KEYS."""
    return Fernet.generate_key().decode("ascii")


def parse_keys(value: str | Sequence[str] | None) -> list[str]:
    """Keys from a comma-separated string (as in the environment) or a list."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [item.strip() for item in items if item and item.strip()]


def _key_is_valid(key: str) -> bool:
    try:
        raw = base64.b64decode(key.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return False
    return len(raw) == 32


def validate_keys(keys: Sequence[str], *, production: bool = False) -> None:
    """Raise ImproperlyConfigured unless the keys can be used; never names a key itself.

    Messages are plain English: settings call this before translations are available.
    """
    if not keys:
        raise ImproperlyConfigured(
            "LOTSE_FIELD_KEYS must be set: a comma-separated list of Fernet keys, the "
            "first one encrypts. Create a key with `lotse keys generate`."
        )
    for position, key in enumerate(keys, start=1):
        if not _key_is_valid(key):
            raise ImproperlyConfigured(
                f"LOTSE_FIELD_KEYS: key {position} of {len(keys)} is not a Fernet key "
                "(URL-safe base64 of 32 bytes). Create one with `lotse keys generate`."
            )
        if production and key == INSECURE_DEVELOPMENT_KEY:
            raise ImproperlyConfigured(
                f"LOTSE_FIELD_KEYS: key {position} of {len(keys)} is the published "
                "development key; production needs a key of its own."
            )
    if len(set(keys)) != len(keys):
        raise ImproperlyConfigured("LOTSE_FIELD_KEYS lists the same key twice.")


@functools.lru_cache(maxsize=8)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    validate_keys(keys)
    return MultiFernet([Fernet(key) for key in keys])


@functools.lru_cache(maxsize=8)
def _primary_fernet(key: str) -> Fernet:
    return Fernet(key)


def configured_keys() -> tuple[str, ...]:
    """The keys of the current settings; read at every use so tests can override them."""
    return tuple(parse_keys(getattr(settings, "LOTSE_FIELD_KEYS", None)))


def is_encrypted(stored: str) -> bool:
    return stored.startswith(PREFIX)


def _token(stored: str) -> bytes:
    try:
        return stored[len(PREFIX) :].encode("ascii")
    except UnicodeEncodeError:  # not a token: altered in the database
        raise InvalidToken from None


def encrypt(plaintext: str, keys: Sequence[str] | None = None) -> str:
    """The stored form of a text, encrypted with the primary key."""
    fernet = _multi_fernet(tuple(keys) if keys is not None else configured_keys())
    return PREFIX + fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(stored: str, keys: Sequence[str] | None = None, *, label: str = "") -> str:
    """The text of a stored value; plain legacy values come back unchanged."""
    if not is_encrypted(stored):
        return stored
    fernet = _multi_fernet(tuple(keys) if keys is not None else configured_keys())
    try:
        return fernet.decrypt(_token(stored)).decode("utf-8")
    except (InvalidToken, UnicodeDecodeError):
        where = f" of {label}" if label else ""
        raise FieldDecryptionError(
            f"A stored value{where} cannot be decrypted with the keys in LOTSE_FIELD_KEYS: "
            "it was encrypted with a key that is not configured (or it was altered). "
            "Run `lotse keys check` to list the affected rows."
        ) from None


class Stored(StrEnum):
    """What a stored value is, with respect to the configured keys."""

    EMPTY = "empty"
    PLAIN = "plain"  # a legacy value, not encrypted yet
    CURRENT = "current"  # encrypted with the primary key
    OLD_KEY = "old_key"  # encrypted with another configured key: to rotate
    UNDECRYPTABLE = "undecryptable"  # no configured key fits (or the value was altered)


def rotate(stored: str | None, keys: Sequence[str] | None = None) -> tuple[Stored, str | None]:
    """What the stored value is, and its new stored form if it must be (re-)encrypted
    with the primary key (None when it is empty, current or undecryptable)."""
    if stored is None or stored == "":
        return Stored.EMPTY, None
    keys = tuple(keys) if keys is not None else configured_keys()
    fernet = _multi_fernet(keys)
    if not is_encrypted(stored):
        return Stored.PLAIN, encrypt(stored, keys)
    try:
        token = _token(stored)
    except InvalidToken:
        return Stored.UNDECRYPTABLE, None
    try:
        _primary_fernet(keys[0]).decrypt(token)
    except InvalidToken:
        pass
    else:
        return Stored.CURRENT, None
    try:
        return Stored.OLD_KEY, PREFIX + fernet.rotate(token).decode("ascii")
    except InvalidToken:
        return Stored.UNDECRYPTABLE, None
