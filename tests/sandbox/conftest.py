"""Sandbox fixtures: the sandbox switched on for one test, a frozen clock, and connect helpers."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

import unipulse.urls  # noqa: F401  (imported while the sandbox is off, as in production: no /sandbox/ there)
from sandbox import clock

BASE = "http://testserver/sandbox"
APP_ID, APP_SECRET = "sandbox-app-id", "sandbox-app-secret"
CLIENT_KEY, CLIENT_SECRET = "sandbox-client-key", "sandbox-client-secret"
IG_APP_ID, IG_APP_SECRET = "sandbox-instagram-app-id", "sandbox-instagram-app-secret"
REDIRECT = "http://testserver/api/v1/auth/callback/facebook"
TIKTOK_REDIRECT = "http://testserver/api/v1/auth/callback/tiktok"
SCOPES = "pages_show_list,pages_manage_posts,pages_read_engagement,pages_manage_metadata,pages_manage_engagement," \
         "read_insights,pages_messaging,instagram_basic,instagram_content_publish,instagram_manage_comments," \
         "instagram_manage_insights,instagram_manage_messages"
TIKTOK_SCOPES = "user.info.basic,user.info.profile,user.info.stats,video.list,video.upload,video.publish"


@pytest.fixture
def sandbox(settings, db):
    """The sandbox on, exactly as unipulse/settings.py sets it up, served by the test client."""
    settings.SOCIAL_SANDBOX = True
    settings.ROOT_URLCONF = "tests.sandbox.urls"
    settings.SANDBOX_URL = BASE
    settings.META_GRAPH_URL = f"{BASE}/graph"
    settings.META_OAUTH_DIALOG_URL = f"{BASE}/facebook"
    settings.TIKTOK_API_URL = f"{BASE}/tiktok-api"
    settings.TIKTOK_AUTH_URL = f"{BASE}/tiktok"
    settings.INSTAGRAM_GRAPH_URL = f"{BASE}/instagram-graph"
    settings.INSTAGRAM_OAUTH_DIALOG_URL = f"{BASE}/instagram"
    settings.INSTAGRAM_API_URL = f"{BASE}/instagram-api"
    settings.INSTAGRAM_APP_ID, settings.INSTAGRAM_APP_SECRET = IG_APP_ID, IG_APP_SECRET
    settings.FACEBOOK_APP_ID, settings.FACEBOOK_APP_SECRET = APP_ID, APP_SECRET
    settings.TIKTOK_CLIENT_KEY, settings.TIKTOK_CLIENT_SECRET = CLIENT_KEY, CLIENT_SECRET
    settings.PUBLIC_BASE_URL = "http://testserver"
    settings.SANDBOX_CONTAINER_SECONDS = 5
    settings.SANDBOX_TIKTOK_STEP_SECONDS = 5
    return settings


@pytest.fixture
def frozen():
    with clock.frozen() as frozen_clock:
        yield frozen_clock


def proof(token: str) -> str:
    return hmac.new(APP_SECRET.encode(), token.encode(), hashlib.sha256).hexdigest()


class Graph:
    """Calls the Graph double the way social.clients.meta does: token and appsecret_proof on each call."""

    def __init__(self, client: Client, token: str = "") -> None:
        self.client, self.token = client, token

    def _auth(self, params: dict | None) -> dict:
        params = dict(params or {})
        if self.token and "access_token" not in params:
            params.update(access_token=self.token, appsecret_proof=proof(self.token))
        return params

    def get(self, path: str, params: dict | None = None, **extra):
        return self.client.get(f"/sandbox/graph/v25.0/{path}", self._auth(params), **extra)

    def post(self, path: str, data: dict | None = None):
        return self.client.post(f"/sandbox/graph/v25.0/{path}", self._auth(data))

    def post_json(self, path: str, body: dict):
        return self.client.post(f"/sandbox/graph/v25.0/{path}?access_token={self.token}&appsecret_proof="
                                f"{proof(self.token)}", body, content_type="application/json")

    def delete(self, path: str, params: dict | None = None):
        from urllib.parse import urlencode

        return self.client.delete(f"/sandbox/graph/v25.0/{path}?{urlencode(self._auth(params))}")


def approve_facebook(client: Client, pages: list[str] | None = None, scope: str = SCOPES, state: str = "st-1") -> str:
    """Open the dialog, approve it, return the code from the redirect."""
    from sandbox.seed import PAGES

    query = {"client_id": APP_ID, "redirect_uri": REDIRECT, "state": state, "response_type": "code", "scope": scope}
    assert client.get("/sandbox/facebook/v25.0/dialog/oauth", query).status_code == 200
    chosen = pages if pages is not None else [p[0] for p in PAGES]
    response = client.post("/sandbox/facebook/v25.0/dialog/oauth", {**query, "pages": chosen, "action": "approve"})
    assert response.status_code == 302
    return parse_qs(urlsplit(response["Location"]).query)["code"][0]


def connect_facebook(client: Client, pages: list[str] | None = None) -> tuple[str, dict[str, str]]:
    """The whole Meta connect: code -> short token -> long-lived token -> Page tokens. Returns (user token, page tokens)."""
    code = approve_facebook(client, pages)
    graph = Graph(client)
    short = graph.get("oauth/access_token", {"client_id": APP_ID, "client_secret": APP_SECRET,
                                             "redirect_uri": REDIRECT, "code": code}).json()["access_token"]
    long = graph.get("oauth/access_token", {"grant_type": "fb_exchange_token", "client_id": APP_ID,
                                            "client_secret": APP_SECRET, "fb_exchange_token": short}).json()
    accounts = Graph(client, long["access_token"]).get("me/accounts", {"fields": "id,access_token"}).json()
    return long["access_token"], {p["id"]: p["access_token"] for p in accounts["data"]}


def connect_tiktok(client: Client, scope: str = TIKTOK_SCOPES) -> dict:
    query = {"client_key": CLIENT_KEY, "redirect_uri": TIKTOK_REDIRECT, "state": "tt-1", "response_type": "code",
             "scope": scope}
    response = client.post("/sandbox/tiktok/v2/auth/authorize/", {**query, "action": "approve"})
    code = parse_qs(urlsplit(response["Location"]).query)["code"][0]
    return client.post("/sandbox/tiktok-api/v2/oauth/token/", {
        "client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET, "code": code, "grant_type": "authorization_code",
        "redirect_uri": TIKTOK_REDIRECT,
    }).json()
