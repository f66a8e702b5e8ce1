"""Tokens are encrypted at rest, round-trip through the ORM, and never leak."""

import logging

import pytest
from django.db import connection

from social.crypto import TokenCipher, UndecryptableError
from social.fields import UnreadableToken
from social.models import SocialAccount

pytestmark = pytest.mark.django_db

OTHER_KEY = "b3RoZXIta2V5LWZvci10ZXN0cy0zMi1ieXRlcyEhISE"


def raw_token_columns(account_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token FROM social_socialaccount WHERE id = %s", [account_id])
        access, refresh = cursor.fetchone()
    return bytes(access) if access is not None else None, bytes(refresh) if refresh is not None else None


def test_raw_token_columns_hold_no_plaintext(account_factory):
    account = account_factory("tiktok", access_token="act.PLAINTEXT-ACCESS-123", refresh_token="rft.PLAINTEXT-REFRESH-456")
    access, refresh = raw_token_columns(account.pk)
    assert access and refresh
    for raw, plaintext in ((access, b"act.PLAINTEXT-ACCESS-123"), (refresh, b"rft.PLAINTEXT-REFRESH-456")):
        assert plaintext not in raw
        assert b"PLAINTEXT" not in raw
        assert len(raw) >= 16 + 32  # iv + hmac-sha256 at least


def test_orm_round_trips_tokens(account_factory):
    account = account_factory("tiktok", access_token="act.round-trip", refresh_token="rft.round-trip")
    fresh = SocialAccount.objects.get(pk=account.pk)
    assert fresh.access_token == "act.round-trip"
    assert fresh.refresh_token == "rft.round-trip"
    assert fresh.has_access_token and fresh.has_refresh_token


def test_same_token_encrypts_differently_each_time(account_factory):
    a = account_factory("facebook", access_token="same-token")
    b = account_factory("facebook", access_token="same-token")
    assert raw_token_columns(a.pk)[0] != raw_token_columns(b.pk)[0]


def test_empty_token_is_stored_as_null(account_factory):
    account = account_factory("facebook", refresh_token="")
    assert raw_token_columns(account.pk)[1] is None
    assert SocialAccount.objects.get(pk=account.pk).refresh_token == ""


def test_token_written_with_an_unknown_key_is_reported_not_crashed_on(account_factory, settings, caplog):
    account = account_factory("facebook", access_token="written-under-another-key")
    settings.ENCRYPTION_KEY = OTHER_KEY
    with caplog.at_level(logging.ERROR):
        fresh = SocialAccount.objects.get(pk=account.pk)
    assert isinstance(fresh.access_token, UnreadableToken)
    assert fresh.access_token == "" and not fresh.has_access_token
    assert "decrypts with neither" in caplog.text
    before = raw_token_columns(account.pk)[0]
    fresh.name = "renamed"
    fresh.save()
    assert raw_token_columns(account.pk)[0] == before  # saving never destroys unreadable ciphertext


def test_previous_key_still_decrypts_during_rotation(account_factory, settings):
    from django.conf import settings as live

    old = live.ENCRYPTION_KEY
    account = account_factory("facebook", access_token="old-key-token")
    settings.ENCRYPTION_KEY = OTHER_KEY
    settings.ENCRYPTION_KEY_PREVIOUS = old
    assert SocialAccount.objects.get(pk=account.pk).access_token == "old-key-token"


def test_repr_and_str_never_show_tokens(account_factory):
    account = account_factory("tiktok", access_token="act.REPR-SECRET", refresh_token="rft.REPR-SECRET")
    fresh = SocialAccount.objects.get(pk=account.pk)
    for text in (repr(fresh), str(fresh), repr(fresh.access_token), repr(fresh.__dict__)):
        assert "REPR-SECRET" not in text


def test_cipher_rejects_tampered_ciphertext():
    cipher = TokenCipher(OTHER_KEY)
    data = bytearray(cipher.encrypt("hello"))
    data[20] ^= 0x01
    with pytest.raises(UndecryptableError):
        cipher.decrypt(bytes(data))
    assert "hello" not in repr(cipher)
