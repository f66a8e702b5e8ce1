"""Password login for API clients: DRF's token view behind per-IP and per-username rate limits."""

from __future__ import annotations

import re

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled

from .parsers import FormParser, JSONParser, MultiPartParser
from .throttles import is_limited

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def window_seconds(rate: str) -> int:
    """The window of a django-ratelimit rate: '10/m' -> 60, '5/15m' -> 900."""
    match = re.fullmatch(r"\s*\d+\s*/\s*(\d*)\s*([smhd])\s*", rate)
    if not match:
        raise ValueError(f"not a rate: {rate!r}")
    return int(match.group(1) or 1) * _PERIODS[match.group(2)]


class RateLimitedObtainAuthToken(ObtainAuthToken):
    """POST username + password, get the API token. Guessing is slowed per IP and per username:
    spreading guesses over many IPs still hits the username's limit, and one IP trying many
    usernames hits the IP's."""

    parser_classes = [FormParser, MultiPartParser, JSONParser]  # DRF's own list, with our strict parsers

    @extend_schema(request=AuthTokenSerializer, responses={
        200: AuthTokenSerializer,
        429: OpenApiResponse(description="Too many attempts from this IP or for this username (AUTH_TOKEN_RATE); "
                                         "the error body and Retry-After say when to try again."),
    })
    def post(self, request, *args, **kwargs):
        rate = settings.AUTH_TOKEN_RATE
        data = request.data if isinstance(request.data, dict) else {}  # a JSON list: the serializer says 400
        username = str(data.get("username") or "").strip().lower()
        # django-ratelimit's "ip" key, read by unipulse.throttles.client_ip (IPv6 grouped by /64; no
        # usable address, e.g. a unix socket, is one shared bucket rather than a 500).
        over_ip = is_limited(request, "auth-token-ip", rate, key="ip")
        over_user = bool(username) and is_limited(request, "auth-token-user", rate, key=lambda group, request: username)
        if over_ip or over_user:
            raise Throttled(wait=window_seconds(rate))
        return super().post(request, *args, **kwargs)
