"""POST/GET/DELETE /sandbox/control/failures: queue injected failures over HTTP (end-to-end tests, demos).

Open only while the sandbox runs, which is only with DEBUG on, and only to staff, as the rest of the
sandbox admin: a staff session (signed in at /admin/) or a staff user's API token
(`Authorization: Token ...`, for scripts and the fault suite). Anyone else is refused.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from . import failures

FIELDS = ("kind", "platform", "path", "method", "count", "status", "code", "subcode", "message", "delay",
          "fail_reason")


def _caller(request: HttpRequest):
    """The session's user, else the API token's; None when neither signs anyone in."""
    if request.user.is_authenticated:
        return request.user
    try:
        found = TokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return None
    return found[0] if found else None


@csrf_exempt
@require_http_methods(["GET", "POST", "DELETE"])
def failures_view(request: HttpRequest) -> HttpResponse:
    user = _caller(request)
    if user is None:
        return failures.json_error("Sign in as staff (at /admin/) or send a staff user's API token.", 401)
    if not user.is_staff:
        return failures.json_error("Only staff may change the sandbox.", 403)
    if request.method == "DELETE":
        return JsonResponse({"deleted": failures.clear()})
    if request.method == "POST":
        try:
            body = json.loads(request.body or b"{}")
            if not isinstance(body, dict):
                raise ValueError("The body must be a JSON object.")
            unknown = set(body) - set(FIELDS)
            if unknown:
                raise ValueError(f"Unknown fields: {', '.join(sorted(unknown))}.")
            failure = failures.inject(**body)
        except (ValueError, TypeError) as error:
            return failures.json_error(str(error))
        return JsonResponse({"id": failure.id, "failures": failures.failures_as_json()}, status=201)
    return JsonResponse({"failures": failures.failures_as_json()})
