"""Syncing one account's metrics: many posts per call, within the user's call budget.

- Facebook: /{page-id}/published_posts with summaries and insights by field expansion, ≤100 a page.
- Instagram: /{ig-id}/media (+ /stories) with counters and insights by field expansion.
- TikTok: /v2/video/list/ (20 a page, counts included); /v2/video/query/ (≤20 ids) only for due
  posts the list did not reach.
A run pages back only as far as its oldest due post (cadence by age). Each page is saved as it
arrives, so a run that stops for lack of budget keeps what it fetched, records where it was, raises
RateLimitedError (the actor re-enqueues it) and resumes from there.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from social.clients import facebook, instagram, meta, ratelimit, tiktok
from social.models import AccountStatus, Platform, SocialAccount
from unipulse.platform_errors import (
    InvalidRequestError,
    PermissionMissingError,
    PlatformError,
    RateLimitedError,
    TransientError,
)

from .. import catalogue
from ..models import SyncRun, TrackedPost
from . import store

logger = logging.getLogger(__name__)

BUDGET_RETRY_SECONDS = 900
STALE_RUN = timedelta(hours=24)


def sync_account(account_id: int) -> SyncRun | None:
    """Sync one account. Idempotent; resumes a paused run; raises RateLimitedError when out of budget.

    Returns None when there is nothing to do (inactive account, or synced in the last few minutes).
    """
    account = SocialAccount.objects.get(pk=account_id)
    if account.status != AccountStatus.ACTIVE:
        return None
    run = _open_run(account)
    if run is None:
        return None
    try:
        SYNCERS[account.platform](account, run)
    except TransientError as error:  # rate limit, budget, 5xx: the next delivery resumes at the cursor
        SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.PAUSED, cursor=run.cursor,
                                                 error_code=error.error_code[:64])
        raise
    except PlatformError as error:  # reconnect, permission, invalid: this run ends here
        SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.FAILED, cursor=run.cursor,
                                                 error_code=error.error_code[:64], finished_at=timezone.now())
        raise
    run.status, run.finished_at = SyncRun.Status.DONE, timezone.now()
    run.save(update_fields=["status", "finished_at", "cursor"])
    # The account's "last sync" (API and admin) was never written: it read empty after every sync.
    SocialAccount.objects.filter(pk=account.pk).update(last_synced_at=run.finished_at)
    return run


def _open_run(account: SocialAccount) -> SyncRun | None:
    runs = SyncRun.objects.filter(account=account).order_by("-started_at", "-id")
    unfinished = runs.filter(status__in=[SyncRun.Status.PAUSED, SyncRun.Status.RUNNING]).first()
    if unfinished is not None and unfinished.started_at < timezone.now() - STALE_RUN:
        # Its cursor is too old to trust (posts moved on); start over.
        SyncRun.objects.filter(pk=unfinished.pk).update(status=SyncRun.Status.FAILED, error_code="stale",
                                                        finished_at=timezone.now())
        unfinished = None
    if unfinished is not None:
        SyncRun.objects.filter(pk=unfinished.pk).update(status=SyncRun.Status.RUNNING)
        return unfinished
    recent = timezone.now() - timedelta(minutes=settings.ANALYTICS_MIN_SYNC_MINUTES)
    if runs.filter(status=SyncRun.Status.DONE, finished_at__gt=recent).exists():
        return None
    return SyncRun.objects.create(account=account)


def _save_cursor(run: SyncRun, **changes) -> None:
    run.cursor = {**run.cursor, **changes}
    SyncRun.objects.filter(pk=run.pk).update(cursor=run.cursor)


# ---- Meta budget ---------------------------------------------------------------------------------

def ensure_meta_budget(account: SocialAccount, calls: int = 1) -> None:
    """Stop before the user's hourly Meta budget falls to the reserve kept for publishing and replies."""
    left = ratelimit.remaining_budget(meta.user_budget_key(account))
    if left - calls < settings.ANALYTICS_BUDGET_RESERVE:
        raise RateLimitedError(
            "Analytics paused: the hourly Meta call budget is nearly spent; the sync resumes later.",
            platform="meta", retry_after=BUDGET_RETRY_SECONDS, scope="budget",
        )


# ---- Graph paging with shrink and metric drop ----------------------------------------------------

TOO_MUCH_DATA = "reduce the amount of data"
_METRIC_INDEX = re.compile(r"metric\[(\d+)\]")
_WORDS = re.compile(r"[a-z0-9_]+")


def is_too_much_data(error: PlatformError) -> bool:
    # Graph answers HTTP 500 {"error": {"code": 1, "message": "Please reduce the amount of data you're
    # asking for, then retry your request"}} when a page of expanded fields is too heavy.
    return isinstance(error, TransientError) and error.code == 1 and TOO_MUCH_DATA in error.message.lower()


def named_rejected_metric(error: PlatformError, metrics: list[str]) -> str | None:
    """The metric a code-100 error names ("The metric shares is not supported…", "metric[2] must be…")."""
    if not isinstance(error, InvalidRequestError) or error.code != 100:
        return None
    text = error.message.lower()
    index = _METRIC_INDEX.search(text)
    if index and int(index.group(1)) < len(metrics):
        return metrics[int(index.group(1))]
    words = set(_WORDS.findall(text))
    return next((m for m in metrics if m in words), None)


def is_not_enough_viewers(error: PlatformError) -> bool:
    # Graph code 10 "Not enough viewers for the media to show insights" (Instagram media insights).
    return isinstance(error, PermissionMissingError) and error.code == 10 and "viewers" in error.message.lower()


def is_metric_error(error: PlatformError) -> bool:
    text = error.message.lower()
    return isinstance(error, InvalidRequestError) and error.code == 100 and "metric" in text


def graph_pages(account: SocialAccount, run: SyncRun, *, fetch: Callable, kind: str, kinds: tuple[str, ...],
                on_page: Callable[[list], bool], stage: str) -> None:
    """Page through a Graph listing with field-expanded insights, saving each page via `on_page`.

    `on_page` returns False to stop. The cursor and a shrunk page size are stored on the run, so a
    resumed run continues where this one stopped.
    """
    rejected = store.rejected_metrics(account.platform)
    state = run.cursor.get(stage) or {}
    limit, after = state.get("limit") or settings.ANALYTICS_PAGE_SIZE, state.get("after")
    while True:
        metrics = catalogue.metric_names(kinds, rejected=rejected)
        ensure_meta_budget(account)
        try:
            page = fetch(metrics=metrics, limit=limit, after=after)
        except (TransientError, InvalidRequestError) as error:
            if is_too_much_data(error) and limit > 1:
                limit = max(1, limit // 2)
                logger.info("Graph asked for less data: page size now %d (account %s)", limit, account.pk)
                continue
            if not is_metric_error(error) or not metrics:
                raise
            name = named_rejected_metric(error, metrics) or _probe_rejected(account, fetch, metrics)
            store.record_rejected_metric(account.platform, kind, name, error.message)
            rejected.add(name)
            continue
        except PermissionMissingError as error:
            if not is_not_enough_viewers(error) or not metrics:
                raise
            # Instagram withholds insights for media with too few viewers, and one such media fails the
            # whole expanded page: keep this page's counters (likes, comments) without its insights.
            logger.info("Insights withheld for a page of %s media (too few viewers); counters only", account.pk)
            ensure_meta_budget(account)
            page = fetch(metrics=[], limit=limit, after=after)
        keep_going = on_page(page.items) and page.after != after  # a cursor that does not move ends it
        after = page.after
        _save_cursor(run, **{stage: {"limit": limit, "after": after, "done": not after or not keep_going}})
        if not after or not keep_going:
            return


def _probe_rejected(account: SocialAccount, fetch: Callable, metrics: list[str]) -> str:
    """Find an unnamed rejected metric by halving the list with one-post probes (log2(n) calls)."""
    candidates = list(metrics)
    while len(candidates) > 1:
        half = candidates[: len(candidates) // 2]
        ensure_meta_budget(account)
        try:
            fetch(metrics=half, limit=1, after=None)
        except InvalidRequestError as error:
            if not is_metric_error(error):
                raise
            candidates = half
        else:
            candidates = candidates[len(half):]
    return candidates[0]


def _reached_horizon(published: list[datetime | None], horizon: datetime) -> bool:
    dates = [d for d in published if d is not None]
    return bool(dates) and min(dates) < horizon


# ---- Facebook ------------------------------------------------------------------------------------

def sync_facebook(account: SocialAccount, run: SyncRun) -> None:
    now = timezone.now()
    if not run.cursor.get("profile"):
        ensure_meta_budget(account)
        page = facebook.get_page_followers(account)
        store.save_account(account, run, store.FetchedAccount(
            followers=page.followers_count, metrics={"followers": page.followers_count, "fans": page.fan_count},
            raw=page.raw), now)
        _save_cursor(run, profile=True)
    if (run.cursor.get("posts") or {}).get("done"):
        return
    horizon, since = store.sync_horizon(account, now), int(store.window_start(now).timestamp())

    def fetch(*, metrics, limit, after):
        return facebook.list_published_posts(account, metrics=metrics, limit=limit, after=after, since=since)

    def on_page(posts: list) -> bool:
        fetched = [_facebook_post(p) for p in posts]
        store.save_posts(account, run, fetched, now)
        return not _reached_horizon([f.published_at for f in fetched], horizon)

    graph_pages(account, run, fetch=fetch, kind=catalogue.FB_POST, kinds=(catalogue.FB_POST,),
                on_page=on_page, stage="posts")
    store.defer_unlisted(account, now)  # the listing went past every due post (a pause raises before this)


def _facebook_post(post: facebook.PagePostMetrics) -> store.FetchedPost:
    insights = post.insights
    reactions_by_type = insights.get("post_reactions_by_type_total")
    metrics = {catalogue.KEY_BY_NAME.get(name, name): value for name, value in insights.items()}
    counters = {
        "views": _number(insights.get("post_media_view")),
        "reach": _number(insights.get("post_total_media_view_unique")),
        "likes": post.reactions if post.reactions is not None else _number(reactions_by_type),
        "comments": post.comments, "shares": post.shares, "saves": None,
    }
    metrics.update({k: v for k, v in counters.items() if v is not None})
    return store.FetchedPost(
        platform_post_id=post.id, published_at=store.parse_time(post.created_time), counters=counters,
        metrics=metrics, raw=post.raw, media_type=post.status_type, product_type="post",
        caption=post.message[:5000], permalink=post.permalink_url,
    )


def _number(value) -> int | None:
    """A metric value as one number; by-type dicts ({"like": 4, "love": 1}) are summed."""
    if isinstance(value, dict):
        return sum(v for v in value.values() if isinstance(v, int | float))
    return value if isinstance(value, int | float) else None


# ---- Instagram -----------------------------------------------------------------------------------

def sync_instagram(account: SocialAccount, run: SyncRun) -> None:
    now = timezone.now()
    if not run.cursor.get("profile"):
        ensure_meta_budget(account)
        profile = instagram.get_profile(account)
        store.save_account(account, run, store.FetchedAccount(
            followers=profile.followers_count,
            metrics={"followers": profile.followers_count, "follows": profile.follows_count,
                     "media_count": profile.media_count}, raw=profile.raw), now)
        _save_cursor(run, profile=True)
    horizon, start = store.sync_horizon(account, now, stories=False), store.window_start(now)

    def on_page(media: list) -> bool:
        fetched = [_instagram_media(m) for m in media]
        kept = [f for f in fetched if not f.published_at or f.published_at >= start]
        add_kind_only_insights(account, kept, now)
        store.save_posts(account, run, kept, now)
        return not _reached_horizon([f.published_at for f in fetched], horizon)

    if not (run.cursor.get("media") or {}).get("done"):
        graph_pages(account, run, fetch=lambda **kw: instagram.list_media(account, **kw), kind="FEED+REELS",
                    kinds=catalogue.IG_LISTED, on_page=on_page, stage="media")
        store.defer_unlisted(account, now, stories=False)
    if not (run.cursor.get("stories") or {}).get("done"):
        def stories(*, metrics, limit, after):  # one page: an account has a few live stories at most
            return instagram.MediaPage(items=instagram.list_stories(account, metrics=metrics).items, after=None)

        graph_pages(account, run, fetch=stories, kind=catalogue.IG_STORY, kinds=(catalogue.IG_STORY,),
                    on_page=on_page, stage="stories")
        store.defer_unlisted(account, now, stories=True)  # a story is listed for 24 h only


def add_kind_only_insights(account: SocialAccount, posts: list[store.FetchedPost], now: datetime) -> int:
    """The metrics a mixed listing cannot ask for (Reels watch times; feed posts' profile visits and
    follows), added in place to the due `posts` younger than ANALYTICS_TYPE_METRICS_DAYS: one multi-id call
    per product type and 50 media. Returns the calls made.

    Best effort: the page's own numbers are saved whatever happens here. A rejected metric is recorded
    and dropped as in the listing; one media failing the whole call (too few viewers, deleted since the
    listing, too much data) halves the batch until it is alone and skipped. When both halves are refused
    too, it is not one media: the account's per-type metrics are paused for a day (store.pause_kind_only_insights),
    3 calls spent instead of 2n-1. Only the budget and rate limits stop the run (RateLimitedError), so that
    the page is read again when the run resumes.
    """
    days = settings.ANALYTICS_TYPE_METRICS_DAYS
    if days <= 0:
        return 0
    young = [p for p in posts if p.published_at and p.published_at >= now - timedelta(days=days)]
    if not young or store.kind_only_insights_paused(account):
        return 0
    due = _due_ids(account, [p.platform_post_id for p in young], now)
    calls, rejected = 0, store.rejected_metrics(account.platform)
    for kind in catalogue.IG_LISTED:
        ids = [p.platform_post_id for p in young if p.product_type == kind and p.platform_post_id in due]
        for start in range(0, len(ids), instagram.MAX_IDS_PER_CALL):
            if store.kind_only_insights_paused(account):  # refused as a whole earlier in this sync
                return calls
            found, made = _kind_only_chunk(account, kind, ids[start:start + instagram.MAX_IDS_PER_CALL], rejected)
            calls += made
            _merge_insights(posts, found)
    return calls


def _due_ids(account: SocialAccount, ids: list[str], now: datetime) -> set[str]:
    """The ids that get a snapshot in this run (new ones included): only their readings are kept."""
    known = {p.platform_post_id: p for p in TrackedPost.objects.filter(account=account, platform_post_id__in=ids)
             .only("platform_post_id", "last_synced_at", "next_sync_at")}
    return {i for i in ids if i not in known or store.is_due(known[i], now)}


def _kind_only_chunk(account: SocialAccount, kind: str, ids: list[str], rejected: set[str]) -> tuple[dict, int]:
    found, calls = _kind_only_call(account, kind, ids, rejected)
    if found is not None:
        return found, calls
    if len(ids) == 1:
        logger.info("Per-type %s metrics skipped for 1 media of account %s (refused)", kind, account.pk)
        return {}, calls
    found, made, every_half_refused = _isolate_refused(account, kind, ids, rejected)
    if every_half_refused:
        # Not one bad media: Graph refuses these reads as a whole (e.g. code 100 for every id). Halving on
        # to single ids would spend 2n-1 calls of the budget publishing and replies need.
        store.pause_kind_only_insights(account, kind)
    return found, calls + made


def _isolate_refused(account: SocialAccount, kind: str, ids: list[str], rejected: set[str]) -> tuple[dict, int, bool]:
    """`ids` were refused together: read each half once, then look inside a refused half the same way.

    Returns (insights found, calls made, whether both halves were refused). Both halves refused means it
    is not one media failing the call: nothing more is asked about these ids in this run."""
    halves = (ids[: len(ids) // 2], ids[len(ids) // 2:])
    tried = [_kind_only_call(account, kind, half, rejected) for half in halves]
    calls = sum(made for _, made in tried)
    if all(found is None for found, _ in tried):
        logger.info("Per-type %s metrics skipped for %d media of account %s (every half refused)", kind, len(ids),
                    account.pk)
        return {}, calls, True
    found: dict = {}
    for half, (got, _) in zip(halves, tried, strict=True):
        if got is None and len(half) > 1:
            got, made, _ = _isolate_refused(account, kind, half, rejected)
            calls += made
        elif got is None:
            logger.info("Per-type %s metrics skipped for 1 media of account %s (refused)", kind, account.pk)
        found.update(got or {})
    return found, calls, False


def _kind_only_call(account: SocialAccount, kind: str, ids: list[str], rejected: set[str]) -> tuple[dict | None, int]:
    """One multi-id read of the kind's metrics (asked again without a metric Graph names as rejected).

    Returns (insights by id, calls made); None instead of the insights when Graph refused the call for
    what one media can cause (too few viewers, deleted since the listing, too much data)."""
    calls = 0
    while metrics := catalogue.kind_only_metric_names(kind, rejected=rejected):
        ensure_meta_budget(account)
        calls += 1
        try:
            return instagram.get_media_insights(account, ids, metrics), calls
        except (InvalidRequestError, PermissionMissingError, TransientError) as error:
            name = named_rejected_metric(error, metrics) if is_metric_error(error) else None
            if name is not None:
                store.record_rejected_metric(account.platform, kind, name, error.message)
                rejected.add(name)
                continue
            if is_too_much_data(error) or is_not_enough_viewers(error) or (
                    isinstance(error, InvalidRequestError) and not is_metric_error(error)):
                return None, calls
            logger.info("Per-type %s metrics skipped for %d media of account %s (%s)", kind, len(ids), account.pk,
                        type(error).__name__)
            return {}, calls
    return {}, calls


def _merge_insights(posts: list[store.FetchedPost], found: dict[str, dict]) -> None:
    for post in posts:
        insights = found.get(post.platform_post_id)
        if insights:
            post.metrics.update({catalogue.KEY_BY_NAME.get(name, name): value for name, value in insights.items()})
            post.raw.setdefault("kind_only_insights", {}).update(insights)


def _instagram_media(media: instagram.IgMedia) -> store.FetchedPost:
    insights = media.insights
    metrics = {catalogue.KEY_BY_NAME.get(name, name): value for name, value in insights.items()}
    counters = {
        "views": _number(insights.get("views")), "reach": _number(insights.get("reach")),
        "likes": media.like_count if media.like_count is not None else _number(insights.get("likes")),
        "comments": media.comments_count if media.comments_count is not None else _number(insights.get("comments")),
        "shares": _number(insights.get("shares")), "saves": _number(insights.get("saved")),
    }
    metrics.update({k: v for k, v in counters.items() if v is not None})
    return store.FetchedPost(
        platform_post_id=media.id, published_at=store.parse_time(media.timestamp), counters=counters,
        metrics=metrics, raw=media.raw, media_type=media.media_type, product_type=media.media_product_type,
        caption=media.caption[:5000], permalink=media.permalink,
    )


# ---- TikTok --------------------------------------------------------------------------------------

def sync_tiktok(account: SocialAccount, run: SyncRun) -> None:
    now = timezone.now()
    if not run.cursor.get("profile"):
        try:
            stats = tiktok.get_user_stats(account)
        except PermissionMissingError:
            # follower_count needs user.info.stats; without it the videos are still worth syncing.
            logger.warning("TikTok account %s did not grant user.info.stats: no follower count", account.pk)
        else:
            store.save_account(account, run, store.FetchedAccount(
                followers=stats.follower_count,
                metrics={"followers": stats.follower_count, "following": stats.following_count,
                         "likes": stats.likes_count, "video_count": stats.video_count}, raw=stats.raw), now)
        _save_cursor(run, profile=True)
    state = run.cursor.get("videos") or {}
    if not state.get("done"):
        _list_tiktok_videos(account, run, now, state.get("cursor"))
    _query_unreached_tiktok_videos(account, run, now)


def _list_tiktok_videos(account: SocialAccount, run: SyncRun, now: datetime, cursor: int | None) -> None:
    horizon, start = store.sync_horizon(account, now), store.window_start(now)
    while True:
        page = tiktok.list_videos(account, cursor=cursor)
        fetched = [_tiktok_video(v) for v in page.videos]
        store.save_posts(account, run, [f for f in fetched if not f.published_at or f.published_at >= start], now)
        done = (not page.has_more or not fetched or page.cursor == cursor
                or _reached_horizon([f.published_at for f in fetched], horizon))
        cursor = page.cursor
        oldest = min((f.published_at for f in fetched if f.published_at), default=None)
        if not done and oldest is not None:
            done = _cheaper_to_query(account, now, oldest, horizon)
        _save_cursor(run, videos={"cursor": cursor, "done": done})
        if done:
            return


def _cheaper_to_query(account: SocialAccount, now: datetime, listed_to: datetime, horizon: datetime) -> bool:
    """Stop listing when querying the still-due older posts by id takes fewer calls than paging to them."""
    older = TrackedPost.objects.filter(account=account, published_at__lt=listed_to, published_at__gte=horizon)
    due = older.filter(store.due_filter(now)).count()
    pages_to_reach = math.ceil(older.count() / tiktok.VIDEO_LIST_MAX)
    return math.ceil(due / tiktok.VIDEO_QUERY_MAX_IDS) < pages_to_reach


def _query_unreached_tiktok_videos(account: SocialAccount, run: SyncRun, now: datetime) -> None:
    due_ids = list(
        # due_filter includes a post UniPulse registered that no sync has read yet (next_sync_at empty).
        TrackedPost.objects.filter(store.due_filter(now), account=account, published_at__gte=store.window_start(now))
        .order_by("-published_at").values_list("platform_post_id", flat=True)
    )
    for i in range(0, len(due_ids), tiktok.VIDEO_QUERY_MAX_IDS):
        batch = due_ids[i:i + tiktok.VIDEO_QUERY_MAX_IDS]
        videos = tiktok.query_videos(account, batch)
        store.save_posts(account, run, [_tiktok_video(v) for v in videos], now)
        # Deleted or private videos are not returned: try them again only at the slowest cadence.
        missing = set(batch) - {v.id for v in videos}
        if missing:
            TrackedPost.objects.filter(account=account, platform_post_id__in=missing).update(
                next_sync_at=now + store.cadence()[-1][1])


def _tiktok_video(video: tiktok.TikTokVideo) -> store.FetchedPost:
    counters = {"views": video.view_count, "reach": None, "likes": video.like_count,
                "comments": video.comment_count, "shares": video.share_count, "saves": None}
    return store.FetchedPost(
        platform_post_id=video.id, published_at=store.parse_time(video.create_time), counters=counters,
        metrics={k: v for k, v in counters.items() if v is not None}, raw=video.raw, media_type="VIDEO",
        product_type="video", caption=video.title[:5000], permalink=video.share_url,
    )


SYNCERS = {Platform.FACEBOOK: sync_facebook, Platform.INSTAGRAM: sync_instagram, Platform.TIKTOK: sync_tiktok}


def request_sync(account: SocialAccount) -> dict:
    """"Sync now": enqueue one analytics sync unless one finished within ANALYTICS_MIN_SYNC_MINUTES.

    Returns {"queued": bool, "runs_after": when it may run}; `queued` is False (nothing sent) when the
    last sync is too recent, and `runs_after` is then when the next one may start.
    """
    from ..actors import analytics_sync

    now = timezone.now()
    last = (SyncRun.objects.filter(account=account, status=SyncRun.Status.DONE).order_by("-finished_at")
            .values_list("finished_at", flat=True).first())
    earliest = last + timedelta(minutes=settings.ANALYTICS_MIN_SYNC_MINUTES) if last else now
    if earliest > now:
        return {"queued": False, "runs_after": earliest, "last_synced_at": last}
    transaction.on_commit(lambda: analytics_sync.send(account.pk))
    return {"queued": True, "runs_after": now, "last_synced_at": last}
