"""Instagram API with Instagram Login: the consent exchange, 60-day tokens and graph.instagram.com plumbing.

Accounts of this path have no Facebook Page: they call `graph.instagram.com` with their own Instagram
user token, and the Instagram app (INSTAGRAM_APP_ID/SECRET) is a different app from the Facebook one.
Answers are Graph-shaped (`{"error": {"code", "error_subcode", "fbtrace_id"}}`), so they read like
Graph's (meta.classify_meta_error); what differs is the host, the app and the budget: one per Instagram
user (ratelimit.instagram_user_key) and the Instagram app's own usage scope.
Ref: https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings

from . import http, meta, ratelimit


def graph_url(path: str) -> str:
    """A versioned node or edge on graph.instagram.com."""
    return f"{settings.INSTAGRAM_GRAPH_URL}/{settings.META_GRAPH_VERSION}/{path.lstrip('/')}"


def is_configured() -> bool:
    return bool(settings.INSTAGRAM_APP_ID and settings.INSTAGRAM_APP_SECRET)


def user_budget_key(account) -> str:
    return ratelimit.instagram_user_key(account.external_id or f"account-{account.pk}")


def _classify(call: http.Call, response, body):
    return meta.classify_meta_error(response.status_code, body, response.headers, call.account, call.object_id,
                                    call.budget_key)


def _read_usage_headers(call: http.Call, response) -> None:
    ratelimit.apply_meta_usage_headers(response.headers, call.budget_key, app_key=ratelimit.INSTAGRAM_APP)


# api.instagram.com's code exchange answers a refusal in the older flat shape
# ({"error_type": "OAuthException", "code": 400, "error_message": ...}); without an `error` object the
# Graph reading still makes it an InvalidRequestError (a 5xx a TransientError), which is all a connect needs.
INSTAGRAM_GRAPH = http.Dialect(classify=_classify, after_response=_read_usage_headers)


def call(account, method: str, path: str, *, endpoint: str, params: dict | None = None, data: dict | None = None,
         json: Any = None, files: dict | None = None, token: str | None = None, object_id: str | None = None) -> Any:
    """One graph.instagram.com call as `account` (its own Instagram user token); returns the parsed body.

    meta.call hands every call of an Instagram Login account here, so the Instagram client, analytics
    and the inbox reach this host through the same functions. No appsecret_proof: Meta documents it
    for graph.facebook.com, not for this host.
    """
    if token is None:
        http.refresh_if_needed(account)
    token = token or account.access_token
    params = dict(params or {})
    data = dict(data) if data is not None else None
    if data is not None and json is None:
        data["access_token"] = token  # in the POST body, never in a URL
    else:
        params["access_token"] = token
    object_id = object_id or account.external_id
    return http.request(
        "meta", method, graph_url(path), endpoint=endpoint, dialect=INSTAGRAM_GRAPH, account=account, params=params,
        data=data, json=json, files=files, budget_key=user_budget_key(account),
        pause_keys=(ratelimit.INSTAGRAM_APP, ratelimit.meta_object_key(object_id)), object_id=object_id,
    ).data


# ==== OAuth and tokens (social + tokens apps) =====================================================

@dataclass(frozen=True)
class ShortLivedGrant:
    access_token: str = field(repr=False)
    user_id: str
    permissions: list[str]


@dataclass(frozen=True)
class LongLivedGrant:
    access_token: str = field(repr=False)
    expires_in: int
    expires_at: datetime | None


@dataclass(frozen=True)
class InstagramLoginUser:
    user_id: str          # the Instagram professional account id (the same id the Facebook-Login path sees)
    app_scoped_id: str    # /me's `id`: scoped to this app
    username: str
    name: str
    account_type: str     # BUSINESS | MEDIA_CREATOR
    picture_url: str
    followers_count: int | None


def _app_call(method: str, url: str, *, endpoint: str, budget_key: str | None = None, **payload) -> Any:
    return http.request("meta", method, url, endpoint=endpoint, dialect=INSTAGRAM_GRAPH, budget_key=budget_key,
                        pause_keys=(ratelimit.INSTAGRAM_APP,), **payload).data


def _permissions(value) -> list[str]:
    if isinstance(value, str):
        return sorted(p.strip() for p in value.split(",") if p.strip())
    if isinstance(value, list):
        return sorted(str(p) for p in value if p)
    return []


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login#step-2--exchange-the-code-for-a-token
def exchange_code(code: str, redirect_uri: str) -> ShortLivedGrant:
    """Exchange the dialog's code for a short-lived (1 h) Instagram user token. Raises a PlatformError on refusal."""
    body = _app_call("POST", f"{settings.INSTAGRAM_API_URL}/oauth/access_token", endpoint="ig_login.access_token", data={
        "client_id": settings.INSTAGRAM_APP_ID, "client_secret": settings.INSTAGRAM_APP_SECRET,
        "grant_type": "authorization_code", "redirect_uri": redirect_uri, "code": code,
    })
    # Meta's guide shows the grant wrapped in `data: [...]`; older answers (and the reference) put it at the top.
    if isinstance(body, dict) and isinstance(body.get("data"), list) and body["data"]:
        body = body["data"][0]
    return ShortLivedGrant(access_token=str(body["access_token"]), user_id=str(body.get("user_id") or ""),
                           permissions=_permissions(body.get("permissions")))


def _long_lived(body) -> LongLivedGrant:
    expires_in = int(body.get("expires_in") or 0)
    return LongLivedGrant(access_token=str(body["access_token"]), expires_in=expires_in,
                          expires_at=meta._expiry_from_expires_in(expires_in))


# Ref: https://developers.facebook.com/docs/instagram-platform/reference/access_token
def exchange_long_lived_token(short_token: str, user_id: str = "") -> LongLivedGrant:
    """Swap a short-lived token for a 60-day one (`expires_in` about 5 184 000 s)."""
    body = _app_call("GET", f"{settings.INSTAGRAM_GRAPH_URL}/access_token", endpoint="ig_login.exchange_token",
                     budget_key=ratelimit.instagram_user_key(user_id) if user_id else None, params={
                         "grant_type": "ig_exchange_token", "client_secret": settings.INSTAGRAM_APP_SECRET,
                         "access_token": short_token,
                     })
    return _long_lived(body)


# Ref: https://developers.facebook.com/docs/instagram-platform/reference/refresh_access_token
def refresh_access_token(account) -> LongLivedGrant:
    """A new 60-day token for `account`'s long-lived one. Meta refreshes only a token at least 24 h old
    and not yet expired; an expired or revoked one answers 190 (ReauthRequiredError)."""
    body = _app_call("GET", f"{settings.INSTAGRAM_GRAPH_URL}/refresh_access_token", endpoint="ig_login.refresh_token",
                     budget_key=user_budget_key(account), params={
                         "grant_type": "ig_refresh_token", "access_token": account.access_token,
                     })
    return _long_lived(body)


ME_FIELDS = "user_id,username,name,account_type,profile_picture_url,followers_count"


# Ref: https://developers.facebook.com/docs/instagram-platform/reference/me
def get_me(token: str, user_id: str = "") -> InstagramLoginUser:
    """The professional account a token belongs to. `user_id` (from the code exchange) names its budget."""
    body = _app_call("GET", graph_url("me"), endpoint="ig_login.me",
                     budget_key=ratelimit.instagram_user_key(user_id) if user_id else None,
                     params={"fields": ME_FIELDS, "access_token": token})
    followers = body.get("followers_count")
    return InstagramLoginUser(
        user_id=str(body.get("user_id") or user_id), app_scoped_id=str(body.get("id") or ""),
        username=str(body.get("username") or ""), name=str(body.get("name") or ""),
        account_type=str(body.get("account_type") or ""), picture_url=str(body.get("profile_picture_url") or ""),
        followers_count=int(followers) if isinstance(followers, int | str) and str(followers).isdigit() else None,
    )
