"""How each Graph node renders: its fields, its edges, field expansion and cursor paging.

Shapes follow platform-apis.md §1.2-1.8 (Page, Post, Comment, IG User, IG Media, IG Container,
Conversation, Message). An unknown field fails the call with code 100, as Graph does.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings

from . import clock, metrics
from .fields import Field, parse_fields
from .models import (
    Comment,
    Conversation,
    DirectMessage,
    FacebookUser,
    InstagramAccount,
    MediaContainer,
    Page,
    Post,
)
from .pages import post_url

MAX_LIMIT = 100


class GraphError(Exception):
    def __init__(self, code: int, message: str = "", *, subcode: int | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.subcode, self.status = code, message, subcode, status


def no_such_object(object_id: str, method: str = "get") -> GraphError:
    return GraphError(100, f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be "
                           "loaded due to missing permissions, or does not support this operation.", subcode=33)


@dataclass
class Ctx:
    """One Graph request: its parameters, token and the URL its paging links are built from."""

    params: dict
    token: object = None  # models.Token, or "app" for an app access token
    path: str = ""
    version: str = "v25.0"
    json: dict = field(default_factory=dict)
    files: object = None
    page_tokens: dict = field(default_factory=dict)
    instagram_login: bool = False  # served as graph.instagram.com (an Instagram Login token)

    def next_url(self, path: str, after: str, limit: int) -> str:
        query = {k: v for k, v in self.params.items() if k not in ("after", "before")}
        query.update(after=after, limit=limit)
        # Like Graph, the `next` link carries the access token (clients must not log it).
        base = settings.INSTAGRAM_GRAPH_URL if self.instagram_login else settings.META_GRAPH_URL
        return f"{base}/{self.version}/{path}?{urlencode(query)}"


def graph_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return max(int(text.split(":", 1)[1]), 0)
    except (ValueError, IndexError, UnicodeDecodeError):
        raise GraphError(100, "(#100) The after parameter is not a valid cursor") from None


def _limit(value, default: int = 25) -> int:
    try:
        return min(max(int(value), 0), MAX_LIMIT)
    except (TypeError, ValueError):
        return default


def edge_list(items: list, render_item: Callable, *, limit, after=None, ctx: Ctx | None = None,
              path: str = "", summary: dict | None = None) -> dict:
    """A Graph edge page: {"data": [...], "paging": {"cursors", "next"?}, "summary"?}."""
    limit = _limit(limit)
    start = _offset(after)
    window = items[start:start + limit]
    body: dict = {"data": [render_item(item) for item in window]}
    if window:
        end = start + len(window)
        body["paging"] = {"cursors": {"before": _cursor(start), "after": _cursor(end)}}
        if end < len(items) and ctx is not None:
            body["paging"]["next"] = ctx.next_url(path, _cursor(end), limit)
    if summary is not None:
        body["summary"] = summary
    return body


# ---- node specs ---------------------------------------------------------------------------------

@dataclass
class Nested:
    node: str
    obj: object


@dataclass
class NodeSpec:
    type_name: str
    default_fields: str
    scalars: Callable[[object, Ctx], dict]
    edges: dict[str, Callable[[object, Field, Ctx], object]] = field(default_factory=dict)


def render(node: str, obj, fields: list[Field] | None, ctx: Ctx) -> dict:
    spec = NODES[node]
    fields = fields if fields is not None else parse_fields(spec.default_fields)
    values = spec.scalars(obj, ctx)
    out: dict = {}
    for f in fields:
        if f.name in spec.edges:
            value = spec.edges[f.name](obj, f, ctx)
        elif f.name in values:
            value = values[f.name]
        else:
            raise GraphError(100, f"(#100) Tried accessing nonexisting field ({f.name}) on node type ({spec.type_name})")
        if isinstance(value, Nested):
            value = render(value.node, value.obj, f.children, ctx)
        if value is not None:
            out[f.name] = value
    out.setdefault("id", values["id"])
    return out


def fields_param(ctx: Ctx) -> list[Field] | None:
    spec = ctx.params.get("fields")
    return parse_fields(spec) if spec else None


# ---- Facebook user and Page ---------------------------------------------------------------------

def _user_scalars(user: FacebookUser, ctx: Ctx) -> dict:
    return {"id": user.fb_id, "name": user.name, "first_name": user.name.split()[0],
            "picture": {"data": {"url": f"https://picsum.photos/seed/{user.fb_id}/200", "is_silhouette": False}}}


def _page_scalars(page: Page, ctx: Ctx) -> dict:
    followers = metrics.followers(page.base_followers, page.created_at)
    token = ctx.page_tokens.get(page.page_id)
    return {
        "id": page.page_id, "name": page.name, "username": page.username or None, "category": page.category,
        "followers_count": followers, "fan_count": round(followers * 0.95),
        "link": f"https://www.facebook.com/{page.username or page.page_id}",
        "about": f"{page.name} is a sandbox Page.", "access_token": token,
        # What the dialog's user may do on the Page (every task: the tester owns it).
        "tasks": ["ANALYZE", "ADVERTISE", "MESSAGING", "MODERATE", "CREATE_CONTENT", "MANAGE"] if token else None,
        "instagram_business_account": Nested("ig_user", page.instagram) if hasattr(page, "instagram") else None,
        "is_published": True,
    }


def _picture(obj, f: Field, ctx: Ctx) -> dict:
    size = {"small": 50, "normal": 100, "large": 200}.get(f.modifiers.get("type", "normal"), 100)
    key = getattr(obj, "page_id", "") or getattr(obj, "fb_id", "")
    data = {"height": size, "is_silhouette": False, "url": f"https://picsum.photos/seed/{key}/{size}", "width": size}
    if f.children is not None:
        data = {c.name: data[c.name] for c in f.children if c.name in data}
    return {"data": data}


def _page_posts_edge(page: Page, f: Field, ctx: Ctx) -> dict:
    posts = list(published_posts(page))
    return edge_list(posts, lambda p: render("post", p, f.children, ctx), limit=f.modifiers.get("limit", 25))


def published_posts(page: Page):
    return page.posts.filter(network=Post.Network.FACEBOOK, is_published=True, created_at__lte=clock.now())


# ---- Facebook post, photo, video ----------------------------------------------------------------

STATUS_TYPES = {"status": "mobile_status_update", "link": "shared_story", "photo": "added_photos",
                "album": "added_photos", "video": "added_video"}


def _post_scalars(post: Post, ctx: Ctx) -> dict:
    counters = metrics.post_counters(post)
    page = post.page
    return {
        "id": post.post_id, "created_time": graph_time(post.created_at), "message": post.message or None,
        "permalink_url": post_url(post),  # Graph: https://www.facebook.com/{page-id}/posts/{number}
        "status_type": STATUS_TYPES.get(post.media_type, "mobile_status_update"),
        "shares": {"count": counters["shares"]} if counters["shares"] else None,  # absent when nobody shared
        "full_picture": post.media_url or None, "is_published": post.is_published,
        "from": {"id": page.page_id, "name": page.name}, "link": post.link or None,
        "updated_time": graph_time(post.created_at),
    }


def _photo_scalars(post: Post, ctx: Ctx) -> dict:
    page = post.page
    return {"id": post.photo_id, "created_time": graph_time(post.created_at), "name": post.message or None,
            "link": f"https://www.facebook.com/photo/?fbid={post.photo_id}",
            "images": [{"height": 1080, "width": 1080, "source": post.media_url}],
            "page_story_id": post.post_id if post.is_published else None,
            "from": {"id": page.page_id, "name": page.name}}


def _video_scalars(post: Post, ctx: Ctx) -> dict:
    page = post.page
    return {"id": post.photo_id, "created_time": graph_time(post.created_at), "description": post.message or None,
            "title": post.message[:50] or None, "length": 12.5, "source": post.media_url or None,
            "permalink_url": post_url(post),  # Graph: relative, /{page}/videos/{video-id}/
            "status": {"video_status": "ready", "processing_progress": 100},
            "from": {"id": page.page_id, "name": page.name}, "post_id": post.post_id}


def _reactions_edge(post: Post, f: Field, ctx: Ctx) -> dict:
    total = metrics.post_counters(post)["likes"]
    body: dict = {"data": []}
    if "summary" in f.modifiers:
        body["summary"] = {"total_count": total, "viewer_reaction": "NONE"}
    return body


def comment_list(post: Post, f_or_params, ctx: Ctx, *, top_path: str = "") -> dict:
    """A post's comments (FB or IG): toplevel by default, `filter(stream)` flattens replies."""
    mods = f_or_params.modifiers if isinstance(f_or_params, Field) else f_or_params
    children = f_or_params.children if isinstance(f_or_params, Field) else fields_param(ctx)
    comments = post.comments.all()
    if mods.get("filter") != "stream":
        comments = comments.filter(parent__isnull=True)
    ordered = list(comments)
    if mods.get("order") == "reverse_chronological":
        ordered.reverse()
    node = "ig_comment" if post.network == Post.Network.INSTAGRAM else "comment"
    summary = None
    if post.network == Post.Network.FACEBOOK and mods.get("summary") not in (None, "false"):
        summary = {"order": mods.get("order", "ranked"), "total_count": len(ordered), "can_comment": True}
    return edge_list(ordered, lambda c: render(node, c, children, ctx), limit=mods.get("limit", 25),
                     after=mods.get("after"), ctx=ctx if top_path else None, path=top_path, summary=summary)


def _comments_edge(post: Post, f: Field, ctx: Ctx) -> dict:
    return comment_list(post, f, ctx)


def insights_body(obj, metric_names: list[str], ctx: Ctx) -> dict:
    """{"data": [{name, period, values, title, description, id}]}; one invalid metric fails the call."""
    if not metric_names:
        raise GraphError(3001, "Invalid query", subcode=1504028)
    if isinstance(obj, Post):
        return {"data": [_post_insight(obj, name) for name in metric_names]}
    return {"data": [_account_insight(obj, name, ctx) for name in metric_names]}


def _post_insight(post: Post, name: str) -> dict:
    counters = metrics.post_counters(post)
    if post.network == Post.Network.FACEBOOK:
        if name not in metrics.FACEBOOK_POST_METRICS:
            raise GraphError(100, f"(#100) The value must be a valid insights metric: {name}")
        value = metrics.facebook_post_metric(name, counters)
    else:
        valid = metrics.INSTAGRAM_METRICS.get(post.product_type or "FEED", set())
        if name not in valid:
            raise GraphError(100, f"(#100) The Media Insights API does not support the {name} metric for this "
                                  f"media product type.")
        value = metrics.instagram_metric(name, counters)
    return {"name": name, "period": "lifetime", "values": [{"value": value}], "title": name.replace("_", " ").title(),
            "description": f"Sandbox {name}", "id": f"{post.post_id}/insights/{name}/lifetime"}


PAGE_METRICS = {"page_media_view", "page_total_media_view_unique", "page_post_engagements", "page_follows",
                "page_daily_follows", "page_daily_follows_unique", "page_daily_unfollows_unique", "page_views_total"}
IG_ACCOUNT_METRICS = {"reach", "follower_count", "views", "likes", "comments", "shares", "saves", "replies",
                      "total_interactions", "accounts_engaged", "profile_links_taps", "online_followers"}


def _account_insight(obj, name: str, ctx: Ctx) -> dict:
    is_page = isinstance(obj, Page)
    valid = PAGE_METRICS if is_page else IG_ACCOUNT_METRICS
    if name not in valid:
        raise GraphError(100, f"(#100) The value must be a valid insights metric: {name}")
    object_id = obj.page_id if is_page else obj.ig_id
    followers = metrics.followers(obj.base_followers, obj.created_at)
    daily = max(round(followers * 0.02), 1)
    value_for = {"page_follows": followers, "follower_count": 3 * 24}.get(name, daily)
    period = ctx.params.get("period", "day")
    body = {"name": name, "period": period, "title": name.replace("_", " ").title(),
            "description": f"Sandbox {name}", "id": f"{object_id}/insights/{name}/{period}"}
    if ctx.params.get("metric_type") == "total_value":
        body["total_value"] = {"value": value_for}
        return body
    today = clock.now().replace(hour=8, minute=0, second=0, microsecond=0)
    body["values"] = [{"value": value_for, "end_time": graph_time(today - timedelta(days=d))} for d in (1, 0)]
    return body


def _insights_edge(obj, f: Field, ctx: Ctx) -> dict:
    names = [m for m in f.modifiers.get("metric", "").split(",") if m]
    return insights_body(obj, names, ctx)


# ---- comments -----------------------------------------------------------------------------------

def _comment_scalars(comment: Comment, ctx: Ctx) -> dict:
    post = comment.post
    return {
        "id": comment.comment_id, "message": comment.message, "created_time": graph_time(comment.created_at),
        "from": {"id": comment.author_id, "name": comment.author_name},
        "like_count": 0, "comment_count": comment.replies.count(), "is_hidden": comment.is_hidden,
        "parent": {"id": comment.parent.comment_id} if comment.parent_id else None,
        "can_reply_privately": comment.author_id != (post.page.page_id if post.page_id else ""),
        "permalink_url": post_url(post, comment.comment_id),
        "attachment": None, "object": {"id": post.post_id},
    }


def _comment_replies_edge(comment: Comment, f: Field, ctx: Ctx) -> dict:
    node = "ig_comment" if comment.post.network == Post.Network.INSTAGRAM else "comment"
    return edge_list(list(comment.replies.all()), lambda c: render(node, c, f.children, ctx),
                     limit=f.modifiers.get("limit", 25))


def _ig_comment_scalars(comment: Comment, ctx: Ctx) -> dict:
    return {
        "id": comment.comment_id, "text": comment.message, "timestamp": graph_time(comment.created_at),
        "username": comment.author_name, "like_count": 0, "hidden": comment.is_hidden,
        "from": {"id": comment.author_id, "username": comment.author_name},
        "media": {"id": comment.post.post_id}, "parent_id": comment.parent.comment_id if comment.parent_id else None,
    }


# ---- Instagram ----------------------------------------------------------------------------------

def _ig_user_scalars(ig: InstagramAccount, ctx: Ctx) -> dict:
    media = ig.media.exclude(product_type="STORY").count()
    return {
        "id": ig.ig_id, "username": ig.username, "name": ig.name, "biography": f"{ig.name} (sandbox)",
        "profile_picture_url": f"https://picsum.photos/seed/{ig.ig_id}/150", "website": "https://example.com",
        "followers_count": metrics.followers(ig.base_followers, ig.created_at), "follows_count": 180,
        "media_count": media, "ig_id": int(ig.ig_id[-10:]),
    }


def _ig_media_scalars(post: Post, ctx: Ctx) -> dict:
    counters = metrics.post_counters(post)
    shortcode = base64.urlsafe_b64encode(post.post_id[-8:].encode()).decode().rstrip("=")
    return {
        "id": post.post_id, "caption": post.message or None, "media_type": post.media_type,
        "media_product_type": post.product_type or "FEED", "timestamp": graph_time(post.created_at),
        "permalink": _ig_permalink(post, shortcode),
        "shortcode": shortcode, "like_count": counters["likes"], "comments_count": counters["comments"],
        "media_url": post.media_url or None, "username": post.instagram.username,
        "owner": {"id": post.instagram.ig_id}, "is_comment_enabled": True,
        "thumbnail_url": post.media_url if post.media_type == "VIDEO" else None,
    }


def _ig_permalink(post: Post, shortcode: str) -> str:
    # Instagram: https://www.instagram.com/p|reel/{shortcode}/ or /stories/{username}/{id}/; the sandbox's own page.
    return post_url(post)


def _ig_comments_edge(post: Post, f: Field, ctx: Ctx) -> dict:
    return comment_list(post, f, ctx)


CONTAINER_TEXT = {
    "IN_PROGRESS": "In Progress: Media is still being processed.",
    "FINISHED": "Finished: Media has been uploaded and it is ready to be published.",
    "PUBLISHED": "Published: Media has been successfully published.",
    "EXPIRED": "Expired: The container was not published within 24 hours.",
}
CONTAINER_ERRORS = {
    2207052: "The media could not be fetched from this uri.", 2207003: "It took too long to download the media.",
    2207004: "The image is too large to download.", 2207026: "The video format is not supported.",
    2207009: "The submitted image with aspect ratio is not supported.", 2207032: "Create media has failed.",
}


def container_status(container: MediaContainer) -> str:
    now = clock.now()
    if container.published_media_id:
        return "PUBLISHED"
    if now >= container.created_at + timedelta(hours=24):
        return "EXPIRED"
    if now < container.ready_at:
        return "IN_PROGRESS"
    return "ERROR" if container.error_subcode else "FINISHED"


def _container_scalars(container: MediaContainer, ctx: Ctx) -> dict:
    code = container_status(container)
    if code == "ERROR":
        why = CONTAINER_ERRORS.get(container.error_subcode, "Media upload has failed.")
        text = f"Error: Media ID {container.container_id} failed. {container.error_subcode}: {why}"
    else:
        text = CONTAINER_TEXT[code]
    return {"id": container.container_id, "status_code": code, "status": text,
            "media_type": container.media_type or "IMAGE", "is_carousel_item": container.is_carousel_item}


# ---- conversations ------------------------------------------------------------------------------

def _participant(conversation: Conversation, person_id: str) -> dict:
    page = conversation.page
    if conversation.platform == "instagram":
        if person_id == page.instagram.ig_id:
            return {"id": person_id, "username": page.instagram.username}
        return {"id": person_id, "username": conversation.participant_name}
    if person_id == page.page_id:
        return {"id": person_id, "name": page.name}
    return {"id": person_id, "name": conversation.participant_name}


def _conversation_scalars(conversation: Conversation, ctx: Ctx) -> dict:
    own_id = conversation.page.instagram.ig_id if conversation.platform == "instagram" else conversation.page.page_id
    return {
        "id": conversation.thread_id, "updated_time": graph_time(conversation.updated_at),
        "participants": {"data": [_participant(conversation, conversation.participant_id),
                                  _participant(conversation, own_id)]},
        "message_count": conversation.messages.count(), "unread_count": 0,
        "link": f"/{conversation.page.page_id}/inbox/{conversation.thread_id}",
    }


def participant_picture(person_id: str) -> str:
    return f"https://picsum.photos/seed/{person_id}/200"


# Ref: https://developers.facebook.com/docs/messenger-platform/identity/user-profile/
def _person_scalars(conversation: Conversation, ctx: Ctx) -> dict:
    first, _, last = conversation.participant_name.partition(" ")
    return {"id": conversation.participant_id, "name": conversation.participant_name, "first_name": first,
            "last_name": last, "profile_pic": participant_picture(conversation.participant_id)}


# Ref: https://developers.facebook.com/docs/messenger-platform/instagram/features/user-profile
def _ig_person_scalars(conversation: Conversation, ctx: Ctx) -> dict:
    # The sandbox's Instagram fans have a username only, so `name` is absent, as for a person who set none.
    return {"id": conversation.participant_id, "name": None, "username": conversation.participant_name,
            "profile_pic": participant_picture(conversation.participant_id), "is_verified_user": False,
            "follower_count": 120, "is_user_follow_business": True, "is_business_follow_user": False}


def _messages_edge(conversation: Conversation, f: Field, ctx: Ctx) -> dict:
    return edge_list(list(conversation.messages.all()), lambda m: render("message", m, f.children, ctx),
                     limit=f.modifiers.get("limit", 25))


def _message_scalars(message: DirectMessage, ctx: Ctx) -> dict:
    conversation = message.conversation
    return {
        "id": message.mid, "message": message.text, "created_time": graph_time(message.created_at),
        "from": _participant(conversation, message.from_id),
        "to": {"data": [_participant(conversation, message.to_id)]}, "attachments": None, "tags": {"data": []},
    }


NODES: dict[str, NodeSpec] = {
    "user": NodeSpec("User", "id,name", _user_scalars, {"picture": _picture}),
    "page": NodeSpec("Page", "id,name", _page_scalars, {
        "picture": _picture, "published_posts": _page_posts_edge, "posts": _page_posts_edge, "feed": _page_posts_edge,
        "insights": _insights_edge,
    }),
    "post": NodeSpec("Post", "id,created_time,message", _post_scalars, {
        "reactions": _reactions_edge, "likes": _reactions_edge, "comments": _comments_edge, "insights": _insights_edge,
    }),
    "photo": NodeSpec("Photo", "id,created_time", _photo_scalars),
    "video": NodeSpec("Video", "id,created_time,description", _video_scalars, {"comments": _comments_edge}),
    "comment": NodeSpec("Comment", "id,created_time,from,message", _comment_scalars, {"comments": _comment_replies_edge}),
    "ig_comment": NodeSpec("IGComment", "id,text,timestamp", _ig_comment_scalars, {"replies": _comment_replies_edge}),
    "ig_user": NodeSpec("IGUser", "id", _ig_user_scalars, {"insights": _insights_edge}),
    "ig_media": NodeSpec("IGMedia", "id", _ig_media_scalars, {"comments": _ig_comments_edge, "insights": _insights_edge}),
    "container": NodeSpec("ShadowIGMediaBuilder", "id", _container_scalars),
    "conversation": NodeSpec("UnifiedThread", "id,updated_time", _conversation_scalars, {"messages": _messages_edge}),
    "message": NodeSpec("Message", "id,created_time", _message_scalars),
    "person": NodeSpec("User", "id,name", _person_scalars),
    "ig_person": NodeSpec("User", "id,username", _ig_person_scalars),
}
