"""Agent replies and comment moderation: one service used by the API and by any automation."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from unipulse.api_errors import ApiError
from unipulse.platform_errors import PlatformError, RateLimitedError, TransientError
from workspaces.services import record

from ..events import message_event
from ..models import Conversation, Message
from ..platforms import NoInboxError, get_inbox

logger = logging.getLogger(__name__)

# Ref: https://developers.facebook.com/docs/messenger-platform/policy/policy-overview#24hours_window
STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)


class OutsideMessagingWindowError(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__("outside_messaging_window", message, 409)


def send_agent_reply(conversation: Conversation, text: str, idempotency_key: str, user=None) -> Message:
    """Reply in a comment thread or DM thread. Raises OutsideMessagingWindowError or a PlatformError.

    Idempotent per key: only the request that inserts the message calls the platform. A request that
    finds the key taken returns that message as it is (sending, sent or failed), without a call. After
    a failure the platform certainly refused (see `is_refusal`), the key is released: the same key may
    send again. After an uncertain one (timeout, 5xx: the reply may be live) the failed message keeps
    the key, so a retry never posts twice; trying again takes a new key, knowingly.
    """
    existing = _find(conversation, idempotency_key)
    if existing is not None:
        return existing
    account = conversation.account
    try:
        platform = get_inbox(account.platform)
    except NoInboxError as error:
        raise ApiError("unsupported_platform", str(error), 422) from None
    tag = messaging_tag(conversation) if conversation.kind == Conversation.Kind.DM else None
    message, created = _create_sending(conversation, text, idempotency_key, user)
    if not created:
        return message  # a concurrent request with the same key inserted first: it alone sends
    try:
        if conversation.kind == Conversation.Kind.DM:
            external_id = platform.send_direct_message(account, conversation, text, tag)
        else:
            external_id = platform.reply_to_comment(account, conversation, text)
    except PlatformError as error:
        _mark_failed(message, error)
        raise
    _mark_sent(message, external_id)
    return message


def is_refusal(error: PlatformError) -> bool:
    """The platform (or our own budget) certainly did not post: an answer that refuses the request.

    A timeout, a lost connection, a 5xx or Graph's code 1/2 "unknown error" may come after the reply
    went live, so they are not refusals. A rate limit is one (the request was turned away).
    """
    return not isinstance(error, TransientError) or isinstance(error, RateLimitedError)


def _find(conversation: Conversation, idempotency_key: str) -> Message | None:
    return Message.objects.filter(conversation=conversation, idempotency_key=idempotency_key).first()


def messaging_tag(conversation: Conversation) -> str | None:
    """None inside the 24 h window; "HUMAN_AGENT" within 7 days when the app has that feature; else raises."""
    last_inbound = conversation.last_inbound_at
    now = timezone.now()
    if last_inbound is not None and now - last_inbound <= STANDARD_WINDOW:
        return None
    if settings.META_HUMAN_AGENT_ENABLED and last_inbound is not None and now - last_inbound <= HUMAN_AGENT_WINDOW:
        return "HUMAN_AGENT"
    limit = "7 days (human agent)" if settings.META_HUMAN_AGENT_ENABLED else "24 hours"
    raise OutsideMessagingWindowError(
        f"The last message from this person is more than {limit} old; the platform only allows a reply after "
        "they write again.")


def _create_sending(conversation: Conversation, text: str, idempotency_key: str, user) -> tuple[Message, bool]:
    """The outbound message in status sending, and whether this call inserted it (the key is unique)."""
    try:
        with transaction.atomic():
            return Message.objects.create(
                conversation=conversation, account_id=conversation.account_id, direction=Message.Direction.OUTBOUND,
                author_id=conversation.account.external_id, author_name=conversation.account.name, text=text,
                created_at=timezone.now(), status=Message.Status.SENDING, origin=Message.Origin.AGENT,
                idempotency_key=idempotency_key, sent_by=user,
            ), True
    except IntegrityError:
        return Message.objects.get(conversation=conversation, idempotency_key=idempotency_key), False


def _mark_failed(message: Message, error: PlatformError) -> None:
    # A refused reply keeps its row (the thread shows the failed attempt) but gives its key back.
    key = "" if is_refusal(error) else message.idempotency_key
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(status=Message.Status.FAILED, error=str(error)[:500],
                                                     idempotency_key=key)
        message.status, message.error, message.idempotency_key = Message.Status.FAILED, str(error)[:500], key
        message_event(message, "inbox.reply.failed")


def _mark_sent(message: Message, external_id: str) -> None:
    with transaction.atomic():
        # The echo webhook may have arrived before the Send API answered: keep one row, ours.
        Message.objects.filter(account_id=message.account_id, external_id=external_id).exclude(pk=message.pk).delete()
        Message.objects.filter(pk=message.pk).update(status=Message.Status.SENT, external_id=external_id, error="")
        Conversation.objects.filter(pk=message.conversation_id).update(
            last_message_at=Greatest(F("last_message_at"), message.created_at), snippet=message.text[:200])
        Conversation.objects.filter(pk=message.conversation_id, last_message_at__isnull=True).update(
            last_message_at=message.created_at)
        message.status, message.external_id, message.error = Message.Status.SENT, external_id, ""
        record(message.account.workspace_id, message.sent_by, "inbox.reply_sent", message,
               f"Replied in conversation {message.conversation_id}.")
        message_event(message, "inbox.reply.sent")


def set_message_hidden(message: Message, hidden: bool) -> Message:
    """Hide or unhide a comment on the platform, then record it. Raises a PlatformError."""
    if message.conversation.kind != Conversation.Kind.COMMENT or not message.external_id:
        raise ApiError("not_a_comment", "Only comments can be hidden.", 422)
    get_inbox(message.account.platform).set_comment_hidden(message.account, message.external_id, hidden)
    Message.objects.filter(pk=message.pk).update(is_hidden=hidden)
    message.is_hidden = hidden
    return message
