"""Instagram: image, carousel (children, then the parent), reel, story.

prepare = create containers (ids saved one by one); poll = container status_code, re-enqueued with a
delay, then the live 24-hour quota; commit = media_publish. A container that reports PUBLISHED already
went out, which makes an ambiguous media_publish safe to reconcile: reconcile reads the parent's status.
Ref: https://developers.facebook.com/docs/instagram-platform/content-publishing/
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from social.clients import instagram as client
from social.clients.meta import parse_graph_time
from unipulse.platform_errors import BlockedError, InvalidRequestError

from ..models import CommentStatus, MediaType, PostTarget, Step
from ..services import engine
from . import NOT_SENT, POLL_LATER, READY, STOPPED, TOO_EARLY, Outcome, Published, Run, meta

MEDIA_NOT_READY = 2207027  # code 9007: poll longer before media_publish


def kind_of(options: dict, media: list) -> str:
    return published_kind((options or {}).get("kind") or "feed", [m.type for m in media])


def published_kind(kind: str, media_types: list[str]) -> str:
    """What a post of the chosen `kind` is published as: 'story', 'reel', 'carousel' or 'image'.

    A single feed video is a reel: the API publishes single feed videos as reels since 2023-07-01,
    so validation checks it against the reel rules too.
    """
    if kind == "story":
        return "story"
    if kind == "reel" or (len(media_types) == 1 and media_types[0] == MediaType.VIDEO):
        return "reel"
    return "carousel" if len(media_types) > 1 else "image"


def reconcile(run: Run) -> Outcome:
    parent = run.target.container_ids.get("parent")
    if not parent:
        return NOT_SENT  # media_publish names the parent container: without one it cannot have been called
    status = client.get_container_status(run.account, parent)
    if status.status_code == "PUBLISHED":
        return _published_without_answer(run.target)
    if status.status_code != "FINISHED":
        return _container_failed(run.target, status)
    return NOT_SENT  # still FINISHED: it did not go out


def prepare(run: Run) -> Outcome:
    if run.target.container_ids.get("parent"):
        return READY
    return _prepare(run.target, kind_of(run.options, run.media), run.media, dict(run.target.container_ids))


def poll(run: Run) -> Outcome:
    """The parent container's status, then the live 24-hour quota, before media_publish."""
    account = run.account
    status = client.get_container_status(account, run.target.container_ids["parent"])
    if status.status_code == "IN_PROGRESS":
        return POLL_LATER
    if status.status_code == "PUBLISHED":
        return _published_without_answer(run.target)
    if status.status_code != "FINISHED":
        return _container_failed(run.target, status)
    engine.save_handles(run.target, step=Step.READY)
    limit = client.get_publishing_limit(account)
    if limit.quota_total and limit.quota_usage >= limit.quota_total:
        raise BlockedError("Instagram's 24-hour publishing limit for this account is reached; the post waits.",
                           until=timezone.now() + timedelta(hours=1), platform="meta", code="quota")
    return READY


def commit(run: Run) -> Outcome:
    try:
        return Published(client.publish_container(run.account, run.target.container_ids["parent"]))
    except InvalidRequestError as error:
        if error.subcode != MEDIA_NOT_READY:
            raise
        return TOO_EARLY  # FINISHED yet "not ready": Meta asks to wait a little longer


def permalink(account, post_id: str) -> str:
    return client.get_media_permalink(account, post_id)


def _prepare(target: PostTarget, kind: str, media: list, handles: dict) -> Outcome:
    """Create the containers not created yet; POLL_LATER while carousel children are still processing."""
    account, caption = target.account, target.post.text
    if kind == "carousel":
        children = list(handles.get("children", []))
        for item in media[len(children):]:
            field = "image_url" if item.type == MediaType.IMAGE else "video_url"
            extra = {"alt_text": item.alt_text} if item.type == MediaType.IMAGE else {"media_type": "VIDEO"}
            children.append(client.create_container(account, is_carousel_item=True, **{field: item.url}, **extra))
            handles["children"] = children
            engine.save_handles(target, container_ids=handles)
        for child in children:
            status = client.get_container_status(account, child)
            if status.status_code == "IN_PROGRESS":
                return POLL_LATER
            if status.status_code != "FINISHED":
                return _container_failed(target, status)
        parent = client.create_container(account, media_type="CAROUSEL", children=children, caption=caption)
    else:
        item = media[0]
        field = "image_url" if item.type == MediaType.IMAGE else "video_url"
        kwargs: dict = {field: item.url}
        if kind == "story":
            kwargs["media_type"] = "STORIES"
        elif kind == "reel":
            kwargs.update(media_type="REELS", caption=caption, share_to_feed=target.options.get("share_to_feed", True))
            if target.options.get("cover_url"):
                kwargs["cover_url"] = target.options["cover_url"]
        else:
            kwargs.update(caption=caption, alt_text=item.alt_text)
        parent = client.create_container(account, **kwargs)
    handles["parent"] = parent
    engine.save_handles(target, container_ids=handles, step=Step.PREPARED)
    return READY


def _container_failed(target: PostTarget, status) -> Outcome:
    # A container publishes once and then says PUBLISHED: EXPIRED or ERROR means it never went out.
    if status.status_code == "EXPIRED":
        engine.mark_failed(target, "Instagram's media container expired (24 h) before publishing; retry the post.",
                           "instagram:container_expired", platform_refused=True)
    else:
        engine.mark_failed(target, f"Instagram could not process the media: {status.status or status.status_code}",
                           "instagram:container_error", platform_refused=status.status_code == "ERROR")
    return STOPPED


def _published_without_answer(target: PostTarget) -> Outcome:
    """The container is PUBLISHED but we never got the media id: find it among the latest media."""
    since = target.commit_started_at or target.updated_at
    for item in engine.best_effort("recent media", target, lambda: client.list_recent_media(target.account), []):
        if meta.matches_text(item.caption, target.post.text) and _after(item.timestamp, since):
            return Published(item.id, item.permalink)
    # It is live (the container says so) even though we cannot name it: never publish it again.
    return Published("")


def _after(timestamp: str, since) -> bool:
    when = parse_graph_time(timestamp)
    return when is None or when >= since - timedelta(minutes=5)


def first_comment(target: PostTarget) -> None:
    account, media_id = target.account, target.platform_post_id
    if not media_id:
        if target.first_comment and meta.follow_up_due(target):
            engine.save_handles(target, first_comment_status=CommentStatus.FAILED, last_error_message=(
                "First comment: the Instagram media id is unknown; comment in the app."))
        return
    meta.post_first_comment(
        target, lambda: client.comment_on_media(account, media_id, target.first_comment),
        lambda: client.list_media_comments(account, media_id),
        lambda comment: comment.username == account.username and meta.matches_text(comment.text, target.first_comment))


after_publish = follow_up = first_comment


def follow_up_due(target: PostTarget) -> bool:
    return meta.follow_up_due(target)
