"""Signature checks for inbound webhooks (Meta and TikTok). Constant-time comparisons only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from django.conf import settings

from unipulse.text import loads_limited


def _hmac_hex(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def is_valid_meta_verify_token(token: str) -> bool:
    expected = settings.META_WEBHOOK_VERIFY_TOKEN
    return bool(expected) and hmac.compare_digest(token.encode(), expected.encode())


# Ref: https://developers.facebook.com/docs/graph-api/webhooks/getting-started#event-notifications
def is_valid_meta_signature(raw_body: bytes, header: str, secret: str | None = None) -> bool:
    """X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256(app secret, raw body bytes); the Facebook app's
    secret unless `secret` is given."""
    secret = settings.FACEBOOK_APP_SECRET if secret is None else secret
    if not secret or not header:
        return False
    expected = "sha256=" + _hmac_hex(secret, raw_body)
    return hmac.compare_digest(header.strip().lower().encode(), expected.encode())


# Ref: https://developers.facebook.com/docs/instagram-platform/webhooks#validate-payloads
def is_valid_meta_delivery(raw_body: bytes, header: str) -> bool:
    """A delivery to the Meta endpoint signed by the Facebook app, or an `instagram` one signed by the
    Instagram app of the Instagram Login path (INSTAGRAM_APP_SECRET: its deliveries are signed with it).

    The body is read for its `object` only once the Instagram app's signature over it holds, so an
    unsigned body is never parsed here.
    """
    if is_valid_meta_signature(raw_body, header):
        return True
    if not is_valid_meta_signature(raw_body, header, secret=settings.INSTAGRAM_APP_SECRET):
        return False
    try:
        payload = loads_limited(raw_body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(payload, dict) and payload.get("object") == "instagram"


# Ref: https://developers.tiktok.com/doc/webhooks-verification
def is_valid_tiktok_signature(raw_body: bytes, header: str, now: float | None = None) -> bool:
    """TikTok-Signature: "t=<unix seconds>,s=<hex HMAC-SHA256(client secret, f'{t}.{body}')>", t within tolerance."""
    secret = settings.TIKTOK_CLIENT_SECRET
    if not secret or not header:
        return False
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    stamp, signature = parts.get("t", "").strip(), parts.get("s", "").strip().lower()
    # isdigit() alone accepts other scripts' digits ("²", "١"), which int() then refuses or reads.
    if not (stamp.isascii() and stamp.isdigit()) or not signature:
        return False
    expected = _hmac_hex(secret, stamp.encode() + b"." + raw_body)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        return False
    now = time.time() if now is None else now
    return abs(now - int(stamp)) <= settings.TIKTOK_WEBHOOK_TOLERANCE_SECONDS


# Ref: https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow#deauth-callback
def parse_meta_signed_request(signed_request: str) -> dict | None:
    """Meta's deauthorize callback: "<b64url sig>.<b64url JSON>", HMAC-SHA256 of the JSON part. None if forged."""
    secret = settings.FACEBOOK_APP_SECRET
    if not secret or signed_request.count(".") != 1:
        return None
    encoded_sig, encoded_payload = signed_request.split(".")
    try:
        signature = _b64url(encoded_sig)
        payload = loads_limited(_b64url(encoded_payload))
    except (ValueError, TypeError):  # JsonTooDeepError is a ValueError
        return None
    expected = hmac.new(secret.encode(), encoded_payload.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected) or not isinstance(payload, dict):
        return None
    return payload


def _b64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
