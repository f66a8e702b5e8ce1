"""Instagram comments and DMs, on either login path.

Where the paths differ (the DM threads belong to the linked Page on Facebook Login, to the Instagram
account itself on Instagram Login) is decided by the Instagram client (instagram.messaging_node).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from social.clients import instagram

from ..models import Message
from .base import HANDLED, IGNORED, InboxItem, Participant, PollResult, as_dict, as_str, inbox
from .facebook import route_message, thread_items  # noqa: F401 (DMs come through the Page's Messenger Platform)

INBOX = True


def poll(account, comments_since: datetime | None, messages_since: datetime | None) -> PollResult:
    comments = [comment_item(account, c) for c in instagram.list_recent_media_comments(
        account, media=settings.INBOX_POLL_RECENT_POSTS, since=comments_since)]
    threads = instagram.iter_conversations(account)
    messages, newest = thread_items(account, threads, messages_since)
    return PollResult.after(comments, comments_since, messages, messages_since, newest)


def comment_item(account, comment: instagram.MediaComment) -> InboxItem:
    return InboxItem(
        kind="comment", external_id=comment.id, post_id=comment.media_id, parent_id=comment.parent_id,
        direction="out" if comment.from_id == account.external_id else "in",
        created_at=comment.timestamp or timezone.now(), text=comment.text,
        author_id=comment.from_id, author_name=comment.username, hidden=comment.hidden,
    )


def reply_to_comment(account, conversation, text: str) -> str:
    return instagram.reply_to_comment(account, conversation.root_comment_id, text).id


def send_direct_message(account, conversation, text: str, tag: str | None) -> str:
    return instagram.send_message(account, conversation.participant_id, text, tag=tag).id


def set_comment_hidden(account, comment_id: str, hidden: bool) -> None:
    instagram.set_comment_hidden(account, comment_id, hidden)


def read_participant(account, participant_id: str) -> Participant:
    profile = instagram.get_messaging_profile(account, participant_id)
    return Participant(name=profile.name, avatar_url=profile.avatar_url)


# ---- webhooks (one `change` or `messaging` item of a Meta delivery, see meta.route_meta) -----------

# Ref: https://developers.facebook.com/docs/instagram-platform/webhooks/#comments
def route_change(account, change: dict) -> bool:
    if change.get("field") != "comments":
        return IGNORED
    value = as_dict(change.get("value"))
    comment_id = as_str(value.get("id"))
    if not comment_id:
        return IGNORED
    author = as_dict(value.get("from"))
    inbox().upsert_item(account, InboxItem(
        kind="comment", external_id=comment_id, post_id=as_str(as_dict(value.get("media")).get("id")),
        parent_id=as_str(value.get("parent_id")),
        direction="out" if as_str(author.get("id")) == account.external_id else "in",
        created_at=timezone.now(),  # IG comment events carry no timestamp
        text=as_str(value.get("text")), author_id=as_str(author.get("id")), author_name=as_str(author.get("username")),
    ), Message.Origin.WEBHOOK)
    return HANDLED
