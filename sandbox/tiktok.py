"""The TikTok double: Login Kit OAuth, Content Posting, Display API, under /sandbox/tiktok-api/.

Every API answer uses TikTok's envelope {"data", "error": {"code": "ok", "message", "log_id"}}; the
OAuth endpoints answer flat errors. A publish's status is derived from time since its media arrived:
PROCESSING_* for one step, then PUBLISH_COMPLETE (or SEND_TO_USER_INBOX), with the public post id
one more step later. Ref: platform-apis.md §2.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import answers, clock, failures
from .models import AuthCode, Failure, Post, PublishJob, TikTokCreator, Token, new_token
from .pages import post_url

ACCESS_LIFETIME = 7200  # seconds (2026 docs: 2 h)
REFRESH_LIFETIME = 15552000  # seconds (180 days)
CODE_LIFETIME = timedelta(minutes=10)
PRIVACY_LEVELS = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]
USER_FIELD_SCOPES = {
    "open_id": "user.info.basic", "union_id": "user.info.basic", "avatar_url": "user.info.basic",
    "avatar_url_100": "user.info.basic", "avatar_large_url": "user.info.basic", "display_name": "user.info.basic",
    "bio_description": "user.info.profile", "profile_deep_link": "user.info.profile", "is_verified": "user.info.profile",
    "username": "user.info.profile", "follower_count": "user.info.stats", "following_count": "user.info.stats",
    "likes_count": "user.info.stats", "video_count": "user.info.stats",
}
VIDEO_FIELDS = {"id", "create_time", "cover_image_url", "share_url", "video_description", "duration", "height",
                "width", "title", "embed_html", "embed_link", "like_count", "comment_count", "share_count",
                "view_count"}


class TikTokError(Exception):
    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def api_view(handler):
    """Wrap an API handler: failure injection, bearer token, JSON body, envelope."""
    @csrf_exempt
    def view(request: HttpRequest, **kwargs) -> HttpResponse:
        failure = failures.intercept("tiktok", request, request.path)
        if failure is not None:
            return failure
        try:
            creator, token = _authenticate(request)
            return answers.tiktok_ok(handler(request, creator, token, _json(request)))
        except TikTokError as error:
            return answers.tiktok_error(error.code, error.message, error.status)
    view.__name__ = handler.__name__
    return view


def _authenticate(request: HttpRequest) -> tuple[TikTokCreator, Token]:
    header = request.headers.get("Authorization", "")
    raw = header[7:] if header.startswith("Bearer ") else ""
    token = Token.objects.filter(token=raw, kind=Token.Kind.TIKTOK_ACCESS).select_related("creator").first()
    if token is None or not token.is_valid():
        raise TikTokError("access_token_invalid", "The access token is invalid or not found in the request.", 401)
    return token.creator, token


def _json(request: HttpRequest) -> dict:
    if not request.body or request.method == "GET":
        return {}
    try:
        body = json.loads(request.body)
    except ValueError:
        raise TikTokError("invalid_param", "The request body is not valid JSON.", 400) from None
    return body if isinstance(body, dict) else {}


def _require(token: Token, scope: str) -> None:
    if scope not in token.scopes:
        raise TikTokError("scope_not_authorized", f"The user did not authorize the scope required for completing "
                                                  f"this request: {scope}.", 401)


# ---- OAuth --------------------------------------------------------------------------------------

@csrf_exempt
@require_http_methods(["POST"])
def oauth_token(request: HttpRequest) -> HttpResponse:
    """POST /v2/oauth/token/: authorization_code and refresh_token grants, rotating refresh tokens."""
    failure = failures.intercept("tiktok", request, request.path)
    if failure is not None:
        return failure
    p = request.POST
    if p.get("client_key") != settings.TIKTOK_CLIENT_KEY or p.get("client_secret") != settings.TIKTOK_CLIENT_SECRET:
        return answers.tiktok_oauth_error("invalid_client", "Client key or secret is invalid.", 401)
    grant = p.get("grant_type")
    if grant == "authorization_code":
        return _exchange_code(p)
    if grant == "refresh_token":
        return _refresh(p.get("refresh_token", ""))
    return answers.tiktok_oauth_error("unsupported_grant_type", "The grant type is not supported.")


def _exchange_code(p) -> HttpResponse:
    with transaction.atomic():
        code = AuthCode.objects.select_for_update().filter(code=p.get("code", ""), platform="tiktok").first()
        if code is None or code.used_at or clock.now() - code.created_at > CODE_LIFETIME:
            return answers.tiktok_oauth_error("invalid_grant", "Authorization code is expired.")
        if p.get("redirect_uri") != code.redirect_uri:
            return answers.tiktok_oauth_error("invalid_request", "Redirect URI does not match the authorize request.")
        code.used_at = clock.now()
        code.save(update_fields=["used_at"])
        return JsonResponse(_issue_pair(code.creator, code.scopes))


def _refresh(raw: str) -> HttpResponse:
    with transaction.atomic():
        old = Token.objects.select_for_update().filter(token=raw, kind=Token.Kind.TIKTOK_REFRESH).first()
        if old is None or not old.is_valid():
            return answers.tiktok_oauth_error("invalid_grant", "Refresh token is invalid or expired.")
        # Rotation (2026 docs): the refresh token just used stops working.
        old.revoked_at = clock.now()
        old.save(update_fields=["revoked_at"])
        return JsonResponse(_issue_pair(old.creator, old.scopes))


def _issue_pair(creator: TikTokCreator, scopes: list[str]) -> dict:
    now = clock.now()
    access = Token.objects.create(token=new_token("act."), kind=Token.Kind.TIKTOK_ACCESS, creator=creator,
                                  scopes=scopes, expires_at=now + timedelta(seconds=ACCESS_LIFETIME))
    refresh = Token.objects.create(token=new_token("rft."), kind=Token.Kind.TIKTOK_REFRESH, creator=creator,
                                   scopes=scopes, expires_at=now + timedelta(seconds=REFRESH_LIFETIME))
    return {"access_token": access.token, "expires_in": ACCESS_LIFETIME, "open_id": creator.open_id,
            "refresh_expires_in": REFRESH_LIFETIME, "refresh_token": refresh.token, "scope": ",".join(scopes),
            "token_type": "Bearer"}


@csrf_exempt
@require_http_methods(["POST"])
def oauth_revoke(request: HttpRequest) -> HttpResponse:
    failure = failures.intercept("tiktok", request, request.path)
    if failure is not None:
        return failure
    p = request.POST
    if p.get("client_key") != settings.TIKTOK_CLIENT_KEY or p.get("client_secret") != settings.TIKTOK_CLIENT_SECRET:
        return answers.tiktok_oauth_error("invalid_client", "Client key or secret is invalid.", 401)
    token = Token.objects.filter(token=p.get("token", ""), kind=Token.Kind.TIKTOK_ACCESS).first()
    if token is None:
        return answers.tiktok_oauth_error("invalid_request", "Access token is invalid.")
    Token.objects.filter(creator=token.creator, revoked_at__isnull=True).update(revoked_at=clock.now())
    return JsonResponse({})


# ---- Display API --------------------------------------------------------------------------------

def _fields(request: HttpRequest, allowed: set[str]) -> list[str]:
    names = [f for f in request.GET.get("fields", "").split(",") if f]
    unknown = [f for f in names if f not in allowed]
    if unknown:
        raise TikTokError("invalid_param", f"Invalid fields: {','.join(unknown)}.", 400)
    return names


def user_info(request, creator: TikTokCreator, token: Token, body: dict) -> dict:
    from . import metrics

    names = _fields(request, set(USER_FIELD_SCOPES)) or ["open_id"]
    for name in names:
        _require(token, USER_FIELD_SCOPES[name])
    videos = list(creator.videos.filter(is_published=True))
    values = {
        "open_id": creator.open_id, "union_id": creator.union_id,
        "avatar_url": f"https://picsum.photos/seed/{creator.username}/168",
        "avatar_url_100": f"https://picsum.photos/seed/{creator.username}/100",
        "avatar_large_url": f"https://picsum.photos/seed/{creator.username}/720",
        "display_name": creator.display_name, "bio_description": "Sandbox creator",
        "profile_deep_link": f"https://www.tiktok.com/@{creator.username}", "is_verified": False,
        "username": creator.username, "follower_count": metrics.followers(creator.base_followers, creator.created_at),
        "following_count": 312, "likes_count": sum(metrics.post_counters(v)["likes"] for v in videos),
        "video_count": len(videos),
    }
    return {"user": {name: values[name] for name in names}}


def video_list(request, creator: TikTokCreator, token: Token, body: dict) -> dict:
    _require(token, "video.list")
    names = _fields(request, VIDEO_FIELDS) or ["id"]
    advance_jobs(creator.publish_jobs.all())
    max_count = body.get("max_count", 10)
    if not isinstance(max_count, int) or not 1 <= max_count <= 20:
        raise TikTokError("invalid_param", "max_count must be between 1 and 20.", 400)
    videos = creator.videos.filter(is_published=True, created_at__lte=clock.now())
    cursor = body.get("cursor")
    if cursor:
        videos = videos.filter(created_at__lt=_from_ms(cursor))
    page = list(videos[:max_count + 1])
    has_more = len(page) > max_count
    page = page[:max_count]
    next_cursor = int(page[-1].created_at.timestamp() * 1000) if page else int(clock.now().timestamp() * 1000)
    return {"videos": [_video(v, names) for v in page], "cursor": next_cursor, "has_more": has_more}


def video_query(request, creator: TikTokCreator, token: Token, body: dict) -> dict:
    _require(token, "video.list")
    names = _fields(request, VIDEO_FIELDS) or ["id"]
    ids = ((body.get("filters") or {}).get("video_ids")) or []
    if not isinstance(ids, list) or not ids or len(ids) > 20:
        raise TikTokError("invalid_param", "filters.video_ids must hold 1 to 20 ids.", 400)
    advance_jobs(creator.publish_jobs.all())
    videos = creator.videos.filter(post_id__in=[str(i) for i in ids], is_published=True)
    return {"videos": [_video(v, names) for v in videos], "cursor": 0, "has_more": False}


def _from_ms(value):
    from datetime import UTC, datetime

    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise TikTokError("invalid_param", "cursor must be a timestamp in milliseconds.", 400) from None


def _video(post: Post, names: list[str]) -> dict:
    from . import metrics

    c = metrics.post_counters(post)
    values = {
        "id": post.post_id, "create_time": int(post.created_at.timestamp()),
        "cover_image_url": f"https://picsum.photos/seed/{post.post_id}/540/960?x-expires=3600",
        # TikTok: https://www.tiktok.com/@{username}/video/{id}; the sandbox's own page.
        "share_url": post_url(post), "video_description": post.message,
        "duration": 15, "height": 1920, "width": 1080, "title": post.message[:150],
        "embed_html": f'<blockquote class="tiktok-embed" data-video-id="{post.post_id}"></blockquote>',
        "embed_link": f"https://www.tiktok.com/embed/v2/{post.post_id}", "like_count": c["likes"],
        "comment_count": c["comments"], "share_count": c["shares"], "view_count": c["views"],
    }
    return {name: values[name] for name in names}


# ---- Content Posting ----------------------------------------------------------------------------

def creator_info(request, creator: TikTokCreator, token: Token, body: dict) -> dict:
    _require(token, "video.publish")
    return {"creator_avatar_url": f"https://picsum.photos/seed/{creator.username}/168",
            "creator_username": creator.username, "creator_nickname": creator.display_name,
            "privacy_level_options": PRIVACY_LEVELS, "comment_disabled": False, "duet_disabled": False,
            "stitch_disabled": True, "max_video_post_duration_sec": 600}


def video_init(request, creator: TikTokCreator, token: Token, body: dict) -> dict:
    _require(token, "video.publish")
    post_info = body.get("post_info") or {}
    _check_privacy(post_info)
    return _init_video(request, creator, body, mode="DIRECT_POST", post_info=post_info)


def inbox_video_init(request, creator: TikTokCreator, token: Token, body: dict) -> dict:
    _require(token, "video.upload")
    return _init_video(request, creator, body, mode="MEDIA_UPLOAD", post_info={})


def _check_privacy(post_info: dict) -> None:
    if post_info.get("privacy_level") not in PRIVACY_LEVELS:
        raise TikTokError("privacy_level_option_mismatch", "privacy_level must be one of the creator's "
                                                           "privacy_level_options.", 400)


def _init_video(request, creator, body: dict, *, mode: str, post_info: dict) -> dict:
    source = body.get("source_info") or {}
    kind = source.get("source")
    if kind == "FILE_UPLOAD":
        size, chunk, count = source.get("video_size"), source.get("chunk_size"), source.get("total_chunk_count")
        if not all(isinstance(v, int) and v > 0 for v in (size, chunk, count)) or count != max(size // chunk, 1):
            raise TikTokError("invalid_param", "video_size, chunk_size and total_chunk_count do not agree.", 400)
    elif kind == "PULL_FROM_URL":
        if not str(source.get("video_url", "")).startswith(("http://", "https://")):
            raise TikTokError("invalid_param", "source_info.video_url is required.", 400)
    else:
        raise TikTokError("invalid_param", "source_info.source must be FILE_UPLOAD or PULL_FROM_URL.", 400)
    job = _create_job(creator, mode=mode, media_type="VIDEO", source=kind, post_info=post_info,
                      video_size=source.get("video_size") or 0, prefix="v_pub_file" if kind == "FILE_UPLOAD"
                      else "v_pub_url")
    data = {"publish_id": job.publish_id}
    if kind == "FILE_UPLOAD":
        data["upload_url"] = f"{settings.SANDBOX_URL}/tiktok-upload/video/?upload_id={job.pk}&upload_token={job.upload_token}"
    return data


def content_init(request, creator: TikTokCreator, token: Token, body: dict) -> dict:
    mode = body.get("post_mode")
    if mode not in ("DIRECT_POST", "MEDIA_UPLOAD"):
        raise TikTokError("invalid_param", "post_mode must be DIRECT_POST or MEDIA_UPLOAD.", 400)
    _require(token, "video.publish" if mode == "DIRECT_POST" else "video.upload")
    if body.get("media_type") != "PHOTO":
        raise TikTokError("invalid_param", "media_type must be PHOTO.", 400)
    post_info = body.get("post_info") or {}
    if mode == "DIRECT_POST":
        _check_privacy(post_info)
    source = body.get("source_info") or {}
    images = source.get("photo_images") or []
    if source.get("source") != "PULL_FROM_URL" or not isinstance(images, list) or not 1 <= len(images) <= 35:
        raise TikTokError("invalid_param", "Photos need source PULL_FROM_URL and 1 to 35 photo_images.", 400)
    job = _create_job(creator, mode=mode, media_type="PHOTO", source="PULL_FROM_URL", post_info=post_info,
                      video_size=0, prefix="p_pub_url")
    return {"publish_id": job.publish_id}


def _create_job(creator, *, mode, media_type, source, post_info, video_size, prefix) -> PublishJob:
    failure = failures.take("tiktok", [Failure.Kind.PUBLISH_FAILED])
    now = clock.now()
    return PublishJob.objects.create(
        publish_id=f"{prefix}~v2-1.{7300000000000000000 + secrets.randbelow(10 ** 17)}", creator=creator, mode=mode,
        media_type=media_type, source=source, title=str(post_info.get("title") or post_info.get("description") or ""),
        privacy_level=str(post_info.get("privacy_level") or ""), video_size=video_size,
        upload_token=secrets.token_urlsafe(16) if source == "FILE_UPLOAD" else "",
        # PULL_FROM_URL: the download takes one step; FILE_UPLOAD: done when the last chunk lands.
        media_ready_at=None if source == "FILE_UPLOAD" else now + _step(),
        fail_reason=(failure.fail_reason or "internal") if failure else "",
    )


def _step() -> timedelta:
    return timedelta(seconds=settings.SANDBOX_TIKTOK_STEP_SECONDS)


CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


@csrf_exempt
@require_http_methods(["PUT"])
def upload(request: HttpRequest) -> HttpResponse:
    """PUT {upload_url}: one chunk with Content-Range; 206 until the last byte, then 201. Empty body."""
    failure = failures.intercept("tiktok", request, request.path)
    if failure is not None:
        return failure
    job = PublishJob.objects.filter(pk=request.GET.get("upload_id") or 0,
                                    upload_token=request.GET.get("upload_token", "x")).first()
    if job is None or clock.now() - job.created_at > timedelta(hours=1):
        return answers.tiktok_error("invalid_file_upload", "The upload URL is invalid or expired.", 404)
    match = CONTENT_RANGE.match(request.headers.get("Content-Range", ""))
    if not match:
        return answers.tiktok_error("invalid_file_upload", "Content-Range is missing or malformed.", 400)
    first, last, total = (int(g) for g in match.groups())
    if total != job.video_size or first != job.uploaded_bytes or len(request.body) != last - first + 1:
        return answers.tiktok_error("invalid_file_upload", "Chunks must be uploaded in order and match "
                                                           "Content-Range and video_size.", 416)
    job.uploaded_bytes = last + 1
    done = job.uploaded_bytes == job.video_size
    if done:
        job.media_ready_at = clock.now()
    job.save(update_fields=["uploaded_bytes", "media_ready_at"])
    return HttpResponse(status=201 if done else 206)


def status_fetch(request, creator: TikTokCreator, token: Token, body: dict) -> dict:
    if not ({"video.publish", "video.upload"} & set(token.scopes)):
        _require(token, "video.publish")
    job = PublishJob.objects.filter(publish_id=str(body.get("publish_id", ""))).first()
    if job is None:
        raise TikTokError("invalid_publish_id", "The publish_id does not exist.", 400)
    if job.creator_id != creator.pk:
        raise TikTokError("token_not_authorized_for_specified_publish_id",
                          "The access token is not authorized for this publish_id.", 400)
    advance_jobs([job])
    return publish_state(job)


def publish_state(job: PublishJob) -> dict:
    """{status, fail_reason, publicaly_available_post_id (sic), uploaded_bytes, downloaded_bytes} right now."""
    status = job_status(job)
    public = status == "PUBLISH_COMPLETE" and job.post_id and job.post.is_published \
        and clock.now() >= job.media_ready_at + 2 * _step()
    uploaded = job.uploaded_bytes if job.source == "FILE_UPLOAD" else 0
    downloaded = job.video_size if job.source == "PULL_FROM_URL" and status != "PROCESSING_DOWNLOAD" else 0
    return {"status": status, "fail_reason": job.fail_reason if status == "FAILED" else "",
            "publicaly_available_post_id": [int(job.post.post_id)] if public else [],
            "uploaded_bytes": uploaded, "downloaded_bytes": downloaded}


def job_status(job: PublishJob) -> str:
    now = clock.now()
    processing = "PROCESSING_UPLOAD" if job.source == "FILE_UPLOAD" else "PROCESSING_DOWNLOAD"
    if job.media_ready_at is None or now < job.media_ready_at:
        return processing
    if job.fail_reason:
        return "FAILED"
    if now < job.media_ready_at + _step():
        return "PROCESSING_UPLOAD"
    return "SEND_TO_USER_INBOX" if job.mode == "MEDIA_UPLOAD" else "PUBLISH_COMPLETE"


def advance_jobs(jobs) -> None:
    """Create the TikTok video of every Direct Post that has completed (idempotent)."""
    for job in jobs:
        if job.post_id or job_status(job) != "PUBLISH_COMPLETE":
            continue
        with transaction.atomic():
            locked = PublishJob.objects.select_for_update().get(pk=job.pk)
            if locked.post_id:
                job.post = locked.post
                continue
            post = Post.objects.create(
                post_id=str(7300000000000000000 + secrets.randbelow(10 ** 17)), network=Post.Network.TIKTOK,
                creator=job.creator, media_type=job.media_type, message=job.title,
                is_published=job.privacy_level == "PUBLIC_TO_EVERYONE",
                created_at=job.media_ready_at + _step(), seed=secrets.randbelow(10_000),
            )
            locked.post = post
            locked.save(update_fields=["post"])
            job.post = post


user_info_view = api_view(user_info)
video_list_view = api_view(video_list)
video_query_view = api_view(video_query)
creator_info_view = api_view(creator_info)
video_init_view = api_view(video_init)
inbox_video_init_view = api_view(inbox_video_init)
content_init_view = api_view(content_init)
status_fetch_view = api_view(status_fetch)
