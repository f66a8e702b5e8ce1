"""Facebook Page: feed text/link, one photo, several photos (unpublished photos + one feed post), video.

prepare = upload unpublished photos (multi-photo only); commit = the /feed, /photos or /videos call;
reconcile = look for the post among the Page's recent posts, by message and time.
Ref: https://developers.facebook.com/docs/pages-api/posts
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from social.clients import facebook as client
from social.clients.meta import parse_graph_time

from ..models import MediaType, PostTarget, Step
from ..services import engine
from . import NOT_SENT, READY, STOPPED, Outcome, Published, Run, Unconfirmable, meta

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


def reconcile(run: Run) -> Outcome:
    target = run.target
    found = _find_on_page(target, _message(run))
    if found is not None:
        return Published(found.id, found.permalink_url)
    if kind_of(run.media) == "video":  # a video can take minutes to show on the Page: absence proves nothing
        raise Unconfirmable("Facebook did not confirm whether the video was posted; check the Page before retrying.")
    settled = target.commit_started_at + timedelta(seconds=settings.PUBLISH_RECONCILE_GRACE_SECONDS)
    if timezone.now() < settled:
        # The interrupted request may still be completing at Facebook: absence proves nothing yet.
        # Look again once the grace period is over (a delayed message: no worker waits).
        engine.send_publish(target.pk, (settled - timezone.now()).total_seconds() + 1)
        return STOPPED
    return NOT_SENT


def prepare(run: Run) -> Outcome:
    """Several photos: upload each unpublished (ids saved one by one), for the one feed post."""
    target = run.target
    if kind_of(run.media) == "photos":
        photo_ids = list(target.container_ids.get("photos", []))
        for item in run.media[len(photo_ids):]:
            photo_ids.append(client.upload_unpublished_photo(run.account, item.url))
            engine.save_handles(target, container_ids={"photos": photo_ids})
        engine.save_handles(target, step=Step.PREPARED)
    return READY


def poll(run: Run) -> Outcome:
    return READY  # a Page post has nothing to wait for before it is made


def commit(run: Run) -> Outcome:
    account, post, media, message = run.account, run.target.post, run.media, _message(run)
    kind = kind_of(media)
    if kind == "feed":
        return Published(client.publish_feed_post(account, message=message,
                                                  link=post.link if _link_preview(run) else "").id)
    if kind == "photos":
        return Published(client.publish_feed_post(account, message=message,
                                                  attached_photo_ids=run.target.container_ids["photos"]).id)
    if kind == "photo":
        photo = client.publish_photo(account, url=media[0].url, caption=message)
        return Published(photo.post_id or photo.id)
    return Published(client.publish_video(account, file_url=media[0].url, description=message).id)


def permalink(account, post_id: str) -> str:
    return client.get_post_permalink(account, post_id)


def _link_preview(run: Run) -> bool:
    return bool(run.options.get("link_preview", True))


def _message(run: Run) -> str:
    return message_of(run.target.post, run.media, _link_preview(run))


def _find_on_page(target: PostTarget, message: str):
    """The Page's recent post with this message, dated after the commit began; None if there is none."""
    since = target.commit_started_at - RECONCILE_SKEW
    for item in client.list_recent_posts(target.account, limit=10):
        created = parse_graph_time(item.created_time)
        if created and created >= since and meta.matches_text(item.message, message):
            return item
    return None


def first_comment(target: PostTarget) -> None:
    account, post_id = target.account, target.platform_post_id
    meta.post_first_comment(
        target, lambda: client.comment_on_post(account, post_id, target.first_comment),
        lambda: client.list_post_comments(account, post_id),
        lambda comment: comment.from_id == account.external_id and meta.matches_text(comment.message, target.first_comment))


after_publish = follow_up = first_comment


def follow_up_due(target: PostTarget) -> bool:
    return meta.follow_up_due(target)
