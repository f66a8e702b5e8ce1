"""Starting a connect: authenticated only, 302 or JSON, a fresh single-use state, rate limited."""

from datetime import timedelta

import pytest

from social.models import OAuthState
from tests.conftest import workspace_of_user

from .conftest import query_of

pytestmark = pytest.mark.django_db


def test_browser_navigation_is_redirected_to_facebooks_dialog_with_a_state_bound_to_the_user(api_client, user, settings):
    response = api_client.get("/api/v1/auth/oauth/facebook")
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("https://www.facebook.com/v25.0/dialog/oauth?")
    query = query_of(location)
    assert query["client_id"] == "test-app-id"
    assert query["redirect_uri"] == settings.FACEBOOK_CALLBACK_URL
    assert query["redirect_uri"].endswith("/api/v1/auth/callback/facebook")
    assert query["response_type"] == "code"
    assert query["auth_type"] == "rerequest"
    scopes = query["scope"].split(",")
    for scope in ("pages_manage_posts", "pages_read_engagement", "pages_manage_metadata", "instagram_basic",
                  "instagram_content_publish", "instagram_manage_comments", "instagram_manage_insights",
                  "pages_show_list", "read_insights", "pages_messaging", "instagram_manage_messages"):
        assert scope in scopes
    state = OAuthState.objects.get(state=query["state"])
    assert (state.user, state.platform, state.used_at) == (user, "facebook", None)
    assert len(query["state"]) >= 40


def test_instagram_uses_facebook_login_returning_to_the_instagram_callback(api_client, settings):
    response = api_client.get("/api/v1/auth/oauth/instagram")
    query = query_of(response["Location"])
    assert response["Location"].startswith("https://www.facebook.com/v25.0/dialog/oauth?")
    assert query["redirect_uri"] == settings.INSTAGRAM_CALLBACK_URL
    assert OAuthState.objects.get(state=query["state"]).platform == "instagram"


def test_tiktok_dialog_uses_client_key_and_leaves_out_the_undefined_video_insights_scope(api_client, settings):
    response = api_client.get("/api/v1/auth/oauth/tiktok")
    assert response.status_code == 302
    assert response["Location"].startswith("https://www.tiktok.com/v2/auth/authorize/?")
    query = query_of(response["Location"])
    assert query["client_key"] == "test-client-key"
    assert "client_id" not in query and "code_challenge" not in query  # web Login Kit: no PKCE
    assert query["redirect_uri"] == settings.TIKTOK_CALLBACK_URL
    scopes = query["scope"].split(",")
    assert {"user.info.basic", "video.publish", "video.list", "user.info.stats", "user.info.profile", "video.upload"} <= set(scopes)
    assert "video.insights" not in scopes


def test_json_callers_get_the_authorization_url_instead_of_a_redirect(api_client):
    response = api_client.get("/api/v1/auth/oauth/tiktok", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    url = response.json()["authorization_url"]
    assert url.startswith("https://www.tiktok.com/v2/auth/authorize/?")
    assert OAuthState.objects.filter(state=query_of(url)["state"]).count() == 1


def test_each_start_makes_a_new_state(api_client):
    first = query_of(api_client.get("/api/v1/auth/oauth/facebook")["Location"])["state"]
    second = query_of(api_client.get("/api/v1/auth/oauth/facebook")["Location"])["state"]
    assert first != second
    assert OAuthState.objects.count() == 2


def test_anonymous_caller_cannot_start_a_connect(client):
    response = client.get("/api/v1/auth/oauth/facebook")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["error"]["code"] == "not_authenticated"
    assert OAuthState.objects.count() == 0


def test_unknown_platform_is_a_json_404(api_client):
    response = api_client.get("/api/v1/auth/oauth/myspace")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert OAuthState.objects.count() == 0


def test_starting_too_often_answers_429_json(api_client, settings):
    settings.OAUTH_INITIATE_RATE = "2/m"
    assert api_client.get("/api/v1/auth/oauth/facebook").status_code == 302
    assert api_client.get("/api/v1/auth/oauth/facebook").status_code == 302
    response = api_client.get("/api/v1/auth/oauth/facebook")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "too_many_requests"
    assert response["Retry-After"] == "60"
    assert OAuthState.objects.count() == 2


def test_old_states_are_swept_when_a_new_one_is_made(api_client, user):
    from django.utils import timezone

    OAuthState.objects.create(state="stale", user=user, workspace=workspace_of_user(user), platform="facebook", created_at=timezone.now() - timedelta(days=2))
    api_client.get("/api/v1/auth/oauth/facebook")
    assert not OAuthState.objects.filter(state="stale").exists()
