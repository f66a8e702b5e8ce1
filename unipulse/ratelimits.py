"""Inbound rate limits (django-ratelimit), one place: writes and platform-calling endpoints, per user.

Counters live in the default cache (Redis in production, so every process shares them). Platform
webhooks are never limited here: a valid delivery must never be dropped.
"""

from __future__ import annotations

from django.conf import settings
from django_ratelimit.core import is_ratelimited
from rest_framework.exceptions import Throttled

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def enforce(request, group: str, rate: str | None = None) -> None:
    """Raise DRF's Throttled (429 with Retry-After) once `request.user` exceeds `rate` in `group`."""
    if is_ratelimited(request, group=group, key="user_or_ip", rate=rate or settings.API_WRITE_RATE, increment=True):
        raise Throttled(wait=60)


class WriteRateLimitMixin:
    """For DRF views: every unsafe method counts against the caller's per-minute allowance."""

    rate_limit_group = "api-write"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method in UNSAFE:
            enforce(request, self.rate_limit_group)
