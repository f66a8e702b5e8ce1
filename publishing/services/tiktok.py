"""TikTok Direct Post: creator_info, then video (PULL_FROM_URL) or photos; then poll status/fetch.

commit = video/init or content/init (the call after which TikTok posts on its own); its publish_id is
saved at once. status/fetch is read-only and re-enqueued with a delay until complete or failed.
TikTok offers no way to find a publish whose init answer was lost, so that case ends `unconfirmed`.
Ref: https://developers.tiktok.com/doc/content-posting-api-get-started
"""

from __future__ import annotations

from django.db import transaction

from social.clients import tiktok as client

from ..models import MediaType, PostTarget, Step, TargetStatus
from . import engine

DONE_STATUSES = ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX")


def is_photo_post(media: list) -> bool:
    return bool(media) and all(m.type == MediaType.IMAGE for m in media)


def post_info(target: PostTarget, media: list) -> dict:
    options, text = target.options or {}, target.post.text
    info = {
        "privacy_level": options["privacy_level"],
        "disable_comment": bool(options.get("disable_comment", False)),
        "brand_content_toggle": bool(options.get("brand_content_toggle", False)),
        "brand_organic_toggle": bool(options.get("brand_organic_toggle", False)),
    }
    if is_photo_post(media):
        # Photo posts: title up to 90 characters, the full text as the description.
        info.update(title=text.split("\n", 1)[0][:90], description=text,
                    auto_add_music=bool(options.get("auto_add_music", True)))
    else:
        info.update(title=text, disable_duet=bool(options.get("disable_duet", False)),
                    disable_stitch=bool(options.get("disable_stitch", False)))
        if options.get("video_cover_timestamp_ms") is not None:
            info["video_cover_timestamp_ms"] = int(options["video_cover_timestamp_ms"])
    return info


def run(target: PostTarget) -> None:
    account = target.account
    if target.publish_id:
        return _poll(target)
    if target.commit_started_at:
        raise engine.Unconfirmable("TikTok did not answer when we sent the post, and TikTok cannot be asked "
                                   "about it: check the profile before retrying.")
    media = list(target.post.media.all())
    info = client.query_creator_info(account)  # required before every Direct Post
    privacy = (target.options or {}).get("privacy_level")
    if privacy not in info.privacy_level_options:
        return engine.mark_failed(target, f"TikTok no longer allows privacy level {privacy} for this account "
                                  f"(allowed: {', '.join(info.privacy_level_options)}).", "tiktok:privacy_level")
    body = post_info(target, media)
    if is_photo_post(media):
        publish_id = engine.commit(target, lambda: client.init_photo_post(
            account, post_info=body, photo_urls=[m.url for m in media],
            cover_index=int(target.options.get("photo_cover_index", 0))))
    else:
        publish_id = engine.commit(target, lambda: client.init_video_post(account, post_info=body, video_url=media[0].url))
    engine.save_handles(target, publish_id=publish_id, step=Step.COMMITTED)
    engine.wait_for_poll(target, committed=True)


def _poll(target: PostTarget) -> None:
    status = client.fetch_publish_status(target.account, target.publish_id)
    if status.status in DONE_STATUSES:
        return engine.mark_published(target, status.post_ids[0] if status.post_ids else "")
    if status.status == "FAILED":
        return engine.mark_failed(target, f"TikTok could not publish the post: {status.fail_reason or 'no reason given'}.",
                                  f"tiktok:{status.fail_reason or 'failed'}")
    engine.wait_for_poll(target, committed=True)


def apply_publish_event(publish_id: str, event: str, post_id: str | None = None, reason: str | None = None) -> bool:
    """Apply a TikTok `post.publish.*` webhook to its target. Returns whether a target matched. Idempotent."""
    with transaction.atomic():
        target = (PostTarget.objects.select_for_update().filter(publish_id=publish_id, account__platform="tiktok")
                  .first() if publish_id else None)
        if target is None:
            return False
        kind = event.removeprefix("post.publish.")
        if kind in ("complete", "publicly_available", "inbox_delivered"):
            if target.status != TargetStatus.PUBLISHED:
                engine.mark_published(target, post_id or "")
            elif post_id and not target.platform_post_id:
                engine.save_handles(target, platform_post_id=post_id)
        elif kind == "failed" and target.status != TargetStatus.PUBLISHED:
            engine.mark_failed(target, f"TikTok could not publish the post: {reason or 'no reason given'}.",
                               f"tiktok:{reason or 'failed'}")
        elif kind == "no_longer_publicaly_available":  # sic, TikTok's spelling
            engine.save_handles(target, last_error_message="TikTok says this post is no longer publicly available.")
    return True
