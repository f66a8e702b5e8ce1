"""One place that turns errors into API responses: {"error": {"code", "message", "fields"}}.

Platform errors map to HTTP here, so views stay thin: a reconnect is 409, a missing permission 403,
a rate limit 503 with Retry-After, a blocked account 423, a temporary platform failure 502.
"""

from __future__ import annotations

import logging

import redis
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ApiError
from .platform_errors import (
    BlockedError,
    InvalidRequestError,
    PermissionMissingError,
    PlatformError,
    RateLimitedError,
    ReauthRequiredError,
    TransientError,
)

logger = logging.getLogger(__name__)
__all__ = ["ApiError", "ErrorSerializer", "error_body", "exception_handler"]

PLATFORM_STATUS = [
    (ReauthRequiredError, status.HTTP_409_CONFLICT, "reauth_required"),
    (PermissionMissingError, status.HTTP_403_FORBIDDEN, "permission_missing"),
    (RateLimitedError, status.HTTP_503_SERVICE_UNAVAILABLE, "rate_limited"),
    (BlockedError, status.HTTP_423_LOCKED, "account_blocked"),
    (TransientError, status.HTTP_502_BAD_GATEWAY, "platform_unavailable"),
    (InvalidRequestError, status.HTTP_422_UNPROCESSABLE_ENTITY, "platform_rejected"),
]


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable, e.g. not_found, invalid, invalid_period.")
    message = serializers.CharField(help_text="Safe to show to the user.")
    fields = serializers.DictField(help_text="For `invalid`: the message(s) per input field; otherwise empty.")


class ErrorSerializer(serializers.Serializer):
    """The body of every error response (see error_body), for the OpenAPI schema."""

    error = ErrorDetailSerializer()


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def exception_handler(exc, context):
    if isinstance(exc, PlatformError):
        return _platform_response(exc)
    if isinstance(exc, ObjectDoesNotExist | Http404):
        return Response(error_body("not_found", "Not found."), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, SuspiciousOperation):  # e.g. a file path leaving MEDIA_ROOT: Django would answer HTML
        logger.warning("Suspicious request refused: %s", type(exc).__name__)
        return Response(error_body("invalid", "The request is not valid."), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, OperationalError | InterfaceError | redis.RedisError):
        response = Response(error_body("service_unavailable", "The service is briefly unavailable; try again in a few seconds."),
                            status=status.HTTP_503_SERVICE_UNAVAILABLE)
        response["Retry-After"] = "5"
        return response
    if isinstance(exc, exceptions.Throttled):
        response = Response(error_body("throttled", f"Too many requests; try again in {int(exc.wait or 60)} seconds."),
                            status=status.HTTP_429_TOO_MANY_REQUESTS)
        response["Retry-After"] = str(int(exc.wait or 60))
        return response
    if isinstance(exc, ApiError):
        response = Response(error_body(exc.error_code, str(exc.detail), exc.fields), status=exc.status_code)
        if exc.retry_after is not None:
            response["Retry-After"] = str(exc.retry_after)
        return response

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # unexpected: Django's 500 handler answers (JSON for /api/)
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = _first_message(fields) or "The request is not valid."
        response.data = error_body("invalid", message, fields if isinstance(fields, dict) else {"non_field_errors": fields})
    else:
        code = getattr(exc, "default_code", "error")
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        response.data = error_body(code, detail)
    return response


def _platform_response(exc: PlatformError) -> Response:
    for cls, http_status, code in PLATFORM_STATUS:
        if isinstance(exc, cls):
            response = Response(error_body(code, str(exc)), status=http_status)
            if isinstance(exc, RateLimitedError):
                response["Retry-After"] = str(exc.retry_after)
            return response
    return Response(error_body("platform_error", str(exc)), status=status.HTTP_502_BAD_GATEWAY)


def _flatten(detail):
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def _first_message(fields) -> str:
    if isinstance(fields, dict):
        for key, value in fields.items():
            inner = _first_message(value)
            if inner:
                return inner if key == "non_field_errors" else f"{key}: {inner}"
    if isinstance(fields, list):
        for item in fields:
            inner = _first_message(item)
            if inner:
                return inner
    if isinstance(fields, str):
        return fields
    return ""


def ratelimited_view(request, exception=None):
    """django-ratelimit's answer: 429 with a JSON error."""
    response = JsonResponse(error_body("too_many_requests", "Too many requests; slow down and try again shortly."), status=429)
    response["Retry-After"] = "60"
    return response


def json_404(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def json_500(request):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("server_error", "Something went wrong on our side; it has been logged."), status=500)
    from django.views.defaults import server_error

    return server_error(request)
