"""Inbound rate limits (django-ratelimit), one place: writes and platform-calling endpoints, per user.

Counters live in the default cache (Redis in production, so every process shares them). Platform
webhooks are never limited here: a valid delivery must never be dropped.
"""

from __future__ import annotations

import ipaddress
import logging

from django.conf import settings
from django_ratelimit.core import is_ratelimited
from redis.exceptions import RedisError
from rest_framework.exceptions import Throttled

logger = logging.getLogger(__name__)

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
NO_ADDRESS = "0.0.0.0"  # noqa: S104 - a bucket name, not a bind address: requests with no usable address share it


def client_ip(request) -> str:
    """The caller's IP for per-IP limits (django-ratelimit's RATELIMIT_IP_META_KEY).

    With TRUSTED_PROXY_COUNT = 0 (the default) it is REMOTE_ADDR: X-Forwarded-For is ignored, so a
    client cannot choose its own bucket. Behind N proxies of yours it is the N-th address from the
    right of X-Forwarded-For: the one your outermost proxy saw; what a client wrote to the left of
    it is never read. No usable address (a unix socket, a malformed header) is one shared bucket.
    """
    address = request.META.get("REMOTE_ADDR") or ""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            address = forwarded[-min(proxies, len(forwarded))]
    try:
        ip = ipaddress.ip_address(_without_port(address))
    except ValueError:
        return NO_ADDRESS
    # A dual-stack proxy writes IPv4 clients as ::ffff:a.b.c.d; read as IPv6 they would all fall in one
    # /64 bucket (RATELIMIT_IPV6_MASK), so one client could lock every IPv4 client out.
    return str(getattr(ip, "ipv4_mapped", None) or ip)


def _without_port(address: str) -> str:
    """Some load balancers add the client's port: 203.0.113.7:51234, [2001:db8::1]:51234."""
    if address.startswith("["):
        return address[1:].split("]", 1)[0]
    if address.count(":") == 1:
        return address.split(":", 1)[0]
    return address


def is_limited(request, group: str, rate: str, key="user_or_ip") -> bool:
    """Count this request in `group` and say whether it is over `rate`.

    An unreachable cache follows RATELIMIT_FAIL_OPEN: django-ratelimit only fails open when the
    cache answers None, while Django's Redis cache raises instead, which would be a 500.
    """
    try:
        return is_ratelimited(request, group=group, key=key, rate=rate, increment=True)
    except (RedisError, OSError) as error:
        fail_open = settings.RATELIMIT_FAIL_OPEN
        logger.warning("Rate limit check for %s failed (%s); %s", group, type(error).__name__,
                       "letting the request through" if fail_open else "refusing the request")
        return not fail_open


def enforce(request, group: str, rate: str | None = None) -> None:
    """Raise DRF's Throttled (429 with Retry-After) once `request.user` exceeds `rate` in `group`."""
    if is_limited(request, group, rate or settings.API_WRITE_RATE):
        raise Throttled(wait=60)


class WriteRateLimitMixin:
    """For DRF views: every unsafe method counts against the caller's per-minute allowance."""

    rate_limit_group = "api-write"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method in UNSAFE:
            enforce(request, self.rate_limit_group)
