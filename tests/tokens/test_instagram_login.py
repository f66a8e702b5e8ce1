"""Instagram Login tokens on the token-refresh queue: ig_refresh_token before the 60 days end, same outcomes as TikTok."""

import json
from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from social.models import AccountStatus, LoginPath, SocialAccount
from tests.conftest import load_fixture
from tokens import services
from tokens.actors import token_refresh
from unipulse.platform_errors import ReauthRequiredError, TransientError

pytestmark = pytest.mark.django_db

REFRESH_URL = "https://graph.instagram.com/refresh_access_token"
DEBUG_URL = "https://graph.facebook.com/v25.0/debug_token"
OLD = "IGAAlong-OLD-TOKEN-444"


def make_ig_login(account_factory, expires_in: timedelta = timedelta(days=5), **fields):
    values = {"external_id": "17841400000000009", "platform_user_id": "17841400000000009", "access_token": OLD,
              "login_path": LoginPath.INSTAGRAM, "token_expires_at": timezone.now() + expires_in,
              "scopes": ["instagram_business_basic", "instagram_business_content_publish"]}
    values.update(fields)
    return account_factory("instagram", **values)


def test_a_fresh_60_day_token_is_due_when_the_refresh_window_opens(account_factory, settings):
    account = make_ig_login(account_factory, expires_in=timedelta(seconds=5183944))
    expected = account.token_expires_at - timedelta(days=settings.INSTAGRAM_REFRESH_DAYS_BEFORE)
    assert account.token_refresh_due_at == expected


def test_a_window_wider_than_the_tokens_age_still_waits_24_hours(account_factory, settings):
    settings.INSTAGRAM_REFRESH_DAYS_BEFORE = 60
    before = timezone.now()
    account = make_ig_login(account_factory, expires_in=timedelta(days=60))
    assert before + timedelta(hours=24) < account.token_refresh_due_at <= timezone.now() + timedelta(hours=25)


def test_a_due_token_is_refreshed_with_ig_refresh_token_and_the_new_expiry_saved(account_factory):
    account = make_ig_login(account_factory, status_reason="Expiring: an old warning")
    with responses.RequestsMock() as rsps:
        rsps.add("GET", REFRESH_URL, json=load_fixture("instagram/login_refresh_access_token.json"))
        token_refresh(account.id)
        (call,) = rsps.calls
    assert call.request.url.startswith(REFRESH_URL + "?")
    assert "grant_type=ig_refresh_token" in call.request.url and f"access_token={OLD}" in call.request.url
    account.refresh_from_db()
    assert account.access_token == "IGAArefreshed-LOGIN-TOKEN-333"
    assert timedelta(days=59) < account.token_expires_at - timezone.now() <= timedelta(seconds=5183944)
    assert account.status == AccountStatus.ACTIVE and account.status_reason == ""
    assert account.token_refresh_due_at == account.token_expires_at - timedelta(days=10)
    assert account.token_checked_at is not None


def test_a_token_not_yet_due_is_left_alone(account_factory):
    account = make_ig_login(account_factory, expires_in=timedelta(days=30))
    with responses.RequestsMock():  # any call fails the test
        token_refresh(account.id)
    account.refresh_from_db()
    assert account.access_token == OLD


def test_a_forced_refresh_of_a_token_under_24_hours_old_sends_nothing_and_reschedules(account_factory):
    account = make_ig_login(account_factory, expires_in=timedelta(days=60) - timedelta(hours=2))
    with responses.RequestsMock():
        services.refresh_account_token(account.id, force=True)
    account.refresh_from_db()
    assert account.access_token == OLD and account.status == AccountStatus.ACTIVE


def test_a_refused_refresh_marks_needs_reauth_with_a_reason_and_is_not_retried(account_factory, caplog):
    account = make_ig_login(account_factory)
    with responses.RequestsMock() as rsps:
        rsps.add("GET", REFRESH_URL, status=400, json=load_fixture("instagram/login_refresh_expired.json"))
        with pytest.raises(ReauthRequiredError):
            services.refresh_account_token(account.id)
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_REAUTH
    assert account.status_reason == "Reconnect your Instagram account: Instagram no longer accepts its Instagram Login token."
    assert account.access_token == OLD
    assert OLD not in caplog.text


def test_a_token_already_expired_needs_reauth_without_a_call(account_factory):
    account = make_ig_login(account_factory, expires_in=-timedelta(hours=1))
    with responses.RequestsMock(), pytest.raises(ReauthRequiredError):
        services.refresh_account_token(account.id, force=True)
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_REAUTH and "can no longer be refreshed" in account.status_reason


def test_a_temporary_failure_keeps_the_token_warns_and_is_retried(account_factory):
    account = make_ig_login(account_factory)
    with responses.RequestsMock() as rsps:
        rsps.add("GET", REFRESH_URL, status=503, body="")
        with pytest.raises(TransientError):
            services.refresh_account_token(account.id)
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE and account.access_token == OLD
    assert account.status_reason.startswith(services.WARNING_PREFIX + " the Instagram token ends ")
    assert "retrying" in account.status_reason
    # The next try succeeds and clears the warning.
    with responses.RequestsMock() as rsps:
        rsps.add("GET", REFRESH_URL, json=load_fixture("instagram/login_refresh_access_token.json"))
        services.refresh_account_token(account.id)
    account.refresh_from_db()
    assert account.access_token == "IGAArefreshed-LOGIN-TOKEN-333" and account.status_reason == ""


def test_two_workers_refresh_once(account_factory, monkeypatch):
    """The single-flight lock: the loser sees the winner's new token and sends nothing."""
    account = make_ig_login(account_factory)
    seen = services.token_version(account)
    with responses.RequestsMock() as rsps:
        rsps.add("GET", REFRESH_URL, json=load_fixture("instagram/login_refresh_access_token.json"))
        services.refresh_account_token(account.id)
        again = services.refresh_account_token(account.id, force=True, seen=seen)
        assert len(rsps.calls) == 1
    assert again.access_token == "IGAArefreshed-LOGIN-TOKEN-333"


def test_facebook_path_instagram_accounts_are_still_checked_with_debug_token(account_factory):
    account = account_factory("instagram", login_path=LoginPath.FACEBOOK)
    SocialAccount.objects.filter(pk=account.pk).update(token_refresh_due_at=timezone.now())
    body = {"data": {"is_valid": True, "type": "PAGE", "expires_at": 0, "scopes": account.scopes}}
    with responses.RequestsMock() as rsps:
        rsps.add("GET", DEBUG_URL, body=json.dumps(body))
        services.refresh_account_token(account.id)
        assert [c.request.url.split("?")[0] for c in rsps.calls] == [DEBUG_URL]
    account.refresh_from_db()
    assert account.token_expires_at is None and account.access_token.startswith("secret-access-instagram")
