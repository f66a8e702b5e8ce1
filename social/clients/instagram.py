"""Instagram professional accounts (Facebook Login path) client: small functions in the platform's vocabulary, built on meta.call().

Each function parses its answer into a small dataclass at the boundary. Sections below belong to
the app that uses them; add functions under your section only.
"""

from __future__ import annotations

from dataclasses import dataclass, field  # noqa: F401

from . import facebook, meta

# ==== where the two login paths differ ============================================================
# Every call below goes through meta.call, which sends an Instagram Login account's calls to
# graph.instagram.com with its own Instagram user token and budget (instagram_login.call). The edges
# and fields that are not the same on both paths are decided here, and only here.
# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/
# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-api-with-facebook-login/

# Media insights that graph.instagram.com does not answer: "The total_likes, total_comments, and
# total_views metrics ... are available for Instagram API with Facebook Login only."
# Ref: https://developers.facebook.com/docs/instagram-platform/reference/instagram-media/insights
FACEBOOK_LOGIN_ONLY_METRICS = frozenset({"total_likes", "total_comments", "total_views"})

# The webhook fields an Instagram Login account is subscribed to (the inbox reads comments and DMs).
INSTAGRAM_LOGIN_WEBHOOK_FIELDS = ("comments", "messages")


def supported_metrics(account, metrics: list[str]) -> list[str]:
    """`metrics` without those the account's path does not answer (one unknown metric fails the whole call)."""
    if getattr(account, "uses_instagram_login", False):
        return [m for m in metrics if m not in FACEBOOK_LOGIN_ONLY_METRICS]
    return list(metrics)


def messaging_node(account) -> str:
    """Who owns the account's DM threads and sends its DMs.

    Facebook Login: the linked Page (/{page-id}/conversations?platform=instagram, /{page-id}/messages,
    with the Page token). Instagram Login: the Instagram account itself on graph.instagram.com
    (/{ig-id}/conversations, /{ig-id}/messages); it has no Page.
    """
    if getattr(account, "uses_instagram_login", False):
        return account.external_id
    # The IG account's token is its Page's token; the Page id is the parent's. Graph also accepts "me".
    return account.parent.external_id if account.parent_id else "me"

# ==== accounts, OAuth, webhook subscriptions (social app) ==========================================

@dataclass(frozen=True)
class InstagramProfile:
    id: str
    username: str
    name: str
    picture_url: str


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user
def get_account_profile(account) -> InstagramProfile:
    """The Instagram professional account's public profile (called with the linked Page's token)."""
    body = meta.call(account, "GET", account.external_id, endpoint="ig_user",
                     params={"fields": "id,username,name,profile_picture_url"})
    return InstagramProfile(id=str(body.get("id") or account.external_id), username=str(body.get("username") or ""),
                            name=str(body.get("name") or ""), picture_url=str(body.get("profile_picture_url") or ""))


# Ref: https://developers.facebook.com/docs/instagram-platform/webhooks#step-3--enable-subscriptions
def subscribe_webhooks(account, fields: list[str]) -> bool:
    """Enable webhook deliveries for one Instagram Login account (POST /{ig-id}/subscribed_apps on
    graph.instagram.com, its own token). Idempotent; raises a PlatformError.

    Only this path subscribes per account: a Facebook-Login account's events flow through its Page's
    installation (facebook.subscribe_page_webhooks), so this refuses one with ValueError.
    """
    if not getattr(account, "uses_instagram_login", False):
        raise ValueError("A Facebook-Login Instagram account is subscribed through its Page.")
    body = meta.call(account, "POST", f"{account.external_id}/subscribed_apps", endpoint="ig.subscribed_apps.create",
                     data={"subscribed_fields": ",".join(fields)})
    return bool(body.get("success"))


# Ref: https://developers.facebook.com/docs/instagram-platform/webhooks#step-3--enable-subscriptions
def get_webhook_fields(account) -> list[str]:
    """The fields this app receives for one Instagram Login account (read back after subscribing)."""
    body = meta.call(account, "GET", f"{account.external_id}/subscribed_apps", endpoint="ig.subscribed_apps")
    fields: list[str] = []
    for item in body.get("data") or []:
        if isinstance(item, dict):
            fields.extend(str(f) for f in item.get("subscribed_fields") or [])
    return sorted(set(fields))



# ==== publishing ==================================================================================

@dataclass(frozen=True)
class ContainerStatus:
    id: str
    status_code: str  # IN_PROGRESS | FINISHED | PUBLISHED | ERROR | EXPIRED
    status: str       # human text; on ERROR it carries the error subcode


@dataclass(frozen=True)
class PublishingLimit:
    quota_usage: int
    quota_total: int


@dataclass(frozen=True)
class RecentMedia:
    id: str
    caption: str
    timestamp: str
    permalink: str


@dataclass(frozen=True)
class PostedComment:
    id: str
    text: str
    username: str


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
def create_container(account, *, image_url: str = "", video_url: str = "", media_type: str = "", caption: str = "",
                     is_carousel_item: bool = False, children: list[str] | None = None, alt_text: str = "",
                     share_to_feed: bool | None = None, cover_url: str = "") -> str:
    """Create a media container (nothing goes public). Returns the container id."""
    data: dict[str, str] = {}
    for key, value in (("image_url", image_url), ("video_url", video_url), ("media_type", media_type),
                       ("caption", caption), ("alt_text", alt_text), ("cover_url", cover_url)):
        if value:
            data[key] = value
    if is_carousel_item:
        data["is_carousel_item"] = "true"
    if children:
        data["children"] = ",".join(children)
    if share_to_feed is not None:
        data["share_to_feed"] = "true" if share_to_feed else "false"
    body = meta.call(account, "POST", f"{account.external_id}/media", endpoint="ig.media.create", data=data)
    return str(body["id"])


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-container
def get_container_status(account, container_id: str) -> ContainerStatus:
    """Read-only. PUBLISHED means it already went out: never publish it again."""
    body = meta.call(account, "GET", container_id, endpoint="ig.container.status", params={"fields": "status_code,status"})
    return ContainerStatus(id=str(body.get("id") or container_id), status_code=str(body.get("status_code") or ""),
                           status=str(body.get("status") or ""))


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/content_publishing_limit
def get_publishing_limit(account) -> PublishingLimit:
    """The live rolling-24 h quota (100 today; older docs say 25): read it, never hard-code it."""
    body = meta.call(account, "GET", f"{account.external_id}/content_publishing_limit",
                     endpoint="ig.content_publishing_limit", params={"fields": "quota_usage,config"})
    row = (body.get("data") or [{}])[0]
    return PublishingLimit(quota_usage=int(row.get("quota_usage") or 0),
                           quota_total=int((row.get("config") or {}).get("quota_total") or 0))


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media_publish
def publish_container(account, creation_id: str) -> str:
    """Make a finished container public. Returns the IG media id. The commit."""
    body = meta.call(account, "POST", f"{account.external_id}/media_publish", endpoint="ig.media_publish",
                     data={"creation_id": creation_id})
    return str(body["id"])


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media
def get_media_permalink(account, media_id: str) -> str:
    body = meta.call(account, "GET", media_id, endpoint="ig.media.permalink", params={"fields": "permalink"})
    return body.get("permalink") or ""


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media#reading
def list_recent_media(account, limit: int = 10) -> list[RecentMedia]:
    body = meta.call(account, "GET", f"{account.external_id}/media", endpoint="ig.media.recent",
                     params={"fields": "id,caption,timestamp,permalink", "limit": str(limit)})
    return [
        RecentMedia(id=str(m.get("id") or ""), caption=m.get("caption") or "", timestamp=m.get("timestamp") or "",
                    permalink=m.get("permalink") or "")
        for m in body.get("data") or []
    ]


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media/comments
def comment_on_media(account, media_id: str, message: str) -> str:
    """Comment as the account. Returns the comment id. Not idempotent."""
    body = meta.call(account, "POST", f"{media_id}/comments", endpoint="ig.comments.create", data={"message": message})
    return str(body["id"])


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media/comments
def list_media_comments(account, media_id: str) -> list[PostedComment]:
    body = meta.call(account, "GET", f"{media_id}/comments", endpoint="ig.comments.list",
                     params={"fields": "id,text,username"})
    return [PostedComment(id=str(c.get("id") or ""), text=c.get("text") or "", username=c.get("username") or "")
            for c in body.get("data") or []]



# ==== analytics ===================================================================================

def _fields(metrics: list[str]) -> str:
    # One unsupported metric for one product type fails the whole page, so callers pass only metrics
    # valid for every type the edge returns (analytics.catalogue).
    return _MEDIA_FIELDS + (f",insights.metric({','.join(metrics)})" if metrics else "")


@dataclass(frozen=True)
class IgMedia:
    """One IG media with its counters and insights, read from one listing page."""

    id: str
    media_type: str           # IMAGE | VIDEO | CAROUSEL_ALBUM
    media_product_type: str   # FEED | REELS | STORY (albums are FEED)
    timestamp: str
    caption: str
    permalink: str
    like_count: int | None
    comments_count: int | None
    insights: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class MediaPage:
    items: list[IgMedia]
    after: str | None  # None: this was the last page


@dataclass(frozen=True)
class IgProfile:
    followers_count: int | None
    follows_count: int | None
    media_count: int | None
    raw: dict = field(default_factory=dict, repr=False)


_MEDIA_FIELDS = "id,caption,media_type,media_product_type,timestamp,permalink,like_count,comments_count"


def _media_page(body: dict) -> MediaPage:
    from .facebook import insight_values  # the Graph insights shape is shared with Pages

    items = [
        IgMedia(
            id=str(item["id"]), media_type=item.get("media_type") or "",
            media_product_type=item.get("media_product_type") or "FEED", timestamp=item.get("timestamp") or "",
            caption=item.get("caption") or "", permalink=item.get("permalink") or "",
            like_count=item.get("like_count"), comments_count=item.get("comments_count"),
            insights=insight_values(item.get("insights")), raw=item,
        )
        for item in body.get("data") or []
    ]
    return MediaPage(items=items, after=meta.next_after(body))


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
def list_media(account, *, metrics: list[str], limit: int, after: str | None = None) -> MediaPage:
    """One page of the account's media (newest first) with counters and insights. One call."""
    params: dict = {"fields": _fields(supported_metrics(account, metrics)), "limit": limit}
    if after:
        params["after"] = after
    body = meta.call(account, "GET", f"{account.external_id}/media", endpoint="ig.media", params=params)
    return _media_page(body)


MAX_IDS_PER_CALL = 50  # Graph's multi-id lookup (GET /?ids=...) takes at most 50 ids


# Ref: https://developers.facebook.com/docs/graph-api/using-graph-api#multiple-ids
def get_media_insights(account, media_ids: list[str], metrics: list[str]) -> dict[str, dict]:
    """Insights of up to 50 media in one call ({media id: {metric: value}}), for the metrics only some
    product types support (the listing asks only for those every type supports)."""
    metrics = supported_metrics(account, metrics)
    if not media_ids or not metrics:
        return {}
    if len(media_ids) > MAX_IDS_PER_CALL:
        raise ValueError(f"at most {MAX_IDS_PER_CALL} ids per call")
    from .facebook import insight_values

    body = meta.call(account, "GET", "", endpoint="ig.media.insights",
                     params={"ids": ",".join(media_ids), "fields": f"insights.metric({','.join(metrics)})"})
    return {str(media_id): insight_values((node or {}).get("insights")) for media_id, node in (body or {}).items()
            if isinstance(node, dict)}


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/stories
def list_stories(account, *, metrics: list[str]) -> MediaPage:
    """The account's live stories (24 h) with their insights. One call; stories are few."""
    body = meta.call(account, "GET", f"{account.external_id}/stories", endpoint="ig.stories",
                     params={"fields": _fields(supported_metrics(account, metrics)), "limit": 100})
    return _media_page(body)


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user
def get_profile(account) -> IgProfile:
    """followers_count, follows_count and media_count of the IG account. One call."""
    body = meta.call(account, "GET", account.external_id, endpoint="ig.profile",
                     params={"fields": "followers_count,follows_count,media_count"})
    return IgProfile(followers_count=body.get("followers_count"), follows_count=body.get("follows_count"),
                     media_count=body.get("media_count"), raw=body)




# ==== conversations ===============================================================================



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


def _media_comment(raw: dict, media_id: str, parent_id: str = "") -> MediaComment:
    # Unlike a Page comment: text/timestamp/hidden, and a reply's parent is the comment it is nested under.
    author = raw.get("from") or {}
    return MediaComment(
        id=str(raw["id"]), media_id=media_id, parent_id=parent_id, text=raw.get("text") or "",
        timestamp=meta.parse_graph_time(raw.get("timestamp")), from_id=str(author.get("id") or ""),
        username=author.get("username") or raw.get("username") or "", hidden=bool(raw.get("hidden")),
    )


IG_COMMENTS_PAGE = 50


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media/comments
def list_recent_media_comments(account, *, media: int = 10, since=None, max_pages: int = 10) -> list[MediaComment]:
    """Comments and their replies on the latest media, in one call by field expansion.

    The IG comments edge documents no `since` filter, so with `since` a media whose nested page is
    full and entirely newer than `since` has its comments edge followed from the cursor (up to
    `max_pages` more calls), stopping at the first page that reaches back to `since`.
    """
    body = meta.call(account, "GET", f"{account.external_id}/media", endpoint="ig.media", params={
        "fields": f"id,comments.limit({IG_COMMENTS_PAGE}){{{IG_COMMENT_FIELDS},replies{{{IG_COMMENT_FIELDS}}}}}",
        "limit": media,
    })
    comments = []
    for item in body.get("data", []):
        media_id = str(item["id"])
        nested = item.get("comments") or {}
        page = _parse_comment_page(nested.get("data", []), media_id)
        comments.extend(page)
        after = meta.next_after(nested)
        if since and after and _all_newer(page, since):
            comments.extend(meta.more_comments(
                account, media_id, endpoint="ig.comments.list", after=after, max_pages=max_pages,
                params={"fields": f"{IG_COMMENT_FIELDS},replies{{{IG_COMMENT_FIELDS}}}", "limit": IG_COMMENTS_PAGE},
                parse_page=lambda raws, media_id=media_id: _parse_comment_page(raws, media_id),
                # no `since` on this edge: stop at the first page that reaches back to an earlier poll
                reaches_back=lambda page: not _all_newer(page, since)))
    return comments


def _parse_comment_page(raws: list[dict], media_id: str) -> list[MediaComment]:
    comments = []
    for raw in raws:
        comments.append(_media_comment(raw, media_id))
        for reply in (raw.get("replies") or {}).get("data", []):
            comments.append(_media_comment(reply, media_id, parent_id=str(raw["id"])))
    return comments


def _all_newer(comments: list[MediaComment], since) -> bool:
    top = [c for c in comments if not c.parent_id]
    return bool(top) and all(c.timestamp is not None and c.timestamp > since for c in top)


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment/replies
def reply_to_comment(account, comment_id: str, message: str) -> SentComment:
    """Reply under a top-level comment (replies are one level deep). Not idempotent."""
    body = meta.call(account, "POST", f"{comment_id}/replies", endpoint="ig.comment.reply", data={"message": message})
    return SentComment(id=str(body["id"]))


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment
def set_comment_hidden(account, comment_id: str, hidden: bool) -> bool:
    body = meta.call(account, "POST", comment_id, endpoint="ig.comment.hide", data={"hide": "true" if hidden else "false"})
    return bool(body.get("success"))


@dataclass(frozen=True)
class MessagingProfile:
    name: str                # the person's name, or their username when no name is set
    avatar_url: str          # expires after a few days (Meta's note on profile_pic)


# Ref: https://developers.facebook.com/docs/messenger-platform/instagram/features/user-profile
def get_messaging_profile(account, igsid: str) -> MessagingProfile:
    """Name and picture of a person who wrote to the IG account (User Profile API, by IGSID). Raises a PlatformError.

    Needs the person's consent, which a message to the account gives; a commenter who never wrote is refused.
    """
    body = meta.call(account, "GET", igsid, endpoint="ig.user_profile", params={"fields": "name,username,profile_pic"})
    return MessagingProfile(name=body.get("name") or body.get("username") or "", avatar_url=body.get("profile_pic") or "")


# Ref: https://developers.facebook.com/docs/graph-api/reference/page/conversations/ (Facebook Login)
# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/conversations-api
def iter_conversations(account):
    """Yield the account's DM threads, most recently updated first (stop iterating to stop paging).

    Both paths answer the same thread shape (participants give id and username); only the node that
    owns the threads differs (messaging_node).
    """
    for page in meta.paginate(account, f"{messaging_node(account)}/conversations", endpoint="ig.conversations", params={
        "platform": "instagram", "fields": facebook.THREAD_FIELDS, "limit": 25,
    }, max_pages=20):
        for raw in page:
            yield facebook.parse_thread(raw)


@dataclass(frozen=True)
class SentMessage:
    id: str


# Ref: https://developers.facebook.com/docs/messenger-platform/instagram/features/send-message (Facebook Login)
# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/messaging-api
def send_message(account, recipient_id: str, text: str, *, tag: str | None = None) -> SentMessage:
    """Send a text DM to an IGSID inside the messaging window (7 days with tag HUMAN_AGENT). Not idempotent.

    The same JSON body on both paths ({"recipient": {"id"}, "message": {"text"}}); the answer is
    {"recipient_id", "message_id"}. Only the node differs (messaging_node).
    """
    payload: dict = {"recipient": {"id": recipient_id}, "message": {"text": text}}
    if tag:
        payload.update(messaging_type="MESSAGE_TAG", tag=tag)
    else:
        payload["messaging_type"] = "RESPONSE"
    body = meta.call(account, "POST", f"{messaging_node(account)}/messages", endpoint="ig.messages", json=payload)
    return SentMessage(id=str(body["message_id"]))
