"""TikTok callback: flat OAuth errors, both expiries from the answer, profile, reconnect."""

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from social.models import AccountStatus, SocialAccount
from tests.conftest import load_fixture, recorded_events

from .conftest import TIKTOK, body_of, calls_to, query_of, start_oauth

pytestmark = pytest.mark.django_db


def callback(client, **params):
    return client.get("/api/v1/auth/callback/tiktok", params)


def test_tiktok_connect_stores_both_tokens_with_the_lifetimes_tiktok_sent_and_the_profile(
        api_client, user, tiktok_connect, settings):
    before = timezone.now()
    response = callback(api_client, code="tt-code", scopes="user.info.basic", state=start_oauth(api_client, "tiktok"))

    account = SocialAccount.objects.get()
    assert response.status_code == 302
    assert query_of(response["Location"]) == {"result": "connected", "platform": "tiktok", "accounts": str(account.pk)}
    assert (account.platform, account.external_id, account.platform_user_id, account.connected_by) == (
        "tiktok", "-000OpenIdAlice", "-000OpenIdAlice", user)
    assert account.access_token == "act.TIKTOK-ACCESS-abc123"
    assert account.refresh_token == "rft.TIKTOK-REFRESH-def456"
    assert before + timedelta(seconds=7200) <= account.token_expires_at <= timezone.now() + timedelta(seconds=7200)
    assert before + timedelta(seconds=15552000) <= account.refresh_token_expires_at
    assert account.refresh_token_expires_at <= timezone.now() + timedelta(seconds=15552000)
    assert (account.name, account.username) == ("Alice Bakes", "alicebakes")
    assert account.avatar_url.startswith("https://p16-sign-va.tiktokcdn.com/")
    assert account.scopes == ["user.info.basic", "user.info.profile", "user.info.stats", "video.list",
                              "video.upload", "video.publish"]
    assert (account.status, account.status_reason) == (AccountStatus.ACTIVE, "")

    token_request = calls_to(tiktok_connect, "/v2/oauth/token/")[0]
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert body_of(token_request) == {"client_key": "test-client-key", "client_secret": "test-client-secret",
                                      "code": "tt-code", "grant_type": "authorization_code",
                                      "redirect_uri": settings.TIKTOK_CALLBACK_URL}
    info = calls_to(tiktok_connect, "/v2/user/info/")[0]
    assert info.headers["Authorization"] == "Bearer act.TIKTOK-ACCESS-abc123"
    assert query_of(info.url)["fields"] == "open_id,union_id,avatar_url,display_name,username,follower_count"

    [event] = recorded_events()  # written with the account, inside the connect's transaction
    assert (event.type, event.workspace_id) == ("account.connected", account.workspace_id)
    obj = event.data["object"]
    assert (obj["id"], obj["platform"], obj["status"], obj["has_access_token"]) == (account.pk, "tiktok", "active", True)
    assert "remaining_call_budget" not in obj
    assert "TIKTOK-ACCESS" not in json.dumps(event.data) and "TIKTOK-REFRESH" not in json.dumps(event.data)


def test_profile_fields_follow_the_granted_scopes(api_client, tiktok_connect):
    tiktok_connect.replace("POST", f"{TIKTOK}/v2/oauth/token/", json=load_fixture("tiktok/oauth_token_no_refresh.json"))
    callback(api_client, code="tt-code", state=start_oauth(api_client, "tiktok"))
    info = calls_to(tiktok_connect, "/v2/user/info/")[0]
    assert query_of(info.url)["fields"] == "open_id,union_id,avatar_url,display_name"  # no scope, no field
    account = SocialAccount.objects.get()
    assert account.status_reason == ("Missing permission: video.publish (publishing), user.info.stats (follower counts), "
                                     "user.info.profile (the username). Reconnect and allow it.")


def test_reconnect_keeps_the_stored_refresh_token_when_tiktok_sends_none(api_client, account_factory, tiktok_connect):
    expiry = timezone.now() + timedelta(days=100)
    old = account_factory("tiktok", external_id="-000OpenIdAlice", refresh_token="rft.KEEP-ME",
                          refresh_token_expires_at=expiry, status=AccountStatus.NEEDS_REAUTH, status_reason="Reconnect")
    tiktok_connect.replace("POST", f"{TIKTOK}/v2/oauth/token/", json=load_fixture("tiktok/oauth_token_no_refresh.json"))
    response = callback(api_client, code="tt-code", state=start_oauth(api_client, "tiktok"))

    assert query_of(response["Location"])["accounts"] == str(old.pk)
    assert SocialAccount.objects.count() == 1
    old.refresh_from_db()
    assert old.access_token == "act.TIKTOK-ACCESS-second"
    assert old.refresh_token == "rft.KEEP-ME"
    assert old.refresh_token_expires_at == expiry
    assert old.status == AccountStatus.ACTIVE


def test_reconnect_replaces_a_rotated_refresh_token(api_client, account_factory, tiktok_connect):
    old = account_factory("tiktok", external_id="-000OpenIdAlice", refresh_token="rft.OLD")
    callback(api_client, code="tt-code", state=start_oauth(api_client, "tiktok"))
    old.refresh_from_db()
    assert old.refresh_token == "rft.TIKTOK-REFRESH-def456"


def test_flat_invalid_grant_from_the_token_endpoint_is_exchange_failed(api_client, tiktok_connect, settings, caplog):
    tiktok_connect.replace("POST", f"{TIKTOK}/v2/oauth/token/", status=400,
                           json=load_fixture("tiktok/oauth_token_invalid_grant.json"))
    with caplog.at_level(logging.INFO):
        response = callback(api_client, code="tt-code", state=start_oauth(api_client, "tiktok"))
    assert query_of(response["Location"]) == {"error": "exchange_failed", "platform": "tiktok"}
    assert SocialAccount.objects.count() == 0
    assert "tiktok:invalid_grant" in caplog.text and "20261125104455A1B2C3D4E5F6" in caplog.text


def test_denied_tiktok_consent_is_access_denied(api_client, tiktok_connect):
    response = callback(api_client, error="access_denied", error_description="The user denied",
                        state=start_oauth(api_client, "tiktok"))
    assert query_of(response["Location"]) == {"error": "access_denied", "platform": "tiktok"}
    assert SocialAccount.objects.count() == 0 and len(tiktok_connect.calls) == 0


def test_profile_failure_still_connects_the_account(api_client, tiktok_connect):
    tiktok_connect.replace("GET", f"{TIKTOK}/v2/user/info/", json=load_fixture("tiktok/errors_scope_not_authorized.json"))
    response = callback(api_client, code="tt-code", state=start_oauth(api_client, "tiktok"))
    assert query_of(response["Location"])["result"] == "connected"
    assert SocialAccount.objects.get().access_token == "act.TIKTOK-ACCESS-abc123"


def test_no_tiktok_token_in_redirect_or_logs(api_client, tiktok_connect, caplog):
    caplog.set_level(logging.DEBUG)
    response = callback(api_client, code="tt-code", state=start_oauth(api_client, "tiktok"))
    for text in (response["Location"], caplog.text, api_client.get("/api/v1/accounts/").content.decode()):
        assert "act.TIKTOK" not in text and "rft.TIKTOK" not in text


def test_reconnect_clears_needs_reauth_but_keeps_a_spam_block(api_client, account_factory, tiktok_connect):
    blocked = timezone.now() + timedelta(hours=24)
    old = account_factory("tiktok", external_id="-000OpenIdAlice", status=AccountStatus.NEEDS_REAUTH,
                          status_reason="Reconnect your TikTok account.", blocked_until=blocked)
    callback(api_client, code="tt-code", state=start_oauth(api_client, "tiktok"))
    old.refresh_from_db()
    assert old.status == AccountStatus.ACTIVE and old.status_reason == ""
    assert old.blocked_until == blocked and old.is_blocked()


@pytest.mark.parametrize(("granted", "reason"), [
    ("user.info.basic,user.info.profile,video.list,video.publish", "user.info.stats (follower counts)"),
    ("user.info.basic,user.info.stats,video.list,video.publish", "user.info.profile (the username)"),
    ("user.info.basic,user.info.profile,user.info.stats,video.publish", "video.list (post metrics)"),
])
def test_a_missing_tiktok_feature_scope_is_named_with_its_feature(api_client, tiktok_connect, granted, reason):
    token = {**load_fixture("tiktok/oauth_token.json"), "scope": granted}
    tiktok_connect.replace("POST", f"{TIKTOK}/v2/oauth/token/", json=token)
    callback(api_client, code="tt-code", state=start_oauth(api_client, "tiktok"))
    account = SocialAccount.objects.get()
    assert account.status == AccountStatus.ACTIVE
    assert account.status_reason == f"Missing permission: {reason}. Reconnect and allow it."


def test_all_tiktok_scopes_granted_means_no_reason_and_publishing_is_not_blocked(api_client, tiktok_connect):
    from publishing.services.validation import account_errors

    callback(api_client, code="tt-code", state=start_oauth(api_client, "tiktok"))
    account = SocialAccount.objects.get()
    assert account.status_reason == "" and account_errors([account]) == []
