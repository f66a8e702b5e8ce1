"""Deterministic metrics that grow with time since publication, so a sync an hour later sees more.

views(h) = scale * h / (h + 6), h in hours since publication: 0 at first, half its ceiling after six
hours, flattening out like a real post. `scale` comes from the post's seed; every other counter is
a fixed fraction of views, so the numbers always agree with each other.
"""

from __future__ import annotations

from datetime import datetime

from . import clock
from .models import Post

# Still valid in 2026 (platform-apis.md §1.6.1, §1.6.5); asking for anything else fails the whole
# call with code 100, as the real Graph does after a metric's removal.
FACEBOOK_POST_METRICS = {
    "post_media_view", "post_total_media_view_unique", "post_clicks", "post_clicks_by_type",
    "post_reactions_by_type_total", "post_video_views",
}
INSTAGRAM_METRICS = {
    "FEED": {"views", "reach", "likes", "comments", "shares", "saved", "total_interactions", "profile_visits",
             "follows", "total_likes", "total_comments", "total_views"},
    "REELS": {"views", "reach", "likes", "comments", "shares", "saved", "total_interactions",
              "ig_reels_avg_watch_time", "ig_reels_video_view_total_time", "total_likes", "total_comments",
              "total_views"},
    "STORY": {"views", "reach", "shares", "total_interactions", "profile_visits", "follows", "replies", "navigation"},
}


def hours_since(moment: datetime) -> float:
    return max((clock.now() - moment).total_seconds() / 3600, 0.0)


def growth(hours: float) -> float:
    return hours / (hours + 6.0)


def post_counters(post: Post) -> dict[str, int]:
    scale = 2000 + (post.seed % 997) * 8
    views = round(scale * growth(hours_since(post.created_at)))
    likes = round(views * 0.06)
    shares = round(views * 0.012)
    saved = round(views * 0.02)
    clicks = round(views * 0.03)
    comments = post.comments.count()
    return {
        "views": views, "reach": round(views * 0.72), "likes": likes, "shares": shares, "saved": saved,
        "clicks": clicks, "comments": comments, "total_interactions": likes + shares + saved + comments,
        "profile_visits": round(views * 0.01), "follows": round(views * 0.002),
        "replies": round(views * 0.004), "watch_time_ms": views * 9400, "avg_watch_time_ms": 9400 if views else 0,
    }


def followers(base: int, since: datetime) -> int:
    """Followers grow by 3 an hour from the account's creation in the sandbox."""
    return base + int(hours_since(since) * 3)


def facebook_post_metric(name: str, c: dict[str, int]):
    return {
        "post_media_view": c["views"],
        "post_total_media_view_unique": c["reach"],
        "post_clicks": c["clicks"],
        "post_clicks_by_type": {"other clicks": c["clicks"]} if c["clicks"] else {},
        "post_reactions_by_type_total": _reactions_by_type(c["likes"]),
        "post_video_views": c["views"],
    }[name]


def instagram_metric(name: str, c: dict[str, int]) -> int:
    return {
        "views": c["views"], "total_views": c["views"], "reach": c["reach"], "likes": c["likes"],
        "total_likes": c["likes"], "comments": c["comments"], "total_comments": c["comments"],
        "shares": c["shares"], "saved": c["saved"], "total_interactions": c["total_interactions"],
        "profile_visits": c["profile_visits"], "follows": c["follows"], "replies": c["replies"],
        "navigation": c["views"], "ig_reels_avg_watch_time": c["avg_watch_time_ms"],
        "ig_reels_video_view_total_time": c["watch_time_ms"],
    }[name]


def _reactions_by_type(total: int) -> dict[str, int]:
    if not total:
        return {}
    love = total // 4
    return {"like": total - love, "love": love} if love else {"like": total}
