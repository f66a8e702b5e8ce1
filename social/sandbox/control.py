"""POST/GET/DELETE /sandbox/control/failures: queue injected failures over HTTP (end-to-end tests, demos).

Open only while the sandbox runs, which is only with DEBUG on; a signed-in non-staff user is refused.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import failures

FIELDS = ("kind", "platform", "path", "method", "count", "status", "code", "subcode", "message", "delay",
          "fail_reason")


@csrf_exempt
@require_http_methods(["GET", "POST", "DELETE"])
def failures_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and not request.user.is_staff:
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
