"""ApiError, importable without DRF's views (the permission classes load while rest_framework.views does)."""

from __future__ import annotations

from rest_framework import exceptions


class ApiError(exceptions.APIException):
    """A domain error with its own code, e.g. ApiError('post_started', 'Publishing has begun.', 409)."""

    def __init__(self, code: str, message: str, http_status: int = 400, fields: dict | None = None,
                 retry_after: int | None = None) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = http_status
        self.error_code = code
        self.fields = fields or {}
        self.retry_after = retry_after  # seconds: sent as Retry-After
