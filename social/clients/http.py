"""One outgoing call: freshness -> rate limiter -> requests -> count -> usage headers -> typed errors.

Every platform call in UniPulse goes through `request()`. It owns the one `requests.Session`,
its timeouts, safe retries (idempotent GETs only, on connection errors and 5xx), call counting,
and the mapping of Meta's and TikTok's error bodies to the classes in `unipulse/platform_errors.py`.
Nothing it raises or logs contains a token, a URL with a query string, or a raw response body.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from django.utils import timezone

from unipulse.logging_filters import redact
from unipulse.platform_errors import (
    PLATFORM_NAMES,
    BlockedError,
    InvalidRequestError,
    PermissionMissingError,
    PlatformError,
    RateLimitedError,
    ReauthRequiredError,
    TransientError,
)

from . import ratelimit

logger = logging.getLogger(__name__)

USER_AGENT = "UniPulse/1.0 (+https://github.com/unipulse)"

_session = requests.Session()
_session.headers["User-Agent"] = USER_AGENT

# The `tokens` app registers its locked refresh here at start-up (tokens.apps.TokensConfig.ready),
# so every call refreshes a near-expiry token first without `social` importing `tokens`, and a
# token TikTok refuses as invalid or expired is renewed (same locked path) before the call fails.
_token_refresher: Callable[[Any], None] | None = None
_token_renewer: Callable[[Any], bool] | None = None


def set_token_refresher(refresher: Callable[[Any], None] | None,
                        renewer: Callable[[Any], bool] | None = None) -> None:
    global _token_refresher, _token_renewer
    _token_refresher, _token_renewer = refresher, renewer


def refresh_if_needed(account) -> None:
    """Refresh `account`'s token first if it is (nearly) expired. Call before reading the token."""
    if account is not None and _token_refresher is not None:
        _token_refresher(account)


@dataclass
class ApiResponse:
    data: Any
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)


def request(
    platform: str,
    method: str,
    url: str,
    *,
    endpoint: str,
    account=None,
    params: dict | None = None,
    data: dict | None = None,
    json: Any = None,
    headers: dict | None = None,
    files: dict | None = None,
    budget_key: str | None = None,
    pause_keys: tuple[str, ...] = (),
    object_id: str | None = None,
    oauth: bool = False,
    expect_json: bool = True,
    timeout: tuple[float, float] | None = None,
) -> ApiResponse:
    """Send one platform call; return the parsed body or raise a typed PlatformError.

    Callers that put `account`'s token in the request call `refresh_if_needed(account)` first
    (meta.call and tiktok.call do).

    `platform` is 'meta' (Graph: Facebook and Instagram) or 'tiktok'. `endpoint` is a short label
    without ids ('page.feed', 'video.list') used for counting and logs. `oauth=True` marks TikTok's
    OAuth endpoints, whose errors are flat rather than the API envelope.
    """
    def spend() -> None:
        # Before every HTTP attempt, a GET's retries included: each one is a call the platform counts.
        ratelimit.check_paused([*pause_keys, *([budget_key] if budget_key else [])], _name(platform, account))
        if budget_key:
            ratelimit.take_budget(budget_key, _name(platform, account))

    def attempt(headers: dict | None) -> tuple[requests.Response, Any, PlatformError | None]:
        response = _send(platform, method, url, endpoint, account, params, data, json, headers, files, timeout, spend)
        if platform == "meta":
            ratelimit.apply_meta_usage_headers(response.headers, budget_key)
        if not expect_json and response.status_code < 400:
            return response, None, None  # a raw answer (TikTok's upload PUT: 201/206, no envelope)
        body = _parse_body(response)
        return response, body, _classify(platform, response, body, account, object_id, budget_key, pause_keys, oauth)

    response, body, error = attempt(headers)
    # TikTok refused the token itself, which proves the call did nothing: once the token is renewed
    # (or a renewal by another worker is picked up), the same call is sent once more, commit included.
    # A refused refresh raises ReauthRequiredError (account marked), a temporary failure TransientError.
    if _is_renewable_rejection(platform, oauth, error, account, headers) and _token_renewer(account):
        _log_error(platform, endpoint, account, error)
        response, body, error = attempt({**headers, "Authorization": f"Bearer {account.access_token}"})
    if not expect_json and error is None and response.status_code < 400:
        return ApiResponse(data=response.content, status=response.status_code, headers=response.headers)
    if error is not None:
        _log_error(platform, endpoint, account, error)
        if isinstance(error, ReauthRequiredError) and account is not None and getattr(account, "pk", None):
            account.mark_needs_reauth(error.message)
        # Recorded wherever it happens; callers about to post check account.is_blocked() first.
        if isinstance(error, BlockedError) and error.until and account is not None and getattr(account, "pk", None):
            account.mark_blocked(error.until)
        raise error
    if platform == "tiktok" and response.status_code != 429:
        ratelimit.clear_backoff(pause_keys[0] if pause_keys else "tiktok:app")
    return ApiResponse(data=body, status=response.status_code, headers=response.headers)


# TikTok's answers that the access token (not the grant) is no longer good: a refresh may cure them.
TIKTOK_RENEWABLE = {"access_token_invalid", "token_expired"}


def _is_renewable_rejection(platform, oauth, error, account, headers) -> bool:
    return (
        platform == "tiktok" and not oauth and isinstance(error, ReauthRequiredError)
        and error.code in TIKTOK_RENEWABLE and _token_renewer is not None
        and account is not None and getattr(account, "pk", None) is not None
        # only a call made with the account's own token can be cured by renewing that token
        and bool(headers) and headers.get("Authorization") == f"Bearer {account.access_token}"
    )


def _send(platform, method, url, endpoint, account, params, data, json, headers, files, timeout,
          spend: Callable[[], None]) -> requests.Response:
    """Send with bounded retries for a GET. `spend` runs before every attempt (pause check, budget)."""
    timeout = timeout or (settings.PLATFORM_HTTP_CONNECT_TIMEOUT, settings.PLATFORM_HTTP_READ_TIMEOUT)
    # Only a GET can be repeated without risk of changing anything on the platform.
    attempts = 1 + (settings.PLATFORM_HTTP_GET_RETRIES if method.upper() == "GET" else 0)
    name = _name(platform, account)
    for attempt in range(1, attempts + 1):
        spend()
        try:
            response = _session.request(
                method, url, params=params, data=data, json=json, headers=headers, files=files, timeout=timeout
            )
            ratelimit.count_call(platform, endpoint, getattr(account, "pk", None))
        except requests.Timeout:
            failure = TransientError(f"{name} did not answer in time ({endpoint}).", platform=platform)
        except requests.RequestException:
            # The exception text carries the URL (and maybe a token in its query): never keep it.
            failure = TransientError(f"Could not reach {name} ({endpoint}).", platform=platform)
        else:
            # Graph's "reduce the amount of data" is a 500 that the same request will hit again.
            if response.status_code < 500 or attempt == attempts or b"reduce the amount of data" in response.content.lower():
                return response
            failure = None
        if attempt == attempts:
            raise failure from None
        time.sleep(min(0.25 * 2 ** (attempt - 1), 2.0))
    raise AssertionError("unreachable")


def _parse_body(response: requests.Response) -> Any:
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        return None


def _classify(platform, response, body, account, object_id, budget_key, pause_keys, oauth) -> PlatformError | None:
    if platform == "meta":
        return classify_meta_error(response.status_code, body, response.headers, account, object_id, budget_key)
    if oauth:
        return classify_tiktok_oauth_error(response.status_code, body, account, response.headers, pause_keys)
    return classify_tiktok_error(response.status_code, body, response.headers, account, pause_keys)


# ---- Meta ---------------------------------------------------------------------------------------

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
    name = _name("meta", account)
    if not isinstance(err, dict):
        if status >= 500:
            return TransientError(f"{name} had a server error (HTTP {status}).", platform="meta", status=status)
        return InvalidRequestError(f"{name} refused the request (HTTP {status}).", platform="meta", status=status)

    code = _int(err.get("code"))
    subcode = _int(err.get("error_subcode"))
    trace = str(err.get("fbtrace_id") or "")
    # Graph sometimes hides the useful part in error_user_title/msg under a generic message
    # ("An unknown error occurred", code 1 subcode 99 for "Please reduce the amount of data ...").
    text = _safe_text(" ".join(
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
        return PermissionMissingError(f"{name} permission missing: {text}", permission=_permission_in(text), **common)
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


# ---- TikTok -------------------------------------------------------------------------------------

TIKTOK_REAUTH = {"access_token_invalid", "invalid_grant", "token_expired", "auth_removed"}
TIKTOK_PERMISSION = {"scope_not_authorized", "scope_permission_missed"}
TIKTOK_BLOCKED = {
    "spam_risk_too_many_posts", "spam_risk_user_banned_from_posting", "spam_risk_too_many_pending_share",
    "spam_risk_text", "spam_risk", "reached_active_user_cap",
}
# An app TikTok has not audited yet may post only to private creator accounts: waiting never fixes
# that (a block would retry every 24 h forever), the creator or the app owner must act.
TIKTOK_UNAUDITED = "unaudited_client_can_only_post_to_private_accounts"


def classify_tiktok_error(status, body, headers, account=None, pause_keys=()) -> PlatformError | None:
    err = body.get("error") if isinstance(body, dict) else None
    code = str(err.get("code")) if isinstance(err, dict) and err.get("code") is not None else None
    if code == "ok" and status < 400:
        return None
    if code is None and status < 400:
        if isinstance(body, dict):
            return None  # e.g. the upload endpoint, which answers without the envelope
        return TransientError("TikTok sent a response we could not read.", platform="tiktok", status=status)
    log_id = str(err.get("log_id") or "") if isinstance(err, dict) else ""
    text = _safe_text(err.get("message") if isinstance(err, dict) else "")
    common = {"platform": "tiktok", "status": status, "code": code or status, "trace_id": log_id}
    return _tiktok_error(code, status, text, headers, pause_keys, common)


def classify_tiktok_oauth_error(status, body, account=None, headers=None, pause_keys=()) -> PlatformError | None:
    # TikTok's OAuth endpoints answer errors flat: {"error": "invalid_grant", "error_description": ..., "log_id": ...}
    if not isinstance(body, dict):
        return TransientError("TikTok's sign-in service sent a response we could not read.", platform="tiktok", status=status)
    code = body.get("error")
    if isinstance(code, dict):  # some deployments wrap OAuth errors in the API envelope
        return classify_tiktok_error(status, body, headers or {}, account, pause_keys)
    if not code and status < 400:
        return None
    text = _safe_text(body.get("error_description") or "")
    common = {"platform": "tiktok", "status": status, "code": code or status, "trace_id": str(body.get("log_id") or "")}
    if code in ("invalid_grant", "access_denied"):
        return ReauthRequiredError("Reconnect your TikTok account: TikTok no longer accepts its authorisation.", **common)
    if code == "rate_limit_exceeded" or status == 429:
        # Paused as the app, like the enveloped answer: no further sign-in call goes out until the wait is over.
        wait, scope = _pause_tiktok(headers or {}, pause_keys)
        return RateLimitedError(f"TikTok's sign-in service is rate limiting us; retrying in {wait} s.",
                                retry_after=wait, scope=scope, **common)
    if status >= 500:
        return TransientError(f"TikTok's sign-in service had a temporary problem: {text}", **common)
    return InvalidRequestError(f"TikTok refused the sign-in request ({code}): {text}", **common)


def _pause_tiktok(headers, pause_keys) -> tuple[int, str]:
    """Pause the caller's TikTok scope after a 429 for Retry-After (or a growing backoff): (seconds, scope).

    The scope is the one paused: 'user' (tiktok:user:<open_id>) or 'app' (tiktok:app, the OAuth endpoints).
    """
    key = pause_keys[0] if pause_keys else "tiktok:app"
    wait = ratelimit.backoff_after_429(key, headers.get("Retry-After"))
    ratelimit.pause(key, wait, "TikTok rate_limit_exceeded")
    return wait, key.split(":")[1]


def _tiktok_error(code, status, text, headers, pause_keys, common) -> PlatformError:
    if code in TIKTOK_REAUTH:
        return ReauthRequiredError("Reconnect your TikTok account: its access was revoked or expired.", **common)
    if code in TIKTOK_PERMISSION:
        return PermissionMissingError(f"TikTok permission missing: {text}", permission=_permission_in(text), **common)
    if code == "rate_limit_exceeded" or status == 429:
        wait, scope = _pause_tiktok(headers, pause_keys)
        return RateLimitedError(f"TikTok rate limit reached; retrying in {wait} s.", retry_after=wait, scope=scope, **common)
    if code == TIKTOK_UNAUDITED:
        return InvalidRequestError(
            "TikTok accepts posts from this app only on private TikTok accounts until TikTok has audited the app: "
            "set the TikTok account to private (or complete TikTok's app audit), then retry.", **common)
    if code in TIKTOK_BLOCKED or (code or "").startswith("spam_risk"):
        return BlockedError(f"TikTok blocked posting for this account ({code}): {text}", until=timezone.now() + timedelta(hours=24), **common)
    if code == "internal_error" or status >= 500:
        return TransientError(f"TikTok had a temporary problem: {text}", **common)
    return InvalidRequestError(f"TikTok refused the request ({code}): {text}", **common)


# ---- helpers ------------------------------------------------------------------------------------

def _name(platform: str, account=None) -> str:
    if account is not None and getattr(account, "platform", None):
        return PLATFORM_NAMES.get(account.platform, account.platform)
    return PLATFORM_NAMES.get(platform, platform)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _safe_text(text: str) -> str:
    """A platform message, fit to show: no URLs' query strings, no tokens, bounded length."""
    return redact(str(text))[:300]


# Meta names permissions in snake_case ("(#200) Requires pages_manage_posts permission", sometimes
# quoted); TikTok names scopes with dots ("... this request: video.publish").
_PERMISSION_NAME = re.compile(r"\b([a-z]+(?:_[a-z]+)+|(?:user|video|research|artist|portability)(?:\.[a-z]+)+)\b")


def _permission_in(text: str) -> str:
    match = _PERMISSION_NAME.search(text)
    return match.group(1) if match else ""


def _log_error(platform: str, endpoint: str, account, error: PlatformError) -> None:
    logger.warning(
        "%s %s failed: %s code=%s trace=%s account=%s",
        platform, endpoint, type(error).__name__, error.error_code, error.trace_id, getattr(account, "pk", None),
    )
