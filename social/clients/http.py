"""One outgoing call: freshness -> rate limiter -> requests -> count -> the platform's reading -> typed errors.

Every platform call in UniPulse goes through `request()`. It owns the one `requests.Session`,
its timeouts, safe retries (idempotent GETs only, on connection errors and 5xx) and call counting.
What an answer means is the platform's own: meta.py and tiktok.py pass their `Dialect` (how their
error bodies map to the classes in `unipulse/platform_errors.py`, what their headers tell the rate
limiter), so this module names no platform.
Nothing it raises or logs contains a token, a URL with a query string, or a raw response body.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings

from unipulse.logging_filters import redact
from unipulse.platform_errors import (
    PLATFORM_NAMES,
    BlockedError,
    PlatformError,
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


@dataclass(frozen=True)
class Call:
    """One outgoing call, as the platform's Dialect sees it."""

    platform: str
    method: str
    url: str
    endpoint: str
    account: Any = None
    budget_key: str | None = None
    pause_keys: tuple[str, ...] = ()
    object_id: str | None = None

    @property
    def name(self) -> str:
        return platform_name(self.platform, self.account)


def _nothing(call: Call, response: requests.Response) -> None:
    return None


def _never(error: PlatformError) -> bool:
    return False


@dataclass(frozen=True)
class Dialect:
    """How one platform's answers read. `classify` turns an answer into a typed error (None: success)
    and may pause or clear a budget scope; `after_response` sees every answer, a raw one included;
    `renewable` names the rejections of the token itself that a token renewal may cure."""

    classify: Callable[[Call, requests.Response, Any], PlatformError | None]
    after_response: Callable[[Call, requests.Response], None] = _nothing
    renewable: Callable[[PlatformError], bool] = _never


def request(platform: str, method: str, url: str, *, endpoint: str, dialect: Dialect, account=None,
            headers: dict | None = None, budget_key: str | None = None, pause_keys: tuple[str, ...] = (),
            object_id: str | None = None, expect_json: bool = True, timeout: tuple[float, float] | None = None,
            **payload: Any) -> ApiResponse:
    """Send one platform call; return the parsed body (raw bytes with `expect_json=False`) or raise a
    typed PlatformError.

    Callers that put `account`'s token in the request call `refresh_if_needed(account)` first
    (meta.call and tiktok.call do). `endpoint` is a short label without ids ('page.feed', 'video.list')
    used for counting and logs; `payload` (params, data, json, files) goes to requests as it is.
    """
    call = Call(platform, method, url, endpoint, account, budget_key, pause_keys, object_id)
    response, body, error = _attempt(call, dialect, headers, payload, timeout, expect_json)
    # The platform refused the token itself, which proves the call did nothing: once the token is renewed
    # (or a renewal by another worker is picked up), the same call is sent once more, commit included.
    # A refused refresh raises ReauthRequiredError (account marked), a temporary failure TransientError.
    if _is_renewable_rejection(call, dialect, error, headers) and _token_renewer(account):
        _log_error(call, error)
        headers = {**headers, "Authorization": f"Bearer {account.access_token}"}
        response, body, error = _attempt(call, dialect, headers, payload, timeout, expect_json)
    if error is not None:
        _fail(call, error)
    raw = not expect_json and response.status_code < 400
    return ApiResponse(data=response.content if raw else body, status=response.status_code, headers=response.headers)


def _attempt(call: Call, dialect: Dialect, headers, payload, timeout, expect_json) -> tuple[requests.Response, Any, PlatformError | None]:
    response = _send(call, headers, payload, timeout)
    dialect.after_response(call, response)
    if not expect_json and response.status_code < 400:
        return response, None, None  # a raw answer (TikTok's upload PUT: 201/206, no envelope)
    body = _parse_body(response)
    return response, body, dialect.classify(call, response, body)


def _is_renewable_rejection(call: Call, dialect: Dialect, error, headers) -> bool:
    account = call.account
    return (
        error is not None and dialect.renewable(error) and _token_renewer is not None
        and account is not None and getattr(account, "pk", None) is not None
        # only a call made with the account's own token can be cured by renewing that token
        and bool(headers) and headers.get("Authorization") == f"Bearer {account.access_token}"
    )


def _fail(call: Call, error: PlatformError) -> None:
    _log_error(call, error)
    account = call.account
    if isinstance(error, ReauthRequiredError) and account is not None and getattr(account, "pk", None):
        account.mark_needs_reauth(error.message)
    # Recorded wherever it happens; callers about to post check account.is_blocked() first.
    if isinstance(error, BlockedError) and error.until and account is not None and getattr(account, "pk", None):
        account.mark_blocked(error.until)
    raise error


def _spend(call: Call) -> None:
    # Before every HTTP attempt, a GET's retries included: each one is a call the platform counts.
    ratelimit.check_paused([*call.pause_keys, *([call.budget_key] if call.budget_key else [])], call.name)
    if call.budget_key:
        ratelimit.take_budget(call.budget_key, call.name)


def _send(call: Call, headers, payload: dict, timeout) -> requests.Response:
    """Send with bounded retries for a GET. Every attempt checks the pauses and spends budget first."""
    timeout = timeout or (settings.PLATFORM_HTTP_CONNECT_TIMEOUT, settings.PLATFORM_HTTP_READ_TIMEOUT)
    # Only a GET can be repeated without risk of changing anything on the platform.
    attempts = 1 + (settings.PLATFORM_HTTP_GET_RETRIES if call.method.upper() == "GET" else 0)
    for attempt in range(1, attempts + 1):
        _spend(call)
        try:
            response = _session.request(call.method, call.url, headers=headers, timeout=timeout, **payload)
            ratelimit.count_call(call.platform, call.endpoint, getattr(call.account, "pk", None))
        except requests.Timeout:
            failure = TransientError(f"{call.name} did not answer in time ({call.endpoint}).", platform=call.platform)
        except requests.RequestException:
            # The exception text carries the URL (and maybe a token in its query): never keep it.
            failure = TransientError(f"Could not reach {call.name} ({call.endpoint}).", platform=call.platform)
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


# ---- helpers the platforms' dialects share --------------------------------------------------------

def platform_name(platform: str, account=None) -> str:
    if account is not None and getattr(account, "platform", None):
        return PLATFORM_NAMES.get(account.platform, account.platform)
    return PLATFORM_NAMES.get(platform, platform)


def safe_text(text: str) -> str:
    """A platform message, fit to show: no URLs' query strings, no tokens, bounded length."""
    return redact(str(text))[:300]


# Meta names permissions in snake_case ("(#200) Requires pages_manage_posts permission", sometimes
# quoted); TikTok names scopes with dots ("... this request: video.publish").
_PERMISSION_NAME = re.compile(r"\b([a-z]+(?:_[a-z]+)+|(?:user|video|research|artist|portability)(?:\.[a-z]+)+)\b")


def permission_in(text: str) -> str:
    match = _PERMISSION_NAME.search(text)
    return match.group(1) if match else ""


def _log_error(call: Call, error: PlatformError) -> None:
    logger.warning(
        "%s %s failed: %s code=%s trace=%s account=%s",
        call.platform, call.endpoint, type(error).__name__, error.error_code, error.trace_id,
        getattr(call.account, "pk", None),
    )
