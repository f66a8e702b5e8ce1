"""Instagram professional accounts (Facebook Login path) client: small functions in the platform's vocabulary, built on meta.call().

Each function parses its answer into a small dataclass at the boundary. Sections below belong to
the app that uses them; add functions under your section only.
"""

from __future__ import annotations

from dataclasses import dataclass, field  # noqa: F401

from . import meta  # noqa: F401

# ==== accounts, OAuth, webhook subscriptions (social app) ==========================================



# ==== publishing ==================================================================================



# ==== analytics ===================================================================================

def _fields(metrics: list[str]) -> str:
    # One unsupported metric for one product type fails the whole page, so callers pass only metrics
    # valid for every type the edge returns (analytics.catalogue).
    return _MEDIA_FIELDS + (f",insights.metric({','.join(metrics)})" if metrics else "")


@dataclass(frozen=True)
class IgMedia:
    """One IG media with its counters and insights, read from one listing page."""

    id: str
    media_type: str           # IMAGE | VIDEO | CAROUSEL_ALBUM
    media_product_type: str   # FEED | REELS | STORY (albums are FEED)
    timestamp: str
    caption: str
    permalink: str
    like_count: int | None
    comments_count: int | None
    insights: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class MediaPage:
    items: list[IgMedia]
    after: str | None  # None: this was the last page


@dataclass(frozen=True)
class IgProfile:
    followers_count: int | None
    follows_count: int | None
    media_count: int | None
    raw: dict = field(default_factory=dict, repr=False)


_MEDIA_FIELDS = "id,caption,media_type,media_product_type,timestamp,permalink,like_count,comments_count"


def _media_page(body: dict) -> MediaPage:
    from .facebook import insight_values, next_after  # the Graph insights shape is shared with Pages

    items = [
        IgMedia(
            id=str(item["id"]), media_type=item.get("media_type") or "",
            media_product_type=item.get("media_product_type") or "FEED", timestamp=item.get("timestamp") or "",
            caption=item.get("caption") or "", permalink=item.get("permalink") or "",
            like_count=item.get("like_count"), comments_count=item.get("comments_count"),
            insights=insight_values(item.get("insights")), raw=item,
        )
        for item in body.get("data") or []
    ]
    return MediaPage(items=items, after=next_after(body))


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
def list_media(account, *, metrics: list[str], limit: int, after: str | None = None) -> MediaPage:
    """One page of the account's media (newest first) with counters and insights. One call."""
    params: dict = {"fields": _fields(metrics), "limit": limit}
    if after:
        params["after"] = after
    body = meta.call(account, "GET", f"{account.external_id}/media", endpoint="ig.media", params=params)
    return _media_page(body)


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/stories
def list_stories(account, *, metrics: list[str]) -> MediaPage:
    """The account's live stories (24 h) with their insights. One call; stories are few."""
    body = meta.call(account, "GET", f"{account.external_id}/stories", endpoint="ig.stories",
                     params={"fields": _fields(metrics), "limit": 100})
    return _media_page(body)


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user
def get_profile(account) -> IgProfile:
    """followers_count, follows_count and media_count of the IG account. One call."""
    body = meta.call(account, "GET", account.external_id, endpoint="ig.profile",
                     params={"fields": "followers_count,follows_count,media_count"})
    return IgProfile(followers_count=body.get("followers_count"), follows_count=body.get("follows_count"),
                     media_count=body.get("media_count"), raw=body)




# ==== conversations ===============================================================================

