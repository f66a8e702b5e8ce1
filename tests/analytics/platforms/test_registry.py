"""The analytics platform protocol: one module per platform, and the sync reaches them only through PLATFORMS."""

import inspect
from types import SimpleNamespace

import pytest
from django.utils import timezone

from analytics import platforms
from analytics.models import AccountMetricSnapshot, SyncRun, TrackedPost
from analytics.services import store, sync_account
from analytics.services.sync import Progress
from social.models import Platform
from unipulse.platform_errors import RateLimitedError

PROTOCOL = ("read_account", "read_posts")


@pytest.mark.parametrize("platform", Platform.values)
def test_every_platform_has_an_analytics_module_implementing_the_protocol(platform):
    module = platforms.PLATFORMS[platform]

    assert module.__name__ == f"analytics.platforms.{platform}"
    assert isinstance(module, platforms.AnalyticsPlatform)
    for name in PROTOCOL:
        assert list(inspect.signature(getattr(module, name)).parameters) == ["sync"], f"{platform}.{name}"


def test_the_registry_holds_exactly_the_platforms():
    assert set(platforms.PLATFORMS) == set(Platform.values)


def test_what_the_sync_hands_a_platform_implements_the_progress_protocol(account_factory):
    account = account_factory("tiktok")
    progress = Progress(account, SyncRun.objects.create(account=account), timezone.now())

    assert isinstance(progress, platforms.SyncProgress)


def fake_platform(calls: list, *, pause_once: bool = False):
    """A platform module that reads one account and one post, optionally pausing once after its first stage."""
    def read_account(sync):
        calls.append("account")
        return store.FetchedAccount(followers=7, metrics={"followers": 7})

    def read_posts(sync):
        calls.append(("posts", sync.stage("first")))
        sync.save_posts([store.FetchedPost(platform_post_id="v1", published_at=sync.now, counters={"views": 3},
                                           metrics={"views": 3}, raw={})])
        sync.save_stage("first", {"done": True})
        if pause_once and calls.count("paused") == 0:
            calls.append("paused")
            raise RateLimitedError("Slow down.", platform="tiktok", retry_after=60)

    return SimpleNamespace(read_account=read_account, read_posts=read_posts)


def test_a_sync_reads_the_account_then_the_posts_through_the_registry(account_factory, monkeypatch):
    account, calls = account_factory("tiktok"), []
    monkeypatch.setitem(platforms.PLATFORMS, Platform.TIKTOK, fake_platform(calls))

    run = sync_account(account.id)

    assert calls == ["account", ("posts", {})]
    assert run.status == SyncRun.Status.DONE and run.cursor == {"profile": True, "first": {"done": True}}
    assert AccountMetricSnapshot.objects.get(sync_run=run).followers == 7
    assert TrackedPost.objects.get(account=account).views == 3


def test_a_resumed_run_starts_from_the_saved_stages_and_does_not_read_the_account_again(account_factory, monkeypatch):
    account, calls = account_factory("tiktok"), []
    monkeypatch.setitem(platforms.PLATFORMS, Platform.TIKTOK, fake_platform(calls, pause_once=True))

    with pytest.raises(RateLimitedError):
        sync_account(account.id)
    paused = SyncRun.objects.get(account=account)
    assert paused.status == SyncRun.Status.PAUSED and paused.cursor == {"profile": True, "first": {"done": True}}
    run = sync_account(account.id)

    assert run.pk == paused.pk and run.status == SyncRun.Status.DONE
    assert calls == ["account", ("posts", {}), "paused", ("posts", {"done": True})]
