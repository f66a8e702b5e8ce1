"""Fixtures for the social app: platform mocks for whole OAuth round-trips, and no real sleeping."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import load_fixture

GRAPH = "https://graph.facebook.com/v25.0"
TIKTOK = "https://open.tiktokapis.com"
SUBSCRIBED_APPS = re.compile(rf"{re.escape(GRAPH)}/\d+/subscribed_apps")


@pytest.fixture(autouse=True)
def backoff_sleeps(monkeypatch) -> list[float]:
    """The GET-retry backoff records its waits here instead of sleeping."""
    slept: list[float] = []
    monkeypatch.setattr("social.clients.http.time.sleep", slept.append)
    return slept


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def body_of(request) -> dict[str, str]:
    body = request.body.decode() if isinstance(request.body, bytes) else (request.body or "")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def _accounts_pages(request):
    name = "oauth_accounts_page2" if "after=" in request.url else "oauth_accounts_page1"
    return 200, {}, json.dumps(load_fixture(f"facebook/{name}.json"))


def _meta_token_endpoint(request):
    """Code exchange for `good-code`, long-lived swap for anything; other codes are refused like Meta does."""
    query = query_of(request.url)
    if query.get("grant_type") == "fb_exchange_token":
        return 200, {}, json.dumps(load_fixture("facebook/oauth_access_token_long.json"))
    if query.get("code") == "good-code":
        return 200, {}, json.dumps(load_fixture("facebook/oauth_access_token_short.json"))
    return 400, {}, json.dumps(load_fixture("facebook/oauth_code_error.json"))


@pytest.fixture
def meta_connect(mocked_platforms):
    """Meta's side of a full Facebook Login connect: two Pages on page 1, one on page 2, one IG account."""
    rsps = mocked_platforms
    rsps.add_callback("GET", f"{GRAPH}/oauth/access_token", callback=_meta_token_endpoint)
    rsps.add("GET", f"{GRAPH}/me", json=load_fixture("facebook/oauth_me.json"))
    rsps.add("GET", f"{GRAPH}/me/permissions", json=load_fixture("facebook/oauth_permissions.json"))
    rsps.add_callback("GET", f"{GRAPH}/me/accounts", callback=_accounts_pages)
    rsps.add("GET", f"{GRAPH}/debug_token", json=load_fixture("facebook/oauth_debug_token.json"))
    rsps.add("POST", SUBSCRIBED_APPS, json=load_fixture("facebook/oauth_subscribed_apps_success.json"))
    rsps.add("GET", SUBSCRIBED_APPS, json=load_fixture("facebook/oauth_subscribed_apps_read.json"))
    return rsps


@pytest.fixture
def tiktok_connect(mocked_platforms):
    """TikTok's side of a Login Kit connect: token exchange and user info."""
    rsps = mocked_platforms
    rsps.add("POST", f"{TIKTOK}/v2/oauth/token/", json=load_fixture("tiktok/oauth_token.json"))
    rsps.add("GET", f"{TIKTOK}/v2/user/info/", json=load_fixture("tiktok/oauth_user_info.json"))
    return rsps


def calls_to(rsps, fragment: str, method: str | None = None) -> list:
    return [c.request for c in rsps.calls if fragment in c.request.url and (method is None or c.request.method == method)]


def start_oauth(client, platform: str) -> str:
    """Begin a connect as `client`'s user and return the state the platform would echo back."""
    response = client.get(f"/api/v1/auth/oauth/{platform}", HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    return query_of(response.json()["authorization_url"])["state"]
