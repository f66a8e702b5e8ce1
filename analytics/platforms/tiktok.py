"""TikTok analytics: the user's stats, then /v2/video/list/ (20 a page, counts included), and
/v2/video/query/ (≤20 ids a call) only for the due videos the list did not reach."""

from __future__ import annotations

import logging
import math
from datetime import datetime
from typing import TYPE_CHECKING

from social.clients import tiktok as client
from unipulse.platform_errors import PermissionMissingError

from ..models import TrackedPost
from ..services import store

if TYPE_CHECKING:
    from . import SyncProgress

logger = logging.getLogger(__name__)


def read_account(sync: SyncProgress) -> store.FetchedAccount | None:
    try:
        stats = client.get_user_stats(sync.account)
    except PermissionMissingError:
        # follower_count needs user.info.stats; without it the videos are still worth syncing.
        logger.warning("TikTok account %s did not grant user.info.stats: no follower count", sync.account.pk)
        return None
    return store.FetchedAccount(
        followers=stats.follower_count,
        metrics={"followers": stats.follower_count, "following": stats.following_count,
                 "likes": stats.likes_count, "video_count": stats.video_count}, raw=stats.raw)


def read_posts(sync: SyncProgress) -> None:
    state = sync.stage("videos")
    if not state.get("done"):
        _list_videos(sync, state.get("cursor"))
    _query_unreached_videos(sync)


def _list_videos(sync: SyncProgress, cursor: int | None) -> None:
    account, now = sync.account, sync.now
    horizon, start = store.sync_horizon(account, now), store.window_start(now)
    while True:
        page = client.list_videos(account, cursor=cursor)
        fetched = [_video(v) for v in page.videos]
        sync.save_posts([f for f in fetched if not f.published_at or f.published_at >= start])
        done = (not page.has_more or not fetched or page.cursor == cursor
                or store.reached_horizon([f.published_at for f in fetched], horizon))
        cursor = page.cursor
        oldest = min((f.published_at for f in fetched if f.published_at), default=None)
        if not done and oldest is not None:
            done = _cheaper_to_query(sync, oldest, horizon)
        sync.save_stage("videos", {"cursor": cursor, "done": done})
        if done:
            return


def _cheaper_to_query(sync: SyncProgress, listed_to: datetime, horizon: datetime) -> bool:
    """Stop listing when querying the still-due older posts by id takes fewer calls than paging to them."""
    older = TrackedPost.objects.filter(account=sync.account, published_at__lt=listed_to, published_at__gte=horizon)
    due = older.filter(store.due_filter(sync.now)).count()
    pages_to_reach = math.ceil(older.count() / client.VIDEO_LIST_MAX)
    return math.ceil(due / client.VIDEO_QUERY_MAX_IDS) < pages_to_reach


def _query_unreached_videos(sync: SyncProgress) -> None:
    account, now = sync.account, sync.now
    due_ids = list(
        # due_filter includes a post UniPulse registered that no sync has read yet (next_sync_at empty).
        TrackedPost.objects.filter(store.due_filter(now), account=account, published_at__gte=store.window_start(now))
        .order_by("-published_at").values_list("platform_post_id", flat=True)
    )
    for i in range(0, len(due_ids), client.VIDEO_QUERY_MAX_IDS):
        batch = due_ids[i:i + client.VIDEO_QUERY_MAX_IDS]
        videos = client.query_videos(account, batch)
        sync.save_posts([_video(v) for v in videos])
        # Deleted or private videos are not returned: try them again only at the slowest cadence.
        missing = set(batch) - {v.id for v in videos}
        if missing:
            TrackedPost.objects.filter(account=account, platform_post_id__in=missing).update(
                next_sync_at=now + store.cadence()[-1][1])


def _video(video: client.TikTokVideo) -> store.FetchedPost:
    counters = {"views": video.view_count, "reach": None, "likes": video.like_count,
                "comments": video.comment_count, "shares": video.share_count, "saves": None}
    return store.FetchedPost(
        platform_post_id=video.id, published_at=store.parse_time(video.create_time), counters=counters,
        metrics={k: v for k, v in counters.items() if v is not None}, raw=video.raw, media_type="VIDEO",
        product_type="video", caption=video.title[:5000], permalink=video.share_url,
    )
