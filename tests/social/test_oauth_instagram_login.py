"""Instagram Login path: Instagram's own dialog, code -> 1 h token -> 60-day token -> /me, one row per account."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from social.models import AccountStatus, LoginPath, OAuthState, SocialAccount
from tests.conftest import load_fixture

from .conftest import body_of, calls_to, query_of, start_oauth

pytestmark = pytest.mark.django_db

IG_API = "https://api.instagram.com"
IG_GRAPH = "https://graph.instagram.com"
IG_USER = "17841400000000009"
TOKENS = ("IGAAshort-LOGIN-TOKEN-111", "IGAAlong-LOGIN-TOKEN-222", "test-ig-app-secret", "ig-good-code")


@pytest.fixture
def instagram_login(mocked_platforms):
    """Instagram's side of a full Business Login connect."""
    def code_exchange(request):
        if body_of(request).get("code") == "ig-good-code":
            return 200, {}, json.dumps(load_fixture("instagram/login_access_token_short.json"))
        return 400, {}, json.dumps(load_fixture("instagram/login_code_error.json"))

    rsps = mocked_platforms
    rsps.add_callback("POST", f"{IG_API}/oauth/access_token", callback=code_exchange)
    rsps.add("GET", f"{IG_GRAPH}/access_token", json=load_fixture("instagram/login_access_token_long.json"))
    rsps.add("GET", f"{IG_GRAPH}/v25.0/me", json=load_fixture("instagram/login_me.json"))
    return rsps


def callback(client, **params):
    return client.get("/api/v1/auth/callback/instagram_login", params)


def test_start_redirects_to_instagrams_own_dialog_with_the_business_scopes_and_a_state_of_its_flow(api_client, user, settings):
    response = api_client.get("/api/v1/auth/oauth/instagram_login")
    assert response.status_code == 302
    assert response["Location"].startswith("https://www.instagram.com/oauth/authorize?")
    query = query_of(response["Location"])
    assert query["client_id"] == "test-ig-app-id"
    assert query["redirect_uri"] == settings.INSTAGRAM_LOGIN_CALLBACK_URL
    assert query["redirect_uri"].endswith("/api/v1/auth/callback/instagram_login")
    assert query["response_type"] == "code"
    assert query["scope"].split(",") == [
        "instagram_business_basic", "instagram_business_content_publish", "instagram_business_manage_comments",
        "instagram_business_manage_messages", "instagram_business_manage_insights"]
    state = OAuthState.objects.get(state=query["state"])
    assert (state.user, state.platform, state.used_at) == (user, "instagram_login", None)


def test_start_without_the_instagram_app_credentials_answers_a_clear_error_and_makes_no_state(api_client, settings):
    settings.INSTAGRAM_APP_SECRET = ""
    response = api_client.get("/api/v1/auth/oauth/instagram_login", HTTP_ACCEPT="application/json")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "instagram_login_not_configured"
    assert "INSTAGRAM_APP_ID" in error["message"] and "INSTAGRAM_APP_SECRET" in error["message"]
    assert not OAuthState.objects.exists()


def test_the_start_route_needs_an_admin_of_the_workspace(workspace, member_factory):
    _, editor = member_factory(workspace, "editor")
    response = editor.get("/api/v1/auth/oauth/instagram_login", HTTP_ACCEPT="application/json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "role_required"
    assert OAuthState.objects.count() == 0


def test_callback_connects_the_account_with_its_own_60_day_token(api_client, user, instagram_login, settings):
    state = start_oauth(api_client, "instagram_login")
    response = callback(api_client, code="ig-good-code", state=state)

    account = SocialAccount.objects.get()
    assert response.status_code == 302
    assert query_of(response["Location"]) == {"result": "connected", "platform": "instagram_login",
                                              "accounts": str(account.pk)}
    assert (account.platform, account.external_id, account.login_path) == ("instagram", IG_USER, LoginPath.INSTAGRAM)
    assert account.uses_instagram_login
    assert (account.username, account.name, account.parent_id, account.connected_by) == (
        "corner.studio", "Corner Studio", None, user)
    assert account.avatar_url == "https://scontent.cdninstagram.com/v/t51.2885-19/corner.jpg"
    assert account.access_token == "IGAAlong-LOGIN-TOKEN-222"
    assert account.platform_user_id == IG_USER
    left = account.token_expires_at - timezone.now()
    assert timedelta(days=59) < left <= timedelta(seconds=5183944)
    assert account.status == AccountStatus.ACTIVE and account.status_reason == ""
    assert "instagram_business_content_publish" in account.scopes
    assert account.token_refresh_due_at is not None and account.token_refresh_due_at < account.token_expires_at


def test_callback_sends_the_documented_requests(api_client, instagram_login, settings):
    state = start_oauth(api_client, "instagram_login")
    callback(api_client, code="ig-good-code", state=state)

    (exchange,) = calls_to(instagram_login, "api.instagram.com/oauth/access_token", "POST")
    assert body_of(exchange) == {"client_id": "test-ig-app-id", "client_secret": "test-ig-app-secret",
                                 "grant_type": "authorization_code", "redirect_uri": settings.INSTAGRAM_LOGIN_CALLBACK_URL,
                                 "code": "ig-good-code"}
    (swap,) = calls_to(instagram_login, "graph.instagram.com/access_token", "GET")
    assert query_of(swap.url) == {"grant_type": "ig_exchange_token", "client_secret": "test-ig-app-secret",
                                  "access_token": "IGAAshort-LOGIN-TOKEN-111"}
    (me,) = calls_to(instagram_login, "graph.instagram.com/v25.0/me", "GET")
    q = query_of(me.url)
    assert q["access_token"] == "IGAAlong-LOGIN-TOKEN-222"
    assert set(q["fields"].split(",")) >= {"user_id", "username", "account_type", "profile_picture_url", "followers_count"}
    # Nothing of the connect went to Facebook's Graph.
    assert not calls_to(instagram_login, "graph.facebook.com")


def test_a_refused_code_connects_nothing_and_leaks_nothing(api_client, instagram_login, settings, caplog):
    state = start_oauth(api_client, "instagram_login")
    response = callback(api_client, code="stale-code", state=state)
    assert query_of(response["Location"]) == {"error": "exchange_failed", "platform": "instagram_login"}
    assert not SocialAccount.objects.exists()
    for secret in TOKENS:
        assert secret not in caplog.text


def test_a_state_of_another_flow_is_refused_at_the_instagram_login_callback(api_client, instagram_login, settings):
    state = start_oauth(api_client, "instagram")  # the Facebook-Login flow
    response = callback(api_client, code="ig-good-code", state=state)
    assert query_of(response["Location"])["error"] == "invalid_state"
    assert not SocialAccount.objects.exists()
    assert OAuthState.objects.get(state=state).used_at is None  # still usable at its own callback


def test_missing_business_scopes_are_named_in_the_status_reason(api_client, instagram_login):
    grant = load_fixture("instagram/login_access_token_short.json")
    grant["data"][0]["permissions"] = "instagram_business_basic,instagram_business_content_publish"
    instagram_login.replace("POST", f"{IG_API}/oauth/access_token", json=grant)
    state = start_oauth(api_client, "instagram_login")
    callback(api_client, code="ig-good-code", state=state)
    reason = SocialAccount.objects.get().status_reason
    assert "instagram_business_manage_comments (comments)" in reason
    assert "instagram_business_manage_insights (analytics)" in reason


def test_a_flat_code_exchange_answer_is_read_too(api_client, instagram_login):
    flat = load_fixture("instagram/login_access_token_short.json")["data"][0]
    instagram_login.replace("POST", f"{IG_API}/oauth/access_token", json=flat)
    state = start_oauth(api_client, "instagram_login")
    callback(api_client, code="ig-good-code", state=state)
    assert SocialAccount.objects.get().access_token == "IGAAlong-LOGIN-TOKEN-222"


def test_the_same_account_connected_through_both_paths_stays_one_row_and_switches_path(
        api_client, meta_connect, instagram_login):
    # First through a Facebook Page: the fixture's Page 1 links IG account 17841400000000001.
    callback_fb = api_client.get("/api/v1/auth/callback/facebook",
                                 {"code": "good-code", "state": start_oauth(api_client, "facebook")})
    assert callback_fb.status_code == 302
    ig = SocialAccount.objects.get(platform="instagram")
    assert (ig.login_path, ig.parent_id is not None, ig.access_token) == (LoginPath.FACEBOOK, True, "EAApage-TOKEN-PAGE1")

    me = {**load_fixture("instagram/login_me.json"), "user_id": ig.external_id}
    instagram_login.replace("GET", f"{IG_GRAPH}/v25.0/me", json=me)
    callback(api_client, code="ig-good-code", state=start_oauth(api_client, "instagram_login"))

    (same,) = SocialAccount.objects.filter(platform="instagram")
    assert same.pk == ig.pk
    assert (same.login_path, same.parent_id, same.access_token) == (LoginPath.INSTAGRAM, None, "IGAAlong-LOGIN-TOKEN-222")
    assert same.token_expires_at is not None

    # And back through Facebook: the Page token again, no expiry, the Page as parent.
    api_client.get("/api/v1/auth/callback/facebook", {"code": "good-code", "state": start_oauth(api_client, "facebook")})
    (back,) = SocialAccount.objects.filter(platform="instagram")
    assert back.pk == ig.pk
    assert (back.login_path, back.parent_id is not None, back.access_token, back.token_expires_at) == (
        LoginPath.FACEBOOK, True, "EAApage-TOKEN-PAGE1", None)


def test_an_instagram_app_id_without_its_secret_is_reported_by_the_system_check(settings):
    from social.checks import check_secrets

    settings.INSTAGRAM_APP_SECRET = ""
    issues = [i for i in check_secrets(None) if i.id == "unipulse.E002"]
    assert [i.msg for i in issues] == ["INSTAGRAM_APP_SECRET is not set but its pair is."]
