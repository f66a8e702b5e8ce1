"""Facebook Pages client: small functions in the platform's vocabulary, built on meta.call().

Each function parses its answer into a small dataclass at the boundary. Sections below belong to
the app that uses them; add functions under your section only.
"""

from __future__ import annotations

from dataclasses import dataclass, field  # noqa: F401

from . import meta  # noqa: F401

# ==== accounts, OAuth, webhook subscriptions (social app) ==========================================



# ==== publishing ==================================================================================



# ==== analytics ===================================================================================



# ==== conversations ===============================================================================

# Annotations use meta.datetime (the stdlib class meta imports) so this section adds no import lines.
def parse_graph_time(value) -> meta.datetime | None:
    """Graph times look like 2026-11-25T10:00:00+0000."""
    if not value:
        return None
    try:
        return meta.datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


@dataclass(frozen=True)
class PageComment:
    id: str
    post_id: str
    parent_id: str           # the parent comment for a reply, "" for a top-level comment
    message: str
    created_time: meta.datetime | None
    from_id: str             # only present with the Page's own token (Meta privacy rule)
    from_name: str
    is_hidden: bool
    attachment: dict | None


@dataclass(frozen=True)
class ThreadMessage:
    id: str
    text: str
    created_time: meta.datetime | None
    from_id: str
    from_name: str
    to_ids: list[str]
    attachments: list[dict]


@dataclass(frozen=True)
class MessageThread:
    id: str
    updated_time: meta.datetime | None
    messages: list[ThreadMessage]


@dataclass(frozen=True)
class SentItem:
    id: str


COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id},is_hidden,attachment"
THREAD_FIELDS = "id,updated_time,messages.limit(20){id,message,created_time,from,to,attachments}"


def _parse_comment(raw: dict, post_id: str) -> PageComment:
    author = raw.get("from") or {}
    return PageComment(
        id=str(raw["id"]), post_id=post_id, parent_id=str((raw.get("parent") or {}).get("id") or ""),
        message=raw.get("message") or "", created_time=parse_graph_time(raw.get("created_time")),
        from_id=str(author.get("id") or ""), from_name=author.get("name") or "",
        is_hidden=bool(raw.get("is_hidden")), attachment=raw.get("attachment"),
    )


def parse_thread(raw: dict) -> MessageThread:
    messages = []
    for item in (raw.get("messages") or {}).get("data", []):
        author = item.get("from") or {}
        messages.append(ThreadMessage(
            id=str(item["id"]), text=item.get("message") or "", created_time=parse_graph_time(item.get("created_time")),
            from_id=str(author.get("id") or ""), from_name=author.get("name") or author.get("username") or "",
            to_ids=[str(t.get("id")) for t in (item.get("to") or {}).get("data", [])],
            attachments=list((item.get("attachments") or {}).get("data", [])),
        ))
    return MessageThread(id=str(raw["id"]), updated_time=parse_graph_time(raw.get("updated_time")), messages=messages)


# Ref: https://developers.facebook.com/docs/graph-api/reference/page/published_posts/
def list_recent_post_comments(account, *, posts: int = 10) -> list[PageComment]:
    """Comments (all levels, newest first) on the Page's latest posts, in one call by field expansion."""
    # filter(stream) flattens replies and gives each its parent; one call instead of one per post.
    body = meta.call(account, "GET", f"{account.external_id}/published_posts", endpoint="page.published_posts", params={
        "fields": f"id,comments.filter(stream).order(reverse_chronological).limit(50){{{COMMENT_FIELDS}}}",
        "limit": posts,
    })
    comments = []
    for post in body.get("data", []):
        for raw in (post.get("comments") or {}).get("data", []):
            comments.append(_parse_comment(raw, str(post["id"])))
    return comments


# Ref: https://developers.facebook.com/docs/graph-api/reference/page/conversations/
def iter_conversations(account, *, platform: str = "messenger", page_id: str | None = None):
    """Yield DM threads, most recently updated first (stop iterating to stop paging)."""
    page_id = page_id or account.external_id
    for page in meta.paginate(account, f"{page_id}/conversations", endpoint="page.conversations", params={
        "platform": platform, "fields": THREAD_FIELDS, "limit": 25,
    }, max_pages=20):
        for raw in page:
            yield parse_thread(raw)


# Ref: https://developers.facebook.com/docs/graph-api/reference/object/comments/#publish
def reply_to_comment(account, comment_id: str, message: str) -> SentItem:
    """Reply as the Page under a comment. Not idempotent: the caller must not repeat it."""
    body = meta.call(account, "POST", f"{comment_id}/comments", endpoint="comment.reply", data={"message": message})
    return SentItem(id=str(body["id"]))


# Ref: https://developers.facebook.com/docs/graph-api/reference/comment/#updating
def set_comment_hidden(account, comment_id: str, hidden: bool) -> bool:
    body = meta.call(account, "POST", comment_id, endpoint="comment.hide",
                     data={"is_hidden": "true" if hidden else "false"})
    return bool(body.get("success"))


# Ref: https://developers.facebook.com/docs/messenger-platform/reference/send-api/
def send_message(account, recipient_id: str, text: str, *, page_id: str | None = None, tag: str | None = None) -> SentItem:
    """Send API text message (Messenger or Instagram via the Page). RESPONSE, or MESSAGE_TAG with `tag`."""
    payload = {"recipient": {"id": recipient_id}, "message": {"text": text}, "messaging_type": "RESPONSE"}
    if tag:
        payload.update(messaging_type="MESSAGE_TAG", tag=tag)
    body = meta.call(account, "POST", f"{page_id or account.external_id}/messages", endpoint="page.messages", json=payload)
    return SentItem(id=str(body["message_id"]))
