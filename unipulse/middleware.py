"""Answer 503 (not 500) while the database or Redis is unreachable, and 400 (not 500) for NUL characters
in the URL or its query parameters."""

from __future__ import annotations

import logging

import redis
from django.core.exceptions import DisallowedHost
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

from .api_errors import error_body
from .text import UNSAFE_MESSAGE, clean_text, has_unsafe_text

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        except (OperationalError, InterfaceError, redis.RedisError) as exc:  # raised outside a view (e.g. session load)
            return self._unavailable(exc)

    def process_exception(self, request, exception):
        # Redis too: the cache, the rate limiter's store and the broker all live there.
        if isinstance(exception, OperationalError | InterfaceError | redis.RedisError):
            return self._unavailable(exception)
        return None

    @staticmethod
    def _unavailable(exc: Exception) -> JsonResponse:
        logger.error("%s unavailable: %s", "Redis" if isinstance(exc, redis.RedisError) else "Database", type(exc).__name__)
        response = JsonResponse(
            error_body("service_unavailable", "The service is briefly unavailable; try again in a few seconds."), status=503
        )
        response["Retry-After"] = "5"
        return response


class UnsafeTextMiddleware:
    """400 naming the parameter when the path or a query parameter holds a NUL (or a lone surrogate).

    Query strings are decoded as UTF-8 with replacement, so only NUL (`%00`) can really arrive; on
    PostgreSQL it made every filter, lookup or search that used the value a 500, and a file path with
    it made `/media/` a 500 everywhere. A view that answers such input itself (the OAuth callback
    redirects with `invalid_state`) sets `checks_unsafe_query = True`.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = getattr(view_func, "view_class", None) or getattr(view_func, "cls", None)
        if getattr(view_class, "checks_unsafe_query", False):
            return None
        if has_unsafe_text(request.path):
            return self._refuse("path")
        for key, values in request.GET.lists():
            if has_unsafe_text(key) or any(has_unsafe_text(value) for value in values):
                return self._refuse(clean_text(key))
        return None

    @staticmethod
    def _refuse(name: str) -> JsonResponse:
        return JsonResponse(error_body("invalid", f"{name}: {UNSAFE_MESSAGE}", {name: [UNSAFE_MESSAGE]}), status=400)


class ApiJsonErrorsMiddleware:
    """Every 4xx under /api/ in the API's JSON error shape, whoever answered it.

    DRF's views already answer JSON, but Django answers some requests before or beside them in HTML:
    a URL no route matches (404; with DEBUG the technical page), a Host not in ALLOWED_HOSTS (400),
    a plain view's method check (405). Outermost, so it also sees what the other middleware answered.
    """

    MESSAGES = {
        400: ("bad_request", "The request is not valid."),
        403: ("forbidden", "You do not have permission to do this."),
        404: ("not_found", "Not found."),
        405: ("method_not_allowed", "This method is not allowed here."),
        413: ("payload_too_large", "The request is larger than this endpoint accepts."),
    }
    KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        try:
            request.get_host()
        except DisallowedHost:
            logger.warning("Request for a Host not in ALLOWED_HOSTS refused")
            return JsonResponse(error_body("invalid_host", "This server does not answer for that Host."), status=400)
        response = self.get_response(request)
        if 400 <= response.status_code < 500 and not getattr(response, "streaming", False) \
                and not response.get("Content-Type", "").startswith("application/json"):
            code, message = self.MESSAGES.get(response.status_code, ("error", "The request could not be answered."))
            replaced = JsonResponse(error_body(code, message), status=response.status_code)
            for header in self.KEPT_HEADERS:
                if header in response:
                    replaced[header] = response[header]
            return replaced
        return response


class DeprecationHeadersMiddleware:
    """A request using a deprecated query parameter (unipulse.conventions.DEPRECATED_QUERY_PARAMETERS) is told
    so in the answer, where a client's logs will show it: `Deprecation` (RFC 9745: since when), `Sunset`
    (RFC 8594: until when it is accepted) and a `Link` to the change's notes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/") and request.GET:
            from .conventions import deprecation_headers

            for name, value in deprecation_headers(request.GET).items():
                response.headers[name] = value
        return response
