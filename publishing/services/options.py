"""What a composer needs before a post is written: what this account may publish, and its limits.

The static limits are validation's own constants, so the answer and the checks cannot drift apart. The
live part is asked of the platform: TikTok's creator_info (cached for TIKTOK_CREATOR_INFO_CACHE_SECONDS,
which validation's privacy message reads too; the publish itself always asks TikTok afresh), and
Instagram's publishing quota left in its rolling 24 hours.
"""

from __future__ import annotations

from social.clients import instagram as instagram_client
from unipulse.api_errors import PLATFORM_STATUS
from unipulse.platform_errors import PlatformError

from . import validation

STATIC = {
    "facebook": {
        "content_kinds": ["text", "link", "photo", "photos", "video"],
        "limits": {"first_comment_max_chars": validation.FIRST_COMMENT_MAX,
                   "notes": ["A video is posted on its own, never mixed with other media."]},
    },
    "instagram": {
        "content_kinds": list(validation.INSTAGRAM_KINDS),
        "limits": {"caption_max_chars": validation.IG_CAPTION_MAX,
                   "carousel_items": [validation.IG_CAROUSEL_MIN, validation.IG_CAROUSEL_MAX],
                   "feed_image_aspect_ratio": list(validation.IG_FEED_ASPECT),
                   "reel_seconds": list(validation.IG_REEL_SECONDS),
                   "story_or_carousel_video_seconds": list(validation.IG_STORY_OR_CAROUSEL_VIDEO_SECONDS),
                   "first_comment_max_chars": validation.FIRST_COMMENT_MAX,
                   "image_formats": ["jpeg"]},
    },
    "tiktok": {
        "content_kinds": ["video", "photos"],
        "limits": {"caption_max_utf16": validation.TIKTOK_TITLE_MAX,
                   "photo_title_max_chars": validation.TIKTOK_PHOTO_TITLE_MAX,
                   "photo_description_max_utf16": validation.TIKTOK_PHOTO_DESCRIPTION_MAX,
                   "photos_max": validation.TIKTOK_PHOTOS_MAX, "photo_formats": ["jpeg", "webp"],
                   "first_comment": False},
    },
}


def get_publishing_options(account) -> dict:
    """Static kinds and limits, plus the platform's live answer (`live`), or why it could not be read."""
    answer = {"account": account.pk, "platform": account.platform, **STATIC[account.platform],
              "live": None, "live_error": None}
    try:
        if account.platform == "tiktok":
            info = validation.cached_creator_info(account) or validation.fresh_creator_info(account)
            answer["live"] = {"privacy_level_options": info.privacy_level_options,
                              "max_video_post_duration_sec": info.max_video_post_duration_sec,
                              "comment_disabled": info.comment_disabled, "duet_disabled": info.duet_disabled,
                              "stitch_disabled": info.stitch_disabled, "username": info.username}
        elif account.platform == "instagram":
            quota = instagram_client.get_publishing_limit(account)
            answer["live"] = {"quota_total": quota.quota_total, "quota_usage": quota.quota_usage,
                              "quota_left": max(0, quota.quota_total - quota.quota_usage)}
    except PlatformError as error:  # the composer still gets the static rules, and why the rest is missing
        code = next((code for cls, _, code in PLATFORM_STATUS if isinstance(error, cls)), "platform_error")
        answer["live_error"] = {"code": code, "message": error.message}
    return answer
