"""Encryption at rest of free text: contact notes, safeguarding details, family notes …

A stolen laptop with a copy of the database, a backup left on a train, or a curious
database administrator must not be able to read what a young person told their mentor.
Free-text fields that hold such things are `EncryptedTextField`s: Fernet (AES-128-CBC
with an HMAC-SHA256, from `cryptography`) through django-fernet-encrypted-fields, which
does the encrypting on the way into the database and the decrypting on the way out.

Three things differ from that library's own field, each for a reason:

- **Keys.** The library derives its key from `SECRET_KEY`, so rotating the secret key
  (which signs sessions) would also lock away every note. Here the keys are their own:
  `FIELD_ENCRYPTION_KEYS` (newest first, comma-separated) or a key file,
  `FIELD_ENCRYPTION_KEY_FILE` (one key per line, newest first). New values are
  encrypted with the first; every key listed can decrypt. `throughgate keys rotate`
  re-encrypts everything with the first key, after which the old ones can be removed.
- **Blank stays blank.** The library stores an empty text as NULL, which the columns
  here (NOT NULL, blank allowed) refuse. An empty note stays an empty string: that a
  contact has no "concerns" is not a secret worth a database error.
- **A value that cannot be decrypted is an error, not shown as it is.** The library
  returns the stored text when decryption fails, so a missing key would put ciphertext
  on the page without a word. Here a Fernet token that no key opens raises
  `UndecryptableValue` naming the setting. (Text that is not a token at all — rows
  written before encryption was switched on — is returned as it is, and `throughgate
  keys rotate` encrypts it.) The library marks "already decrypted" on the shared field
  object while a form is cleaned, which is not safe with several threads; `clean` here
  does not decrypt at all.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from encrypted_fields.fields import EncryptedTextField as _LibraryEncryptedTextField

# Every Fernet token starts with the version byte 0x80, which is "gAAAAA" in base 64
# with the first bytes of the timestamp: how stored ciphertext is told from old plain text.
TOKEN_PREFIX = "gAAAAA"


class UndecryptableValue(ImproperlyConfigured):
    pass


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


@functools.cache
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode("ascii")) for k in keys])


def fernet() -> MultiFernet:
    """The keys of the moment (tests may change the setting, so not cached forever)."""
    return _multi_fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(text: str) -> str:
    return fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(stored: str) -> str:
    try:
        return fernet().decrypt(stored.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):
        raise UndecryptableValue(
            "A stored value cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS: the "
            "key it was encrypted with is missing. Put the old key back after the new one "
            "(docs/security.md, 'Rotating the encryption key')."
        ) from None


def is_encrypted(stored: str | None) -> bool:
    return bool(stored) and stored.startswith(TOKEN_PREFIX)  # type: ignore[union-attr]


class EncryptedTextField(_LibraryEncryptedTextField):
    """A TextField whose value is encrypted in the database (see the module's notes)."""

    @property  # type: ignore[override]
    def f(self) -> MultiFernet:
        return fernet()

    def get_prep_value(self, value: Any) -> Any:
        value = models.TextField.get_prep_value(self, value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and is_encrypted(value):
            return decrypt(value)
        return models.TextField.to_python(self, value)

    def clean(self, value: Any, model_instance: models.Model | None) -> Any:
        # What a form or full_clean() checks is the plain text: nothing to decrypt.
        self.validate(value, model_instance)
        self.run_validators(value)
        return value


def encrypted_fields() -> Iterator[tuple[type[models.Model], EncryptedTextField]]:
    """Every encrypted field of every installed model: what rotation walks."""
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field


def _current_key_opens(stored: str) -> bool:
    primary = Fernet(settings.FIELD_ENCRYPTION_KEYS[0].encode("ascii"))
    try:
        primary.decrypt(stored.encode("ascii"))
    except InvalidToken:
        return False
    return True


def rotate(*, check_only: bool = False, batch: int = 2000, progress: Any = None) -> dict[str, int]:
    """Bring every encrypted value under the first key: re-encrypt values under older
    keys and encrypt plain text written before encryption was switched on. Reads and
    writes the stored text directly (no model save: nothing about the record changes,
    so no timestamps move), in batches of `batch` rows by primary key, each batch in its
    own transaction, so a rotation stopped half-way is simply run again. Raw SQL, because
    the ORM would decrypt on reading and encrypt afresh on writing: here the stored text
    itself is what is read and rewritten.

    Returns counts: current (already under the first key), rotated, encrypted (were
    plain text), undecryptable (under no key listed: left alone, and reported).
    `check_only` counts without writing. `progress(n)` is called with rows done.
    """
    from django.db import connection, transaction

    counts = {"current": 0, "rotated": 0, "encrypted": 0, "undecryptable": 0}
    quote = connection.ops.quote_name
    for model, field in encrypted_fields():
        table, column, pk = model._meta.db_table, field.column, model._meta.pk.column
        last = None
        while True:
            where = f"WHERE {quote(pk)} > %s " if last is not None else ""
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {quote(pk)}, {quote(column)} FROM {quote(table)} {where}"  # noqa: S608
                    f"ORDER BY {quote(pk)} LIMIT %s",  # names from the models, quoted
                    [last, batch] if last is not None else [batch],
                )
                rows = cursor.fetchall()
            if not rows:
                break
            last = rows[-1][0]
            updates = []
            for row_pk, stored in rows:
                if not stored:
                    continue
                if not is_encrypted(stored):
                    counts["encrypted"] += 1
                    updates.append((encrypt(stored), row_pk))
                elif _current_key_opens(stored):
                    counts["current"] += 1
                else:
                    try:
                        updates.append((fernet().rotate(stored.encode("ascii")).decode(), row_pk))
                        counts["rotated"] += 1
                    except InvalidToken:
                        counts["undecryptable"] += 1
            if updates and not check_only:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.executemany(
                        f"UPDATE {quote(table)} SET {quote(column)} = %s "  # noqa: S608  # as above
                        f"WHERE {quote(pk)} = %s",
                        updates,
                    )
            if progress is not None:
                progress(len(rows))
    return counts


def rows_to_check() -> int:
    """How many rows `rotate` will read: the length of its progress bar."""
    return sum(model._base_manager.count() for model, _field in encrypted_fields())
