"""The one table of insights metric names, with the Graph version and date each one stopped working.

Meta removes metrics twice over: in a Graph version (e.g. IG `impressions` in v22) and, on a date, in
every version (2025-04-21, 2025-11-15, 2026-06-15). A metric is requested only when it is valid for
both the configured `META_GRAPH_VERSION` and today's date, and has not been rejected by Graph for
that version before (analytics.models.RejectedMetric). Fix this table when a rejection is recorded.
Ref: https://developers.facebook.com/docs/platforminsights/page/deprecated-metrics
Ref: https://developers.facebook.com/docs/instagram-platform/reference/instagram-media/insights
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.utils import timezone

FB_POST = "fb_post"
IG_FEED = "FEED"
IG_REELS = "REELS"
IG_STORY = "STORY"
IG_LISTED = (IG_FEED, IG_REELS)  # what /{ig-id}/media returns (albums are FEED); stories come from /stories


@dataclass(frozen=True)
class Metric:
    name: str                       # the platform's metric name
    key: str                        # our common name: views, reach, likes, comments, shares, saves, clicks, …
    kinds: tuple[str, ...]          # FB_POST or IG media product types it is valid for
    removed_in: float | None = None  # first Graph version without it
    removed_on: date | None = None   # date Meta removed it from every version


METRICS: tuple[Metric, ...] = (
    # Facebook Page posts (insights.metric(...) on /{page-id}/published_posts)
    Metric("post_media_view", "views", (FB_POST,)),
    Metric("post_total_media_view_unique", "reach", (FB_POST,)),
    Metric("post_clicks", "clicks", (FB_POST,)),
    Metric("post_reactions_by_type_total", "reactions_by_type", (FB_POST,)),
    Metric("post_impressions", "views", (FB_POST,), removed_on=date(2025, 11, 15)),
    Metric("post_impressions_unique", "reach", (FB_POST,), removed_on=date(2026, 6, 15)),
    Metric("post_engaged_users", "engaged", (FB_POST,), removed_on=date(2024, 3, 14)),
    # Instagram media (insights.metric(...) on /{ig-id}/media and /{ig-id}/stories)
    Metric("views", "views", (IG_FEED, IG_REELS, IG_STORY)),
    Metric("reach", "reach", (IG_FEED, IG_REELS, IG_STORY)),
    Metric("likes", "likes", (IG_FEED, IG_REELS)),
    Metric("comments", "comments", (IG_FEED, IG_REELS)),
    Metric("shares", "shares", (IG_FEED, IG_REELS, IG_STORY)),
    Metric("saved", "saves", (IG_FEED, IG_REELS)),
    Metric("total_interactions", "interactions", (IG_FEED, IG_REELS, IG_STORY)),
    Metric("profile_visits", "profile_visits", (IG_FEED, IG_STORY)),
    Metric("follows", "follows", (IG_FEED, IG_STORY)),
    Metric("ig_reels_avg_watch_time", "avg_watch_time_ms", (IG_REELS,)),
    Metric("ig_reels_video_view_total_time", "watch_time_ms", (IG_REELS,)),
    Metric("replies", "replies", (IG_STORY,)),
    Metric("impressions", "views", (IG_FEED, IG_REELS, IG_STORY), removed_in=22.0, removed_on=date(2025, 4, 21)),
    Metric("plays", "views", (IG_REELS,), removed_in=22.0, removed_on=date(2025, 4, 21)),
    Metric("clips_replays_count", "replays", (IG_REELS,), removed_in=22.0, removed_on=date(2025, 4, 21)),
    Metric("ig_reels_aggregated_all_plays_count", "views", (IG_REELS,), removed_in=22.0, removed_on=date(2025, 4, 21)),
    Metric("video_views", "views", (IG_FEED, IG_REELS), removed_in=22.0, removed_on=date(2025, 4, 21)),
    Metric("engagement", "interactions", (IG_FEED,), removed_on=date(2023, 4, 21)),
)

KEY_BY_NAME = {m.name: m.key for m in METRICS}
# Our keys of the metrics only some listed Instagram product types have (read by a separate call, not on
# every sync): a reading without them keeps the last ones in `latest`.
KIND_ONLY_KEYS = frozenset(
    {m.key for m in METRICS if any(k in m.kinds for k in IG_LISTED) and not all(k in m.kinds for k in IG_LISTED)}
    - {m.key for m in METRICS if all(k in m.kinds for k in IG_LISTED)})


def graph_version_number(version: str | None = None) -> float:
    text = (version or settings.META_GRAPH_VERSION).lstrip("v")
    try:
        return float(text)
    except ValueError:
        return 0.0


def is_valid(metric: Metric, version: float, today: date) -> bool:
    if metric.removed_in is not None and version >= metric.removed_in:
        return False
    return metric.removed_on is None or today < metric.removed_on


def kind_only_metric_names(kind: str, listed: tuple[str, ...] = IG_LISTED, *, rejected: set[str] = frozenset(),
                           version: str | None = None, today: date | None = None) -> list[str]:
    """Metrics valid for `kind` that a listing of `listed` kinds cannot ask for (it asks only for the
    metrics every listed kind supports): e.g. the Reels watch times, or profile visits of feed posts."""
    shared = set(metric_names(listed, version=version, today=today, rejected=rejected))
    return [name for name in metric_names((kind,), version=version, today=today, rejected=rejected)
            if name not in shared]


def metric_names(kinds: tuple[str, ...], *, version: str | None = None, today: date | None = None,
                 rejected: set[str] = frozenset()) -> list[str]:
    """Metric names valid for every kind in `kinds` under the configured version and today's date."""
    number, today = graph_version_number(version), today or timezone.now().date()
    return [
        m.name for m in METRICS
        if all(k in m.kinds for k in kinds) and is_valid(m, number, today) and m.name not in rejected
    ]
