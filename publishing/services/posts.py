"""Creating, editing, cancelling, retrying and scheduling posts (what the API and cron call)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.db.models.functions import Coalesce
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from unipulse.api_errors import ApiError
from workspaces.models import Membership, Role
from workspaces.services import record

from ..events import post_event
from ..models import NOT_STARTED, Approval, Post, PostMedia, PostTarget, Step, TargetStatus
from . import media_info, recurrence, slots, validation
from .engine import can_resume, send_queued


def get_posts_in_workspace(workspace) -> QuerySet[Post]:
    """The workspace's posts with media and targets (and their accounts) prefetched: 3 queries for any page.

    The accounts' encrypted tokens are not loaded (nothing here sends), so no row decrypts them.
    """
    targets = PostTarget.objects.select_related("account").defer("account__access_token", "account__refresh_token")
    return (Post.objects.filter(workspace=workspace).select_related("series")
            .prefetch_related("media", Prefetch("targets", queryset=targets)))


def filter_posts(qs: QuerySet[Post], *, status: str = "", account: int | None = None, platform: str = "",
                 since=None, until=None) -> QuerySet[Post]:
    if status:
        qs = qs.filter(targets__status=status)
    if account:
        qs = qs.filter(targets__account_id=account)
    if platform:
        qs = qs.filter(targets__account__platform=platform)
    if since or until:
        qs = qs.annotate(when=Coalesce("scheduled_at", "created_at"))
        qs = qs.filter(when__gte=since) if since else qs
        qs = qs.filter(when__lt=until) if until else qs
    return qs.distinct()


def platform_errors(data: dict, accounts: list, info_of: Callable = validation.fresh_creator_info) -> dict[str, list[str]]:
    """The rules that need a platform answer (TikTok creator_info), keyed by field; {} when none fails."""
    errors: dict[str, list[str]] = {}
    for account in accounts:
        if account.platform == "tiktok":
            for key, messages in validation.tiktok_creator_errors(account, (data.get("options") or {}).get("tiktok") or {},
                                                                  data.get("media") or [], info_of=info_of).items():
                errors.setdefault(key, []).extend(messages)
    return errors


def _check_platforms(data: dict, accounts: list, info_of: Callable = validation.fresh_creator_info) -> None:
    """platform_errors() as a ValidationError (the API's 400)."""
    errors = platform_errors(data, accounts, info_of)
    if errors:
        raise ValidationError(errors)


def needs_approval(membership: Membership) -> bool:
    """An editor's post waits for an admin when the workspace asks for approval; admins approve their own."""
    return membership.workspace.approval_required and not membership.allows(Role.ADMIN)


def create_post(membership: Membership, data: dict, idempotency_key: str = "", fingerprint: str = "",
                info_of: Callable = validation.fresh_creator_info) -> Post:
    """Create a post and one target per account; queue now, schedule, or hold it for approval.

    Validated data only. Raises IntegrityError when the workspace already has a post with this
    `idempotency_key` (nothing is written or queued then); `create_post_once` turns that into the
    existing post. `info_of` reads a TikTok creator's info (see platform_errors).
    """
    accounts = data["accounts"]
    _check_platforms(data, accounts, info_of)
    pending = needs_approval(membership)
    with transaction.atomic():
        post = Post.objects.create(workspace=membership.workspace, created_by=membership.user,
                                   text=data.get("text", ""), link=data.get("link", ""),
                                   first_comment=data.get("first_comment", ""), scheduled_at=data.get("scheduled_at"),
                                   approval=Approval.PENDING if pending else Approval.NOT_NEEDED,
                                   idempotency_key=idempotency_key, idempotency_fingerprint=fingerprint)
        _write_media(post, data.get("media") or [])
        if data.get("next_free_slot"):
            slots.write_queued_targets(post, accounts, data.get("options") or {}, pending)
        else:
            _write_targets(post, accounts, data.get("options") or {}, pending=pending)
        if data.get("recurrence"):
            recurrence.start_series(post, membership, data)
        record(post.workspace_id, membership.user, "post.created", post,
               f"Post {post.pk} for {len(accounts)} account(s)" + (", waiting for approval." if pending else "."))
        if pending:
            post_event(post, "post.pending_approval")
    return post


def get_post_by_idempotency_key(workspace, key: str) -> Post | None:
    """The post the workspace created with this Idempotency-Key, or None (always None without a key)."""
    return Post.objects.filter(workspace=workspace, idempotency_key=key).first() if key else None


def create_post_once(membership: Membership, data: dict, idempotency_key: str = "",
                     fingerprint: str = "", info_of: Callable = validation.fresh_creator_info) -> tuple[Post, bool]:
    """`create_post` at most once per (workspace, key): returns (post, created).

    The key is unique per workspace in the database. When a concurrent request with the same key wins
    the INSERT, this one's transaction (targets and their queued messages included) rolls back and
    the winner's post is returned: one post, one set of messages.
    """
    try:
        return create_post(membership, data, idempotency_key, fingerprint, info_of), True
    except IntegrityError:
        existing = get_post_by_idempotency_key(membership.workspace, idempotency_key)
        if existing is None:
            raise
        return existing, False


EDITABLE = (TargetStatus.DRAFT, TargetStatus.PENDING_APPROVAL, TargetStatus.SCHEDULED)


def update_post(post: Post, data: dict, membership: Membership, keep_slots: bool = False) -> Post:
    """Edit a post while none of its targets has started; targets are rebuilt from the new data.

    An editor's edit in a workspace with approval asks for approval again (a rejected or expired post
    is resubmitted this way); an admin's edit needs none. `keep_slots` (the edit named no time): a
    queued post's targets keep their queue slots; `next_free_slot` in the data takes new ones.
    """
    accounts = data["accounts"]
    _check_platforms(data, accounts)
    pending = needs_approval(membership)
    with transaction.atomic():
        locked = list(post.targets.select_for_update())
        if any(t.status not in EDITABLE for t in locked):
            raise ApiError("post_started", "Publishing has started for this post; it can no longer be edited.", 409)
        for field in ("text", "link", "first_comment", "scheduled_at"):
            setattr(post, field, data.get(field, "" if field != "scheduled_at" else None))
        post.approval = Approval.PENDING if pending else Approval.NOT_NEEDED
        if not pending:
            post.review_comment = ""
        post.save()
        post.media.all().delete()
        _write_media(post, data.get("media") or [])
        kept = slots.held_slots(post) if keep_slots else {}
        post.targets.all().delete()
        if kept or data.get("next_free_slot"):
            slots.write_queued_targets(post, accounts, data.get("options") or {}, pending, keep=kept)
        else:
            _write_targets(post, accounts, data.get("options") or {}, pending=pending)
        record(post.workspace_id, membership.user, "post.edited", post,
               f"Edited post {post.pk}" + (", waiting for approval." if pending else "."))
        if pending:
            post_event(post, "post.pending_approval")
    return post


def approve_post(post: Post, actor) -> Post:
    """Release a pending post: its targets go to `scheduled` or `queued` as if an admin had written it.

    A post whose scheduled time passed while it waited is not published: it is marked `expired` and
    the editor picks a new time (409 `schedule_passed`).
    """
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        if post.approval != Approval.PENDING:
            raise ApiError("not_pending", f"This post is not waiting for approval ({post.get_approval_display()}).", 409)
        if post.scheduled_at is not None and post.scheduled_at <= timezone.now():
            expire_pending_posts(Post.objects.filter(pk=post.pk))
            passed = True
        else:
            passed = False
            _release(post, actor)
    if passed:  # raised once the expiry is committed (an error inside the block would roll it back)
        raise ApiError("schedule_passed", "The scheduled time passed while this post waited for approval; "
                       "its author can pick a new time, then it is submitted again.", 409)
    return post


def _release(post: Post, actor) -> None:
    """pending -> scheduled/queued, inside approve_post's transaction; the messages go after the commit."""
    status = TargetStatus.SCHEDULED if post.scheduled_at else TargetStatus.QUEUED
    ids = list(post.targets.filter(status=TargetStatus.PENDING_APPROVAL).values_list("pk", flat=True))
    PostTarget.objects.filter(pk__in=ids).update(status=status, updated_at=timezone.now())
    _review(post, actor, Approval.APPROVED, "")
    record(post.workspace_id, actor, "post.approved", post, f"Approved post {post.pk}.")
    post_event(post, "post.approved")
    if status == TargetStatus.QUEUED:
        transaction.on_commit(lambda: send_queued(ids))


def reject_post(post: Post, actor, comment: str) -> Post:
    """Send a pending post back to draft with the reviewer's comment; nothing is queued."""
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        if post.approval != Approval.PENDING:
            raise ApiError("not_pending", f"This post is not waiting for approval ({post.get_approval_display()}).", 409)
        post.targets.filter(status=TargetStatus.PENDING_APPROVAL).update(status=TargetStatus.DRAFT,
                                                                         updated_at=timezone.now())
        _review(post, actor, Approval.REJECTED, comment)
        record(post.workspace_id, actor, "post.rejected", post, f"Rejected post {post.pk}: {comment}")
        post_event(post, "post.rejected")
    return post


def _review(post: Post, actor, approval: str, comment: str) -> None:
    post.approval, post.review_comment = approval, comment
    post.reviewed_by = actor if getattr(actor, "is_authenticated", False) else None
    post.reviewed_at = timezone.now()
    post.save(update_fields=["approval", "review_comment", "reviewed_by", "reviewed_at", "updated_at"])


EXPIRED_MESSAGE = "The scheduled time passed while this post waited for approval; pick a new time."


def expire_pending_posts(posts: QuerySet[Post] | None = None, now=None) -> int:
    """Pending posts whose time has come are not published: their targets go back to draft, marked so."""
    now = now or timezone.now()
    posts = (posts if posts is not None else Post.objects.all()).filter(
        approval=Approval.PENDING, scheduled_at__lte=now)
    ids = list(posts.values_list("pk", flat=True))
    if ids:
        with transaction.atomic():
            PostTarget.objects.filter(post_id__in=ids, status=TargetStatus.PENDING_APPROVAL).update(
                status=TargetStatus.DRAFT, last_error_message=EXPIRED_MESSAGE, updated_at=now)
            Post.objects.filter(pk__in=ids, approval=Approval.PENDING).update(approval=Approval.EXPIRED, updated_at=now)
    return len(ids)


def _write_media(post: Post, media: list[dict]) -> None:
    PostMedia.objects.bulk_create(
        PostMedia(post=post, url=m["url"], type=m["type"], alt_text=m.get("alt_text", ""), position=i)
        for i, m in enumerate(media)
    )


def _write_targets(post: Post, accounts: list, options: dict, pending: bool = False) -> None:
    status = (TargetStatus.PENDING_APPROVAL if pending
              else TargetStatus.SCHEDULED if post.scheduled_at else TargetStatus.QUEUED)
    PostTarget.objects.bulk_create(
        PostTarget(post=post, account=a, status=status, scheduled_at=post.scheduled_at,
                   options=options.get(a.platform) or {},
                   first_comment=post.first_comment if a.platform != "tiktok" else "")
        for a in accounts
    )
    if status == TargetStatus.QUEUED:
        ids = list(post.targets.values_list("pk", flat=True))
        transaction.on_commit(lambda: send_queued(ids))


def cancel_post(post: Post, actor=None) -> int:
    """Cancel every target that has not started (one conditional UPDATE). Returns how many.

    A worker holding the row (`publishing`) is never cancelled; a target waiting in `queued` whose
    commit may have reached the platform is not either.
    """
    with transaction.atomic():
        count = cancel_targets(PostTarget.objects.filter(post=post))
        record(post.workspace_id, actor, "post.deleted", post, f"Cancelled {count} target(s) of post {post.pk}.")
    return count


def cancel_targets(targets: QuerySet[PostTarget]) -> int:
    return (targets.filter(status__in=NOT_STARTED, commit_started_at__isnull=True)
            .exclude(step__in=[Step.COMMITTED, Step.DONE])
            .update(status=TargetStatus.CANCELLED, updated_at=timezone.now()))


def get_platform_posts_in_workspace(workspace, post_id: int) -> list[tuple[int, int, str]]:
    """(target id, account id, platform post id) of one of the workspace's posts, for the analytics API.

    Raises LookupError when the post is not the workspace's (the caller answers 404). Targets not yet
    published have an empty platform post id.
    """
    if not Post.objects.filter(pk=post_id, workspace=workspace).exists():
        raise LookupError(post_id)
    return list(PostTarget.objects.filter(post_id=post_id).order_by("pk").values_list("pk", "account_id", "platform_post_id"))


def retry_post(post: Post, actor=None) -> list[int]:
    """Queue the failed targets again from scratch, and resume the resumable unconfirmed ones. Returns their ids."""
    ids = retry_targets(PostTarget.objects.filter(post=post))
    record(post.workspace_id, actor, "post.retried", post, f"Retried {len(ids)} target(s) of post {post.pk}.")
    return ids


def retry_targets(targets: QuerySet[PostTarget]) -> list[int]:
    """retry_post() for only the given targets (the admin's selection). Returns their ids.

    A failed target never went out (engine.mark_failed ends a possibly-sent one `unconfirmed`), so its
    handles are wiped. An unconfirmed TikTok target with a saved publish_id (engine.can_resume) keeps
    every handle and only polls TikTok again: it can never be posted twice.
    """
    with transaction.atomic():
        locked = list(PostTarget.objects.select_for_update().filter(
            pk__in=targets.values("pk"), status__in=[TargetStatus.FAILED, TargetStatus.UNCONFIRMED]))
        failed = [t.pk for t in locked if t.status == TargetStatus.FAILED]
        resumed = [t.pk for t in locked if t.status == TargetStatus.UNCONFIRMED and can_resume(t)]
        now = timezone.now()
        PostTarget.objects.filter(pk__in=failed, status=TargetStatus.FAILED).update(
            status=TargetStatus.QUEUED, step=Step.NONE, container_ids={}, publish_id="", commit_started_at=None,
            attempts=0, polls=0, last_error_code="", last_error_message="", lease_until=None, updated_at=now)
        PostTarget.objects.filter(pk__in=resumed, status=TargetStatus.UNCONFIRMED).update(
            status=TargetStatus.PUBLISHING, attempts=0, polls=0, last_error_code="", last_error_message="",
            lease_until=None, updated_at=now)
        ids = failed + resumed
        transaction.on_commit(lambda: send_queued(ids))
    return ids


def enqueue_due_targets(now=None, limit: int = 1000, track: Callable[[list[int]], Iterable[int]] = iter,
                        refused: list[int] | None = None) -> list[int]:
    """Move due `scheduled` targets to `queued`, each with one conditional UPDATE, and send them.

    Two schedulers running at once both see the row, but only the UPDATE that still finds it
    `scheduled` changes it, and only that run sends the message. `track` wraps the candidate ids
    (publish_due's progress bar). Messages go after the commit; the ids the broker refused (put back to
    `scheduled` by send_queued) are added to `refused`.
    """
    now = now or timezone.now()
    expire_pending_posts(now=now)
    candidates = list(slots.not_held_back(PostTarget.objects.filter(status=TargetStatus.SCHEDULED, scheduled_at__lte=now))
                      .order_by("scheduled_at").values_list("pk", flat=True)[:limit])
    queued = [pk for pk in track(candidates) if claim_due_target(pk)]
    refused = refused if refused is not None else []
    transaction.on_commit(lambda: refused.extend(send_queued(queued)))
    return queued


def claim_due_target(target_id: int) -> bool:
    """scheduled -> queued in one conditional UPDATE: True only for the one caller that changed it."""
    return bool(PostTarget.objects.filter(pk=target_id, status=TargetStatus.SCHEDULED).update(
        status=TargetStatus.QUEUED, last_error_message="", updated_at=timezone.now()))


# ---- media upload -------------------------------------------------------------------------------

@dataclass(frozen=True)
class StoredMedia:
    url: str
    type: str
    size: int
    content_type: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    frame_rate: float | None = None
    video_codec: str = ""
    audio_codec: str = ""


MEDIA_SIGNATURES = [  # (magic bytes at offset, type, extension, content type)
    (0, b"\xff\xd8\xff", "image", ".jpg", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image", ".png", "image/png"),
    (8, b"WEBP", "image", ".webp", "image/webp"),
    (4, b"ftypqt", "video", ".mov", "video/quicktime"),
    (4, b"ftyp", "video", ".mp4", "video/mp4"),
    (0, b"\x1a\x45\xdf\xa3", "video", ".webm", "video/webm"),
]


def store_media(workspace, upload) -> StoredMedia:
    """Decode an uploaded image or video, save it in default storage; return its public absolute URL.

    Raises ValidationError for a type we do not take, a file over the size limit, or one that does not
    decode (media_info: Pillow for images, PyAV for videos): nothing is stored then.
    """
    head = upload.read(16)
    upload.seek(0)
    kind = next((sig for sig in MEDIA_SIGNATURES if head[sig[0]:sig[0] + len(sig[1])] == sig[1]), None)
    if kind is None:
        raise ValidationError({"file": ["Upload a JPEG, PNG or WebP image, or an MP4, MOV or WebM video."]})
    _, _, media_type, extension, content_type = kind
    limit = settings.MEDIA_MAX_IMAGE_BYTES if media_type == "image" else settings.MEDIA_MAX_VIDEO_BYTES
    if upload.size > limit:
        raise ValidationError({"file": [f"This {media_type} is larger than {filesizeformat(limit)}."]})
    try:
        info = media_info.probe_file(upload, media_type)
    except media_info.UnreadableMediaError as error:
        raise ValidationError({"file": [str(error)]})
    name = default_storage.save(f"uploads/w{workspace.pk}/{uuid.uuid4().hex}{extension}", upload)
    url = f"{settings.PUBLIC_BASE_URL}{settings.MEDIA_URL}{name}"
    return StoredMedia(url=url, type=media_type, size=upload.size, content_type=content_type,
                       width=info.width, height=info.height, duration=info.duration, frame_rate=info.frame_rate,
                       video_codec=info.video_codec, audio_codec=info.audio_codec)


def media_url_errors(url: str, workspace=None) -> str:
    """'' when the platforms can fetch the URL: https anywhere, or our own public media URL.

    The path must already be normalised (no `.`/`..` segments, even percent-encoded): such a URL
    names another file than it seems to, so it is refused for every platform alike. One of our own
    uploads must be `workspace`'s (uploads are stored under uploads/w<workspace id>/).
    """
    if media_info.has_dot_segments(url):
        return "Use the media URL as it is, without '.' or '..' segments in its path."
    own = media_info.own_media_path(url)
    if workspace is not None and own is not None and not own.startswith(f"uploads/w{workspace.pk}/"):
        return "This upload is not one of this workspace's: upload the file here (POST /api/v1/media/)."
    if url.startswith("https://") or url.startswith(f"{settings.PUBLIC_BASE_URL}{settings.MEDIA_URL}"):
        return ""
    return "Use a public https URL (the platforms download the media from it)."


def hosted_media_errors(url: str, media_type: str) -> str:
    """'' unless `url` is one of our uploads that is missing or does not decode as `media_type`."""
    try:
        media_info.probe_url(url, media_type)
    except media_info.UnreadableMediaError as error:
        return str(error)
    return ""
