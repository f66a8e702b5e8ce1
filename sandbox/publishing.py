"""Graph calls that change sandbox state: Page posts, photos and videos, Instagram containers and
publishing, comments, replies, hiding, and the Send API.

Ref: platform-apis.md §1.4 (Pages), §1.5 (Instagram containers), §1.7 (comments and DMs).
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction

from . import clock, failures
from .models import (
    Comment,
    Conversation,
    DirectMessage,
    Failure,
    InstagramAccount,
    MediaContainer,
    Page,
    Post,
    new_numeric_id,
)
from .nodes import Ctx, GraphError, container_status, fields_param, render

IG_DAILY_QUOTA = 100  # live quota the sandbox reports in content_publishing_limit
MESSAGING_WINDOW = timedelta(hours=24)


# The Instagram Login path names its permissions instagram_business_* (Business Login for Instagram).
INSTAGRAM_LOGIN_SCOPES = {"instagram_content_publish": "instagram_business_content_publish"}


def _require_scope(ctx: Ctx, scope: str, message: str) -> None:
    if ctx.instagram_login:
        scope = INSTAGRAM_LOGIN_SCOPES.get(scope, scope)
    if scope not in (ctx.token.scopes or []):
        raise GraphError(200, message)


def _seed() -> int:
    return secrets.randbelow(10_000)


def _read_after_write(kind: str, obj, body: dict, ctx: Ctx) -> dict:
    # Graph honours `fields=` on a publish call (postiz asks for id,permalink_url this way).
    if ctx.params.get("fields"):
        return {**body, **render(kind, obj, fields_param(ctx), ctx)}
    return body


def _flag(value, default: bool = True) -> bool:
    if value is None or value == "":
        return default
    return str(value).lower() not in ("false", "0")


# ---- Facebook Pages -----------------------------------------------------------------------------

def _attached_photo_ids(ctx: Ctx) -> list[str]:
    raw = ctx.params.get("attached_media") or ctx.json.get("attached_media")
    items = []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise GraphError(100, "(#100) param attached_media must be an array.") from None
    if isinstance(raw, list):
        items = raw
    for key in sorted(k for k in ctx.params if k.startswith("attached_media[")):
        try:
            items.append(json.loads(ctx.params[key]))
        except ValueError:
            raise GraphError(100, f"(#100) param {key} must be JSON.") from None
    return [str(item.get("media_fbid")) for item in items if isinstance(item, dict) and item.get("media_fbid")]


@transaction.atomic
def publish_feed(page: Page, ctx: Ctx) -> dict:
    _require_scope(ctx, "pages_manage_posts", "(#200) If posting to a page, requires both pages_read_engagement "
                                              "and pages_manage_posts permission with page token")
    message, link = ctx.params.get("message", ""), ctx.params.get("link", "")
    photo_ids = _attached_photo_ids(ctx)
    if not message and not link and not photo_ids:
        raise GraphError(100, "(#100) Missing message or attachment")
    photos = list(Post.objects.filter(page=page, photo_id__in=photo_ids, is_published=False))
    if len(photos) != len(set(photo_ids)):
        raise GraphError(100, "(#100) Param attached_media[0] must be a valid unpublished photo id")
    latest = Post.objects.filter(page=page, network=Post.Network.FACEBOOK, is_published=True).first()
    if message and latest and latest.message == message and not link and not photo_ids \
            and clock.now() - latest.created_at < timedelta(minutes=1):
        raise GraphError(506, "(#506) Duplicate status message")
    post = Post.objects.create(
        post_id=f"{page.page_id}_{new_numeric_id()}", network=Post.Network.FACEBOOK, page=page,
        media_type="album" if photos else ("link" if link else "status"), message=message, link=link,
        media_url=photos[0].media_url if photos else "", is_published=_flag(ctx.params.get("published")), seed=_seed(),
    )
    Post.objects.filter(pk__in=[p.pk for p in photos]).delete()  # now part of the album post
    return _read_after_write("post", post, {"id": post.post_id}, ctx)


def publish_photo(page: Page, ctx: Ctx) -> dict:
    _require_scope(ctx, "pages_manage_posts", "(#200) If posting to a page, requires both pages_read_engagement "
                                              "and pages_manage_posts permission with page token")
    url = ctx.params.get("url", "")
    if not url and not ctx.files:
        raise GraphError(324, "(#324) Requires upload file")
    published = _flag(ctx.params.get("published"))
    post = Post.objects.create(
        post_id=f"{page.page_id}_{new_numeric_id()}", network=Post.Network.FACEBOOK, page=page, media_type="photo",
        message=ctx.params.get("caption") or ctx.params.get("message", ""), media_url=url or "upload://source",
        photo_id=new_numeric_id(), is_published=published, seed=_seed(),
    )
    if not published:
        return {"id": post.photo_id}
    return {"id": post.photo_id, "post_id": post.post_id}


def publish_video(page: Page, ctx: Ctx) -> dict:
    _require_scope(ctx, "pages_manage_posts", "(#200) Requires pages_manage_posts permission to post videos")
    file_url = ctx.params.get("file_url", "")
    if not file_url and not ctx.files:
        raise GraphError(100, "(#100) file_url or source is required", subcode=1363019)
    post = Post.objects.create(
        post_id=f"{page.page_id}_{new_numeric_id()}", network=Post.Network.FACEBOOK, page=page, media_type="video",
        message=ctx.params.get("description", ""), media_url=file_url, photo_id=new_numeric_id(),
        is_published=_flag(ctx.params.get("published")), seed=_seed(),
    )
    return {"id": post.photo_id}


# ---- comments -----------------------------------------------------------------------------------

def _author(ctx: Ctx, post: Post) -> tuple[str, str]:
    # Comments written with a Page token are the Page's (or its Instagram account's) own.
    page = post.page or post.instagram.page
    if post.network == Post.Network.INSTAGRAM:
        return post.instagram.ig_id, post.instagram.username
    return page.page_id, page.name


def add_comment(post: Post, ctx: Ctx) -> dict:
    message = ctx.params.get("message", "")
    if not message:
        raise GraphError(100, "(#100) Missing message or attachment")
    author_id, author_name = _author(ctx, post)
    comment = Comment.objects.create(comment_id=_comment_id(post), post=post, author_id=author_id,
                                     author_name=author_name, message=message)
    return {"id": comment.comment_id}


def reply_to_comment(parent: Comment, ctx: Ctx) -> dict:
    message = ctx.params.get("message", "")
    if not message:
        raise GraphError(100, "(#100) Missing message or attachment")
    # Replies are one level deep: a reply to a reply attaches to the top-level comment.
    top = parent.parent or parent
    author_id, author_name = _author(ctx, parent.post)
    reply = Comment.objects.create(comment_id=_comment_id(parent.post), post=parent.post, parent=top,
                                   author_id=author_id, author_name=author_name, message=message)
    return _read_after_write("ig_comment" if parent.post.network == Post.Network.INSTAGRAM else "comment",
                             reply, {"id": reply.comment_id}, ctx)


def _comment_id(post: Post) -> str:
    if post.network == Post.Network.FACEBOOK:
        return f"{post.post_id.split('_')[-1]}_{new_numeric_id()}"
    return new_numeric_id(17)


def set_comment_hidden(comment: Comment, params: dict) -> dict:
    value = params.get("is_hidden", params.get("hide"))
    if value is None:
        raise GraphError(100, "(#100) Missing is_hidden (Facebook) or hide (Instagram)")
    comment.is_hidden = _flag(value)
    comment.save(update_fields=["is_hidden"])
    return {"success": True}


# ---- Send API -----------------------------------------------------------------------------------

def send_message(owner, ctx: Ctx) -> dict:
    """POST /{page-id}/messages (or /{ig-id}/messages). Ref: platform-apis.md §1.7.3."""
    body = ctx.json or {k: _maybe_json(v) for k, v in ctx.params.items()}
    recipient, message = body.get("recipient") or {}, body.get("message") or {}
    if not isinstance(recipient, dict) or not isinstance(message, dict) or not message.get("text"):
        raise GraphError(100, "(#100) The parameter recipient and message.text are required")
    page = owner.page if isinstance(owner, InstagramAccount) else owner
    conversation = _conversation_for(page, owner, recipient)
    if conversation is None:
        raise GraphError(100, "(#100) No matching user found", subcode=2018001)
    last_inbound = conversation.messages.filter(from_id=conversation.participant_id).first()
    window = timedelta(days=7) if body.get("tag") == "HUMAN_AGENT" else MESSAGING_WINDOW
    if "comment_id" not in recipient and (last_inbound is None or clock.now() - last_inbound.created_at > window):
        raise GraphError(10, "(#10) This message is sent outside of allowed window.", subcode=2018278)
    own_id = page.instagram.ig_id if conversation.platform == "instagram" else page.page_id
    sent = DirectMessage.objects.create(mid=f"m_{secrets.token_urlsafe(24)}", conversation=conversation, from_id=own_id,
                                        to_id=conversation.participant_id, text=str(message["text"]))
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=sent.created_at)
    return {"recipient_id": conversation.participant_id, "message_id": sent.mid}


def _maybe_json(value):
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def _conversation_for(page: Page, owner, recipient: dict) -> Conversation | None:
    if recipient.get("comment_id"):
        # A private reply opens (or reuses) a thread with the comment's author.
        comment = Comment.objects.filter(comment_id=str(recipient["comment_id"])).first()
        if comment is None:
            return None
        platform = "instagram" if comment.post.network == Post.Network.INSTAGRAM else "messenger"
        conversation, _ = Conversation.objects.get_or_create(
            page=page, platform=platform, participant_id=comment.author_id,
            defaults={"thread_id": f"t_{new_numeric_id()}", "participant_name": comment.author_name},
        )
        return conversation
    platforms = ["instagram"] if isinstance(owner, InstagramAccount) else ["messenger", "instagram"]
    return page.conversations.filter(participant_id=str(recipient.get("id", "")), platform__in=platforms).first()


# ---- Instagram containers -----------------------------------------------------------------------

def create_container(ig: InstagramAccount, ctx: Ctx) -> dict:
    """POST /{ig-id}/media. Ref: platform-apis.md §1.5 "Create a container"."""
    _require_scope(ctx, "instagram_content_publish", "(#10) Application does not have permission for this action")
    p = ctx.params
    media_type = p.get("media_type", "").upper()
    is_item = _flag(p.get("is_carousel_item"), default=False)
    children: list[str] = []
    if media_type == "CAROUSEL":
        children = [c for c in p.get("children", "").split(",") if c]
        found = MediaContainer.objects.filter(instagram=ig, container_id__in=children, is_carousel_item=True).count()
        if not 2 <= len(children) <= 10 or found != len(children):
            raise GraphError(100, "(#100) The carousel must have between 2 and 10 valid carousel items.",
                             subcode=2207028)
    elif media_type in ("REELS", "VIDEO") or (media_type == "STORIES" and p.get("video_url")):
        if not p.get("video_url"):
            raise GraphError(100, "(#100) The parameter video_url is required.")
        if media_type == "VIDEO" and not is_item:
            raise GraphError(100, "(#100) The VIDEO media type is no longer supported; use REELS.", subcode=2207023)
    elif media_type not in ("", "IMAGE", "STORIES"):
        raise GraphError(100, "(#100) Param media_type must be one of {CAROUSEL, REELS, STORIES, VIDEO}",
                         subcode=2207023)
    elif not p.get("image_url"):
        raise GraphError(100, "(#100) The parameter image_url is required.")
    failure = failures.take("meta", [Failure.Kind.CONTAINER_ERROR], "POST", ctx.path)
    video = bool(p.get("video_url"))
    seconds = settings.SANDBOX_CONTAINER_SECONDS * (2 if video else 1)
    container = MediaContainer.objects.create(
        container_id=new_numeric_id(17), instagram=ig, media_type=media_type or "IMAGE",
        image_url=p.get("image_url", ""), video_url=p.get("video_url", ""),
        caption="" if is_item else p.get("caption", ""), is_carousel_item=is_item, children=children,
        ready_at=clock.now() + timedelta(seconds=seconds),
        error_subcode=(failure.subcode or 2207052) if failure else None,
    )
    return {"id": container.container_id}


@transaction.atomic
def publish_container(ig: InstagramAccount, ctx: Ctx) -> dict:
    """POST /{ig-id}/media_publish?creation_id=…: the one public-making call."""
    _require_scope(ctx, "instagram_content_publish", "(#10) Application does not have permission for this action")
    creation_id = ctx.params.get("creation_id", "")
    container = MediaContainer.objects.select_for_update().filter(instagram=ig, container_id=creation_id).first()
    if container is None or container.is_carousel_item:
        raise GraphError(100, "(#100) Param creation_id must be a valid container id", subcode=2207006)
    status = container_status(container)
    if status == "IN_PROGRESS":
        raise GraphError(9007, "Media ID is not available", subcode=2207027)
    if status == "ERROR":
        raise GraphError(9007, "Media ID is not available", subcode=2207032)
    if status == "EXPIRED":
        raise GraphError(100, "(#100) The media has expired.", subcode=2207020)
    if status == "PUBLISHED":
        raise GraphError(9007, "Media ID is not available", subcode=2207027)
    if _quota_usage(ig) >= IG_DAILY_QUOTA:
        raise GraphError(9, "Application request limit reached", subcode=2207042)
    media_type, product = {
        "CAROUSEL": ("CAROUSEL_ALBUM", "FEED"), "REELS": ("VIDEO", "REELS"),
        "STORIES": ("VIDEO" if container.video_url else "IMAGE", "STORY"),
    }.get(container.media_type, ("IMAGE", "FEED"))
    media = Post.objects.create(post_id=new_numeric_id(17), network=Post.Network.INSTAGRAM, instagram=ig,
                                media_type=media_type, product_type=product, message=container.caption,
                                media_url=container.image_url or container.video_url, seed=_seed())
    container.published_media = media
    container.save(update_fields=["published_media"])
    return {"id": media.post_id}


def _quota_usage(ig: InstagramAccount) -> int:
    return ig.media.filter(created_at__gte=clock.now() - timedelta(hours=24)).count()


def content_publishing_limit(ig: InstagramAccount, ctx: Ctx) -> dict:
    return {"data": [{"quota_usage": _quota_usage(ig), "config": {"quota_total": IG_DAILY_QUOTA,
                                                                  "quota_duration": 86400}}]}
