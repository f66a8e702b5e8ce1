"""Route one stored webhook delivery: Meta feed/comments/messages into the inbox, TikTok events to
publishing and accounts. Every handler is safe to run twice (upsert by external id)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.db import DataError, transaction
from django.utils import timezone

from social.models import AccountStatus, Platform, SocialAccount
from unipulse import hooks
from unipulse.text import clean_json, loads_limited

from ..models import Message, WebhookEvent, WebhookReplayKey
from ..sources.base import InboxItem
from . import inbox

logger = logging.getLogger(__name__)

HANDLED, IGNORED = True, False
META_OBJECT_PLATFORM = {"page": Platform.FACEBOOK, "instagram": Platform.INSTAGRAM}
TIKTOK_DEAUTH_REASONS = {0: "unknown reason", 1: "the user disconnected UniPulse", 2: "the account was deleted",
                         3: "the account's age changed", 4: "the account was banned", 5: "the developer revoked access"}


class UnroutableError(ValueError):
    """A payload no code path can route (its shape is not one the platform documents): stored `ignored`."""


def process_webhook_event(event_id: int) -> None:
    """Route a stored delivery once; a processed or ignored event is left alone. Raises to let the actor retry.

    Single flight: the event's row is locked for the whole run, and a run that finds it locked leaves
    it to the worker holding it. One delivery can be on the queue twice (Meta repeats a delivery while
    the first copy still waits, or `process_webhooks` re-sends a row whose message was only late);
    without the lock two workers routed it at once. The routing and the `processed` status commit
    together, so a worker killed in between leaves the event `received`, never half-done.

    Only a temporary failure (database, Redis, a platform's 5xx) ends `failed` and is retried; a
    payload that fails for what it is (an odd shape, too deep, a value no column takes) would fail the
    same way every time, so it is stored `ignored` with the reason at once.
    """
    failure: Exception | None = None
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update(skip_locked=True).filter(pk=event_id).first()
        if event is None or event.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED):
            return  # gone, done, or being routed right now by another worker
        attempts = event.attempts + 1
        if WebhookReplayKey.objects.filter(dedupe_key=event.dedupe_key).exists():
            WebhookEvent.objects.filter(pk=event_id).update(
                status=WebhookEvent.Status.IGNORED, attempts=attempts, processed_at=timezone.now(),
                error="A replay of a delivery already processed (its event was pruned).")
            return
        try:
            with transaction.atomic():
                handled = ROUTERS[event.platform](_payload_of(event))
        except Exception as error:
            reason = f"{type(error).__name__}: {error}"[:500]
            if is_temporary_failure(error):
                WebhookEvent.objects.filter(pk=event_id).update(
                    status=WebhookEvent.Status.FAILED, attempts=attempts, error=reason)
                failure = error
            else:
                logger.warning("webhook event %s cannot be routed, stored as ignored (%s)", event_id,
                               type(error).__name__)
                WebhookEvent.objects.filter(pk=event_id).update(
                    status=WebhookEvent.Status.IGNORED, attempts=attempts, processed_at=timezone.now(), error=reason)
        else:
            status = WebhookEvent.Status.PROCESSED if handled else WebhookEvent.Status.IGNORED
            WebhookEvent.objects.filter(pk=event_id).update(status=status, attempts=attempts,
                                                            processed_at=timezone.now(), error="")
    if failure is not None:
        raise failure


# What a payload makes the routers raise by what it is: routing it again fails the same way.
PAYLOAD_FAILURES = (UnroutableError, TypeError, AttributeError, LookupError, ValueError, OverflowError,
                    RecursionError, DataError)


def is_temporary_failure(error: Exception) -> bool:
    """Whether routing the same payload again may succeed (the database, Redis or a platform was down,
    or anything unforeseen): everything but the failures a payload's own shape or values cause."""
    return not isinstance(error, PAYLOAD_FAILURES)


def _payload_of(event: WebhookEvent) -> dict:
    """The stored body as JSON, every string cleaned of NUL and lone surrogates (unipulse.text)."""
    try:
        payload = loads_limited(event.body)
    except ValueError as error:  # stored before these checks existed, or edited by hand
        raise UnroutableError(f"The body is not usable JSON ({error}).") from None
    if not isinstance(payload, dict):
        raise UnroutableError("The body is not a JSON object.")
    return clean_json(payload)


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _dicts(value) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _str(value) -> str:
    """A platform string field: a number becomes its digits; anything else (lists, objects) is empty."""
    if isinstance(value, str):
        return value
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else ""


# ---- Meta ---------------------------------------------------------------------------------------

def route_meta(payload: dict) -> bool:
    topic = payload.get("object")
    if not isinstance(topic, str):
        raise UnroutableError("`object` is not a string.")
    platform = META_OBJECT_PLATFORM.get(topic)
    if platform is None:
        return IGNORED
    if not isinstance(payload.get("entry") or [], list):
        raise UnroutableError("`entry` is not a list.")
    handled = IGNORED
    for entry in _dicts(payload.get("entry")):
        for account in _inbox_accounts(platform, _str(entry.get("id"))):
            if _route_meta_entry(account, entry):
                handled = HANDLED
                inbox.record_webhook_seen(account)
    return handled


def _inbox_accounts(platform: str, external_id: str) -> list[SocialAccount]:
    # The same Page may be connected by several users: each gets its own copy of the inbox.
    return list(SocialAccount.objects.filter(platform=platform, external_id=external_id)
                .exclude(status=AccountStatus.DISCONNECTED).select_related("parent"))


def _route_meta_entry(account: SocialAccount, entry: dict) -> bool:
    handled = IGNORED
    for change in _dicts(entry.get("changes")):
        value = _dict(change.get("value"))
        if account.platform == Platform.FACEBOOK and change.get("field") == "feed" and value.get("item") == "comment":
            handled |= _facebook_comment(account, value)
        elif account.platform == Platform.INSTAGRAM and change.get("field") == "comments":
            handled |= _instagram_comment(account, value)
    for messaging in _dicts(entry.get("messaging")):
        if isinstance(messaging.get("message"), dict):
            handled |= _direct_message(account, messaging)
    return handled


# Ref: https://developers.facebook.com/docs/graph-api/webhooks/reference/page/#feed
def _facebook_comment(account: SocialAccount, value: dict) -> bool:
    comment_id, verb = _str(value.get("comment_id")), value.get("verb")
    if not comment_id:
        return IGNORED
    if verb == "remove":
        inbox.mark_item_deleted(account, comment_id)
        return HANDLED
    if verb in ("hide", "unhide"):
        inbox.mark_item_hidden(account, comment_id, verb == "hide")
        return HANDLED
    if verb not in ("add", "edited"):
        return IGNORED
    author = _dict(value.get("from"))
    post_id = _str(value.get("post_id"))
    parent_id = _str(value.get("parent_id"))
    inbox.upsert_item(account, InboxItem(
        kind="comment", external_id=comment_id, post_id=post_id,
        parent_id="" if parent_id == post_id else parent_id,
        # The Page's own comments (our replies) arrive too: stored as outbound, never answered.
        direction="out" if _str(author.get("id")) == account.external_id else "in",
        created_at=_from_epoch(value.get("created_time")), text=_str(value.get("message")),
        author_id=_str(author.get("id")), author_name=_str(author.get("name")),
        attachments=[{"type": "photo", "url": _str(value["photo"])}] if _str(value.get("photo")) else [],
    ), Message.Origin.WEBHOOK)
    return HANDLED


# Ref: https://developers.facebook.com/docs/instagram-platform/webhooks/#comments
def _instagram_comment(account: SocialAccount, value: dict) -> bool:
    comment_id = _str(value.get("id"))
    if not comment_id:
        return IGNORED
    author = _dict(value.get("from"))
    inbox.upsert_item(account, InboxItem(
        kind="comment", external_id=comment_id, post_id=_str(_dict(value.get("media")).get("id")),
        parent_id=_str(value.get("parent_id")),
        direction="out" if _str(author.get("id")) == account.external_id else "in",
        created_at=timezone.now(),  # IG comment events carry no timestamp
        text=_str(value.get("text")), author_id=_str(author.get("id")), author_name=_str(author.get("username")),
    ), Message.Origin.WEBHOOK)
    return HANDLED


# Ref: https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages
def _direct_message(account: SocialAccount, messaging: dict) -> bool:
    message = messaging["message"]
    mid = _str(message.get("mid"))
    if not mid:
        return IGNORED
    if message.get("is_deleted"):
        inbox.mark_item_deleted(account, mid)
        return HANDLED
    sender = _str(_dict(messaging.get("sender")).get("id"))
    recipient = _str(_dict(messaging.get("recipient")).get("id"))
    # Echoes (messages the Page/IG account sent, ours or typed in Meta's apps) are outbound.
    outbound = bool(message.get("is_echo")) or sender == account.external_id
    inbox.upsert_item(account, InboxItem(
        kind="dm", external_id=mid, direction="out" if outbound else "in",
        created_at=_from_epoch(messaging.get("timestamp")), text=_str(message.get("text")),
        author_id=sender, attachments=_dicts(message.get("attachments")),
        participant_id=recipient if outbound else sender,
    ), Message.Origin.WEBHOOK)
    return HANDLED


def route_meta_deauth(payload: dict) -> bool:
    """Meta's deauthorize callback (signed_request already verified): the user removed the app."""
    user_id, page_id = _str(payload.get("user_id")), _str(payload.get("profile_id"))
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


# ---- TikTok -------------------------------------------------------------------------------------

# Ref: https://developers.tiktok.com/doc/webhooks-events
def route_tiktok(payload: dict) -> bool:
    event = _str(payload.get("event"))
    try:
        content = _dict(clean_json(loads_limited(payload.get("content") or "{}")))  # a JSON string inside the JSON
    except (TypeError, ValueError):
        content = {}
    if event == "authorization.removed":
        reason = TIKTOK_DEAUTH_REASONS.get(_int(content.get("reason")), "unknown reason")
        changed = SocialAccount.objects.filter(
            platform=Platform.TIKTOK, external_id=_str(payload.get("user_openid")),
        ).exclude(status=AccountStatus.DISCONNECTED).update(
            status=AccountStatus.DISCONNECTED, status_reason=f"TikTok access was removed: {reason}.",
            updated_at=timezone.now())
        return HANDLED if changed else IGNORED
    if event.startswith("post.publish.") and _str(content.get("publish_id")):
        reason = content.get("reason")
        return bool(hooks.tiktok_publish_event(
            _str(content["publish_id"]), event, post_id=_str(content.get("post_id")) or None,
            reason=str(reason) if reason is not None else None,
        ))
    return IGNORED


ROUTERS = {
    WebhookEvent.Source.META: route_meta,
    WebhookEvent.Source.META_DEAUTH: route_meta_deauth,
    WebhookEvent.Source.TIKTOK: route_tiktok,
}


def _from_epoch(value) -> datetime:
    """Meta sends seconds in feed events and milliseconds in messaging events."""
    number = _int(value)
    if not number:
        return timezone.now()
    try:
        return datetime.fromtimestamp(number / 1000 if number > 10**11 else number, tz=UTC)
    except (OverflowError, OSError, ValueError):  # a time no calendar holds: when it reached us
        return timezone.now()


def _int(value) -> int:
    if isinstance(value, str) and not value.strip().isascii():
        return 0  # int() reads other scripts' digits ("١٢٣"); platforms send ASCII digits only
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(float("inf"))
        return 0
