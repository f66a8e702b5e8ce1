"""Graph API plumbing shared by the Facebook and Instagram clients.

Every Graph call carries `appsecret_proof` (HMAC-SHA256 of the token with the app secret) and goes
through `http.request` with the user's hourly budget and the app/user/object pause scopes; what
Graph's answers mean (error codes, usage headers) is read here, by the GRAPH dialect.
Ref: https://developers.facebook.com/docs/graph-api/securing-requests/
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from unipulse.platform_errors import (
    BlockedError,
    InvalidRequestError,
    PermissionMissingError,
    PlatformError,
    RateLimitedError,
    ReauthRequiredError,
    TransientError,
)

from . import http, instagram_login, ratelimit


def parse_graph_time(value) -> datetime | None:
    """Graph times look like 2026-11-25T10:00:00+0000; anything else (or nothing) is None."""
    if not value:
        return None
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def graph_url(path: str) -> str:
    return f"{settings.META_GRAPH_URL}/{settings.META_GRAPH_VERSION}/{path.lstrip('/')}"


def appsecret_proof(token: str) -> str:
    return hmac.new(settings.FACEBOOK_APP_SECRET.encode(), token.encode(), hashlib.sha256).hexdigest()


def auth_params(token: str) -> dict[str, str]:
    params = {"access_token": token}
    if settings.FACEBOOK_APP_SECRET:
        params["appsecret_proof"] = appsecret_proof(token)
    return params


def user_budget_key(account) -> str:
    """The hourly budget `account`'s calls spend: its Facebook user's, or (Instagram Login) its Instagram user's."""
    if getattr(account, "uses_instagram_login", False):
        return instagram_login.user_budget_key(account)
    return ratelimit.meta_user_key(account.platform_user_id or f"account-{account.pk}")


# ---- what Graph's answers mean (the Dialect every Graph call passes to http.request) -------------

# Send API outside the messaging window: Messenger 10/2018278, Instagram 10/2534022.
MESSAGING_WINDOW_SUBCODES = {2018278, 2534022}
META_RATE_LIMIT_CODES = {4: "app", 17: "user", 32: "account", 341: "app", 613: "user"}
META_BUC_CODES = set(range(80000, 80015))
# Instagram/Facebook subcodes that mean "this account may not post now": never retry a commit on these.
META_BLOCKING_SUBCODES = {
    2207042: "Instagram's publishing limit for this account is reached",
    2207050: "Instagram restricted this account",
    2207051: "Instagram blocked this action",
    1390008: "Facebook says this Page is posting too fast",
    2207001: "Instagram flagged this content as spam",
}


def classify_meta_error(status, body, headers, account=None, object_id=None, user_key=None) -> PlatformError | None:
    err = body.get("error") if isinstance(body, dict) else None
    if status < 400 and not isinstance(err, dict):
        if body is None:
            return TransientError("Meta sent a response we could not read.", platform="meta", status=status)
        return None
    name = http.platform_name("meta", account)
    if not isinstance(err, dict):
        if status >= 500:
            return TransientError(f"{name} had a server error (HTTP {status}).", platform="meta", status=status)
        return InvalidRequestError(f"{name} refused the request (HTTP {status}).", platform="meta", status=status)

    code = _int(err.get("code"))
    subcode = _int(err.get("error_subcode"))
    trace = str(err.get("fbtrace_id") or "")
    # Graph sometimes hides the useful part in error_user_title/msg under a generic message
    # ("An unknown error occurred", code 1 subcode 99 for "Please reduce the amount of data ...").
    text = http.safe_text(" ".join(
        str(part) for part in (err.get("error_user_title"), err.get("error_user_msg") or err.get("message")) if part
    ))
    common = {"platform": "meta", "status": status, "code": code, "subcode": subcode, "trace_id": trace}

    if code in (190, 102):
        return ReauthRequiredError(f"Reconnect your {name} account: its access was revoked or expired.", **common)
    if code in META_RATE_LIMIT_CODES or code in META_BUC_CODES:
        return _meta_rate_limited(code, name, headers, account, object_id, user_key, common)
    if code == 368 or subcode in META_BLOCKING_SUBCODES:
        why = META_BLOCKING_SUBCODES.get(subcode, f"{name} temporarily blocked this account for a policy reason")
        hours = 24 if code == 368 or subcode in (2207042, 2207050, 2207051) else 1
        return BlockedError(f"{why}. {text}".strip(), until=timezone.now() + timedelta(hours=hours), **common)
    if code == 10 and subcode in MESSAGING_WINDOW_SUBCODES:
        # Not a permission problem: the person last wrote more than 24 h ago (7 days with HUMAN_AGENT).
        return InvalidRequestError(
            f"{name} no longer accepts a reply in this conversation: its messaging window has closed.", **common)
    if code == 10 or (code is not None and 200 <= code <= 299):
        return PermissionMissingError(f"{name} permission missing: {text}", permission=http.permission_in(text), **common)
    if err.get("is_transient") or code in (1, 2) or status >= 500:
        return TransientError(f"{name} had a temporary problem: {text}", **common)
    return InvalidRequestError(f"{name} refused the request: {text}", **common)


def _meta_rate_limited(code, name, headers, account, object_id, user_key, common) -> RateLimitedError:
    scope = "account" if code in META_BUC_CODES else META_RATE_LIMIT_CODES[code]
    target = object_id or getattr(account, "external_id", None)
    wait = ratelimit.regain_seconds_from_buc(headers, target) if target else None
    if scope == "app":
        wait = wait or 3600
        ratelimit.pause(ratelimit.META_APP, wait, f"Graph error {code}")
    elif scope == "user" and user_key:
        wait = wait or 3600
        ratelimit.pause(user_key, wait, f"Graph error {code}")
    else:
        wait = wait or 600
        if target:
            ratelimit.pause(ratelimit.meta_object_key(target), wait, f"Graph error {code}")
    return RateLimitedError(f"{name} rate limit reached; retrying in {wait // 60 or 1} min.", retry_after=wait, scope=scope, **common)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _classify(call: http.Call, response, body) -> PlatformError | None:
    return classify_meta_error(response.status_code, body, response.headers, call.account, call.object_id,
                               call.budget_key)


def _read_usage_headers(call: http.Call, response) -> None:
    # Every answer, a refused one too: usage headers near 100 % pause their scope before Graph starts refusing.
    ratelimit.apply_meta_usage_headers(response.headers, call.budget_key)


GRAPH = http.Dialect(classify=_classify, after_response=_read_usage_headers)


def call(
    account,
    method: str,
    path: str,
    *,
    endpoint: str,
    params: dict | None = None,
    data: dict | None = None,
    json: Any = None,
    files: dict | None = None,
    token: str | None = None,
    object_id: str | None = None,
) -> Any:
    """One Graph call as `account` (its token unless `token` is given); returns the parsed body.

    The one place the two Instagram paths part: an account connected through Instagram Login is
    called on graph.instagram.com with its own token and budget (instagram_login.call); every other
    account on graph.facebook.com with appsecret_proof and its Facebook user's budget.
    """
    if getattr(account, "uses_instagram_login", False):
        return instagram_login.call(account, method, path, endpoint=endpoint, params=params, data=data, json=json,
                                    files=files, token=token, object_id=object_id)
    if token is None:
        http.refresh_if_needed(account)
    token = token or account.access_token
    params = dict(params or {})
    data = dict(data) if data is not None else None
    # The token travels in the POST body where there is one, so it never sits in a URL.
    if data is not None and json is None:
        data.update(auth_params(token))
    else:
        params.update(auth_params(token))
    object_id = object_id or account.external_id
    return http.request(
        "meta", method, graph_url(path), endpoint=endpoint, dialect=GRAPH, account=account, params=params, data=data,
        json=json, files=files, budget_key=user_budget_key(account),
        pause_keys=(ratelimit.META_APP, ratelimit.meta_object_key(object_id)), object_id=object_id,
    ).data


def paginate(account, path: str, *, endpoint: str, params: dict | None = None, max_pages: int | None = None,
             token: str | None = None) -> Iterator[list[dict]]:
    """Yield each page's `data` list, following `paging.cursors.after`.

    The `paging.next` URL carries the access token, so we rebuild the next request from the cursor
    instead of following (or ever logging) that URL.
    """
    params = dict(params or {})
    pages = 0
    while True:
        body = call(account, "GET", path, endpoint=endpoint, params=params, token=token)
        yield body.get("data", [])
        pages += 1
        after = next_after(body)
        if not after or (max_pages and pages >= max_pages):
            return
        params["after"] = after


def next_after(body: dict) -> str | None:
    """The cursor of the page after this one (a listing or a nested edge), None on the last page.

    Same rule as `paginate`: the next request is rebuilt from the cursor; the `next` URL carries the token.
    """
    paging = body.get("paging") or {}
    after = (paging.get("cursors") or {}).get("after")
    return after if paging.get("next") and after else None


# Ref: https://developers.facebook.com/docs/graph-api/reference/object/comments/
def more_comments(account, object_id: str, *, endpoint: str, params: dict, after: str, max_pages: int,
                  parse_page: Callable[[list[dict]], list], reaches_back: Callable[[list], bool] | None = None) -> list:
    """Follow an object's comments edge on from a nested page's cursor, up to `max_pages` calls.

    `parse_page` reads one page into the platform's comments; `reaches_back(page)` stops at the first
    page that reaches back to what an earlier poll read (for an edge that has no `since` filter).
    """
    comments = []
    for raws in paginate(account, f"{object_id}/comments", endpoint=endpoint, max_pages=max_pages,
                         params={**params, "after": after}):
        page = parse_page(raws)
        comments.extend(page)
        if reaches_back is not None and reaches_back(page):
            break
    return comments


def app_call(method: str, path: str, *, endpoint: str, params: dict | None = None) -> Any:
    """A Graph call with the app's own credentials (OAuth exchange, debug_token): no user budget."""
    return http.request(
        "meta", method, graph_url(path), endpoint=endpoint, dialect=GRAPH, params=params,
        pause_keys=(ratelimit.META_APP,),
    ).data


# Sections below belong to the app that uses them; add functions under your section only.

# ==== OAuth, token exchange and inspection (social + tokens apps) =================================

@dataclass(frozen=True)
class TokenGrant:
    access_token: str = field(repr=False)
    expires_at: datetime | None  # None: the token does not expire (Page tokens from a long-lived user token)


@dataclass(frozen=True)
class TokenInfo:
    is_valid: bool
    type: str                      # USER | PAGE | SYSTEM_USER
    user_id: str
    expires_at: datetime | None    # None: never (debug_token says 0)
    data_access_expires_at: datetime | None
    scopes: list[str]
    error_code: int | None = None
    error_subcode: int | None = None
    # scope -> the Page/IG ids it was granted for; a scope absent here was granted for all of them
    granular_scopes: dict[str, list[str]] = field(default_factory=dict)


def _expiry_from_expires_in(expires_in) -> datetime | None:
    try:
        seconds = int(expires_in)
    except (TypeError, ValueError):
        return None
    return timezone.now() + timedelta(seconds=seconds) if seconds > 0 else None


def _from_epoch(value) -> datetime | None:
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds > 0 else None


# Ref: https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow#exchangecode
def exchange_code(code: str, redirect_uri: str) -> TokenGrant:
    """Exchange an OAuth code for a short-lived user token. Raises a PlatformError on refusal."""
    body = app_call("GET", "oauth/access_token", endpoint="oauth.access_token", params={
        "client_id": settings.FACEBOOK_APP_ID, "client_secret": settings.FACEBOOK_APP_SECRET,
        "redirect_uri": redirect_uri, "code": code,
    })
    return TokenGrant(access_token=body["access_token"], expires_at=_expiry_from_expires_in(body.get("expires_in")))


# Ref: https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived
def exchange_long_lived_token(token: str) -> TokenGrant:
    """Swap a (short- or long-lived, still valid) user token for a new ~60-day one."""
    body = app_call("GET", "oauth/access_token", endpoint="oauth.fb_exchange_token", params={
        "grant_type": "fb_exchange_token", "client_id": settings.FACEBOOK_APP_ID,
        "client_secret": settings.FACEBOOK_APP_SECRET, "fb_exchange_token": token,
    })
    return TokenGrant(access_token=body["access_token"], expires_at=_expiry_from_expires_in(body.get("expires_in")))


# Ref: https://developers.facebook.com/docs/graph-api/reference/debug_token
def debug_token(token: str) -> TokenInfo:
    """Inspect any token with the app token: validity, expiry, data-access expiry, granted scopes."""
    body = app_call("GET", "debug_token", endpoint="debug_token", params={
        "input_token": token, "access_token": f"{settings.FACEBOOK_APP_ID}|{settings.FACEBOOK_APP_SECRET}",
    })
    data = body.get("data") or {}
    error = data.get("error") or {}
    return TokenInfo(
        is_valid=bool(data.get("is_valid")),
        type=str(data.get("type") or ""),
        user_id=str(data.get("user_id") or ""),
        expires_at=_from_epoch(data.get("expires_at")),
        data_access_expires_at=_from_epoch(data.get("data_access_expires_at")),
        scopes=list(data.get("scopes") or []),
        error_code=error.get("code"),
        error_subcode=error.get("subcode"),
        granular_scopes={
            str(g["scope"]): [str(t) for t in g["target_ids"]]
            for g in data.get("granular_scopes") or [] if g.get("scope") and g.get("target_ids") is not None
        },
    )


# Connect-time calls run before any SocialAccount exists, so they take the user token directly and
# go through http.request with the user's budget key (once /me has told us who the user is).
def _user_call(token: str, path: str, *, endpoint: str, user_id: str = "", params: dict | None = None) -> Any:
    return http.request(
        "meta", "GET", graph_url(path), endpoint=endpoint, dialect=GRAPH, params={**(params or {}), **auth_params(token)},
        budget_key=ratelimit.meta_user_key(user_id) if user_id else None, pause_keys=(ratelimit.META_APP,),
    ).data


@dataclass(frozen=True)
class MetaUser:
    id: str
    name: str


@dataclass(frozen=True)
class InstagramAccountInfo:
    id: str
    username: str
    name: str
    picture_url: str


@dataclass(frozen=True)
class PageGrant:
    """One Page from /me/accounts: its Page token, the user's tasks on it, its Instagram account."""

    id: str
    name: str
    username: str
    picture_url: str
    access_token: str = field(repr=False)
    tasks: list[str]
    instagram: InstagramAccountInfo | None


# Ref: https://developers.facebook.com/docs/graph-api/reference/user/
def get_me(token: str) -> MetaUser:
    """The Facebook user a user token belongs to."""
    body = _user_call(token, "me", endpoint="me", params={"fields": "id,name"})
    return MetaUser(id=str(body["id"]), name=str(body.get("name") or ""))


# Ref: https://developers.facebook.com/docs/graph-api/reference/user/permissions/
def get_granted_permissions(token: str, user_id: str) -> list[str]:
    """Permissions the user granted (declined and expired ones left out)."""
    body = _user_call(token, "me/permissions", endpoint="me.permissions", user_id=user_id)
    return sorted(p["permission"] for p in body.get("data", []) if p.get("status") == "granted")


PAGE_FIELDS = ("id,name,username,access_token,tasks,picture.type(large){url},"
               "instagram_business_account{id,username,name,profile_picture_url}")


# Ref: https://developers.facebook.com/docs/graph-api/reference/user/accounts/
def list_pages(token: str, user_id: str, max_pages: int = 50) -> list[PageGrant]:
    """Every Page the user granted, following cursors (never `paging.next`, which carries the token)."""
    params: dict = {"fields": PAGE_FIELDS, "limit": 100}
    pages: list[PageGrant] = []
    for _ in range(max_pages):
        body = _user_call(token, "me/accounts", endpoint="me.accounts", user_id=user_id, params=params)
        items = body.get("data", []) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise ValueError("/me/accounts answered without a data list")
        pages.extend(_page_grant(item) for item in items)
        paging = _as_dict(body.get("paging"))
        after = _as_dict(paging.get("cursors")).get("after")
        if not paging.get("next") or not after:
            break
        params = {**params, "after": after}
    return pages


def _page_grant(item: dict) -> PageGrant:
    """One /me/accounts entry. Raises ValueError when it is not a Page at all; a malformed
    Instagram or picture sub-object only loses that part (the Page still connects)."""
    if not isinstance(item, dict) or not item.get("id"):
        raise ValueError("a /me/accounts entry without a Page id")
    ig = _as_dict(item.get("instagram_business_account"))
    tasks = item.get("tasks")
    return PageGrant(
        id=str(item["id"]), name=str(item.get("name") or ""), username=str(item.get("username") or ""),
        picture_url=str(_as_dict(_as_dict(item.get("picture")).get("data")).get("url") or ""),
        access_token=str(item.get("access_token") or ""),
        tasks=[str(t) for t in tasks] if isinstance(tasks, list) else [],
        instagram=InstagramAccountInfo(
            id=str(ig["id"]), username=str(ig.get("username") or ""), name=str(ig.get("name") or ""),
            picture_url=str(ig.get("profile_picture_url") or ""),
        ) if ig.get("id") else None,
    )


def _as_dict(value) -> dict:
    # Graph answers an object, or nothing; anything else (a bare id string, a list) is unreadable.
    return value if isinstance(value, dict) else {}


# Ref: https://developers.facebook.com/docs/graph-api/reference/user/permissions/#Deleting
def revoke_user_permissions(user_id: str) -> bool:
    """Remove every permission the user gave this app (app token, so no user token is needed)."""
    body = app_call("DELETE", f"{user_id}/permissions", endpoint="user.permissions.delete", params={
        "access_token": f"{settings.FACEBOOK_APP_ID}|{settings.FACEBOOK_APP_SECRET}",
    })
    return bool(body.get("success")) if isinstance(body, dict) else bool(body)

