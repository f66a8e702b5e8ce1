"""Per-platform rules checked before anything is queued. Errors are keyed by field.

`content_errors` is pure (the serializer calls it); `tiktok_creator_errors` asks TikTok's
creator_info, so only services call it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict
from urllib.parse import urlparse

from django.conf import settings
from django.core.cache import cache

from social.clients import tiktok as tiktok_client
from unipulse.platform_errors import (
    BlockedError,
    InvalidRequestError,
    PermissionMissingError,
    ReauthRequiredError,
)

from ..platforms import instagram  # a module, not a name: instagram imports the services package
from . import media_info

IG_CAPTION_MAX = 2200
IG_CAROUSEL_MIN, IG_CAROUSEL_MAX = 2, 10
TIKTOK_TITLE_MAX = 2200          # UTF-16 code units
TIKTOK_PHOTO_TITLE_MAX = 90
TIKTOK_PHOTO_DESCRIPTION_MAX = 4000
TIKTOK_PHOTOS_MAX = 35
FIRST_COMMENT_MAX = 2200
PUBLISH_SCOPES = {
    "facebook": ({"pages_manage_posts"}, "pages_manage_posts"),
    "instagram": ({"instagram_content_publish", "instagram_business_content_publish"}, "instagram_content_publish"),
    "tiktok": ({"video.publish"}, "video.publish"),
}
INSTAGRAM_KINDS = ("feed", "reel", "story", "carousel")
IMAGE_EXTENSIONS_NOT_JPEG = (".png", ".webp", ".gif", ".heic")
HASHTAG = re.compile(r"(?<!\w)#\w+")
MENTION = re.compile(r"(?<![\w@])@[\w.]+")


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _ext(url: str) -> str:
    path = urlparse(url).path.lower()
    return path[path.rfind("."):] if "." in path.rsplit("/", 1)[-1] else ""


def content_errors(data: dict, accounts: list) -> dict[str, list[str]]:
    """Every rule of every chosen platform for this post; {} when it may be queued."""
    errors: dict[str, list[str]] = defaultdict(list)
    platforms = {a.platform for a in accounts}
    text, media = data.get("text") or "", data.get("media") or []
    options = data.get("options") or {}
    for platform in options:
        if platform not in ("facebook", "instagram", "tiktok"):
            errors[f"options.{platform}"].append("Unknown platform.")
    if data.get("first_comment") and len(data["first_comment"]) > FIRST_COMMENT_MAX:
        errors["first_comment"].append(f"A first comment is limited to {FIRST_COMMENT_MAX} characters.")
    if "facebook" in platforms:
        _facebook(text, data.get("link") or "", media, errors)
    if "instagram" in platforms:
        _instagram(text, media, options.get("instagram") or {}, errors)
    if "tiktok" in platforms:
        _tiktok(text, media, options.get("tiktok") or {}, data.get("first_comment"), errors)
        if "options.tiktok.privacy_level" in errors and not (options.get("tiktok") or {}).get("privacy_level"):
            errors["options.tiktok.privacy_level"] = [privacy_choices([a for a in accounts if a.platform == "tiktok"])]
    return dict(errors)


def _facebook(text: str, link: str, media: list, errors) -> None:
    if not (text.strip() or link or media):
        errors["text"].append("Facebook needs text, a link or media.")
    videos = [m for m in media if m["type"] == "video"]
    if videos and len(media) > 1:
        errors["media"].append("Facebook posts a single video on its own; it cannot be mixed with other media.")


def _instagram(text: str, media: list, options: dict, errors) -> None:
    kind = options.get("kind") or "feed"
    if kind not in INSTAGRAM_KINDS:
        errors["options.instagram.kind"].append(f"Choose one of: {', '.join(INSTAGRAM_KINDS)}.")
        return
    if not media:
        errors["media"].append("Instagram needs at least one image or video.")
        return
    if len(text) > IG_CAPTION_MAX:
        errors["text"].append(f"Instagram captions are limited to {IG_CAPTION_MAX} characters.")
    if len(HASHTAG.findall(text)) > settings.INSTAGRAM_MAX_HASHTAGS:
        errors["text"].append(f"Instagram allows at most {settings.INSTAGRAM_MAX_HASHTAGS} hashtags.")
    if len(MENTION.findall(text)) > settings.INSTAGRAM_MAX_MENTIONS:
        errors["text"].append(f"Instagram allows at most {settings.INSTAGRAM_MAX_MENTIONS} @mentions.")
    videos = [m for m in media if m["type"] == "video"]
    if kind == "carousel" or (kind == "feed" and len(media) > 1):
        if not IG_CAROUSEL_MIN <= len(media) <= IG_CAROUSEL_MAX:
            errors["media"].append(f"An Instagram carousel holds {IG_CAROUSEL_MIN} to {IG_CAROUSEL_MAX} items.")
    elif kind == "reel" and (len(media) != 1 or not videos):
        errors["media"].append("An Instagram reel is exactly one video.")
    elif kind == "story" and len(media) != 1:
        errors["media"].append("An Instagram story is one image or one video (publish several as several stories).")
    published = instagram.published_kind(kind, [m["type"] for m in media])  # the rules of what is really published
    for index, item in enumerate(media):
        if item["type"] == "image" and _ext(item["url"]) in IMAGE_EXTENSIONS_NOT_JPEG:
            errors[f"media.{index}.url"].append("Instagram accepts JPEG images only.")
        _instagram_media_rules(index, item, kind, published, errors)


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
IG_FEED_ASPECT = (4 / 5, 1.91)        # feed and carousel images: 4:5 portrait to 1.91:1 landscape
IG_REEL_SECONDS = (3, 15 * 60)
IG_STORY_OR_CAROUSEL_VIDEO_SECONDS = (3, 60)


def _instagram_media_rules(index: int, item: dict, kind: str, published: str, errors) -> None:
    """Aspect and duration rules Instagram enforces, checked for media we host (others: by Instagram)."""
    info = _probe(item)
    if info is None:
        return
    ratio = info.aspect_ratio
    if item["type"] == "image" and kind in ("feed", "carousel") and ratio is not None:
        low, high = IG_FEED_ASPECT
        if not low - 0.005 <= ratio <= high + 0.005:
            errors[f"media.{index}.url"].append(
                f"Instagram feed images must be between 4:5 and 1.91:1; this one is {info.width}x{info.height}.")
    if item["type"] == "video" and info.duration is not None:
        low, high = IG_REEL_SECONDS if published == "reel" else IG_STORY_OR_CAROUSEL_VIDEO_SECONDS
        if not low <= info.duration <= high:
            errors[f"media.{index}.url"].append(
                f"This Instagram video must last {low} to {high} seconds; it lasts {info.duration:.0f}.")


def _probe(item: dict) -> media_info.MediaInfo | None:
    """What our upload at this URL is; None for media hosted elsewhere (and for a missing or unreadable
    upload, which MediaItemSerializer has already refused with its own message)."""
    try:
        return media_info.probe_url(item["url"], item["type"])
    except media_info.UnreadableMediaError:
        return None


def _tiktok(text: str, media: list, options: dict, first_comment: str | None, errors) -> None:
    videos = [m for m in media if m["type"] == "video"]
    if not media:
        errors["media"].append("TikTok needs one video or up to 35 photos.")
    elif videos and len(media) > 1:
        errors["media"].append("A TikTok post is one video, or photos only.")
    elif not videos:
        if len(media) > TIKTOK_PHOTOS_MAX:
            errors["media"].append(f"A TikTok photo post holds at most {TIKTOK_PHOTOS_MAX} photos.")
        for index, item in enumerate(media):
            if _ext(item["url"]) in (".png", ".gif", ".heic"):
                errors[f"media.{index}.url"].append("TikTok photos must be JPEG or WebP.")
        if utf16_length(text) > TIKTOK_PHOTO_DESCRIPTION_MAX:
            errors["text"].append(f"A TikTok photo description is limited to {TIKTOK_PHOTO_DESCRIPTION_MAX} characters.")
        for flag in ("disable_duet", "disable_stitch"):
            if options.get(flag):
                errors[f"options.tiktok.{flag}"].append("Photo posts have no duet or stitch.")
    if videos and utf16_length(text) > TIKTOK_TITLE_MAX:
        errors["text"].append(f"A TikTok caption is limited to {TIKTOK_TITLE_MAX} characters.")
    source = options.get("source")
    if source and source not in ("PULL_FROM_URL", "FILE_UPLOAD"):
        errors["options.tiktok.source"].append("Choose PULL_FROM_URL or FILE_UPLOAD.")
    own = f"{settings.PUBLIC_BASE_URL}{settings.MEDIA_URL}"
    if source == "FILE_UPLOAD" and not (len(videos) == 1 == len(media) and videos[0]["url"].startswith(own)):
        errors["options.tiktok.source"].append("FILE_UPLOAD sends one video uploaded through /api/v1/media/.")
    if not options.get("privacy_level"):
        errors["options.tiktok.privacy_level"].append("Choose who can see this TikTok post.")
    elif options.get("brand_content_toggle") and options["privacy_level"] == "SELF_ONLY":
        # TikTok's Direct Post UX guidelines: branded content cannot be private.
        errors["options.tiktok.privacy_level"].append("Branded content cannot be private (SELF_ONLY) on TikTok.")
    if first_comment:
        errors["first_comment"].append("TikTok's API cannot post comments; remove the first comment or the TikTok account.")


def privacy_choices(accounts: list) -> str:
    """'Choose who can see it', with each creator's choices when TikTok told us lately (never a call here)."""
    known = [(a, cached_creator_info(a)) for a in accounts]
    if all(info for _, info in known):
        shown = "; ".join(f"{a}: {', '.join(info.privacy_level_options)}" for a, info in known)
        return f"Choose who can see this TikTok post (privacy_level), one of {shown}."
    ids = ", ".join(str(a.pk) for a, info in known if not info)
    return ("Choose who can see this TikTok post (privacy_level); GET /api/v1/accounts/{id}/publishing-options/ "
            f"lists each creator's choices (account {ids}).")


def account_errors(accounts: list) -> list[str]:
    """Accounts must be active and hold the publishing permission."""
    problems = []
    for account in accounts:
        scopes, shown = PUBLISH_SCOPES[account.platform]
        if account.status != "active":
            problems.append(f"Reconnect {account}: it is {account.get_status_display().lower()}.")
        elif not scopes & set(account.scopes or []):
            problems.append(f"{account} did not grant the {shown} permission; reconnect it to publish.")
    return problems


CREATOR_INFO_KEY = "tiktok-creator-info:{}"


def cached_creator_info(account) -> tiktok_client.CreatorInfo | None:
    """The creator_info read in the last few minutes, or None (never calls TikTok)."""
    found = cache.get(CREATOR_INFO_KEY.format(account.pk))
    return tiktok_client.CreatorInfo(**found) if found else None


def fresh_creator_info(account) -> tiktok_client.CreatorInfo:
    info = tiktok_client.query_creator_info(account)
    cache.set(CREATOR_INFO_KEY.format(account.pk), asdict(info), settings.TIKTOK_CREATOR_INFO_CACHE_SECONDS)
    return info


def tiktok_creator_errors(account, options: dict, media: list | None = None,
                          info_of: Callable = fresh_creator_info) -> dict[str, list[str]]:
    """Ask TikTok (creator_info, through `info_of`) whether this creator may post now with these options.

    `info_of` is fresh_creator_info (one call each time); a CSV import passes one that asks once per account.
    """
    try:
        info = info_of(account)
    except ReauthRequiredError:
        return {"accounts": [f"Reconnect {account}: TikTok no longer accepts its authorisation."]}
    except PermissionMissingError:
        return {"accounts": [f"{account} did not grant TikTok's video.publish permission."]}
    except BlockedError as error:
        return {"accounts": [f"TikTok does not let {account} post right now: {error.message}"]}
    except InvalidRequestError as error:
        return {"accounts": [f"TikTok refused to describe {account}: {error.message}"]}
    errors: dict[str, list[str]] = {}
    privacy = options.get("privacy_level")
    if privacy and privacy not in info.privacy_level_options:
        errors["options.tiktok.privacy_level"] = [
            f"{account} may post as: {', '.join(info.privacy_level_options) or 'nothing right now'}."]
    for flag, disabled in (("disable_comment", info.comment_disabled), ("disable_duet", info.duet_disabled),
                           ("disable_stitch", info.stitch_disabled)):
        if disabled and options.get(flag) is False:
            errors[f"options.tiktok.{flag}"] = [f"{account} has turned this interaction off in TikTok."]
    limit = info.max_video_post_duration_sec
    for index, item in enumerate(media or []):
        probed = _probe(item) if item["type"] == "video" else None
        if limit and probed and probed.duration and probed.duration > limit:
            errors[f"media.{index}.url"] = [
                f"{account} may post videos up to {limit} seconds; this one lasts {probed.duration:.0f}."]
    return errors
