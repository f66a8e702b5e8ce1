"""Meta's webhook deliveries, shared by Facebook Pages and Instagram: one envelope (`object`, `entry`,
`changes`, `messaging`) whose entries each platform module reads, and the deauthorize callback."""

from __future__ import annotations

from django.utils import timezone

from social.models import AccountStatus, Platform, SocialAccount

from ..models import WebhookEvent
from . import facebook, instagram
from .base import HANDLED, IGNORED, UnroutableError, as_dicts, as_str, inbox

# The delivery's `object` names the platform; its module reads the entries.
META_OBJECTS = {"page": (Platform.FACEBOOK, facebook), "instagram": (Platform.INSTAGRAM, instagram)}


# Ref: https://developers.facebook.com/docs/graph-api/webhooks/getting-started#event-notifications
def route_meta(payload: dict) -> bool:
    topic = payload.get("object")
    if not isinstance(topic, str):
        raise UnroutableError("`object` is not a string.")
    if topic not in META_OBJECTS:
        return IGNORED
    if not isinstance(payload.get("entry") or [], list):
        raise UnroutableError("`entry` is not a list.")
    platform, module = META_OBJECTS[topic]
    handled = IGNORED
    for entry in as_dicts(payload.get("entry")):
        for account in _inbox_accounts(platform, as_str(entry.get("id"))):
            if _route_entry(module, account, entry):
                handled = HANDLED
                inbox().record_webhook_seen(account)
    return handled


def _inbox_accounts(platform: str, external_id: str) -> list[SocialAccount]:
    # The same Page may be connected by several users: each gets its own copy of the inbox.
    return list(SocialAccount.objects.filter(platform=platform, external_id=external_id)
                .exclude(status=AccountStatus.DISCONNECTED).select_related("parent"))


def _route_entry(module, account: SocialAccount, entry: dict) -> bool:
    handled = IGNORED
    changes = as_dicts(entry.get("changes"))
    if not changes and "field" in entry and "value" in entry:
        # Meta's Instagram Login examples print one change in the entry itself, without `changes`.
        # Ref: https://developers.facebook.com/docs/instagram-platform/webhooks/examples
        changes = [{"field": entry.get("field"), "value": entry.get("value")}]
    for change in changes:
        handled |= module.route_change(account, change)
    for messaging in as_dicts(entry.get("messaging")):
        handled |= module.route_message(account, messaging)
    return handled


# Ref: https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow#deauth-callback
def route_meta_deauth(payload: dict) -> bool:
    """Meta's deauthorize callback (signed_request already verified): the user removed the app."""
    user_id, page_id = as_str(payload.get("user_id")), as_str(payload.get("profile_id"))
    if user_id and user_id != "0":
        accounts = SocialAccount.objects.filter(platform__in=[Platform.FACEBOOK, Platform.INSTAGRAM],
                                                platform_user_id=user_id)
        reason = "The Facebook user removed UniPulse from their apps."
    elif page_id:  # the app was removed from a Page (user_id is then 0)
        accounts = SocialAccount.objects.filter(platform=Platform.FACEBOOK, external_id=page_id)
        reason = "UniPulse was removed from this Page's apps."
    else:
        return IGNORED
    changed = accounts.exclude(status=AccountStatus.DISCONNECTED).update(
        status=AccountStatus.DISCONNECTED, status_reason=reason, updated_at=timezone.now())
    return HANDLED if changed else IGNORED


WEBHOOK_ROUTES = {WebhookEvent.Source.META: route_meta, WebhookEvent.Source.META_DEAUTH: route_meta_deauth}
