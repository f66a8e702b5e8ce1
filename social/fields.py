"""EncryptedTokenField: a text value stored encrypted (see social.crypto)."""

from __future__ import annotations

import logging

from django.db import models

from .crypto import UndecryptableError, current_cipher, previous_cipher

logger = logging.getLogger(__name__)


class SecretStr(str):
    """A str whose repr hides it, so a token never lands in a traceback's locals or a debug print."""

    def __repr__(self) -> str:
        return "'***'" if self else "''"


class UnreadableToken(SecretStr):
    """Placeholder for a stored token that decrypts with no configured key.

    It reads as empty (so callers treat the account as having no usable token) and keeps the
    original ciphertext, so saving the row never destroys data a correct key could still read.
    """

    ciphertext: bytes

    def __new__(cls, ciphertext: bytes) -> UnreadableToken:
        obj = super().__new__(cls, "")
        obj.ciphertext = ciphertext
        return obj


class EncryptedTokenField(models.BinaryField):
    description = "Text encrypted with ENCRYPTION_KEY (AES-256, HMAC-SHA256)"

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("editable", False)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def get_db_prep_value(self, value, connection, prepared=False):
        if isinstance(value, UnreadableToken):
            return connection.Database.Binary(value.ciphertext)
        if value is None or value == "":
            return None
        return connection.Database.Binary(current_cipher().encrypt(str(value)))

    def from_db_value(self, value, expression, connection):
        if value is None:
            return SecretStr("")
        data = bytes(value)
        for cipher in (current_cipher(), previous_cipher()):
            if cipher is None:
                continue
            try:
                return SecretStr(cipher.decrypt(data))
            except UndecryptableError:
                continue
        logger.error("A stored token decrypts with neither ENCRYPTION_KEY nor ENCRYPTION_KEY_PREVIOUS")
        return UnreadableToken(data)

    def to_python(self, value):
        return value

    def value_to_string(self, obj) -> str:
        return ""  # serialisation (dumpdata) never exports a token

    def get_lookup(self, lookup_name):
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None
