"""Instagram professional accounts (Facebook Login path) client: small functions in the platform's vocabulary, built on meta.call().

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

def _graph_time(value):
    from .facebook import parse_graph_time

    return parse_graph_time(value)


@dataclass(frozen=True)
class SentComment:
    id: str


@dataclass(frozen=True)
class MediaComment:
    id: str
    media_id: str
    parent_id: str           # the top-level comment for a reply, "" otherwise
    text: str
    timestamp: object        # datetime | None
    from_id: str
    username: str
    hidden: bool


IG_COMMENT_FIELDS = "id,text,timestamp,username,from{id,username},hidden"


def _parse_comment(raw: dict, media_id: str, parent_id: str = "") -> MediaComment:
    author = raw.get("from") or {}
    return MediaComment(
        id=str(raw["id"]), media_id=media_id, parent_id=parent_id, text=raw.get("text") or "",
        timestamp=_graph_time(raw.get("timestamp")), from_id=str(author.get("id") or ""),
        username=author.get("username") or raw.get("username") or "", hidden=bool(raw.get("hidden")),
    )


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
def list_recent_media_comments(account, *, media: int = 10) -> list[MediaComment]:
    """Comments and their replies on the latest media, in one call by field expansion."""
    body = meta.call(account, "GET", f"{account.external_id}/media", endpoint="ig.media", params={
        "fields": f"id,comments.limit(50){{{IG_COMMENT_FIELDS},replies{{{IG_COMMENT_FIELDS}}}}}", "limit": media,
    })
    comments = []
    for item in body.get("data", []):
        media_id = str(item["id"])
        for raw in (item.get("comments") or {}).get("data", []):
            comments.append(_parse_comment(raw, media_id))
            for reply in (raw.get("replies") or {}).get("data", []):
                comments.append(_parse_comment(reply, media_id, parent_id=str(raw["id"])))
    return comments


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment/replies
def reply_to_comment(account, comment_id: str, message: str) -> SentComment:
    """Reply under a top-level comment (replies are one level deep). Not idempotent."""
    body = meta.call(account, "POST", f"{comment_id}/replies", endpoint="ig.comment.reply", data={"message": message})
    return SentComment(id=str(body["id"]))


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment
def set_comment_hidden(account, comment_id: str, hidden: bool) -> bool:
    body = meta.call(account, "POST", comment_id, endpoint="ig.comment.hide", data={"hide": "true" if hidden else "false"})
    return bool(body.get("success"))
