"""Facebook Page: feed text/link, one photo, several photos (unpublished photos + one feed post), video.

prepare = upload unpublished photos (multi-photo only); commit = the /feed, /photos or /videos call.
Ref: https://developers.facebook.com/docs/pages-api/posts
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from social.clients import facebook as client
from social.clients.meta import parse_graph_time

from ..models import MediaType, PostTarget, Step
from . import engine

# How far before commit_started_at a post found on the Page may be dated (clock skew).
RECONCILE_SKEW = timedelta(minutes=5)


def kind_of(media: list) -> str:
    if not media:
        return "feed"
    if media[0].type == MediaType.VIDEO:
        return "video"
    return "photo" if len(media) == 1 else "photos"


def message_of(post, media: list, link_preview: bool = True) -> str:
    text = post.text.strip()
    if post.link and (media or not link_preview) and post.link not in text:
        # A photo or video post has no link field (and no preview is wanted): the link goes in the text.
        text = f"{text}\n\n{post.link}".strip()
    return text


def run(target: PostTarget) -> None:
    account, post = target.account, target.post
    if target.platform_post_id:  # published: only the first comment may be left
        return _first_comment(target)
    media = list(post.media.all())
    link_preview = bool((target.options or {}).get("link_preview", True))
    message = message_of(post, media, link_preview)
    kind = kind_of(media)

    if target.commit_started_at:
        found = _reconcile(target, message)
        if found is not None:
            engine.mark_published(target, found.id, found.permalink_url)
            return _first_comment(target)
        if kind == "video":  # a video can take minutes to show on the Page: absence proves nothing
            raise engine.Unconfirmable("Facebook did not confirm whether the video was posted; check the Page before retrying.")
        settled = target.commit_started_at + timedelta(seconds=settings.PUBLISH_RECONCILE_GRACE_SECONDS)
        if timezone.now() < settled:
            # The interrupted request may still be completing at Facebook: absence proves nothing yet.
            # Look again once the grace period is over (a delayed message: no worker waits).
            return engine.send_publish(target.pk, (settled - timezone.now()).total_seconds() + 1)
        engine.save_handles(target, commit_started_at=None)

    photo_ids = list(target.container_ids.get("photos", []))
    if kind == "photos":
        for item in media[len(photo_ids):]:
            photo_ids.append(client.upload_unpublished_photo(account, item.url))
            engine.save_handles(target, container_ids={"photos": photo_ids})
        engine.save_handles(target, step=Step.PREPARED)

    if kind == "feed":
        post_id = engine.commit(target, lambda: client.publish_feed_post(
            account, message=message, link=post.link if link_preview else "")).id
    elif kind == "photos":
        post_id = engine.commit(target, lambda: client.publish_feed_post(
            account, message=message, attached_photo_ids=photo_ids)).id
    elif kind == "photo":
        photo = engine.commit(target, lambda: client.publish_photo(account, url=media[0].url, caption=message))
        post_id = photo.post_id or photo.id
    else:
        post_id = engine.commit(target, lambda: client.publish_video(account, file_url=media[0].url, description=message)).id

    engine.mark_published(target, post_id)
    permalink = engine.best_effort("permalink", target, lambda: client.get_post_permalink(account, post_id), "")
    if permalink:
        engine.save_handles(target, permalink=permalink)
    _first_comment(target)


def _reconcile(target: PostTarget, message: str):
    """The Page's recent post with this message, dated after the commit began; None if there is none."""
    since = target.commit_started_at - RECONCILE_SKEW
    for item in client.list_recent_posts(target.account, limit=10):
        created = parse_graph_time(item.created_time)
        if created and created >= since and engine.matches_text(item.message, message):
            return item
    return None


def _first_comment(target: PostTarget) -> None:
    account, post_id = target.account, target.platform_post_id

    def find() -> str:
        for comment in client.list_post_comments(account, post_id):
            if comment.from_id == account.external_id and engine.matches_text(comment.message, target.first_comment):
                return comment.id
        return ""

    engine.post_first_comment(target, lambda: client.comment_on_post(account, post_id, target.first_comment), find)

