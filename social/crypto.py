"""The one place that encrypts platform tokens.

Tokens are encrypted with AES-256-CBC and authenticated with HMAC-SHA256, using
django-cryptography's Fernet-style primitives. Both keys are derived from ENCRYPTION_KEY only
(HKDF-SHA256, separate purposes): the library's defaults would derive them from SECRET_KEY, and
rotating SECRET_KEY must never make stored tokens unreadable.

This lives in `social` (the lowest layer, next to the model that stores tokens); the `tokens` app
builds key rotation on top of it.
"""

from __future__ import annotations

import base64
import binascii
import functools

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django_cryptography.core.signing import BadSignature, FernetSigner
from django_cryptography.utils.crypto import FernetBytes, InvalidToken

_SALT = b"unipulse.social.tokens"


class KeyFormatError(ValueError):
    """ENCRYPTION_KEY is not 32 random bytes in URL-safe base64."""


class UndecryptableError(ValueError):
    """A stored token was not written with this key (or was tampered with)."""


def decode_key(key: str) -> bytes:
    """Return the 32 raw bytes of a URL-safe base64 key, or raise KeyFormatError (never echoing it)."""
    try:
        raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    except (binascii.Error, ValueError):
        raise KeyFormatError("is not URL-safe base64") from None
    if len(raw) != 32:
        raise KeyFormatError(f"must decode to 32 bytes, not {len(raw)}")
    return raw


def _derive(raw: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=purpose).derive(raw)


class TokenCipher:
    """Encrypts text to bytes and back with one key. Never shows the key or plaintext in repr."""

    def __init__(self, key: str) -> None:
        raw = decode_key(key)
        self._box = FernetBytes(
            key=_derive(raw, b"aes-256-cbc"),  # 32 bytes -> AES-256
            signer=FernetSigner(key=_derive(raw, b"hmac-sha256")),
        )

    def __repr__(self) -> str:
        return "<TokenCipher>"

    def encrypt(self, plaintext: str) -> bytes:
        return self._box.encrypt(plaintext.encode("utf-8"))

    def decrypt(self, ciphertext: bytes) -> str:
        try:
            return self._box.decrypt(bytes(ciphertext)).decode("utf-8")
        except (BadSignature, InvalidToken, UnicodeDecodeError, ValueError):
            raise UndecryptableError("token does not decrypt with this key") from None


@functools.lru_cache(maxsize=8)
def cipher_for(key: str) -> TokenCipher:
    return TokenCipher(key)


def current_cipher() -> TokenCipher:
    return cipher_for(settings.ENCRYPTION_KEY)


def previous_cipher() -> TokenCipher | None:
    return cipher_for(settings.ENCRYPTION_KEY_PREVIOUS) if settings.ENCRYPTION_KEY_PREVIOUS else None
