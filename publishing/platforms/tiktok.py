"""TikTok Direct Post: creator_info, then video (PULL_FROM_URL) or photos; then poll status/fetch.

commit = video/init or content/init (the call after which TikTok posts on its own), or the last chunk of
a FILE_UPLOAD; its publish_id is saved at once. poll = status/fetch, read-only, re-enqueued with a delay
until complete or failed.
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
from ..services import engine
from . import NOT_SENT, POLL_LATER, READY, STOPPED, Outcome, Published, Run, Sent, Unconfirmable

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


LOST_INIT = ("TikTok did not answer when we sent the post, and TikTok cannot be asked about it: "
             "check the profile before retrying.")
CLOCK_SKEW_SECONDS = 120


def reconcile(run: Run) -> Outcome:
    if run.target.publish_id:
        return _reconcile_last_chunk(run)
    return _find_lost_publish(run)


def prepare(run: Run) -> Outcome:
    """creator_info (required before every Direct Post); for FILE_UPLOAD, the init and every chunk but the last."""
    target = run.target
    if target.publish_id:  # an upload under way: its remaining chunks
        return _put_chunks(run)
    info = client.query_creator_info(run.account)
    privacy = run.options.get("privacy_level")
    if privacy not in info.privacy_level_options:
        engine.mark_failed(target, f"TikTok no longer allows privacy level {privacy} for this account "
                           f"(allowed: {', '.join(info.privacy_level_options)}).", "tiktok:privacy_level")
        return STOPPED
    body = post_info(target, run.media, info)
    if uses_file_upload(run.options, run.media):
        _init_upload(target, body, run.media[0])
        return _put_chunks(run)
    run.learnt["post_info"] = body
    return READY


def poll(run: Run) -> Outcome:
    """status/fetch of a sent publish (read-only), until TikTok has finished or failed it."""
    target = run.target
    if target.step != Step.COMMITTED:
        return READY  # nothing to wait for before the init
    status = client.fetch_publish_status(target.account, target.publish_id)
    if status.status in DONE_STATUSES:
        # Only PUBLISH_COMPLETE is followed by checks for the id of the public post.
        post_id = status.post_ids[0] if status.post_ids else ""
        return Published(post_id, read_permalink(target, post_id) if post_id else "",
                         after_publish=status.status == "PUBLISH_COMPLETE")
    if status.status == "FAILED":
        engine.mark_failed(target, f"TikTok could not publish the post: {status.fail_reason or 'no reason given'}.",
                           f"tiktok:{status.fail_reason or 'failed'}", platform_refused=True)
        return STOPPED
    return POLL_LATER


def commit(run: Run) -> Outcome:
    """video/init or content/init (PULL_FROM_URL), or the last chunk of a FILE_UPLOAD."""
    target, media = run.target, run.media
    if target.publish_id:
        return _put_last_chunk(run)
    if is_photo_post(media):
        publish_id = client.init_photo_post(run.account, post_info=run.learnt["post_info"],
                                            photo_urls=[m.url for m in media],
                                            cover_index=int(target.options.get("photo_cover_index", 0)))
    else:
        publish_id = client.init_video_post(run.account, post_info=run.learnt["post_info"], video_url=media[0].url)
    return Sent({"publish_id": publish_id})


# Ref: https://developers.tiktok.com/doc/tiktok-api-v2-video-query
def permalink(account, post_id: str) -> str:
    """The public video's share_url (video/query, one call); "" when TikTok does not list it (yet)."""
    return next((video.share_url for video in client.query_videos(account, [post_id]) if video.id == post_id), "")


def read_permalink(target: PostTarget, post_id: str) -> str:
    """permalink() once the post is named; a failed read changes nothing (the link stays empty)."""
    return engine.best_effort("permalink", target, lambda: permalink(target.account, post_id), "")


def fill_permalink(target: PostTarget) -> None:
    link = read_permalink(target, target.platform_post_id)
    if link:
        engine.save_handles(target, permalink=link)


def _find_lost_publish(run: Run) -> Outcome:
    """The init answer was lost: look for the post among the creator's public videos, then give up."""
    target = run.target
    if run.options.get("privacy_level") != "PUBLIC_TO_EVERYONE":
        raise Unconfirmable(LOST_INIT)  # only public videos are listed
    title = post_info(target, run.media)["title"].strip()
    since = target.commit_started_at.timestamp() - CLOCK_SKEW_SECONDS
    for video in client.list_videos(target.account).videos:  # newest first; one call
        if video.title.strip() == title and (video.create_time or 0) >= since:
            return Published(video.id)
    try:
        engine.wait_for_poll(target, committed=True)  # moderation can take a while: look again later
    except Unconfirmable:
        raise Unconfirmable(LOST_INIT) from None
    return STOPPED


def _init_upload(target: PostTarget, body: dict, item) -> None:
    """FILE_UPLOAD init is a prepare step: TikTok posts nothing until every byte has arrived."""
    size = default_storage.size(own_media_name(item.url))
    chunk_size, count = chunk_plan(size)
    upload = client.init_video_upload(target.account, post_info=body, video_size=size, chunk_size=chunk_size,
                                      total_chunk_count=count)
    engine.save_handles(target, publish_id=upload.publish_id, step=Step.PREPARED, container_ids={
        "upload_url": upload.upload_url, "size": size, "chunk_size": chunk_size, "chunks": count, "chunks_done": 0})


def _reconcile_last_chunk(run: Run) -> Outcome:
    """The last chunk's answer was lost: did TikTok get every byte?"""
    target = run.target
    status = client.fetch_publish_status(target.account, target.publish_id)
    if status.status != "PROCESSING_UPLOAD" or status.uploaded_bytes >= target.container_ids["size"]:
        return Sent()
    return NOT_SENT


def _put_chunks(run: Run) -> Outcome:
    """PUT every chunk but the last, in order, saving progress after each; read the last one for the commit."""
    handles = dict(run.target.container_ids)
    count = handles["chunks"]
    with default_storage.open(own_media_name(run.media[0].url), "rb") as source:
        for index in range(handles["chunks_done"], count - 1):
            _put(run, handles, index, _read(source, handles, index))
            handles["chunks_done"] = index + 1
            engine.save_handles(run.target, container_ids=handles)
        if handles["chunks_done"] < count:  # read before commit_started_at is set: only the PUT comes after it
            run.learnt["last_chunk"] = _read(source, handles, count - 1)
    return READY


def _put_last_chunk(run: Run) -> Outcome:
    """The last chunk makes TikTok post: the commit."""
    handles = dict(run.target.container_ids)
    if handles["chunks_done"] >= handles["chunks"]:
        return Sent()  # every chunk went already: nothing to send again
    _put(run, handles, handles["chunks"] - 1, run.learnt["last_chunk"])
    handles["chunks_done"] = handles["chunks"]
    return Sent({"container_ids": handles})


def _read(source, handles: dict, index: int) -> bytes:
    first = index * handles["chunk_size"]
    source.seek(first)
    return source.read(handles["size"] - first if index == handles["chunks"] - 1 else handles["chunk_size"])


def _put(run: Run, handles: dict, index: int, chunk: bytes) -> int:
    return client.upload_video_chunk(run.account, handles["upload_url"], chunk, first_byte=index * handles["chunk_size"],
                                     total_size=handles["size"], content_type=_content_type(run.media[0].url))


def _content_type(url: str) -> str:
    return {"mov": "video/quicktime", "webm": "video/webm"}.get(url.rsplit(".", 1)[-1].lower(), "video/mp4")


def awaits_post_id(target: PostTarget) -> bool:
    """Published, public, and TikTok has not named the post yet: a follow-up status check is due.

    Only public posts ever get a `publicaly_available_post_id`; private ones (SELF_ONLY), friends-only
    ones and inbox drafts never do, so they are not asked about.
    """
    return (target.status == TargetStatus.PUBLISHED and target.account.platform == "tiktok"
            and not target.platform_post_id and bool(target.publish_id)
            and (target.options or {}).get("privacy_level") == "PUBLIC_TO_EVERYONE"
            and target.account.status == AccountStatus.ACTIVE and target.polls < POST_ID_CHECKS)


def awaits_permalink(target: PostTarget) -> bool:
    """Named (by a webhook, without a call) but without its link: one follow-up reads it."""
    return (target.status == TargetStatus.PUBLISHED and target.account.platform == "tiktok"
            and bool(target.platform_post_id) and not target.permalink
            and target.account.status == AccountStatus.ACTIVE and target.polls < POST_ID_CHECKS)


def follow_up_due(target: PostTarget) -> bool:
    return awaits_post_id(target) or awaits_permalink(target)


def after_publish(target: PostTarget) -> None:
    """Schedule the next check (the delay doubling each time) for the id of a public post TikTok has not named yet."""
    if awaits_post_id(target):
        engine.send_publish(target.pk, settings.PUBLISH_POLL_DELAY_SECONDS * 2 ** target.polls)


def follow_up(target: PostTarget) -> None:
    """A follow-up after PUBLISH_COMPLETE without an id: read status/fetch once more. The target stays
    published whatever the answer (a failed read included); bounded by POST_ID_CHECKS."""
    if awaits_permalink(target):  # the id came by webhook: read its link once (counted, so never more)
        engine.save_handles(target, polls=target.polls + 1)
        fill_permalink(target)
        return
    if not awaits_post_id(target):
        return  # a stray message
    status = engine.best_effort("post id", target,
                                lambda: client.fetch_publish_status(target.account, target.publish_id), None)
    engine.save_handles(target, polls=target.polls + 1)
    if status is not None and status.post_ids:
        if engine.fill_post_id(target, status.post_ids[0]):
            fill_permalink(target)
        return
    after_publish(target)


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
            if post_id and awaits_permalink(target):
                # No platform call inside the lock: a follow-up `publish` message reads the link.
                target_id = target.pk
                transaction.on_commit(lambda: engine.send_publish(target_id))
        elif kind == "failed" and target.status != TargetStatus.PUBLISHED:
            engine.mark_failed(target, f"TikTok could not publish the post: {reason or 'no reason given'}.",
                               f"tiktok:{reason or 'failed'}", platform_refused=True)
        elif kind == "no_longer_publicaly_available":  # sic, TikTok's spelling
            engine.save_handles(target, last_error_message="TikTok says this post is no longer publicly available.")
    return True
