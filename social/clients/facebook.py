"""Facebook Pages client: small functions in the platform's vocabulary, built on meta.call().

Each function parses its answer into a small dataclass at the boundary. Sections below belong to
the app that uses them; add functions under your section only.
"""

from __future__ import annotations

from dataclasses import dataclass, field  # noqa: F401

from . import meta  # noqa: F401

# ==== accounts, OAuth, webhook subscriptions (social app) ==========================================

@dataclass(frozen=True)
class AppSubscription:
    app_id: str
    fields: list[str]


# Ref: https://developers.facebook.com/docs/graph-api/reference/page/subscribed_apps/#Creating
def subscribe_page_webhooks(account, fields: list[str]) -> bool:
    """Install this app on the Page for the given webhook fields. Idempotent; raises a PlatformError."""
    body = meta.call(account, "POST", f"{account.external_id}/subscribed_apps", endpoint="page.subscribed_apps.create",
                     data={"subscribed_fields": ",".join(fields)})
    return bool(body.get("success"))


# Ref: https://developers.facebook.com/docs/graph-api/reference/page/subscribed_apps/#Reading
def get_page_subscriptions(account) -> list[AppSubscription]:
    """Apps installed on the Page and the fields each receives (to read a subscription back)."""
    body = meta.call(account, "GET", f"{account.external_id}/subscribed_apps", endpoint="page.subscribed_apps")
    return [AppSubscription(app_id=str(item.get("id") or ""), fields=list(item.get("subscribed_fields") or []))
            for item in body.get("data", [])]



# ==== publishing ==================================================================================

@dataclass(frozen=True)
class PagePost:
    """A post on a Page's timeline (`id` is "{page-id}_{post-id}"), or a video id for /videos."""

    id: str


@dataclass(frozen=True)
class PagePhoto:
    id: str
    post_id: str


@dataclass(frozen=True)
class RecentPagePost:
    id: str
    message: str
    created_time: str
    permalink_url: str


@dataclass(frozen=True)
class Comment:
    id: str
    message: str
    from_id: str


# Ref: https://developers.facebook.com/docs/pages-api/posts
def publish_feed_post(account, *, message: str = "", link: str = "", attached_photo_ids: list[str] | None = None) -> PagePost:
    """Publish a text, link or multi-photo post on the Page's feed. Not idempotent: the commit."""
    data = {"message": message, "published": "true"}
    if link:
        data["link"] = link
    if attached_photo_ids:
        import json

        # Graph reads array parameters as JSON text in form bodies.
        data["attached_media"] = json.dumps([{"media_fbid": pid} for pid in attached_photo_ids])
    body = meta.call(account, "POST", f"{account.external_id}/feed", endpoint="page.feed.publish", data=data)
    return PagePost(id=str(body["id"]))


# Ref: https://developers.facebook.com/docs/graph-api/reference/page/photos/
def upload_unpublished_photo(account, url: str) -> str:
    """Store a photo on the Page without publishing it (for attached_media). Returns the photo id."""
    body = meta.call(account, "POST", f"{account.external_id}/photos", endpoint="page.photos.upload",
                     data={"url": url, "published": "false", "temporary": "true"})
    return str(body["id"])


# Ref: https://developers.facebook.com/docs/graph-api/reference/page/photos/
def publish_photo(account, *, url: str, caption: str = "") -> PagePhoto:
    """Publish one photo post. Not idempotent: the commit."""
    body = meta.call(account, "POST", f"{account.external_id}/photos", endpoint="page.photos.publish",
                     data={"url": url, "caption": caption, "published": "true"})
    return PagePhoto(id=str(body["id"]), post_id=str(body.get("post_id") or ""))


# Ref: https://developers.facebook.com/docs/video-api/guides/publishing
def publish_video(account, *, file_url: str, description: str = "") -> PagePost:
    """Publish a video Facebook pulls from `file_url`. Returns the video id. Not idempotent: the commit."""
    body = meta.call(account, "POST", f"{account.external_id}/videos", endpoint="page.videos.publish",
                     data={"file_url": file_url, "description": description, "published": "true"})
    return PagePost(id=str(body["id"]))


# Ref: https://developers.facebook.com/docs/graph-api/reference/page/feed/#read
def list_recent_posts(account, limit: int = 10) -> list[RecentPagePost]:
    """The Page's own latest posts, newest first (to reconcile an ambiguous publish)."""
    body = meta.call(account, "GET", f"{account.external_id}/posts", endpoint="page.posts.recent",
                     params={"fields": "id,message,created_time,permalink_url", "limit": str(limit)})
    return [
        RecentPagePost(id=str(item.get("id") or ""), message=item.get("message") or "",
                       created_time=item.get("created_time") or "", permalink_url=item.get("permalink_url") or "")
        for item in body.get("data") or []
    ]


# Ref: https://developers.facebook.com/docs/graph-api/reference/post/
def get_post_permalink(account, post_id: str) -> str:
    body = meta.call(account, "GET", post_id, endpoint="post.permalink", params={"fields": "permalink_url"})
    return body.get("permalink_url") or ""


# Ref: https://developers.facebook.com/docs/graph-api/reference/object/comments/
def comment_on_post(account, post_id: str, message: str) -> str:
    """Comment as the Page. Returns the comment id. Not idempotent."""
    body = meta.call(account, "POST", f"{post_id}/comments", endpoint="post.comments.create", data={"message": message})
    return str(body["id"])


# Ref: https://developers.facebook.com/docs/graph-api/reference/object/comments/
def list_post_comments(account, post_id: str, limit: int = 50) -> list[Comment]:
    body = meta.call(account, "GET", f"{post_id}/comments", endpoint="post.comments.list",
                     params={"fields": "id,message,from", "limit": str(limit), "order": "reverse_chronological"})
    return [
        Comment(id=str(c.get("id") or ""), message=c.get("message") or "", from_id=str((c.get("from") or {}).get("id") or ""))
        for c in body.get("data") or []
    ]



# ==== analytics ===================================================================================



# ==== conversations ===============================================================================

