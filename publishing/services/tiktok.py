"""TikTok Direct Post: creator_info, then video (PULL_FROM_URL) or photos; then poll status/fetch.

commit = video/init or content/init (the call after which TikTok posts on its own); its publish_id is
saved at once. status/fetch is read-only and re-enqueued with a delay until complete or failed.
A publish whose init answer was lost has no publish_id to ask about; a public one shows up in the
creator's video list (after moderation), so we look for it there by caption and time, a bounded number
of times, before ending `unconfirmed` (private posts never appear in that list).
Ref: https://developers.tiktok.com/doc/content-posting-api-get-started
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction

from social.clients import tiktok as client
from social.models import AccountStatus

from ..models import MediaType, PostTarget, Step, TargetStatus
from . import engine

DONE_STATUSES = ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX")
# PUBLISH_COMPLETE often comes before moderation has made a public post public, so without its id:
# that many follow-up status checks, the delay doubling from PUBLISH_POLL_DELAY_SECONDS (with the
# default 20 s: 20 s, 40 s, ... about 85 min in all). The post.publish.publicly_available webhook
# fills the id too, whenever it comes.
POST_ID_CHECKS = 8
MIB = 1024 * 1024
SINGLE_CHUNK_MAX = 64 * MIB  # Media Transfer Guide: up to 64 MB in one chunk, else 5-64 MB chunks
CHUNK_SIZE = 10 * MIB


def own_media_name(url: str) -> str | None:
    """The storage name of a file uploaded through POST /api/v1/media/, or None for any other URL."""
    prefix = f"{settings.PUBLIC_BASE_URL}{settings.MEDIA_URL}"
    return url[len(prefix):] if url.startswith(prefix) else None


def uses_file_upload(options: dict, media: list) -> bool:
    """FILE_UPLOAD for our own uploads (our domain need not be verified with TikTok), else PULL_FROM_URL."""
    source = (options or {}).get("source")
    if source:
        return source == "FILE_UPLOAD"
    return len(media) == 1 and media[0].type == MediaType.VIDEO and own_media_name(media[0].url) is not None


def chunk_plan(size: int) -> tuple[int, int]:
    """(chunk_size, total_chunk_count); the last chunk absorbs the remainder."""
    if size <= SINGLE_CHUNK_MAX:
        return size, 1
    return CHUNK_SIZE, size // CHUNK_SIZE


def is_photo_post(media: list) -> bool:
    return bool(media) and all(m.type == MediaType.IMAGE for m in media)


def post_info(target: PostTarget, media: list, creator: client.CreatorInfo | None = None) -> dict:
    """The Direct Post `post_info`. An interaction the user left unset follows the creator's own setting
    (creator_info's *_disabled): TikTok asks apps not to offer what the creator has turned off."""
    options, text = target.options or {}, target.post.text

    def disabled(option: str, by_creator: str) -> bool:
        return bool(options.get(option, bool(creator and getattr(creator, by_creator))))

    info = {
        "privacy_level": options["privacy_level"],
        "disable_comment": disabled("disable_comment", "comment_disabled"),
        "brand_content_toggle": bool(options.get("brand_content_toggle", False)),
        "brand_organic_toggle": bool(options.get("brand_organic_toggle", False)),
    }
    if is_photo_post(media):
        # Photo posts: title up to 90 characters, the full text as the description.
        info.update(title=text.split("\n", 1)[0][:90], description=text,
                    auto_add_music=bool(options.get("auto_add_music", True)))
    else:
        info.update(title=text, disable_duet=disabled("disable_duet", "duet_disabled"),
                    disable_stitch=disabled("disable_stitch", "stitch_disabled"))
        if options.get("video_cover_timestamp_ms") is not None:
            info["video_cover_timestamp_ms"] = int(options["video_cover_timestamp_ms"])
    return info


def run(target: PostTarget) -> None:
    account = target.account
    if target.status == TargetStatus.PUBLISHED:
        return _check_post_id(target)
    if target.publish_id and target.step == Step.COMMITTED:
        return _poll(target)
    if target.publish_id:
        return _upload(target)
    if target.commit_started_at:
        return _find_lost_publish(target)
    media = list(target.post.media.all())
    info = client.query_creator_info(account)  # required before every Direct Post
    privacy = (target.options or {}).get("privacy_level")
    if privacy not in info.privacy_level_options:
        return engine.mark_failed(target, f"TikTok no longer allows privacy level {privacy} for this account "
                                  f"(allowed: {', '.join(info.privacy_level_options)}).", "tiktok:privacy_level")
    body = post_info(target, media, info)
    if uses_file_upload(target.options, media):
        return _init_upload(target, body, media[0])
    if is_photo_post(media):
        publish_id = engine.commit(target, lambda: client.init_photo_post(
            account, post_info=body, photo_urls=[m.url for m in media],
            cover_index=int(target.options.get("photo_cover_index", 0))))
    else:
        publish_id = engine.commit(target, lambda: client.init_video_post(account, post_info=body, video_url=media[0].url))
    engine.save_handles(target, publish_id=publish_id, step=Step.COMMITTED)
    engine.wait_for_poll(target, committed=True)


LOST_INIT = ("TikTok did not answer when we sent the post, and TikTok cannot be asked about it: "
             "check the profile before retrying.")
CLOCK_SKEW_SECONDS = 120


def _find_lost_publish(target: PostTarget) -> None:
    """The init answer was lost: look for the post among the creator's public videos, then give up."""
    if (target.options or {}).get("privacy_level") != "PUBLIC_TO_EVERYONE":
        raise engine.Unconfirmable(LOST_INIT)  # only public videos are listed
    title = post_info(target, list(target.post.media.all()))["title"].strip()
    since = target.commit_started_at.timestamp() - CLOCK_SKEW_SECONDS
    for video in client.list_videos(target.account).videos:  # newest first; one call
        if video.title.strip() == title and (video.create_time or 0) >= since:
            return engine.mark_published(target, video.id)
    try:
        engine.wait_for_poll(target, committed=True)  # moderation can take a while: look again later
    except engine.Unconfirmable:
        raise engine.Unconfirmable(LOST_INIT) from None


def _init_upload(target: PostTarget, body: dict, item) -> None:
    """FILE_UPLOAD init is a prepare step: TikTok posts nothing until every byte has arrived."""
    size = default_storage.size(own_media_name(item.url))
    chunk_size, count = chunk_plan(size)
    upload = client.init_video_upload(target.account, post_info=body, video_size=size, chunk_size=chunk_size,
                                      total_chunk_count=count)
    engine.save_handles(target, publish_id=upload.publish_id, step=Step.PREPARED, container_ids={
        "upload_url": upload.upload_url, "size": size, "chunk_size": chunk_size, "chunks": count, "chunks_done": 0})
    _upload(target)


def _upload(target: PostTarget) -> None:
    """PUT the chunks in order, saving progress after each; the last one is the commit."""
    handles = dict(target.container_ids)
    size, chunk_size, count = handles["size"], handles["chunk_size"], handles["chunks"]
    if target.commit_started_at:  # the last chunk's answer was lost: did TikTok get every byte?
        status = client.fetch_publish_status(target.account, target.publish_id)
        if status.status != "PROCESSING_UPLOAD" or status.uploaded_bytes >= size:
            engine.save_handles(target, step=Step.COMMITTED)
            return _poll(target)
    item = target.post.media.all()[0]
    with default_storage.open(own_media_name(item.url), "rb") as source:
        for index in range(handles["chunks_done"], count):
            first = index * chunk_size
            length = size - first if index == count - 1 else chunk_size
            source.seek(first)
            chunk = source.read(length)
            if index == count - 1:  # the last chunk makes TikTok post: guarded like every commit
                engine.commit(target, lambda chunk=chunk, first=first: _put(target, handles, item, chunk, first))
            else:
                _put(target, handles, item, chunk, first)
            handles["chunks_done"] = index + 1
            engine.save_handles(target, container_ids=handles)
    engine.save_handles(target, step=Step.COMMITTED)
    engine.wait_for_poll(target, committed=True)


def _put(target: PostTarget, handles: dict, item, chunk: bytes, first: int) -> int:
    return client.upload_video_chunk(target.account, handles["upload_url"], chunk, first_byte=first,
                                     total_size=handles["size"], content_type=_content_type(item.url))


def _content_type(url: str) -> str:
    return {"mov": "video/quicktime", "webm": "video/webm"}.get(url.rsplit(".", 1)[-1].lower(), "video/mp4")


def _poll(target: PostTarget) -> None:
    status = client.fetch_publish_status(target.account, target.publish_id)
    if status.status in DONE_STATUSES:
        engine.mark_published(target, status.post_ids[0] if status.post_ids else "")
        if status.status == "PUBLISH_COMPLETE":
            _schedule_post_id_check(target)
        return None
    if status.status == "FAILED":
        return engine.mark_failed(target, f"TikTok could not publish the post: {status.fail_reason or 'no reason given'}.",
                                  f"tiktok:{status.fail_reason or 'failed'}", platform_refused=True)
    engine.wait_for_poll(target, committed=True)


def awaits_post_id(target: PostTarget) -> bool:
    """Published, public, and TikTok has not named the post yet: a follow-up status check is due.

    Only public posts ever get a `publicaly_available_post_id`; private ones (SELF_ONLY), friends-only
    ones and inbox drafts never do, so they are not asked about.
    """
    return (target.status == TargetStatus.PUBLISHED and target.account.platform == "tiktok"
            and not target.platform_post_id and bool(target.publish_id)
            and (target.options or {}).get("privacy_level") == "PUBLIC_TO_EVERYONE"
            and target.account.status == AccountStatus.ACTIVE and target.polls < POST_ID_CHECKS)


def _schedule_post_id_check(target: PostTarget) -> None:
    if awaits_post_id(target):
        engine.send_publish(target.pk, settings.PUBLISH_POLL_DELAY_SECONDS * 2 ** target.polls)


def _check_post_id(target: PostTarget) -> None:
    """A follow-up after PUBLISH_COMPLETE without an id: read status/fetch once more. The target stays
    published whatever the answer (a failed read included); bounded by POST_ID_CHECKS."""
    if not awaits_post_id(target):
        return  # a stray message, or the id has come (e.g. by webhook)
    status = engine.best_effort("post id", target,
                                lambda: client.fetch_publish_status(target.account, target.publish_id), None)
    engine.save_handles(target, polls=target.polls + 1)
    if status is not None and status.post_ids:
        engine.fill_post_id(target, status.post_ids[0])
        return
    _schedule_post_id_check(target)


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
                engine.fill_post_id(target, post_id)
        elif kind == "failed" and target.status != TargetStatus.PUBLISHED:
            engine.mark_failed(target, f"TikTok could not publish the post: {reason or 'no reason given'}.",
                               f"tiktok:{reason or 'failed'}", platform_refused=True)
        elif kind == "no_longer_publicaly_available":  # sic, TikTok's spelling
            engine.save_handles(target, last_error_message="TikTok says this post is no longer publicly available.")
    return True
