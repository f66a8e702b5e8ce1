"""Typed platform errors: raised by the clients in `social/clients/`, handled by every app (the ground floor).

| Error                  | Raised for                                                        | The caller              |
|------------------------|-------------------------------------------------------------------|-------------------------|
| ReauthRequiredError    | Graph 190/102, TikTok access_token_invalid, invalid_grant         | account needs_reauth    |
| PermissionMissingError | Graph 10, 200-299, TikTok scope_not_authorized                    | stop, name permission   |
| RateLimitedError       | Graph 4/17/32/341/613/800xx, HTTP 429, rate_limit_exceeded, budget| re-enqueue with a delay |
| BlockedError           | Graph 368, IG publishing limit, TikTok spam_risk_*, creator cap   | block account; no retry |
| TransientError         | 5xx, timeouts, connection errors, is_transient, Graph 1/2         | retry with backoff      |
| InvalidRequestError    | everything else (TikTok unaudited app on a public account too)    | fail with the message   |

Messages are safe to show and log: they never contain a token, a URL or a raw response body.
"""

from __future__ import annotations

from datetime import datetime

# How a platform is named in a message a person reads ("meta": an error of the app, not one product).
PLATFORM_NAMES = {"facebook": "Facebook", "instagram": "Instagram", "tiktok": "TikTok", "meta": "Meta"}


class PlatformError(Exception):
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        platform: str = "",
        status: int | None = None,
        code: str | int | None = None,
        subcode: int | None = None,
        trace_id: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.platform = platform
        self.status = status
        self.code = code
        self.subcode = subcode
        self.trace_id = trace_id

    @property
    def error_code(self) -> str:
        """A short code for storing on a row: 'graph:190/463', 'tiktok:spam_risk_too_many_posts'."""
        if self.code is None:
            return self.platform or "unknown"
        sub = f"/{self.subcode}" if self.subcode else ""
        return f"{self.platform}:{self.code}{sub}"

    def __str__(self) -> str:
        trace = f" (trace {self.trace_id})" if self.trace_id else ""
        return f"{self.message}{trace}"


class ReauthRequiredError(PlatformError):
    """The token is revoked, expired or otherwise unusable: the user must reconnect."""


class PermissionMissingError(PlatformError):
    """The user did not grant a permission this call needs."""

    def __init__(self, message: str, *, permission: str = "", **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.permission = permission


class TransientError(PlatformError):
    """Temporary failure: the same call may succeed later."""

    retryable = True


class RateLimitedError(TransientError):
    """Too many calls. `retry_after` is in seconds; `scope` is 'app', 'user', 'account' or 'budget'."""

    def __init__(self, message: str, *, retry_after: int = 60, scope: str = "account", **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = max(1, int(retry_after))
        self.scope = scope


class BlockedError(PlatformError):
    """The platform blocked this account (spam, posting limit, policy). Never auto-retry a commit."""

    def __init__(self, message: str, *, until: datetime | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.until = until


class InvalidRequestError(PlatformError):
    """The platform refused the request; repeating it will not help."""
