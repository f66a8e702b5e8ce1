"""A TikTok call whose access token is refused: refresh once (locked path), retry once, mark only a dead grant."""

from datetime import timedelta

import pytest
import requests
import responses
from django.utils import timezone

from social.clients import tiktok
from social.models import AccountStatus, SocialAccount
from tests.conftest import load_fixture
from unipulse.platform_errors import ReauthRequiredError, TransientError

pytestmark = pytest.mark.django_db

TOKEN_URL = "https://open.tiktokapis.com/v2/oauth/token/"
USER_INFO = "https://open.tiktokapis.com/v2/user/info/"
OK = {"data": {"user": {"open_id": "open-1"}}, "error": {"code": "ok", "message": "", "log_id": "x"}}


def refused(code: str) -> dict:
    return {"data": {}, "error": {"code": code, "message": "The access token is invalid.", "log_id": "2026LOG"}}


def make_tiktok(account_factory, **fields):
    defaults = {"access_token": "act.OLD-ACCESS-1a", "refresh_token": "rft.OLD-REFRESH-2b",
                "token_expires_at": timezone.now() + timedelta(hours=1)}  # fresh by our clock
    return account_factory("tiktok", **(defaults | fields))


def get_user_info(account):
    return tiktok.call(account, "GET", "v2/user/info/", endpoint="user.info", params={"fields": "open_id"})


def urls(rsps) -> list[str]:
    return [c.request.url.split("?")[0] for c in rsps.calls]


@pytest.mark.parametrize("code", ["access_token_invalid", "token_expired"])
def test_a_refused_access_token_is_refreshed_and_the_call_retried_once(account_factory, code):
    account = make_tiktok(account_factory)
    with responses.RequestsMock() as rsps:
        rsps.get(USER_INFO, status=401, json=refused(code))
        rsps.post(TOKEN_URL, json=load_fixture("tiktok/tokens_refresh_ok.json"))
        rsps.get(USER_INFO, json=OK)
        assert get_user_info(account) == {"user": {"open_id": "open-1"}}
        assert urls(rsps) == [USER_INFO, TOKEN_URL, USER_INFO]
        assert rsps.calls[0].request.headers["Authorization"] == "Bearer act.OLD-ACCESS-1a"
        assert "refresh_token=rft.OLD-REFRESH-2b" in rsps.calls[1].request.body
        assert rsps.calls[2].request.headers["Authorization"] == "Bearer act.NEW-ROTATED-ACCESS-9f2"
    fresh = SocialAccount.objects.get(pk=account.pk)
    assert (fresh.status, fresh.status_reason) == (AccountStatus.ACTIVE, "")
    assert (fresh.access_token, fresh.refresh_token) == ("act.NEW-ROTATED-ACCESS-9f2", "rft.NEW-ROTATED-REFRESH-4c1")
    assert account.access_token == "act.NEW-ROTATED-ACCESS-9f2"  # the caller's copy too


def test_a_refused_refresh_marks_needs_reauth_and_the_call_is_not_retried(account_factory):
    account = make_tiktok(account_factory)
    with responses.RequestsMock() as rsps:
        rsps.get(USER_INFO, status=401, json=refused("access_token_invalid"))
        rsps.post(TOKEN_URL, status=400, json=load_fixture("tiktok/tokens_refresh_invalid_grant.json"))
        with pytest.raises(ReauthRequiredError) as caught:
            get_user_info(account)
        assert urls(rsps) == [USER_INFO, TOKEN_URL]
    assert caught.value.message == "Reconnect your TikTok account: TikTok no longer accepts its authorisation."
    fresh = SocialAccount.objects.get(pk=account.pk)
    assert fresh.status == AccountStatus.NEEDS_REAUTH
    assert fresh.status_reason == "Reconnect your TikTok account: TikTok no longer accepts its authorisation."
    assert account.status == AccountStatus.NEEDS_REAUTH


def test_a_temporary_refresh_failure_disconnects_nothing(account_factory):
    account = make_tiktok(account_factory)
    with responses.RequestsMock() as rsps:
        rsps.get(USER_INFO, status=401, json=refused("access_token_invalid"))
        rsps.post(TOKEN_URL, status=503, json={"error": "server_error"})
        with pytest.raises(TransientError):
            get_user_info(account)
        assert urls(rsps) == [USER_INFO, TOKEN_URL]
    fresh = SocialAccount.objects.get(pk=account.pk)
    assert (fresh.status, fresh.status_reason, fresh.access_token) == (AccountStatus.ACTIVE, "", "act.OLD-ACCESS-1a")


@pytest.mark.parametrize("fields", [{"refresh_token": ""},
                                    {"refresh_token_expires_at": timezone.now() - timedelta(minutes=1)}],
                         ids=["no refresh token", "refresh token run out"])
def test_without_a_usable_refresh_token_the_refusal_marks_needs_reauth_at_once(account_factory, fields):
    account = make_tiktok(account_factory)
    SocialAccount.objects.filter(pk=account.pk).update(**fields)
    account.refresh_from_db()
    with responses.RequestsMock() as rsps:
        rsps.get(USER_INFO, status=401, json=refused("access_token_invalid"))
        with pytest.raises(ReauthRequiredError) as caught:
            get_user_info(account)
        assert urls(rsps) == [USER_INFO]
    assert caught.value.code == "access_token_invalid"
    assert SocialAccount.objects.get(pk=account.pk).status == AccountStatus.NEEDS_REAUTH


def test_a_revoked_authorisation_is_not_refreshed(account_factory):
    account = make_tiktok(account_factory)
    with responses.RequestsMock() as rsps:
        rsps.get(USER_INFO, status=401, json=refused("auth_removed"))
        with pytest.raises(ReauthRequiredError):
            get_user_info(account)
        assert urls(rsps) == [USER_INFO]
    assert SocialAccount.objects.get(pk=account.pk).status == AccountStatus.NEEDS_REAUTH


def test_a_fresh_token_refused_again_marks_needs_reauth_without_a_loop(account_factory):
    account = make_tiktok(account_factory)
    with responses.RequestsMock() as rsps:
        rsps.get(USER_INFO, status=401, json=refused("access_token_invalid"))
        rsps.post(TOKEN_URL, json=load_fixture("tiktok/tokens_refresh_ok.json"))
        with pytest.raises(ReauthRequiredError):
            get_user_info(account)
        assert urls(rsps) == [USER_INFO, TOKEN_URL, USER_INFO]
    assert SocialAccount.objects.get(pk=account.pk).status == AccountStatus.NEEDS_REAUTH


def test_a_token_another_worker_renewed_meanwhile_is_used_without_spending_the_refresh_token(account_factory):
    account = make_tiktok(account_factory)
    stale = SocialAccount.objects.get(pk=account.pk)  # loaded before the other worker's refresh
    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN_URL, json=load_fixture("tiktok/tokens_refresh_ok.json"))
        from tokens import services

        services.refresh_account_token(account.pk, force=True)  # the other worker
        rsps.get(USER_INFO, status=401, json=refused("access_token_invalid"))
        rsps.get(USER_INFO, json=OK)
        get_user_info(stale)
        assert urls(rsps) == [TOKEN_URL, USER_INFO, USER_INFO]  # one refresh in all
        assert rsps.calls[2].request.headers["Authorization"] == "Bearer act.NEW-ROTATED-ACCESS-9f2"
    assert SocialAccount.objects.get(pk=account.pk).status == AccountStatus.ACTIVE


def test_a_refused_post_commit_is_sent_once_more_only_after_the_refusal(account_factory):
    """The only POST resent is one TikTok refused for its token; a timeout on it is never resent."""
    account = make_tiktok(account_factory)
    init = "https://open.tiktokapis.com/v2/post/publish/content/init/"
    with responses.RequestsMock() as rsps:
        rsps.post(init, status=401, json=refused("access_token_invalid"))
        rsps.post(TOKEN_URL, json=load_fixture("tiktok/tokens_refresh_ok.json"))
        rsps.post(init, body=requests.exceptions.ReadTimeout("read timed out"))
        with pytest.raises(TransientError):
            tiktok.init_photo_post(account, post_info={"title": "t"}, photo_urls=["https://media.example.com/1.jpg"])
        assert urls(rsps) == [init, TOKEN_URL, init]


def test_no_token_in_the_log_lines_of_a_renewal(account_factory, caplog):
    account = make_tiktok(account_factory)
    with responses.RequestsMock() as rsps, caplog.at_level("DEBUG"):
        rsps.get(USER_INFO, status=401, json=refused("access_token_invalid"))
        rsps.post(TOKEN_URL, json=load_fixture("tiktok/tokens_refresh_ok.json"))
        rsps.get(USER_INFO, status=401, json=refused("access_token_invalid"))
        with pytest.raises(ReauthRequiredError):
            get_user_info(account)
    assert caplog.text.count("user.info failed: ReauthRequiredError") == 2  # the refusal, then the second one
    for secret in ("OLD-ACCESS", "OLD-REFRESH", "NEW-ROTATED"):
        assert secret not in caplog.text
