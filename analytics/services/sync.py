"""Syncing one account's metrics: many posts per call, within the user's call budget.

The platforms' own listings are in analytics/platforms/ (reached through PLATFORMS); this module runs
them: first the account (followers), then the posts. A run pages back only as far as its oldest due
post (cadence by age, store.sync_horizon). Each page is saved as it arrives, so a run that stops for
lack of budget keeps what it fetched, records where it was, raises RateLimitedError (the actor
re-enqueues it) and resumes from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from social.clients import meta, ratelimit
from social.models import AccountStatus, SocialAccount
from unipulse import hooks
from unipulse.conventions import api_datetime
from unipulse.platform_errors import PlatformError, RateLimitedError, TransientError

from .. import platforms
from ..models import SyncRun
from . import store

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
        _read_platform(platforms.PLATFORMS[account.platform], Progress(account, run, timezone.now()))
    except TransientError as error:  # rate limit, budget, 5xx: the next delivery resumes at the cursor
        SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.PAUSED, cursor=run.cursor,
                                                 error_code=error.error_code[:64])
        raise
    except PlatformError as error:  # reconnect, permission, invalid: this run ends here
        SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.FAILED, cursor=run.cursor,
                                                 error_code=error.error_code[:64], finished_at=timezone.now())
        raise
    run.status, run.finished_at = SyncRun.Status.DONE, timezone.now()
    with transaction.atomic():
        run.save(update_fields=["status", "finished_at", "cursor"])
        # The account's "last sync" (API and admin) was never written: it read empty after every sync.
        SocialAccount.objects.filter(pk=account.pk).update(last_synced_at=run.finished_at)
        hooks.record_event(account.workspace_id, "analytics.synced", {"object": {
            "account": account.pk, "platform": account.platform, "run": run.pk, "status": run.status,
            "started_at": api_datetime(run.started_at), "finished_at": api_datetime(run.finished_at),
            "posts_synced": run.posts_synced}})
    return run


def _read_platform(platform: platforms.AnalyticsPlatform, sync: Progress) -> None:
    if not sync.run.cursor.get("profile"):
        fetched = platform.read_account(sync)
        if fetched is not None:
            store.save_account(sync.account, sync.run, fetched, sync.now)
        sync.save_stage("profile", True)
    platform.read_posts(sync)


@dataclass
class Progress:
    """A run as the platform modules see it (platforms.SyncProgress): its cursor, its budget, its writes."""

    account: SocialAccount
    run: SyncRun
    now: datetime

    def stage(self, name: str) -> dict:
        return self.run.cursor.get(name) or {}

    def save_stage(self, name: str, state: dict | bool) -> None:
        self.run.cursor = {**self.run.cursor, name: state}
        SyncRun.objects.filter(pk=self.run.pk).update(cursor=self.run.cursor)

    def ensure_meta_budget(self, calls: int = 1) -> None:
        ensure_meta_budget(self.account, calls)

    def save_posts(self, posts: list[store.FetchedPost]) -> None:
        store.save_posts(self.account, self.run, posts, self.now)


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


def ensure_meta_budget(account: SocialAccount, calls: int = 1) -> None:
    """Stop before the user's hourly Meta budget falls to the reserve kept for publishing and replies."""
    left = ratelimit.remaining_budget(meta.user_budget_key(account))
    if left - calls < settings.ANALYTICS_BUDGET_RESERVE:
        raise RateLimitedError(
            "Analytics paused: the hourly Meta call budget is nearly spent; the sync resumes later.",
            platform="meta", retry_after=BUDGET_RETRY_SECONDS, scope="budget",
        )


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
