"""Inbound webhook endpoints (plain Django views): verify the signature on the raw body, store, answer 200.

No session auth, no CSRF (platforms cannot send a token), and no rate limit: a valid platform delivery
is never dropped. Parsing happens only after the signature is checked.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from unipulse.api_errors import error_body
from unipulse.text import JsonTooDeepError, loads_limited

from . import signatures
from .models import WebhookEvent
from .services import store_webhook_event
from .services.intake import kept_headers


def _error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status)


def _read_body(request: HttpRequest) -> bytes | JsonResponse:
    """The raw body, or a 413 when it is over WEBHOOK_MAX_BODY_BYTES (checked before reading when declared)."""
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _too_large()
    try:
        body = request.body
    except RequestDataTooBig:  # Django's own cap (DATA_UPLOAD_MAX_MEMORY_SIZE)
        return _too_large()
    return _too_large() if len(body) > limit else body


def _too_large() -> JsonResponse:
    return _error("payload_too_large", "The delivery is larger than this endpoint accepts.", 413)


def _parse_json(body: bytes) -> tuple[dict | None, str]:
    """(the JSON object, "") for a routable body; (None, why) for a signed body no router can take;
    (None, "") when it is not a JSON object at all (a 400, as before).

    Meta and TikTok send UTF-8: json.loads would also guess UTF-16/32 from the bytes, and the stored
    copy (decoded as UTF-8) would then be unreadable at routing and retried for nothing.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None, "The body is not UTF-8 text."
    try:
        payload = loads_limited(text)
    except JsonTooDeepError as error:
        return None, str(error)
    except ValueError:
        return None, ""
    return (payload, "") if isinstance(payload, dict) else (None, "")


# Ref: https://developers.facebook.com/docs/graph-api/webhooks/getting-started
@csrf_exempt
@require_http_methods(["GET", "POST"])
def meta_webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        if request.GET.get("hub.mode") == "subscribe" and signatures.is_valid_meta_verify_token(
                request.GET.get("hub.verify_token", "")):
            return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        return _error("forbidden", "Verification token mismatch.", 403)
    return _intake(request, WebhookEvent.Source.META, topic_key="object", refusal="Signature missing or invalid.",
                   verified=lambda body: signatures.is_valid_meta_delivery(body, request.META.get("HTTP_X_HUB_SIGNATURE_256", "")))


# Ref: https://developers.tiktok.com/doc/webhooks-overview
@csrf_exempt
@require_POST
def tiktok_webhook(request: HttpRequest) -> HttpResponse:
    return _intake(request, WebhookEvent.Source.TIKTOK, topic_key="event", refusal="Signature missing, invalid or too old.",
                   verified=lambda body: signatures.is_valid_tiktok_signature(body, request.META.get("HTTP_TIKTOK_SIGNATURE", "")))


def _intake(request: HttpRequest, source: str, *, topic_key: str, refusal: str, verified) -> HttpResponse:
    """Size limit -> signature over the raw bytes -> JSON object -> store once (enqueued on commit) -> 200."""
    body = _read_body(request)
    if isinstance(body, HttpResponse):
        return body
    if not verified(body):
        return _error("bad_signature", refusal, 403)
    payload, unroutable = _parse_json(body)
    headers = kept_headers(request.META)  # not request.headers: that parses every header of the request
    if unroutable:  # signed, so really from the platform: kept for the admin, never routed or retried
        store_webhook_event(source, body, headers, ignored_reason=unroutable)
        return HttpResponse(status=200)
    if payload is None:
        return _error("malformed", "The body is not a JSON object.", 400)
    topic = payload.get(topic_key)
    store_webhook_event(source, body, headers, topic=topic if isinstance(topic, str) else "")
    return HttpResponse(status=200)


# Ref: https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow#deauth-callback
@csrf_exempt
@require_POST
def meta_deauthorize(request: HttpRequest) -> HttpResponse:
    """Meta's Deauthorize Callback URL: a form POST with `signed_request` when a user removes the app."""
    body = _read_body(request)
    if isinstance(body, HttpResponse):
        return body
    payload = signatures.parse_meta_signed_request(request.POST.get("signed_request", ""))
    if payload is None:
        return _error("bad_signature", "signed_request missing or invalid.", 403)
    store_webhook_event(WebhookEvent.Source.META_DEAUTH, json.dumps(payload, sort_keys=True).encode(), request.headers,
                        topic="deauthorize")
    return HttpResponse(status=200)
