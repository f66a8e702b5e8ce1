"""Facebook Page comments and Messenger DMs: polled, answered, and read from Meta's webhooks."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from social.clients import facebook

from ..models import Message
from .base import (
    HANDLED,
    IGNORED,
    InboxItem,
    Participant,
    PollResult,
    as_dict,
    as_dicts,
    as_str,
    from_epoch,
    inbox,
)

INBOX = True


def poll(account, comments_since: datetime | None, messages_since: datetime | None) -> PollResult:
    comments = [comment_item(account, c) for c in facebook.list_recent_post_comments(
        account, posts=settings.INBOX_POLL_RECENT_POSTS, since=comments_since)]
    messages, newest = thread_items(account, facebook.iter_conversations(account, platform="messenger"), messages_since)
    return PollResult.after(comments, comments_since, messages, messages_since, newest)


def comment_item(account, comment: facebook.PageComment) -> InboxItem:
    return InboxItem(
        kind="comment", external_id=comment.id, post_id=comment.post_id, parent_id=comment.parent_id,
        direction="out" if comment.from_id == account.external_id else "in",
        created_at=comment.created_time or timezone.now(), text=comment.message,
        author_id=comment.from_id, author_name=comment.from_name, hidden=comment.is_hidden,
        attachments=[comment.attachment] if comment.attachment else [],
    )


def thread_items(account, threads, since: datetime | None, own_id: str | None = None) -> tuple[list[InboxItem], datetime | None]:
    """Messages of threads updated after `since`; stops paging at the first older thread (newest first)."""
    own_id = own_id or account.external_id
    items: list[InboxItem] = []
    newest = None
    for thread in threads:
        if since is not None and thread.updated_time is not None and thread.updated_time <= since:
            break
        newest = max(newest or thread.updated_time, thread.updated_time) if thread.updated_time else newest
        # The thread's participants name the person even when its latest messages are all ours.
        named = next((p.name for p in thread.participants if p.id != own_id and p.name), "")
        participant = next((m for m in thread.messages if m.from_id != own_id), None)
        for message in thread.messages:
            if since is not None and message.created_time is not None and message.created_time <= since:
                continue
            outbound = message.from_id == own_id
            items.append(InboxItem(
                kind="dm", external_id=message.id, direction="out" if outbound else "in",
                created_at=message.created_time or timezone.now(), text=message.text,
                author_id=message.from_id, author_name=message.from_name, attachments=message.attachments,
                participant_id=(message.to_ids[0] if outbound and message.to_ids else message.from_id),
                participant_name=named or (participant.from_name if participant else ""),
            ))
    return items, newest


def reply_to_comment(account, conversation, text: str) -> str:
    return facebook.reply_to_comment(account, conversation.root_comment_id, text).id


def send_direct_message(account, conversation, text: str, tag: str | None) -> str:
    return facebook.send_message(account, conversation.participant_id, text, tag=tag).id


def set_comment_hidden(account, comment_id: str, hidden: bool) -> None:
    facebook.set_comment_hidden(account, comment_id, hidden)


def read_participant(account, participant_id: str) -> Participant:
    profile = facebook.get_messenger_profile(account, participant_id)
    return Participant(name=profile.name, avatar_url=profile.avatar_url)


# ---- webhooks (one `change` or `messaging` item of a Meta delivery, see meta.route_meta) -----------

# Ref: https://developers.facebook.com/docs/graph-api/webhooks/reference/page/#feed
def route_change(account, change: dict) -> bool:
    value = as_dict(change.get("value"))
    if change.get("field") != "feed" or value.get("item") != "comment":
        return IGNORED
    comment_id, verb = as_str(value.get("comment_id")), value.get("verb")
    if not comment_id:
        return IGNORED
    if verb == "remove":
        inbox().mark_item_deleted(account, comment_id)
        return HANDLED
    if verb in ("hide", "unhide"):
        inbox().mark_item_hidden(account, comment_id, verb == "hide")
        return HANDLED
    if verb not in ("add", "edited"):
        return IGNORED
    author = as_dict(value.get("from"))
    post_id = as_str(value.get("post_id"))
    parent_id = as_str(value.get("parent_id"))
    inbox().upsert_item(account, InboxItem(
        kind="comment", external_id=comment_id, post_id=post_id,
        parent_id="" if parent_id == post_id else parent_id,
        # The Page's own comments (our replies) arrive too: stored as outbound, never answered.
        direction="out" if as_str(author.get("id")) == account.external_id else "in",
        created_at=from_epoch(value.get("created_time")), text=as_str(value.get("message")),
        author_id=as_str(author.get("id")), author_name=as_str(author.get("name")),
        attachments=[{"type": "photo", "url": as_str(value["photo"])}] if as_str(value.get("photo")) else [],
    ), Message.Origin.WEBHOOK)
    return HANDLED


# Ref: https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages
def route_message(account, messaging: dict) -> bool:
    """One Messenger Platform message event (Instagram DMs arrive in the same shape)."""
    message = messaging.get("message")
    if not isinstance(message, dict):
        return IGNORED
    mid = as_str(message.get("mid"))
    if not mid:
        return IGNORED
    if message.get("is_deleted"):
        inbox().mark_item_deleted(account, mid)
        return HANDLED
    sender = as_str(as_dict(messaging.get("sender")).get("id"))
    recipient = as_str(as_dict(messaging.get("recipient")).get("id"))
    # Echoes (messages the Page/IG account sent, ours or typed in Meta's apps) are outbound.
    outbound = bool(message.get("is_echo")) or sender == account.external_id
    inbox().upsert_item(account, InboxItem(
        kind="dm", external_id=mid, direction="out" if outbound else "in",
        created_at=from_epoch(messaging.get("timestamp")), text=as_str(message.get("text")),
        author_id=sender, attachments=as_dicts(message.get("attachments")),
        participant_id=recipient if outbound else sender,
    ), Message.Origin.WEBHOOK)
    return HANDLED
