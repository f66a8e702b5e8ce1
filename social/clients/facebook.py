"""Facebook Pages client: small functions in the platform's vocabulary, built on meta.call().

Each function parses its answer into a small dataclass at the boundary. Sections below belong to
the app that uses them; add functions under your section only.
"""

from __future__ import annotations

from dataclasses import dataclass, field  # noqa: F401
from datetime import datetime

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

def insight_values(insights: dict | None) -> dict:
    """{"data": [{"name", "values": [{"value"}]} | {"name", "total_value": {"value"}}]} -> {name: value}."""
    values = {}
    for item in (insights or {}).get("data") or []:
        if "total_value" in item:
            values[item["name"]] = (item.get("total_value") or {}).get("value")
        elif item.get("values"):
            values[item["name"]] = item["values"][-1].get("value")
    return values


@dataclass(frozen=True)
class PagePostMetrics:
    """One Page post with its engagement summaries and insights, read from one listing page."""

    id: str
    created_time: str
    message: str
    permalink_url: str
    status_type: str
    reactions: int | None
    comments: int | None
    shares: int
    insights: dict = field(default_factory=dict)  # metric name -> value (a number, or a dict by type)
    raw: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class PostsPage:
    items: list
    after: str | None  # None: this was the last page


@dataclass(frozen=True)
class PageFollowers:
    followers_count: int | None
    fan_count: int | None
    raw: dict = field(default_factory=dict, repr=False)


POST_FIELDS = (
    "id,created_time,message,permalink_url,status_type,shares,"
    "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)"
)


def _summary_total(edge: dict | None) -> int | None:
    return ((edge or {}).get("summary") or {}).get("total_count")


# Ref: https://developers.facebook.com/docs/graph-api/reference/page/published_posts/
# Ref: https://developers.facebook.com/docs/graph-api/field-expansion/
def list_published_posts(account, *, metrics: list[str], limit: int, after: str | None = None,
                         since: int | None = None) -> PostsPage:
    """One page of the Page's published posts with summaries and insights (field expansion). One call.

    Raises TransientError code 1 "reduce the amount of data" when the page is too heavy (ask for fewer),
    and InvalidRequestError code 100 when an insights metric is not valid.
    """
    fields = POST_FIELDS + (f",insights.metric({','.join(metrics)})" if metrics else "")
    params: dict = {"fields": fields, "limit": limit}
    if after:
        params["after"] = after
    if since:
        params["since"] = since
    body = meta.call(account, "GET", f"{account.external_id}/published_posts", endpoint="page.published_posts", params=params)
    posts = [
        PagePostMetrics(
            id=str(item["id"]), created_time=item.get("created_time") or "", message=item.get("message") or "",
            permalink_url=item.get("permalink_url") or "", status_type=item.get("status_type") or "",
            reactions=_summary_total(item.get("reactions")), comments=_summary_total(item.get("comments")),
            shares=int((item.get("shares") or {}).get("count") or 0),  # key absent when nobody shared
            insights=insight_values(item.get("insights")), raw=item,
        )
        for item in body.get("data") or []
    ]
    return PostsPage(items=posts, after=meta.next_after(body))


# Ref: https://developers.facebook.com/docs/graph-api/reference/page/
def get_page_followers(account) -> PageFollowers:
    """The Page's followers_count (what new Pages show) and fan_count (legacy likes). One call."""
    body = meta.call(account, "GET", account.external_id, endpoint="page.followers",
                     params={"fields": "followers_count,fan_count"})
    return PageFollowers(followers_count=body.get("followers_count"), fan_count=body.get("fan_count"), raw=body)




# ==== conversations ===============================================================================

@dataclass(frozen=True)
class PageComment:
    id: str
    post_id: str
    parent_id: str           # the parent comment for a reply, "" for a top-level comment
    message: str
    created_time: datetime | None
    from_id: str             # only present with the Page's own token (Meta privacy rule)
    from_name: str
    is_hidden: bool
    attachment: dict | None


@dataclass(frozen=True)
class ThreadMessage:
    id: str
    text: str
    created_time: datetime | None
    from_id: str
    from_name: str
    to_ids: list[str]
    attachments: list[dict]


@dataclass(frozen=True)
class ThreadParticipant:
    id: str
    name: str                # Messenger: the person's name; Instagram: the username


@dataclass(frozen=True)
class MessageThread:
    id: str
    updated_time: datetime | None
    messages: list[ThreadMessage]
    participants: list[ThreadParticipant] = field(default_factory=list)


@dataclass(frozen=True)
class MessagingProfile:
    name: str
    avatar_url: str          # expires after a few days (Meta's note on profile_pic)


@dataclass(frozen=True)
class SentItem:
    id: str


COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id},is_hidden,attachment"
THREAD_FIELDS = "id,updated_time,participants,messages.limit(20){id,message,created_time,from,to,attachments}"


def _page_comment(raw: dict, post_id: str) -> PageComment:
    # A Page comment names its parent itself (filter(stream) flattens the replies).
    author = raw.get("from") or {}
    return PageComment(
        id=str(raw["id"]), post_id=post_id, parent_id=str((raw.get("parent") or {}).get("id") or ""),
        message=raw.get("message") or "", created_time=meta.parse_graph_time(raw.get("created_time")),
        from_id=str(author.get("id") or ""), from_name=author.get("name") or "",
        is_hidden=bool(raw.get("is_hidden")), attachment=raw.get("attachment"),
    )


def parse_thread(raw: dict) -> MessageThread:
    messages = []
    for item in (raw.get("messages") or {}).get("data", []):
        author = item.get("from") or {}
        messages.append(ThreadMessage(
            id=str(item["id"]), text=item.get("message") or "", created_time=meta.parse_graph_time(item.get("created_time")),
            from_id=str(author.get("id") or ""), from_name=author.get("name") or author.get("username") or "",
            to_ids=[str(t.get("id")) for t in (item.get("to") or {}).get("data", [])],
            attachments=list((item.get("attachments") or {}).get("data", [])),
        ))
    # Ref: https://developers.facebook.com/docs/graph-api/reference/conversation/ (participants: Messenger
    # gives id, name, email; Instagram gives id, username)
    participants = [ThreadParticipant(id=str(p.get("id") or ""), name=p.get("name") or p.get("username") or "")
                    for p in (raw.get("participants") or {}).get("data", []) if isinstance(p, dict)]
    return MessageThread(id=str(raw["id"]), updated_time=meta.parse_graph_time(raw.get("updated_time")),
                         messages=messages, participants=participants)


COMMENTS_PAGE = 50
COMMENT_EDGE = "comments.filter(stream).order(reverse_chronological)"


# Ref: https://developers.facebook.com/docs/graph-api/reference/page/published_posts/
# Ref: https://developers.facebook.com/docs/graph-api/reference/object/comments/
def list_recent_post_comments(account, *, posts: int = 10, since: datetime | None = None,
                              max_pages: int = 10) -> list[PageComment]:
    """Comments (all levels, newest first) on the Page's latest posts, in one call by field expansion.

    With `since`, only comments created since then come back (the edge's time-based `since`), and a
    post with more of them than one nested page has its own comments edge followed from the cursor,
    up to `max_pages` more calls per post. Without it (a first poll), one nested page per post.
    """
    # filter(stream) flattens replies and gives each its parent; one call instead of one per post.
    edge = COMMENT_EDGE + (f".since({int(since.timestamp())})" if since else "")
    body = meta.call(account, "GET", f"{account.external_id}/published_posts", endpoint="page.published_posts", params={
        "fields": f"id,{edge}.limit({COMMENTS_PAGE}){{{COMMENT_FIELDS}}}", "limit": posts,
    })
    comments = []
    for post in body.get("data", []):
        post_id, nested = str(post["id"]), post.get("comments") or {}
        comments.extend(_page_comment(raw, post_id) for raw in nested.get("data", []))
        after = meta.next_after(nested)
        if since and after:  # the edge filters by `since` itself: every further page is wanted
            comments.extend(meta.more_comments(
                account, post_id, endpoint="post.comments.list", after=after, max_pages=max_pages,
                params={"filter": "stream", "order": "reverse_chronological", "since": int(since.timestamp()),
                        "fields": COMMENT_FIELDS, "limit": COMMENTS_PAGE},
                parse_page=lambda raws, post_id=post_id: [_page_comment(raw, post_id) for raw in raws]))
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


# Ref: https://developers.facebook.com/docs/messenger-platform/identity/user-profile/
def get_messenger_profile(account, psid: str) -> MessagingProfile:
    """Name and picture of a person who wrote to the Page (User Profile API, by PSID). Raises a PlatformError."""
    body = meta.call(account, "GET", psid, endpoint="messenger.user_profile", params={"fields": "name,profile_pic"})
    return MessagingProfile(name=body.get("name") or "", avatar_url=body.get("profile_pic") or "")
