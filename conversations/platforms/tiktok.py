"""TikTok: webhooks only. Login Kit, Display and Content Posting APIs have no comment or DM
endpoints, so TikTok has no inbox here. A TikTok API for Business comment source
(business-api.tiktok.com, its own tokens) would add poll and reply to this module."""

from __future__ import annotations

from django.utils import timezone

from social.models import AccountStatus, Platform, SocialAccount
from unipulse import hooks
from unipulse.text import clean_json, loads_limited

from ..models import WebhookEvent
from .base import HANDLED, IGNORED, as_dict, as_int, as_str

INBOX = False

TIKTOK_DEAUTH_REASONS = {0: "unknown reason", 1: "the user disconnected UniPulse", 2: "the account was deleted",
                         3: "the account's age changed", 4: "the account was banned", 5: "the developer revoked access"}


# Ref: https://developers.tiktok.com/doc/webhooks-events
def route_tiktok(payload: dict) -> bool:
    event = as_str(payload.get("event"))
    try:
        content = as_dict(clean_json(loads_limited(payload.get("content") or "{}")))  # a JSON string inside the JSON
    except (TypeError, ValueError):
        content = {}
    if event == "authorization.removed":
        return _disconnect(as_str(payload.get("user_openid")), content)
    if event.startswith("post.publish.") and as_str(content.get("publish_id")):
        reason = content.get("reason")
        return bool(hooks.tiktok_publish_event(
            as_str(content["publish_id"]), event, post_id=as_str(content.get("post_id")) or None,
            reason=str(reason) if reason is not None else None,
        ))
    return IGNORED


def _disconnect(open_id: str, content: dict) -> bool:
    reason = TIKTOK_DEAUTH_REASONS.get(as_int(content.get("reason")), "unknown reason")
    changed = SocialAccount.objects.filter(
        platform=Platform.TIKTOK, external_id=open_id,
    ).exclude(status=AccountStatus.DISCONNECTED).update(
        status=AccountStatus.DISCONNECTED, status_reason=f"TikTok access was removed: {reason}.",
        updated_at=timezone.now())
    return HANDLED if changed else IGNORED


WEBHOOK_ROUTES = {WebhookEvent.Source.TIKTOK: route_tiktok}
