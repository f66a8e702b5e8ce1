import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from social.crypto import TokenCipher, UndecryptableError
from social.models import SocialAccount

pytestmark = pytest.mark.django_db

NEW_KEY = "bmV3LWtleS1mb3Itcm90YXRpb24tdGVzdHMtMzItYiE"
STRANGER_KEY = "c3RyYW5nZXIta2V5LW5vYm9keS1oYXMtaXQtMzItYiE"


def raw(account_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM social_socialaccount WHERE id = %s", [account_id])
        return bytes(cursor.fetchone()[0])


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_rotation_re_encrypts_every_token_under_the_new_key(account_factory, settings):
    old_key = settings.ENCRYPTION_KEY
    tokens = {}  # account id -> (access, refresh): each account's own pair, so a swap cannot pass
    for name in ("alpha", "bravo", "charlie"):
        account = account_factory("tiktok", access_token=f"act.{name}-A", refresh_token=f"rft.{name}-R")
        tokens[account.pk] = (f"act.{name}-A", f"rft.{name}-R")
    before = {pk: raw(pk) for pk in tokens}
    settings.ENCRYPTION_KEY = NEW_KEY
    out, terminal = io.StringIO(), FakeTTY()
    call_command("rotate_encryption_key", "--old-key", old_key, "--batch-size", "2", stdout=out, stderr=terminal)

    assert out.getvalue() == "3 accounts: re-encrypted 6 tokens, 0 already on the current key, 0 accounts unreadable\n"
    assert terminal.getvalue().split("\r")[1:] == [  # one redraw per batch of 2, then the line ends
        "accounts [####################..........]  66% 2/3",
        "accounts [##############################] 100% 3/3\n",
    ]
    settings.ENCRYPTION_KEY_PREVIOUS = ""  # the old key is gone: tokens must read with the new key alone
    for pk, (access, refresh) in tokens.items():
        assert raw(pk) != before[pk]
        fresh = SocialAccount.objects.get(pk=pk)
        assert (fresh.access_token, fresh.refresh_token) == (access, refresh), pk
        with pytest.raises(UndecryptableError):
            TokenCipher(old_key).decrypt(raw(pk))
        assert TokenCipher(NEW_KEY).decrypt(raw(pk)) == access


def test_a_second_rotation_finds_every_token_already_current(account_factory, settings):
    old_key = settings.ENCRYPTION_KEY
    first = account_factory("tiktok", access_token="act.once-A", refresh_token="rft.once-R")
    second = account_factory("facebook", access_token="EAA-once-page")
    settings.ENCRYPTION_KEY = NEW_KEY
    call_command("rotate_encryption_key", "--old-key", old_key, stdout=io.StringIO())
    out = io.StringIO()
    call_command("rotate_encryption_key", "--old-key", old_key, stdout=out, stderr=io.StringIO())
    assert out.getvalue() == "2 accounts: re-encrypted 0 tokens, 3 already on the current key, 0 accounts unreadable\n"
    assert SocialAccount.objects.get(pk=first.pk).access_token == "act.once-A"
    assert SocialAccount.objects.get(pk=first.pk).refresh_token == "rft.once-R"
    assert SocialAccount.objects.get(pk=second.pk).access_token == "EAA-once-page"


def test_rotation_off_a_terminal_prints_only_the_count(account_factory, settings):
    old_key = settings.ENCRYPTION_KEY
    account_factory("facebook", access_token="EAA-quiet")
    settings.ENCRYPTION_KEY = NEW_KEY
    out, err = io.StringIO(), io.StringIO()
    call_command("rotate_encryption_key", "--old-key", old_key, stdout=out, stderr=err)
    assert err.getvalue() == ""
    assert out.getvalue() == "1 accounts: re-encrypted 1 tokens, 0 already on the current key, 0 accounts unreadable\n"


def test_dry_run_counts_and_writes_nothing(account_factory, settings, capsys):
    old_key = settings.ENCRYPTION_KEY
    account = account_factory("facebook", access_token="dry")
    before = raw(account.pk)
    settings.ENCRYPTION_KEY = NEW_KEY
    settings.ENCRYPTION_KEY_PREVIOUS = old_key
    call_command("rotate_encryption_key", "--dry-run")
    assert "would re-encrypt 1 tokens" in capsys.readouterr().out
    assert raw(account.pk) == before


def test_a_token_neither_key_reads_is_reported_by_account_and_left_untouched(account_factory, settings, capsys):
    old_key = settings.ENCRYPTION_KEY
    settings.ENCRYPTION_KEY = STRANGER_KEY
    stranger = account_factory("facebook", access_token="under-stranger-key")
    settings.ENCRYPTION_KEY = old_key
    fine = account_factory("facebook", access_token="under-old-key")
    stranger_bytes = raw(stranger.pk)
    settings.ENCRYPTION_KEY = NEW_KEY
    with pytest.raises(CommandError, match="1 accounts hold tokens that neither key decrypts"):
        call_command("rotate_encryption_key", "--old-key", old_key)
    captured = capsys.readouterr()
    assert f"account {stranger.pk}: a token decrypts with neither key" in captured.err
    assert raw(stranger.pk) == stranger_bytes
    assert SocialAccount.objects.get(pk=fine.pk).access_token == "under-old-key"


def test_a_malformed_old_key_is_a_clear_error():
    with pytest.raises(CommandError, match="must decode to 32 bytes"):
        call_command("rotate_encryption_key", "--old-key", "c2hvcnQ")


def test_webhook_signing_secrets_are_rotated_with_the_tokens(account_factory, workspace, settings):
    from events.models import WebhookEndpoint

    old_key = settings.ENCRYPTION_KEY
    endpoint = WebhookEndpoint.objects.create(workspace=workspace, url="https://hooks.example.com/in",
                                              event_types=["*"], secret="whsec_current", previous_secret="whsec_old")
    settings.ENCRYPTION_KEY = NEW_KEY
    out = io.StringIO()
    call_command("rotate_encryption_key", "--old-key", old_key, stdout=out, stderr=io.StringIO())

    assert "other secrets (webhook signing secrets): re-encrypted 1 row(s), 0 unreadable" in out.getvalue()
    settings.ENCRYPTION_KEY_PREVIOUS = ""
    fresh = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert (str(fresh.secret), str(fresh.previous_secret)) == ("whsec_current", "whsec_old")
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM events_webhookendpoint WHERE id = %s", [endpoint.pk])
        assert TokenCipher(NEW_KEY).decrypt(bytes(cursor.fetchone()[0])) == "whsec_current"
