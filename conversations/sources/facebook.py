"""Facebook Page comments and Messenger DMs."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from social.clients import facebook

from .base import InboxItem, PollResult


def poll(account, comments_since: datetime | None, messages_since: datetime | None) -> PollResult:
    comments = [comment_item(account, c) for c in facebook.list_recent_post_comments(
        account, posts=settings.INBOX_POLL_RECENT_POSTS, since=comments_since)]
    comments = [c for c in comments if comments_since is None or c.created_at > comments_since]
    messages, newest = thread_items(account, facebook.iter_conversations(account, platform="messenger"), messages_since)
    return PollResult(
        comments=comments, messages=messages,
        comments_since=max([c.created_at for c in comments], default=comments_since),
        messages_since=newest or messages_since,
    )


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
                participant_name=participant.from_name if participant else "",
            ))
    return items, newest


def reply_to_comment(account, conversation, text: str) -> str:
    return facebook.reply_to_comment(account, conversation.root_comment_id, text).id


def send_direct_message(account, conversation, text: str, tag: str | None) -> str:
    return facebook.send_message(account, conversation.participant_id, text, tag=tag).id


def set_comment_hidden(account, comment_id: str, hidden: bool) -> None:
    facebook.set_comment_hidden(account, comment_id, hidden)
