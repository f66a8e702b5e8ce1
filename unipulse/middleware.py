"""Answer 503 (not 500) while the database is unreachable; Django reconnects on the next request."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

from .api_errors import error_body

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
