"""Answer 503 (not 500) while the database or Redis is unreachable, and 400 (not 500) for NUL characters
in the URL or its query parameters."""

from __future__ import annotations

import logging

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
        except (OperationalError, InterfaceError) as exc:  # raised outside a view (e.g. session load)
            return self._unavailable(exc)

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError):
            return self._unavailable(exception)
        return None

    @staticmethod
    def _unavailable(exc: Exception) -> JsonResponse:
        logger.error("Database unavailable: %s", type(exc).__name__)
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
