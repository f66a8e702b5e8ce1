"""The sandbox's Instagram Login path: consent page, code exchange, 60-day token, refresh, /me, end to end."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from sandbox.models import Token
from sandbox.seed import PAGES
from social.clients import instagram_login
from social.models import LoginPath, SocialAccount
from tests.sandbox.conftest import IG_APP_ID, IG_APP_SECRET
from tests.sandbox.test_production_clients import through_sandbox  # noqa: F401  (the fixture)
from tokens import services
from unipulse.platform_errors import ReauthRequiredError

REDIRECT = "http://testserver/api/v1/auth/callback/instagram_login"
SCOPES = "instagram_business_basic,instagram_business_content_publish,instagram_business_manage_comments"
IG_ID = PAGES[0][3][0]


def approve_instagram(client, account: str = IG_ID, state: str = "ig-1", redirect: str = REDIRECT) -> str:
    query = {"client_id": IG_APP_ID, "redirect_uri": redirect, "state": state, "response_type": "code", "scope": SCOPES}
    page = client.get("/sandbox/instagram/oauth/authorize", query)
    assert page.status_code == 200 and b"@sandbox.coffee" in page.content
    response = client.post("/sandbox/instagram/oauth/authorize", {**query, "account": account, "action": "approve"})
    assert response.status_code == 302
    redirect_query = parse_qs(urlsplit(response["Location"]).query)
    assert redirect_query["state"] == [state]
    return redirect_query["code"][0]


def exchange(client, code: str, redirect: str = REDIRECT):
    return client.post("/sandbox/instagram-api/oauth/access_token", {
        "client_id": IG_APP_ID, "client_secret": IG_APP_SECRET, "grant_type": "authorization_code",
        "redirect_uri": redirect, "code": code})


def test_the_code_exchange_answers_the_grant_wrapped_in_data(client, sandbox):
    body = exchange(client, approve_instagram(client)).json()
    (grant,) = body["data"]
    assert grant["user_id"] == IG_ID and grant["permissions"] == SCOPES and grant["access_token"].startswith("IGAA")


def test_a_used_code_or_a_different_redirect_is_refused_in_the_flat_oauth_shape(client, sandbox):
    code = approve_instagram(client)
    refused = exchange(client, code, redirect=REDIRECT + "/")
    assert refused.status_code == 400 and refused.json()["error_type"] == "OAuthException"
    exchange(client, code)
    assert exchange(client, code).json()["code"] == 400


def test_the_dialog_refuses_an_unknown_app_and_cancel_redirects_with_the_denial(client, sandbox):
    assert client.get("/sandbox/instagram/oauth/authorize", {"client_id": "nope", "redirect_uri": REDIRECT}).status_code == 400
    response = client.post("/sandbox/instagram/oauth/authorize", {"client_id": IG_APP_ID, "redirect_uri": REDIRECT,
                                                                  "state": "s", "action": "cancel"})
    assert parse_qs(urlsplit(response["Location"]).query)["error"] == ["access_denied"]


def test_the_production_client_gets_a_60_day_token_and_the_account_behind_it(client, through_sandbox):  # noqa: F811
    short = instagram_login.exchange_code(approve_instagram(client), REDIRECT)
    grant = instagram_login.exchange_long_lived_token(short.access_token, short.user_id)
    assert grant.expires_in == 5183944
    me = instagram_login.get_me(grant.access_token, short.user_id)
    assert (me.user_id, me.username, me.account_type) == (IG_ID, "sandbox.coffee", "BUSINESS")
    assert me.app_scoped_id and me.app_scoped_id != me.user_id and me.followers_count


@pytest.mark.usefixtures("through_sandbox")
def test_connect_end_to_end_through_the_api_then_refresh_before_the_60_days_end(user, settings):
    settings.INSTAGRAM_LOGIN_CALLBACK_URL = REDIRECT
    api = APIClient()
    api.force_authenticate(user)
    start = api.get("/api/v1/auth/oauth/instagram_login")
    assert start.status_code == 302 and start["Location"].startswith("http://testserver/sandbox/instagram/oauth/authorize?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(start["Location"]).query).items()}
    assert query["scope"].startswith("instagram_business_basic,")
    approved = api.post("/sandbox/instagram/oauth/authorize", {**query, "account": IG_ID, "action": "approve"})
    done = api.get(approved["Location"].replace("http://testserver", ""))
    assert "result=connected" in done["Location"] and "platform=instagram_login" in done["Location"]

    account = SocialAccount.objects.get(platform="instagram", external_id=IG_ID)
    assert account.login_path == LoginPath.INSTAGRAM and account.username == "sandbox.coffee"
    assert account.parent_id is None and account.status_reason == ""
    first = account.access_token

    # 51 days on (the product's clock is the real one, so the token is aged instead of the clock moved).
    Token.objects.filter(token=first).update(issued_at=timezone.now() - timedelta(days=51))
    SocialAccount.objects.filter(pk=account.pk).update(token_expires_at=timezone.now() + timedelta(days=9),
                                                       token_refresh_due_at=timezone.now())
    services.refresh_account_token(account.pk)
    account.refresh_from_db()
    assert account.access_token != first and account.status == "active"
    assert account.token_expires_at > timezone.now() + timedelta(days=59)
    assert Token.objects.get(token=account.access_token).kind == Token.Kind.INSTAGRAM_LONG

    # The sandbox now says the token has expired (190): the account asks to be reconnected.
    Token.objects.filter(token=account.access_token).update(issued_at=timezone.now() - timedelta(days=61),
                                                            expires_at=timezone.now() - timedelta(hours=1))
    SocialAccount.objects.filter(pk=account.pk).update(token_expires_at=timezone.now() + timedelta(days=9))
    with pytest.raises(ReauthRequiredError):
        services.refresh_account_token(account.pk, force=True)
    account.refresh_from_db()
    assert account.status == "needs_reauth" and account.status_reason.startswith("Reconnect your Instagram account")


def test_refresh_needs_a_long_lived_token_at_least_24_hours_old(client, sandbox):
    short = exchange(client, approve_instagram(client)).json()["data"][0]["access_token"]
    long = client.get("/sandbox/instagram-graph/access_token", {"grant_type": "ig_exchange_token",
                                                                "client_secret": IG_APP_SECRET, "access_token": short})
    token = long.json()["access_token"]
    refresh = {"grant_type": "ig_refresh_token", "access_token": token}
    assert client.get("/sandbox/instagram-graph/refresh_access_token", refresh).json()["error"]["code"] == 100
    Token.objects.filter(token=token).update(issued_at=timezone.now() - timedelta(hours=25))
    renewed = client.get("/sandbox/instagram-graph/refresh_access_token", refresh).json()
    assert renewed["token_type"] == "bearer" and renewed["expires_in"] == 5183944 and renewed["access_token"] != token
    # A short-lived token is not refreshable.
    assert client.get("/sandbox/instagram-graph/refresh_access_token",
                      {**refresh, "access_token": short}).json()["error"]["code"] == 190
