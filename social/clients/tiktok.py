"""TikTok client: Login Kit v2 OAuth, Content Posting API, Display API.

Every API answer carries {"data": ..., "error": {"code", "message", "log_id"}}; any code other than
"ok" is a failure, even under HTTP 200 (classify_tiktok_error). OAuth endpoints answer flat
errors instead (classify_tiktok_oauth_error).
Ref: https://developers.tiktok.com/doc/tiktok-api-v2-introduction
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from unipulse.platform_errors import (
    BlockedError,
    InvalidRequestError,
    PermissionMissingError,
    PlatformError,
    RateLimitedError,
    ReauthRequiredError,
    TransientError,
)

from . import http, ratelimit


def api_url(path: str) -> str:
    return f"{settings.TIKTOK_API_URL}/{path.lstrip('/')}"


def user_key(account) -> str:
    return ratelimit.tiktok_user_key(account.external_id or f"account-{account.pk}")


# ---- what TikTok's answers mean (the Dialects its calls pass to http.request) --------------------

TIKTOK_REAUTH = {"access_token_invalid", "invalid_grant", "token_expired", "auth_removed"}
TIKTOK_PERMISSION = {"scope_not_authorized", "scope_permission_missed"}
TIKTOK_BLOCKED = {
    "spam_risk_too_many_posts", "spam_risk_user_banned_from_posting", "spam_risk_too_many_pending_share",
    "spam_risk_text", "spam_risk", "reached_active_user_cap",
}
# An app TikTok has not audited yet may post only to private creator accounts: waiting never fixes
# that (a block would retry every 24 h forever), the creator or the app owner must act.
TIKTOK_UNAUDITED = "unaudited_client_can_only_post_to_private_accounts"


def classify_tiktok_error(status, body, headers, account=None, pause_keys=()) -> PlatformError | None:
    err = body.get("error") if isinstance(body, dict) else None
    code = str(err.get("code")) if isinstance(err, dict) and err.get("code") is not None else None
    if code == "ok" and status < 400:
        return None
    if code is None and status < 400:
        if isinstance(body, dict):
            return None  # e.g. the upload endpoint, which answers without the envelope
        return TransientError("TikTok sent a response we could not read.", platform="tiktok", status=status)
    log_id = str(err.get("log_id") or "") if isinstance(err, dict) else ""
    text = http.safe_text(err.get("message") if isinstance(err, dict) else "")
    common = {"platform": "tiktok", "status": status, "code": code or status, "trace_id": log_id}
    return _tiktok_error(code, status, text, headers, pause_keys, common)


def classify_tiktok_oauth_error(status, body, account=None, headers=None, pause_keys=()) -> PlatformError | None:
    # TikTok's OAuth endpoints answer errors flat: {"error": "invalid_grant", "error_description": ..., "log_id": ...}
    if not isinstance(body, dict):
        return TransientError("TikTok's sign-in service sent a response we could not read.", platform="tiktok", status=status)
    code = body.get("error")
    if isinstance(code, dict):  # some deployments wrap OAuth errors in the API envelope
        return classify_tiktok_error(status, body, headers or {}, account, pause_keys)
    if not code and status < 400:
        return None
    text = http.safe_text(body.get("error_description") or "")
    common = {"platform": "tiktok", "status": status, "code": code or status, "trace_id": str(body.get("log_id") or "")}
    if code in ("invalid_grant", "access_denied"):
        return ReauthRequiredError("Reconnect your TikTok account: TikTok no longer accepts its authorisation.", **common)
    if code == "rate_limit_exceeded" or status == 429:
        # Paused as the app, like the enveloped answer: no further sign-in call goes out until the wait is over.
        wait, scope = _pause_tiktok(headers or {}, pause_keys)
        return RateLimitedError(f"TikTok's sign-in service is rate limiting us; retrying in {wait} s.",
                                retry_after=wait, scope=scope, **common)
    if status >= 500:
        return TransientError(f"TikTok's sign-in service had a temporary problem: {text}", **common)
    return InvalidRequestError(f"TikTok refused the sign-in request ({code}): {text}", **common)


def _pause_tiktok(headers, pause_keys) -> tuple[int, str]:
    """Pause the caller's TikTok scope after a 429 for Retry-After (or a growing backoff): (seconds, scope).

    The scope is the one paused: 'user' (tiktok:user:<open_id>) or 'app' (tiktok:app, the OAuth endpoints).
    """
    key = pause_keys[0] if pause_keys else "tiktok:app"
    wait = ratelimit.backoff_after_429(key, headers.get("Retry-After"))
    ratelimit.pause(key, wait, "TikTok rate_limit_exceeded")
    return wait, key.split(":")[1]


def _tiktok_error(code, status, text, headers, pause_keys, common) -> PlatformError:
    if code in TIKTOK_REAUTH:
        return ReauthRequiredError("Reconnect your TikTok account: its access was revoked or expired.", **common)
    if code in TIKTOK_PERMISSION:
        return PermissionMissingError(f"TikTok permission missing: {text}", permission=http.permission_in(text), **common)
    if code == "rate_limit_exceeded" or status == 429:
        wait, scope = _pause_tiktok(headers, pause_keys)
        return RateLimitedError(f"TikTok rate limit reached; retrying in {wait} s.", retry_after=wait, scope=scope, **common)
    if code == TIKTOK_UNAUDITED:
        return InvalidRequestError(
            "TikTok accepts posts from this app only on private TikTok accounts until TikTok has audited the app: "
            "set the TikTok account to private (or complete TikTok's app audit), then retry.", **common)
    if code in TIKTOK_BLOCKED or (code or "").startswith("spam_risk"):
        return BlockedError(f"TikTok blocked posting for this account ({code}): {text}", until=timezone.now() + timedelta(hours=24), **common)
    if code == "internal_error" or status >= 500:
        return TransientError(f"TikTok had a temporary problem: {text}", **common)
    return InvalidRequestError(f"TikTok refused the request ({code}): {text}", **common)


# TikTok's answers that the access token (not the grant) is no longer good: a refresh may cure them.
TIKTOK_RENEWABLE = {"access_token_invalid", "token_expired"}


def _is_renewable(error: PlatformError) -> bool:
    return isinstance(error, ReauthRequiredError) and error.code in TIKTOK_RENEWABLE


def _backoff_cleared(call: http.Call, error: PlatformError | None) -> PlatformError | None:
    if error is None:  # an answer at last: the next 429 of this scope starts its wait from the beginning
        ratelimit.clear_backoff(call.pause_keys[0] if call.pause_keys else "tiktok:app")
    return error


def _classify(call: http.Call, response, body) -> PlatformError | None:
    return _backoff_cleared(call, classify_tiktok_error(
        response.status_code, body, response.headers, call.account, call.pause_keys))


def _classify_oauth(call: http.Call, response, body) -> PlatformError | None:
    return _backoff_cleared(call, classify_tiktok_oauth_error(
        response.status_code, body, call.account, response.headers, call.pause_keys))


API = http.Dialect(classify=_classify, renewable=_is_renewable)
# The OAuth endpoints answer flat errors, and a refused token there is never renewed (that is the renewal).
OAUTH = http.Dialect(classify=_classify_oauth)


def call(account, method: str, path: str, *, endpoint: str, params: dict | None = None, json: Any = None,
         token: str | None = None) -> dict:
    """One TikTok API call as `account`; returns the envelope's `data` object."""
    if token is None:
        http.refresh_if_needed(account)
    headers = {"Authorization": f"Bearer {token or account.access_token}"}
    if json is not None:
        headers["Content-Type"] = "application/json; charset=UTF-8"
    body = http.request(
        "tiktok", method, api_url(path), endpoint=endpoint, dialect=API, account=account, params=params, json=json,
        headers=headers, pause_keys=(user_key(account),),
    ).data
    return body.get("data") or {}


def oauth_call(path: str, *, endpoint: str, data: dict, account=None) -> dict:
    """A form POST to TikTok's OAuth endpoints (token, refresh, revoke); returns the flat body."""
    return http.request(
        "tiktok", "POST", api_url(path), endpoint=endpoint, dialect=OAUTH, data=data,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cache-Control": "no-cache"},
        pause_keys=("tiktok:app",),
    ).data


# Sections below belong to the app that uses them; add functions under your section only.

# ==== accounts, OAuth (social app) ================================================================

@dataclass(frozen=True)
class TikTokProfile:
    open_id: str
    display_name: str
    username: str
    avatar_url: str
    follower_count: int | None


# Ref: https://developers.tiktok.com/doc/oauth-user-access-token-management
def exchange_code(code: str, redirect_uri: str) -> TikTokGrant:
    """Exchange a Login Kit code (single-use) for tokens. Errors come flat, not in the envelope."""
    body = oauth_call("v2/oauth/token/", endpoint="oauth.token", data={
        "client_key": settings.TIKTOK_CLIENT_KEY, "client_secret": settings.TIKTOK_CLIENT_SECRET,
        "code": code, "grant_type": "authorization_code", "redirect_uri": redirect_uri,
    })
    return parse_grant(body)


def profile_fields(scopes: list[str]) -> list[str]:
    """User-info fields the granted scopes allow: asking for one more fails the whole call."""
    fields = ["open_id", "union_id", "avatar_url", "display_name"]
    if "user.info.profile" in scopes:
        fields.append("username")
    if "user.info.stats" in scopes:
        fields.append("follower_count")
    return fields


# Ref: https://developers.tiktok.com/doc/tiktok-api-v2-get-user-info
def get_user_info(account, fields: list[str]) -> TikTokProfile:
    """The account's profile. Raises PermissionMissingError if a field's scope was not granted."""
    data = call(account, "GET", "v2/user/info/", endpoint="user.info", params={"fields": ",".join(fields)})
    user = data.get("user") or {}
    followers = user.get("follower_count")
    return TikTokProfile(
        open_id=str(user.get("open_id") or ""), display_name=str(user.get("display_name") or ""),
        username=str(user.get("username") or ""), avatar_url=str(user.get("avatar_url") or ""),
        follower_count=int(followers) if followers is not None else None,
    )


# Ref: https://developers.tiktok.com/doc/oauth-user-access-token-management
def revoke_token(access_token: str) -> None:
    """Revoke the user's authorisation of this app (TikTok answers an empty object)."""
    oauth_call("v2/oauth/revoke/", endpoint="oauth.revoke", data={
        "client_key": settings.TIKTOK_CLIENT_KEY, "client_secret": settings.TIKTOK_CLIENT_SECRET,
        "token": access_token,
    })



# ==== token refresh (tokens app) ==================================================================

@dataclass(frozen=True)
class TikTokGrant:
    """What TikTok's token endpoint returns, with lifetimes taken from the answer, never assumed."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    open_id: str
    scopes: list[str]
    expires_in: int
    expires_at: datetime
    refresh_expires_at: datetime | None


def parse_grant(body: dict) -> TikTokGrant:
    now = timezone.now()
    expires_in = int(body.get("expires_in") or 0)
    refresh_in = int(body.get("refresh_expires_in") or 0)
    return TikTokGrant(
        access_token=body["access_token"],
        refresh_token=body.get("refresh_token") or "",
        open_id=str(body.get("open_id") or ""),
        scopes=[s for s in str(body.get("scope") or "").split(",") if s],
        expires_in=expires_in,
        expires_at=now + timedelta(seconds=expires_in),
        refresh_expires_at=now + timedelta(seconds=refresh_in) if refresh_in else None,
    )


# Ref: https://developers.tiktok.com/doc/oauth-user-access-token-management
def refresh_access_token(refresh_token: str) -> TikTokGrant:
    """Use a refresh token once. TikTok rotates it: store the returned refresh token, drop the old one."""
    body = oauth_call("v2/oauth/token/", endpoint="oauth.refresh", data={
        "client_key": settings.TIKTOK_CLIENT_KEY, "client_secret": settings.TIKTOK_CLIENT_SECRET,
        "grant_type": "refresh_token", "refresh_token": refresh_token,
    })
    return parse_grant(body)



# ==== publishing ==================================================================================

@dataclass(frozen=True)
class CreatorInfo:
    username: str
    nickname: str
    privacy_level_options: list[str]
    comment_disabled: bool
    duet_disabled: bool
    stitch_disabled: bool
    max_video_post_duration_sec: int


@dataclass(frozen=True)
class PublishStatus:
    status: str          # PROCESSING_UPLOAD | PROCESSING_DOWNLOAD | SEND_TO_USER_INBOX | PUBLISH_COMPLETE | FAILED
    fail_reason: str
    post_ids: list[str]  # int64 ids as strings; empty until moderation makes a public post visible
    uploaded_bytes: int = 0


# Ref: https://developers.tiktok.com/doc/content-posting-api-reference-query-creator-info
def query_creator_info(account) -> CreatorInfo:
    """What this creator may post now (privacy levels, disabled interactions). Read-only."""
    data = call(account, "POST", "v2/post/publish/creator_info/query/", endpoint="post.creator_info")
    return CreatorInfo(
        username=str(data.get("creator_username") or ""), nickname=str(data.get("creator_nickname") or ""),
        privacy_level_options=list(data.get("privacy_level_options") or []),
        comment_disabled=bool(data.get("comment_disabled")), duet_disabled=bool(data.get("duet_disabled")),
        stitch_disabled=bool(data.get("stitch_disabled")),
        max_video_post_duration_sec=int(data.get("max_video_post_duration_sec") or 0),
    )


# Ref: https://developers.tiktok.com/doc/content-posting-api-reference-direct-post
def init_video_post(account, *, post_info: dict, video_url: str) -> str:
    """Direct Post a video TikTok pulls from a verified URL. Returns publish_id. The commit."""
    data = call(account, "POST", "v2/post/publish/video/init/", endpoint="post.video.init",
                json={"post_info": post_info, "source_info": {"source": "PULL_FROM_URL", "video_url": video_url}})
    return str(data["publish_id"])


@dataclass(frozen=True)
class VideoUpload:
    publish_id: str
    upload_url: str = field(repr=False)  # carries an upload token: never log it


# Ref: https://developers.tiktok.com/doc/content-posting-api-reference-direct-post
def init_video_upload(account, *, post_info: dict, video_size: int, chunk_size: int, total_chunk_count: int) -> VideoUpload:
    """Direct Post a video whose bytes we PUT next (FILE_UPLOAD). Nothing is posted until they all arrive."""
    data = call(account, "POST", "v2/post/publish/video/init/", endpoint="post.video.init", json={
        "post_info": post_info,
        "source_info": {"source": "FILE_UPLOAD", "video_size": video_size, "chunk_size": chunk_size,
                        "total_chunk_count": total_chunk_count},
    })
    return VideoUpload(publish_id=str(data["publish_id"]), upload_url=str(data["upload_url"]))


# Ref: https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide
def upload_video_chunk(account, upload_url: str, chunk: bytes, *, first_byte: int, total_size: int,
                       content_type: str = "video/mp4") -> int:
    """PUT one chunk (sequentially) to the upload_url exactly as returned. Returns the HTTP status (206, 200, 201)."""
    last_byte = first_byte + len(chunk) - 1
    # The upload endpoint answers with an empty body and no envelope, which http.request reads as {} (no error).
    response = http.request(
        "tiktok", "PUT", upload_url, endpoint="post.video.upload", dialect=API, account=account, data=chunk,
        headers={"Content-Type": content_type, "Content-Length": str(len(chunk)),
                 "Content-Range": f"bytes {first_byte}-{last_byte}/{total_size}"},
        pause_keys=(user_key(account),),
    )
    return response.status


# Ref: https://developers.tiktok.com/doc/content-posting-api-reference-photo-post
def init_photo_post(account, *, post_info: dict, photo_urls: list[str], cover_index: int = 0) -> str:
    """Direct Post photos (PULL_FROM_URL only). Returns publish_id. The commit."""
    data = call(account, "POST", "v2/post/publish/content/init/", endpoint="post.content.init", json={
        "media_type": "PHOTO", "post_mode": "DIRECT_POST", "post_info": post_info,
        "source_info": {"source": "PULL_FROM_URL", "photo_cover_index": cover_index, "photo_images": photo_urls},
    })
    return str(data["publish_id"])


# Ref: https://developers.tiktok.com/doc/content-posting-api-reference-get-video-status
def fetch_publish_status(account, publish_id: str) -> PublishStatus:
    """Read-only status of one publish."""
    data = call(account, "POST", "v2/post/publish/status/fetch/", endpoint="post.status.fetch",
                json={"publish_id": publish_id})
    # Quirk: the field really is spelt "publicaly_available_post_id"; ids are int64, kept as strings.
    ids = data.get("publicaly_available_post_id") or []
    return PublishStatus(status=str(data.get("status") or ""), fail_reason=str(data.get("fail_reason") or ""),
                         post_ids=[str(i) for i in ids], uploaded_bytes=int(data.get("uploaded_bytes") or 0))


# ==== analytics ===================================================================================

@dataclass(frozen=True)
class TikTokVideo:
    id: str
    create_time: int | None  # epoch seconds
    title: str
    share_url: str
    view_count: int | None
    like_count: int | None
    comment_count: int | None
    share_count: int | None
    raw: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class VideoPage:
    videos: list[TikTokVideo]
    cursor: int | None   # epoch milliseconds; pass it back while has_more
    has_more: bool


@dataclass(frozen=True)
class TikTokUserStats:
    follower_count: int | None
    following_count: int | None
    likes_count: int | None
    video_count: int | None
    raw: dict = field(default_factory=dict, repr=False)


VIDEO_FIELDS = "id,title,video_description,create_time,share_url,duration,view_count,like_count,comment_count,share_count"
VIDEO_LIST_MAX = 20
VIDEO_QUERY_MAX_IDS = 20


def _video(item: dict) -> TikTokVideo:
    # cover_image_url expires within hours: never requested, so never stored.
    return TikTokVideo(
        id=str(item["id"]), create_time=item.get("create_time"),
        title=item.get("title") or item.get("video_description") or "", share_url=item.get("share_url") or "",
        view_count=item.get("view_count"), like_count=item.get("like_count"),
        comment_count=item.get("comment_count"), share_count=item.get("share_count"), raw=item,
    )


# Ref: https://developers.tiktok.com/doc/tiktok-api-v2-video-list
def list_videos(account, *, cursor: int | None = None, max_count: int = VIDEO_LIST_MAX) -> VideoPage:
    """One page (≤20) of the user's public videos, newest first, with their counts. One call."""
    payload: dict = {"max_count": min(max_count, VIDEO_LIST_MAX)}
    if cursor:
        payload["cursor"] = cursor
    data = call(account, "POST", "v2/video/list/", endpoint="video.list", params={"fields": VIDEO_FIELDS}, json=payload)
    return VideoPage(videos=[_video(v) for v in data.get("videos") or []], cursor=data.get("cursor"),
                     has_more=bool(data.get("has_more")))


# Ref: https://developers.tiktok.com/doc/tiktok-api-v2-video-query
def query_videos(account, video_ids: list[str]) -> list[TikTokVideo]:
    """Counts for up to 20 known videos. One call; raises ValueError for more than 20 ids."""
    if len(video_ids) > VIDEO_QUERY_MAX_IDS:
        raise ValueError(f"TikTok's video query takes at most {VIDEO_QUERY_MAX_IDS} ids per call.")
    data = call(account, "POST", "v2/video/query/", endpoint="video.query", params={"fields": VIDEO_FIELDS},
                json={"filters": {"video_ids": list(video_ids)}})
    return [_video(v) for v in data.get("videos") or []]


# Ref: https://developers.tiktok.com/doc/tiktok-api-v2-get-user-info
def get_user_stats(account) -> TikTokUserStats:
    """follower_count and the other counters (scope user.info.stats). One call."""
    data = call(account, "GET", "v2/user/info/", endpoint="user.info",
                params={"fields": "open_id,follower_count,following_count,likes_count,video_count"})
    user = data.get("user") or {}
    return TikTokUserStats(follower_count=user.get("follower_count"), following_count=user.get("following_count"),
                           likes_count=user.get("likes_count"), video_count=user.get("video_count"), raw=user)

