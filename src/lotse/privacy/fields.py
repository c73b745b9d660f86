"""Model fields encrypted at rest (DESIGN §5.5); the keys and the format are in crypto.py.

``EncryptedTextField`` is a ``TextField`` whose database value is a Fernet token
with the prefix ``fernet:``. Python code, forms and templates see the plain text;
the database (and its backups) only the token. Plain values written before the
field was encrypted still load, and are encrypted on their next save or by
``lotse keys rotate``.

Because every token is different, even for the same text, the database cannot
compare or search the text: the only lookups are ``isnull`` and ``exact`` with the
empty string. Any other lookup (``exact`` with a text, ``icontains``, ``in``,
``startswith``, transforms such as ``lower``) raises FieldError instead of
silently finding nothing. Ordering by such a field orders by ciphertext, that is
randomly. Compare in Python after narrowing the rows by other fields.

``dumpdata`` writes the plain text (it is meant for moving data, not for backups).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.lookups import Exact, Lookup, Transform
from django.utils.translation import gettext_lazy as _

from . import crypto

_ALLOWED = "isnull, or exact with an empty string"


def _unsupported(field: EncryptedTextField, lookup_name: str) -> FieldError:
    return FieldError(
        f"{field._qualified_name()} is encrypted at rest and cannot be filtered with "
        f"'{lookup_name}' (allowed: {_ALLOWED}). Narrow the rows by other fields and "
        "compare the decrypted text in Python."
    )


class EmptyOnlyExact(Exact):
    """``exact`` for encrypted fields: only the empty string can be compared."""

    def get_prep_lookup(self) -> Any:
        if self.rhs is not None and not (isinstance(self.rhs, str) and self.rhs == ""):
            field = self.lhs.output_field
            assert isinstance(field, EncryptedTextField)
            raise _unsupported(field, "exact")
        return super().get_prep_lookup()


class EncryptedTextField(models.TextField):
    description = _("Text (encrypted at rest)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # As CharField does: the database does not limit a token's length, the model does.
        if self.max_length is not None:
            self.validators.append(MaxLengthValidator(self.max_length))

    def _qualified_name(self) -> str:
        model = getattr(self, "model", None)
        if model is None:
            return self.name or "an encrypted field"
        return f"{model._meta.label}.{self.name}"

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "" or hasattr(value, "resolve_expression"):
            return value
        return crypto.encrypt(value)

    def from_db_value(
        self, value: str | None, expression: Any, connection: BaseDatabaseWrapper
    ) -> str | None:
        if value is None or not crypto.is_encrypted(value):
            return value
        return crypto.decrypt(value, label=self._qualified_name())

    def get_lookup(self, lookup_name: str) -> type[Lookup] | None:
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        if lookup_name == "exact":
            return EmptyOnlyExact
        raise _unsupported(self, lookup_name)

    def get_transform(self, lookup_name: str) -> type[Transform] | None:
        raise _unsupported(self, lookup_name)
