"""Writing what a sync fetched: bulk, idempotent per sync run, cadence by post age."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from social.models import SocialAccount

from .. import catalogue
from ..models import (
    COUNTERS,
    AccountMetrics,
    AccountMetricSnapshot,
    PostMetricSnapshot,
    RejectedMetric,
    SyncRun,
    TrackedPost,
)

logger = logging.getLogger(__name__)


@dataclass
class FetchedPost:
    """One post as a platform listed it, in our vocabulary."""

    platform_post_id: str
    published_at: datetime | None
    counters: dict                       # views, reach, likes, comments, shares, saves (None: not given)
    metrics: dict                        # everything we derived, by our metric key
    raw: dict
    media_type: str = ""
    product_type: str = ""
    caption: str = ""
    permalink: str = ""


@dataclass
class FetchedAccount:
    followers: int | None
    metrics: dict
    raw: dict = field(default_factory=dict)


# ---- cadence ------------------------------------------------------------------------------------

def cadence() -> list[tuple[timedelta, timedelta]]:
    """ANALYTICS_CADENCE "24:1,168:6,2160:24" -> [(max age, interval), ...], youngest first."""
    brackets = []
    for pair in settings.ANALYTICS_CADENCE.split(","):
        age, interval = pair.split(":")
        brackets.append((timedelta(hours=float(age)), timedelta(hours=float(interval))))
    return sorted(brackets)


def window_start(now: datetime) -> datetime:
    return now - timedelta(days=settings.ANALYTICS_WINDOW_DAYS)


def next_sync_at(published_at: datetime | None, now: datetime) -> datetime | None:
    """When a post is next due: often while young, less later, never once outside the window."""
    if published_at is None:
        return now + cadence()[-1][1]
    if published_at < window_start(now):
        return None
    age = now - published_at
    brackets = cadence()
    interval = next((step for max_age, step in brackets if age <= max_age), brackets[-1][1])
    # Never step past the window's end: the last snapshot lands inside it.
    return now + interval


def due_tolerance() -> timedelta:
    """How early a post may be synced. Runs of one account are at least ANALYTICS_MIN_SYNC_MINUTES apart,
    so a post due within that span would otherwise wait a whole extra cron period (an hourly post due at
    10:00:05, seen by a run at 10:00:02, would be synced at 11:00 instead)."""
    return timedelta(minutes=settings.ANALYTICS_MIN_SYNC_MINUTES)


def is_due(post: TrackedPost, now: datetime) -> bool:
    """Whether a post a platform just listed gets a snapshot: never read yet, or its next sync has come.

    next_sync_at empty on a post that was read: outside the window, no more snapshots.
    """
    if post.last_synced_at is None:
        return True
    return post.next_sync_at is not None and post.next_sync_at <= now + due_tolerance()


def due_filter(now: datetime) -> Q:
    """The posts a sync must go and look for: next sync come, or never read and not scheduled (empty = now).

    Unlike `is_due`, a never-read post whose next sync was put off (asked for and not returned, e.g.
    private or deleted) waits for that time, so it does not cost a call or a deep listing every run.
    """
    return Q(next_sync_at__lte=now + due_tolerance()) | Q(next_sync_at__isnull=True, last_synced_at__isnull=True)


def parse_time(value) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(int(value), tz=UTC)
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


# ---- writes -------------------------------------------------------------------------------------

POST_FIELDS = ("media_type", "product_type", "caption", "permalink", "published_at", *COUNTERS,
               "latest_metrics", "last_synced_at", "next_sync_at")


def save_posts(account: SocialAccount, run: SyncRun, fetched: list[FetchedPost], now: datetime) -> int:
    """Upsert tracked posts and add one snapshot per due post for this run. Bulk; safe to repeat.

    Returns how many snapshots this call added (a repeat within the same run adds none).
    """
    if not fetched:
        return 0
    by_id = {p.platform_post_id: p for p in fetched}
    with transaction.atomic():
        TrackedPost.objects.bulk_create(
            [TrackedPost(account=account, platform=account.platform, platform_post_id=pid) for pid in by_id],
            ignore_conflicts=True,
        )
        tracked = list(TrackedPost.objects.filter(account=account, platform_post_id__in=list(by_id)))
        already = set(PostMetricSnapshot.objects.filter(sync_run=run, tracked_post__in=tracked)
                      .values_list("tracked_post_id", flat=True))
        snapshots = []
        for post in tracked:
            item = by_id[post.platform_post_id]
            # A page also carries posts that are not due yet: their latest numbers are refreshed (they
            # came free), but only a post that gets its snapshot moves on to its next sync time.
            # Otherwise every hourly run, which always reads page 1, would push an older post's
            # next sync forward again and it would never get another snapshot.
            synced = is_due(post, now) and post.pk not in already
            _apply(post, item, now, synced=synced)
            if synced:
                snapshots.append(PostMetricSnapshot(tracked_post=post, sync_run=run, captured_at=now,
                                                    metrics=item.metrics, raw=clean_raw(item.raw)))
        TrackedPost.objects.bulk_update(tracked, POST_FIELDS, batch_size=500)
        PostMetricSnapshot.objects.bulk_create(snapshots, ignore_conflicts=True, batch_size=500)
        SyncRun.objects.filter(pk=run.pk).update(posts_synced=F("posts_synced") + len(snapshots))
    return len(snapshots)


def _apply(post: TrackedPost, item: FetchedPost, now: datetime, *, synced: bool) -> None:
    post.media_type = item.media_type or post.media_type
    post.product_type = item.product_type or post.product_type
    post.caption = item.caption or post.caption
    post.permalink = item.permalink or post.permalink
    post.published_at = item.published_at or post.published_at
    for name in COUNTERS:
        setattr(post, name, item.counters.get(name))
    # The per-type metrics come from a separate call, made only while the post is young and due: a
    # reading without them keeps the last ones (snapshots hold exactly what each reading had).
    kept = {k: v for k, v in (post.latest_metrics or {}).items() if k in catalogue.KIND_ONLY_KEYS}
    post.latest_metrics = {**kept, **item.metrics}
    post.last_synced_at = now  # when the latest numbers were read, snapshot or not
    if synced:
        post.next_sync_at = next_sync_at(post.published_at, now)


def clean_raw(value):
    """The platform's item without `paging`: Graph's nested paging URLs carry the access token."""
    if isinstance(value, dict):
        return {k: clean_raw(v) for k, v in value.items() if k != "paging"}
    if isinstance(value, list):
        return [clean_raw(v) for v in value]
    return value


def save_account(account: SocialAccount, run: SyncRun, fetched: FetchedAccount, now: datetime) -> None:
    """One account snapshot per run (a repeat is ignored) and the latest numbers on AccountMetrics."""
    with transaction.atomic():
        AccountMetricSnapshot.objects.bulk_create([AccountMetricSnapshot(
            account=account, sync_run=run, captured_at=now, followers=fetched.followers,
            metrics=fetched.metrics, raw=clean_raw(fetched.raw),
        )], ignore_conflicts=True)
        AccountMetrics.objects.update_or_create(account=account, defaults={
            "followers": fetched.followers, "metrics": fetched.metrics, "last_synced_at": now,
        })


def record_rejected_metric(platform: str, kind: str, metric: str, message: str) -> None:
    """Remember a metric Graph refused, so it is not requested again and the catalogue can be fixed."""
    logger.warning("Graph rejected insights metric %s for %s %s (%s); dropped", metric, platform, kind,
                   settings.META_GRAPH_VERSION)
    row, created = RejectedMetric.objects.get_or_create(
        platform=platform, graph_version=settings.META_GRAPH_VERSION, kind=kind, metric=metric,
        defaults={"message": message[:300]},
    )
    if not created:
        RejectedMetric.objects.filter(pk=row.pk).update(times=F("times") + 1, last_seen=timezone.now())


def rejected_metrics(platform: str) -> set[str]:
    return set(RejectedMetric.objects.filter(platform=platform, graph_version=settings.META_GRAPH_VERSION)
               .values_list("metric", flat=True))


KIND_ONLY_PAUSE = timedelta(days=1)


def _kind_only_pause_key(account: SocialAccount) -> str:
    return f"analytics:kind-only-insights-paused:{account.pk}"


def pause_kind_only_insights(account: SocialAccount, kind: str) -> None:
    """Graph refused the per-type metrics' multi-id reads as a whole: ask no more of them for this account
    until the same time tomorrow (the shared cache: Redis in production). Logged, never with a token."""
    logger.warning("Graph refused every per-type %s metrics read of account %s; per-type metrics left out for %s",
                   kind, account.pk, KIND_ONLY_PAUSE)
    until = timezone.now() + KIND_ONLY_PAUSE
    # The entry says until when; the cache's own expiry only clears it away an hour after.
    cache.set(_kind_only_pause_key(account), {"kind": kind, "until": until.isoformat()},
              timeout=int((KIND_ONLY_PAUSE + timedelta(hours=1)).total_seconds()))


def kind_only_insights_paused(account: SocialAccount) -> bool:
    pause = cache.get(_kind_only_pause_key(account))
    return pause is not None and datetime.fromisoformat(pause["until"]) > timezone.now()


def _of_kind(posts, stories: bool | None):
    if stories is None:
        return posts
    return posts.filter(product_type=catalogue.IG_STORY) if stories else posts.exclude(product_type=catalogue.IG_STORY)


def defer_unlisted(account: SocialAccount, now: datetime, *, stories: bool | None = None) -> int:
    """After a listing that went past every due post: the posts still due were not in it (deleted,
    made private, an expired story). Ask again only at the slowest cadence, so that they do not make
    every hourly run page back to them. Returns how many were put off.

    Posts in their first cadence bracket (a day) are left due: one just published may not be listed
    yet, and looking for it costs nothing, the listing reads back that far anyway.
    `stories`: True for Instagram's stories listing, False for its media listing, None for all.
    """
    posts = TrackedPost.objects.filter(due_filter(now), account=account, published_at__gte=window_start(now),
                                       published_at__lt=now - cadence()[0][0])
    return _of_kind(posts, stories).update(next_sync_at=now + cadence()[-1][1])


def sync_horizon(account: SocialAccount, now: datetime, *, stories: bool | None = None) -> datetime:
    """How far back listing must page: to the oldest due post, or the whole window on a first sync.

    `stories=False`: for Instagram's media listing, which never returns stories (they have their own).
    """
    start = window_start(now)
    posts = _of_kind(TrackedPost.objects.filter(account=account, published_at__gte=start), stories)
    if not posts.exists():
        return start
    oldest_due = posts.filter(due_filter(now)).order_by("published_at").values_list("published_at", flat=True).first()
    if oldest_due is not None:
        return oldest_due
    newest = posts.order_by("-published_at").values_list("published_at", flat=True).first()
    return newest or start


def reached_horizon(published: list[datetime | None], horizon: datetime) -> bool:
    """Whether a listed page went back past `horizon` (from sync_horizon): no need to list further."""
    dates = [d for d in published if d is not None]
    return bool(dates) and min(dates) < horizon
