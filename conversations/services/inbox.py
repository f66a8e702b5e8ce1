"""Upsert comments and messages by external id: a webhook and a poll of the same item make one row."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Greatest
from django.utils import timezone

from social.models import SocialAccount
from social.services import join_reasons, split_reasons
from unipulse.errors import ApiError
from workspaces.services import is_member, record

from ..events import message_event
from ..models import Conversation, InboxSyncState, Message
from ..platforms.base import InboxItem

logger = logging.getLogger(__name__)

QUIET_REASON = "Comment and message webhooks seem to have stopped; UniPulse re-subscribed the app and keeps polling."


def filter_conversations(qs: QuerySet[Conversation], *, account: int | None = None, platform: str = "",
                         kind: str = "", unread: bool | None = None, search: str = "", status: str = "",
                         assigned: str = "", me=None) -> QuerySet[Conversation]:
    """The inbox list's filters, newest activity first. `assigned`: "me" (the user `me`), "none" or a user id."""
    if status:
        qs = qs.filter(status=status)
    if assigned == "none":
        qs = qs.filter(assigned_to__isnull=True)
    elif assigned:
        qs = qs.filter(assigned_to_id=me.pk if assigned == "me" else int(assigned))
    if account:
        qs = qs.filter(account_id=account)
    if platform:
        qs = qs.filter(account__platform=platform)
    if kind:
        qs = qs.filter(kind=kind)
    if unread is not None:
        qs = qs.filter(unread_count__gt=0) if unread else qs.filter(unread_count=0)
    if search:
        text_match = Message.objects.filter(conversation=OuterRef("pk"), text__icontains=search)
        qs = qs.filter(Q(participant_name__icontains=search) | Q(snippet__icontains=search) | Exists(text_match))
    return qs.order_by("-last_message_at", "-id")


def upsert_item(account, item: InboxItem, origin: str) -> tuple[Message, bool]:
    """Create or update one message; returns (message, created). Idempotent."""
    existing = Message.objects.filter(account=account, external_id=item.external_id).first()
    if existing is not None:
        _update_existing(existing, item)
        return existing, False
    conversation = _get_or_create_conversation(account, item)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation, account=account, external_id=item.external_id,
                parent_external_id=item.parent_id, direction=item.direction, author_id=item.author_id,
                author_name=item.author_name, text=item.text, attachments=item.attachments,
                created_at=item.created_at, is_hidden=bool(item.hidden), is_deleted=item.deleted,
                status=Message.Status.RECEIVED if item.direction == "in" else Message.Status.SENT, origin=origin,
            )
            if item.direction == "in":
                message_event(message, "inbox.message.received")  # with the row: a replayed item is no new event
    except IntegrityError:  # a concurrent webhook/poll stored it first
        return Message.objects.get(account=account, external_id=item.external_id), False
    _touch_conversation(conversation, message, item)
    return message, True


def _update_existing(message: Message, item: InboxItem) -> None:
    changes = {}
    if item.text and item.text != message.text and not item.deleted:
        changes["text"] = item.text
    if item.hidden is not None and item.hidden != message.is_hidden:
        changes["is_hidden"] = item.hidden
    if item.deleted and not message.is_deleted:
        changes["is_deleted"] = True
    if changes:
        Message.objects.filter(pk=message.pk).update(**changes)
        for name, value in changes.items():
            setattr(message, name, value)


def _get_or_create_conversation(account, item: InboxItem) -> Conversation:
    if item.kind == Conversation.Kind.DM:
        key, fields = f"dm:{item.participant_id}", {"participant_id": item.participant_id,
                                                      "participant_name": item.participant_name}
    else:
        root = _root_comment_id(account, item)
        if item.parent_id and root != item.external_id:
            parent = Message.objects.filter(account=account, external_id=item.parent_id).select_related("conversation").first()
            if parent is not None:
                return parent.conversation
        key, fields = f"c:{root}", {"platform_post_id": item.post_id, "root_comment_id": root}
        if item.direction == "in":
            fields.update(participant_id=item.author_id, participant_name=item.author_name)
    conversation, created = Conversation.objects.get_or_create(
        account=account, thread_key=key[:200], defaults={"kind": item.kind, **fields})
    if not created and item.kind == Conversation.Kind.DM and item.participant_name and not conversation.participant_name:
        Conversation.objects.filter(pk=conversation.pk).update(participant_name=item.participant_name)
    return conversation


def _root_comment_id(account, item: InboxItem) -> str:
    # A top-level comment's parent is the post (Facebook sends parent_id = post id); replies point at a comment.
    if not item.parent_id or item.parent_id == item.post_id:
        return item.external_id
    return item.parent_id


def _touch_conversation(conversation: Conversation, message: Message, item: InboxItem) -> None:
    updates = {"last_message_at": Greatest(F("last_message_at"), message.created_at)}
    if conversation.last_message_at is None:
        updates["last_message_at"] = message.created_at
    if conversation.last_message_at is None or message.created_at >= conversation.last_message_at:
        updates["snippet"] = (message.text or "")[:200]
    if item.direction == "in":
        updates["status"] = "open"  # the customer wrote again: a done conversation needs someone again
        updates["unread_count"] = F("unread_count") + 1
        updates["last_inbound_at"] = (message.created_at if conversation.last_inbound_at is None
                                      else Greatest(F("last_inbound_at"), message.created_at))
    Conversation.objects.filter(pk=conversation.pk).update(**updates)


def mark_item_deleted(account, external_id: str) -> bool:
    return bool(Message.objects.filter(account=account, external_id=external_id).update(is_deleted=True))


def mark_item_hidden(account, external_id: str, hidden: bool) -> bool:
    return bool(Message.objects.filter(account=account, external_id=external_id).update(is_hidden=hidden))


def record_webhook_seen(account) -> None:
    """A webhook reached this account's inbox: stamp it, and drop the quiet-webhooks reason if a poll had set it."""
    state, _ = InboxSyncState.objects.get_or_create(account=account)
    InboxSyncState.objects.filter(pk=state.pk).update(last_webhook_at=timezone.now())
    if QUIET_REASON not in (account.status_reason or ""):  # the row routing just read: the usual case, no query
        return
    current = SocialAccount.objects.filter(pk=account.pk).values_list("status_reason", flat=True).first() or ""
    reasons = split_reasons(current)
    if QUIET_REASON in reasons:
        # Compare-and-set: a reason another worker wrote meanwhile is never overwritten (the next webhook retries).
        remaining = join_reasons([r for r in reasons if r != QUIET_REASON])
        if SocialAccount.objects.filter(pk=account.pk, status_reason=current).update(
                status_reason=remaining, updated_at=timezone.now()):
            account.status_reason = remaining  # a second entry for this account in the batch needs no query


def update_conversation(conversation: Conversation, actor, data: dict) -> Conversation:
    """Assign (to a member of the account's workspace, or nobody) and/or set the status. Audited."""
    changes = []
    if "assigned_to" in data:
        user_id = data["assigned_to"]
        if user_id is not None and not is_member(conversation.account.workspace_id, user_id):
            raise ApiError("invalid", "Assign to a member of this workspace.", 400,
                           fields={"assigned_to": ["Not a member of this workspace."]})
        if user_id != conversation.assigned_to_id:
            conversation.assigned_to_id = user_id
            changes.append(f"assigned to user {user_id}" if user_id else "unassigned")
    if "status" in data and data["status"] != conversation.status:
        conversation.status = data["status"]
        changes.append(f"marked {data['status']}")
    if changes:
        with transaction.atomic():
            conversation.save(update_fields=["assigned_to", "status"])
            record(conversation.account.workspace_id, actor, "inbox.conversation_changed", conversation,
                   f"Conversation {conversation.pk}: " + ", ".join(changes) + ".")
    return conversation


def mark_conversation_read(conversation: Conversation) -> Conversation:
    Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)
    conversation.unread_count = 0
    return conversation
