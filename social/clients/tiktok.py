"""TikTok client: Login Kit v2 OAuth, Content Posting API, Display API.

Every API answer carries {"data": ..., "error": {"code", "message", "log_id"}}; any code other than
"ok" is a failure, even under HTTP 200 (http.classify_tiktok_error). OAuth endpoints answer flat
errors instead (http.classify_tiktok_oauth_error).
Ref: https://developers.tiktok.com/doc/tiktok-api-v2-introduction
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from . import http, ratelimit


def api_url(path: str) -> str:
    return f"{settings.TIKTOK_API_URL}/{path.lstrip('/')}"


def user_key(account) -> str:
    return ratelimit.tiktok_user_key(account.external_id or f"account-{account.pk}")


def call(account, method: str, path: str, *, endpoint: str, params: dict | None = None, json: Any = None,
         token: str | None = None) -> dict:
    """One TikTok API call as `account`; returns the envelope's `data` object."""
    if token is None:
        http.refresh_if_needed(account)
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

@dataclass(frozen=True)
class TikTokProfile:
    open_id: str
    display_name: str
    username: str
    avatar_url: str
    follower_count: int | None


# Ref: https://developers.tiktok.com/doc/oauth-user-access-token-management
def exchange_code(code: str, redirect_uri: str) -> TikTokGrant:
    """Exchange a Login Kit code (single-use) for tokens. Errors come flat, not in the envelope."""
    body = oauth_call("v2/oauth/token/", endpoint="oauth.token", data={
        "client_key": settings.TIKTOK_CLIENT_KEY, "client_secret": settings.TIKTOK_CLIENT_SECRET,
        "code": code, "grant_type": "authorization_code", "redirect_uri": redirect_uri,
    })
    return parse_grant(body)


def profile_fields(scopes: list[str]) -> list[str]:
    """User-info fields the granted scopes allow: asking for one more fails the whole call."""
    fields = ["open_id", "union_id", "avatar_url", "display_name"]
    if "user.info.profile" in scopes:
        fields.append("username")
    if "user.info.stats" in scopes:
        fields.append("follower_count")
    return fields


# Ref: https://developers.tiktok.com/doc/tiktok-api-v2-get-user-info
def get_user_info(account, fields: list[str]) -> TikTokProfile:
    """The account's profile. Raises PermissionMissingError if a field's scope was not granted."""
    data = call(account, "GET", "v2/user/info/", endpoint="user.info", params={"fields": ",".join(fields)})
    user = data.get("user") or {}
    followers = user.get("follower_count")
    return TikTokProfile(
        open_id=str(user.get("open_id") or ""), display_name=str(user.get("display_name") or ""),
        username=str(user.get("username") or ""), avatar_url=str(user.get("avatar_url") or ""),
        follower_count=int(followers) if followers is not None else None,
    )


# Ref: https://developers.tiktok.com/doc/oauth-user-access-token-management
def revoke_token(access_token: str) -> None:
    """Revoke the user's authorisation of this app (TikTok answers an empty object)."""
    oauth_call("v2/oauth/revoke/", endpoint="oauth.revoke", data={
        "client_key": settings.TIKTOK_CLIENT_KEY, "client_secret": settings.TIKTOK_CLIENT_SECRET,
        "token": access_token,
    })



# ==== token refresh (tokens app) ==================================================================

@dataclass(frozen=True)
class TikTokGrant:
    """What TikTok's token endpoint returns, with lifetimes taken from the answer, never assumed."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    open_id: str
    scopes: list[str]
    expires_in: int
    expires_at: datetime
    refresh_expires_at: datetime | None


def parse_grant(body: dict) -> TikTokGrant:
    now = timezone.now()
    expires_in = int(body.get("expires_in") or 0)
    refresh_in = int(body.get("refresh_expires_in") or 0)
    return TikTokGrant(
        access_token=body["access_token"],
        refresh_token=body.get("refresh_token") or "",
        open_id=str(body.get("open_id") or ""),
        scopes=[s for s in str(body.get("scope") or "").split(",") if s],
        expires_in=expires_in,
        expires_at=now + timedelta(seconds=expires_in),
        refresh_expires_at=now + timedelta(seconds=refresh_in) if refresh_in else None,
    )


# Ref: https://developers.tiktok.com/doc/oauth-user-access-token-management
def refresh_access_token(refresh_token: str) -> TikTokGrant:
    """Use a refresh token once. TikTok rotates it: store the returned refresh token, drop the old one."""
    body = oauth_call("v2/oauth/token/", endpoint="oauth.refresh", data={
        "client_key": settings.TIKTOK_CLIENT_KEY, "client_secret": settings.TIKTOK_CLIENT_SECRET,
        "grant_type": "refresh_token", "refresh_token": refresh_token,
    })
    return parse_grant(body)



# ==== publishing ==================================================================================



# ==== analytics ===================================================================================

