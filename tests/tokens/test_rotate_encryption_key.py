import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from social.models import SocialAccount

pytestmark = pytest.mark.django_db

NEW_KEY = "bmV3LWtleS1mb3Itcm90YXRpb24tdGVzdHMtMzItYiE"
STRANGER_KEY = "c3RyYW5nZXIta2V5LW5vYm9keS1oYXMtaXQtMzItYiE"


def raw(account_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM social_socialaccount WHERE id = %s", [account_id])
        return bytes(cursor.fetchone()[0])


def test_rotation_re_encrypts_every_token_under_the_new_key(account_factory, settings, capsys):
    old_key = settings.ENCRYPTION_KEY
    accounts = [account_factory("tiktok", access_token=f"act.rot-{i}", refresh_token=f"rft.rot-{i}") for i in range(3)]
    before = {a.pk: raw(a.pk) for a in accounts}
    settings.ENCRYPTION_KEY = NEW_KEY
    call_command("rotate_encryption_key", "--old-key", old_key, "--batch-size", "2")
    out = capsys.readouterr().out
    assert "3 accounts: re-encrypted 6 tokens, 0 already on the current key, 0 accounts unreadable" in out
    settings.ENCRYPTION_KEY_PREVIOUS = ""  # the old key is gone: tokens must read with the new key alone
    for a in accounts:
        assert raw(a.pk) != before[a.pk]
        fresh = SocialAccount.objects.get(pk=a.pk)
        assert fresh.access_token == f"act.rot-{a.pk - accounts[0].pk}" or fresh.access_token.startswith("act.rot-")
    assert sorted(SocialAccount.objects.get(pk=a.pk).refresh_token for a in accounts) == ["rft.rot-0", "rft.rot-1", "rft.rot-2"]


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
