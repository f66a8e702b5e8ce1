"""Failure injection: make the next N matching sandbox requests fail like the real platforms.

    from sandbox import failures
    failures.inject("graph_error", platform="meta", path="media_publish", code=368)
    failures.inject("rate_limit", platform="tiktok", count=3)
    failures.inject("container_error", platform="meta", subcode=2207052)
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.http import HttpResponse, JsonResponse

from . import answers, clock
from .models import Failure

Kind = Failure.Kind
# Applied to a whole request before it is served; the other kinds change one object's fate.
REQUEST_KINDS = {Kind.GRAPH_ERROR, Kind.RATE_LIMIT, Kind.SERVER_ERROR, Kind.SLOW, Kind.TIKTOK_ERROR}
DEFAULT_TIKTOK_ERRORS = {
    "rate_limit_exceeded": 429, "access_token_invalid": 401, "scope_not_authorized": 401,
    "spam_risk_too_many_posts": 403, "spam_risk_user_banned_from_posting": 403, "reached_active_user_cap": 403,
    "unaudited_client_can_only_post_to_private_accounts": 403, "url_ownership_unverified": 403,
    "privacy_level_option_mismatch": 400, "invalid_param": 400, "internal_error": 500,
}


def inject(kind: str, *, platform: str, path: str = "", method: str = "", count: int = 1, status: int | None = None,
           code: str | int = "", subcode: int | None = None, message: str = "", delay: float = 0,
           fail_reason: str = "") -> Failure:
    """Queue a failure for the next `count` matching requests (or objects). Raises ValueError on bad input."""
    if kind not in Kind.values:
        raise ValueError(f"kind must be one of {', '.join(Kind.values)}")
    if platform not in ("meta", "tiktok"):
        raise ValueError("platform must be meta or tiktok")
    if count < 1 or count > 1000:
        raise ValueError("count must be between 1 and 1000")
    if status is not None and not 400 <= int(status) <= 599:
        raise ValueError("status must be an HTTP error status (400-599)")
    if kind == Kind.GRAPH_ERROR and not str(code).isdigit():
        raise ValueError("graph_error needs a numeric code (e.g. 4, 17, 32, 190, 368)")
    if kind == Kind.TIKTOK_ERROR and not code:
        raise ValueError("tiktok_error needs a code (e.g. access_token_invalid)")
    from django.conf import settings

    delay = min(max(float(delay or 0), 0.0), settings.SANDBOX_MAX_DELAY_SECONDS)
    return Failure.objects.create(
        kind=kind, platform=platform, path_contains=path, method=method.upper(), remaining=count, status=status,
        code=str(code), subcode=subcode, message=message[:300], delay_seconds=delay, fail_reason=fail_reason,
    )


def clear() -> int:
    """Forget every queued failure. Returns how many there were."""
    return Failure.objects.all().delete()[0]


def take(platform: str, kinds, method: str = "", path: str = "") -> Failure | None:
    """Consume one use of the oldest matching failure, or return None."""
    with transaction.atomic():
        for failure in Failure.objects.select_for_update().filter(platform=platform, kind__in=kinds, remaining__gt=0):
            if failure.method and failure.method != method.upper():
                continue
            if failure.path_contains and failure.path_contains not in path:
                continue
            Failure.objects.filter(pk=failure.pk).update(remaining=F("remaining") - 1)
            Failure.objects.filter(pk=failure.pk, remaining=0).delete()
            return failure
    return None


def intercept(platform: str, request, path: str) -> HttpResponse | None:
    """Run before serving a sandbox request: a failure response, or None to serve it normally."""
    failure = take(platform, REQUEST_KINDS, request.method, path)
    if failure is None:
        return None
    if failure.kind == Kind.SLOW:
        clock.sleep(failure.delay_seconds)
        return None
    return meta_failure(failure, path) if platform == "meta" else tiktok_failure(failure)


def meta_failure(failure: Failure, path: str = "") -> HttpResponse:
    if failure.kind == Kind.SERVER_ERROR:
        status = failure.status or 500
        if status == 500:
            return answers.graph_error(2, failure.message, status=500)
        # Gateways in front of Graph answer 502/503 without a JSON body.
        return HttpResponse("Service Unavailable", status=status, content_type="text/html")
    if failure.kind == Kind.RATE_LIMIT:
        code = int(failure.code or 4)
        buc = {80001: "pages", 80002: "instagram", 32: "pages"}.get(code, "")
        headers = answers.usage_headers(100, object_id=path.split("/")[0] if buc else "",
                                        buc_type=buc, regain_minutes=15 if buc else 0)
        return answers.graph_error(code, failure.message, subcode=failure.subcode, status=failure.status or 400,
                                   headers=headers)
    code = int(failure.code or 100)
    return answers.graph_error(code, failure.message, subcode=failure.subcode, status=failure.status or 400)


def tiktok_failure(failure: Failure) -> HttpResponse:
    if failure.kind == Kind.SERVER_ERROR:
        return answers.tiktok_error("internal_error", failure.message or "Something went wrong.", failure.status or 500)
    if failure.kind == Kind.RATE_LIMIT:
        response = answers.tiktok_error("rate_limit_exceeded", failure.message or "Rate limit exceeded.",
                                        failure.status or 429)
        # `delay` on a TikTok rate limit is the Retry-After it sends (default 60 s), so a test can watch the wait end.
        response["Retry-After"] = str(int(failure.delay_seconds) or 60)
        return response
    code = failure.code or "invalid_param"
    return answers.tiktok_error(code, failure.message or code.replace("_", " ").capitalize() + ".",
                                failure.status or DEFAULT_TIKTOK_ERRORS.get(code, 400))


def failures_as_json() -> list[dict]:
    return [{"id": f.id, "kind": f.kind, "platform": f.platform, "path": f.path_contains, "method": f.method,
             "remaining": f.remaining, "status": f.status, "code": f.code, "subcode": f.subcode,
             "delay": f.delay_seconds, "fail_reason": f.fail_reason} for f in Failure.objects.all()]


def json_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)
