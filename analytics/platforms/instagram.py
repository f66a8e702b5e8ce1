"""Instagram analytics: the profile's counts, then /{ig-id}/media and /stories with counters and insights
by field expansion, plus the per-type metrics a mixed listing cannot ask for (multi-id reads)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings

from social.clients import instagram as client
from social.models import SocialAccount
from unipulse.platform_errors import InvalidRequestError, PermissionMissingError, TransientError

from .. import catalogue
from ..models import TrackedPost
from ..services import store
from . import meta

if TYPE_CHECKING:
    from . import SyncProgress

logger = logging.getLogger(__name__)


def read_account(sync: SyncProgress) -> store.FetchedAccount:
    sync.ensure_meta_budget()
    profile = client.get_profile(sync.account)
    return store.FetchedAccount(
        followers=profile.followers_count,
        metrics={"followers": profile.followers_count, "follows": profile.follows_count,
                 "media_count": profile.media_count}, raw=profile.raw)


def read_posts(sync: SyncProgress) -> None:
    account, now = sync.account, sync.now
    horizon, start = store.sync_horizon(account, now, stories=False), store.window_start(now)

    def on_page(media: list) -> bool:
        fetched = [_media(m) for m in media]
        kept = [f for f in fetched if not f.published_at or f.published_at >= start]
        add_kind_only_insights(sync, kept)
        sync.save_posts(kept)
        return not store.reached_horizon([f.published_at for f in fetched], horizon)

    if not sync.stage("media").get("done"):
        meta.graph_pages(sync, fetch=lambda **kw: client.list_media(account, **kw), kind="FEED+REELS",
                         kinds=catalogue.IG_LISTED, on_page=on_page, stage="media")
        store.defer_unlisted(account, now, stories=False)
    if not sync.stage("stories").get("done"):
        def stories(*, metrics, limit, after):  # one page: an account has a few live stories at most
            return client.MediaPage(items=client.list_stories(account, metrics=metrics).items, after=None)

        meta.graph_pages(sync, fetch=stories, kind=catalogue.IG_STORY, kinds=(catalogue.IG_STORY,),
                         on_page=on_page, stage="stories")
        store.defer_unlisted(account, now, stories=True)  # a story is listed for 24 h only


def add_kind_only_insights(sync: SyncProgress, posts: list[store.FetchedPost]) -> int:
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
    account, now, days = sync.account, sync.now, settings.ANALYTICS_TYPE_METRICS_DAYS
    if days <= 0:
        return 0
    young = [p for p in posts if p.published_at and p.published_at >= now - timedelta(days=days)]
    if not young or store.kind_only_insights_paused(account):
        return 0
    due = _due_ids(account, [p.platform_post_id for p in young], now)
    calls, rejected = 0, store.rejected_metrics(account.platform)
    for kind in catalogue.IG_LISTED:
        ids = [p.platform_post_id for p in young if p.product_type == kind and p.platform_post_id in due]
        for start in range(0, len(ids), client.MAX_IDS_PER_CALL):
            if store.kind_only_insights_paused(account):  # refused as a whole earlier in this sync
                return calls
            found, made = _kind_only_chunk(sync, kind, ids[start:start + client.MAX_IDS_PER_CALL], rejected)
            calls += made
            _merge_insights(posts, found)
    return calls


def _due_ids(account: SocialAccount, ids: list[str], now: datetime) -> set[str]:
    """The ids that get a snapshot in this run (new ones included): only their readings are kept."""
    known = {p.platform_post_id: p for p in TrackedPost.objects.filter(account=account, platform_post_id__in=ids)
             .only("platform_post_id", "last_synced_at", "next_sync_at")}
    return {i for i in ids if i not in known or store.is_due(known[i], now)}


def _kind_only_chunk(sync: SyncProgress, kind: str, ids: list[str], rejected: set[str]) -> tuple[dict, int]:
    found, calls = _kind_only_call(sync, kind, ids, rejected)
    if found is not None:
        return found, calls
    if len(ids) == 1:
        logger.info("Per-type %s metrics skipped for 1 media of account %s (refused)", kind, sync.account.pk)
        return {}, calls
    found, made, every_half_refused = _isolate_refused(sync, kind, ids, rejected)
    if every_half_refused:
        # Not one bad media: Graph refuses these reads as a whole (e.g. code 100 for every id). Halving on
        # to single ids would spend 2n-1 calls of the budget publishing and replies need.
        store.pause_kind_only_insights(sync.account, kind)
    return found, calls + made


def _isolate_refused(sync: SyncProgress, kind: str, ids: list[str], rejected: set[str]) -> tuple[dict, int, bool]:
    """`ids` were refused together: read each half once, then look inside a refused half the same way.

    Returns (insights found, calls made, whether both halves were refused). Both halves refused means it
    is not one media failing the call: nothing more is asked about these ids in this run."""
    halves = (ids[: len(ids) // 2], ids[len(ids) // 2:])
    tried = [_kind_only_call(sync, kind, half, rejected) for half in halves]
    calls = sum(made for _, made in tried)
    if all(found is None for found, _ in tried):
        logger.info("Per-type %s metrics skipped for %d media of account %s (every half refused)", kind, len(ids),
                    sync.account.pk)
        return {}, calls, True
    found: dict = {}
    for half, (got, _) in zip(halves, tried, strict=True):
        if got is None and len(half) > 1:
            got, made, _ = _isolate_refused(sync, kind, half, rejected)
            calls += made
        elif got is None:
            logger.info("Per-type %s metrics skipped for 1 media of account %s (refused)", kind, sync.account.pk)
        found.update(got or {})
    return found, calls, False


def _kind_only_call(sync: SyncProgress, kind: str, ids: list[str], rejected: set[str]) -> tuple[dict | None, int]:
    """One multi-id read of the kind's metrics (asked again without a metric Graph names as rejected).

    Returns (insights by id, calls made); None instead of the insights when Graph refused the call for
    what one media can cause (too few viewers, deleted since the listing, too much data)."""
    calls = 0
    while metrics := catalogue.kind_only_metric_names(kind, rejected=rejected):
        sync.ensure_meta_budget()
        calls += 1
        try:
            return client.get_media_insights(sync.account, ids, metrics), calls
        except (InvalidRequestError, PermissionMissingError, TransientError) as error:
            name = meta.named_rejected_metric(error, metrics) if meta.is_metric_error(error) else None
            if name is not None:
                store.record_rejected_metric(sync.account.platform, kind, name, error.message)
                rejected.add(name)
                continue
            if meta.is_too_much_data(error) or meta.is_not_enough_viewers(error) or (
                    isinstance(error, InvalidRequestError) and not meta.is_metric_error(error)):
                return None, calls
            logger.info("Per-type %s metrics skipped for %d media of account %s (%s)", kind, len(ids),
                        sync.account.pk, type(error).__name__)
            return {}, calls
    return {}, calls


def _merge_insights(posts: list[store.FetchedPost], found: dict[str, dict]) -> None:
    for post in posts:
        insights = found.get(post.platform_post_id)
        if insights:
            post.metrics.update({catalogue.KEY_BY_NAME.get(name, name): value for name, value in insights.items()})
            post.raw.setdefault("kind_only_insights", {}).update(insights)


def _media(media: client.IgMedia) -> store.FetchedPost:
    insights = media.insights
    metrics = {catalogue.KEY_BY_NAME.get(name, name): value for name, value in insights.items()}
    counters = {
        "views": meta.number(insights.get("views")), "reach": meta.number(insights.get("reach")),
        "likes": media.like_count if media.like_count is not None else meta.number(insights.get("likes")),
        "comments": media.comments_count if media.comments_count is not None else meta.number(insights.get("comments")),
        "shares": meta.number(insights.get("shares")), "saves": meta.number(insights.get("saved")),
    }
    metrics.update({k: v for k, v in counters.items() if v is not None})
    return store.FetchedPost(
        platform_post_id=media.id, published_at=store.parse_time(media.timestamp), counters=counters,
        metrics=metrics, raw=media.raw, media_type=media.media_type, product_type=media.media_product_type,
        caption=media.caption[:5000], permalink=media.permalink,
    )
