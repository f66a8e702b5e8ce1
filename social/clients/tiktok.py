"""TikTok client: Login Kit v2 OAuth, Content Posting API, Display API.

Every API answer carries {"data": ..., "error": {"code", "message", "log_id"}}; any code other than
"ok" is a failure, even under HTTP 200 (http.classify_tiktok_error). OAuth endpoints answer flat
errors instead (http.classify_tiktok_oauth_error).
Ref: https://developers.tiktok.com/doc/tiktok-api-v2-introduction
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from . import http, ratelimit


def api_url(path: str) -> str:
    return f"{settings.TIKTOK_API_URL}/{path.lstrip('/')}"


def user_key(account) -> str:
    return ratelimit.tiktok_user_key(account.external_id or f"account-{account.pk}")


def call(account, method: str, path: str, *, endpoint: str, params: dict | None = None, json: Any = None,
         token: str | None = None) -> dict:
    """One TikTok API call as `account`; returns the envelope's `data` object."""
    headers = {"Authorization": f"Bearer {token or account.access_token}"}
    if json is not None:
        headers["Content-Type"] = "application/json; charset=UTF-8"
    body = http.request(
        "tiktok", method, api_url(path), endpoint=endpoint, account=account, params=params, json=json,
        headers=headers, pause_keys=(user_key(account),),
    ).data
    return body.get("data") or {}


def oauth_call(path: str, *, endpoint: str, data: dict, account=None) -> dict:
    """A form POST to TikTok's OAuth endpoints (token, refresh, revoke); returns the flat body."""
    return http.request(
        "tiktok", "POST", api_url(path), endpoint=endpoint, data=data, oauth=True,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cache-Control": "no-cache"},
        pause_keys=("tiktok:app",),
    ).data


# Sections below belong to the app that uses them; add functions under your section only.

# ==== accounts, OAuth (social app) ================================================================



# ==== token refresh (tokens app) ==================================================================



# ==== publishing ==================================================================================



# ==== analytics ===================================================================================

