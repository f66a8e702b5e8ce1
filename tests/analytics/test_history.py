"""Follower history across syncs; re-running a sync never duplicates snapshots."""

from datetime import timedelta

from django.utils import timezone

from analytics.models import AccountMetrics, AccountMetricSnapshot, PostMetricSnapshot, SyncRun, TrackedPost
from analytics.services import store, sync_account
from tests.conftest import load_fixture

from .conftest import GRAPH, load_fresh


def mock_facebook(mocked_platforms, followers):
    mocked_platforms.get(f"{GRAPH}/101", json={**load_fixture("facebook/analytics_page_followers.json"), "followers_count": followers})
    mocked_platforms.get(f"{GRAPH}/101/published_posts", json=load_fresh("facebook/analytics_published_posts_page2.json"))


def test_two_syncs_make_a_follower_history_and_keep_the_latest_on_account_metrics(fb_account, mocked_platforms, api_client):
    mock_facebook(mocked_platforms, 1520)
    sync_account(fb_account.id)
    SyncRun.objects.update(finished_at=timezone.now() - timedelta(hours=1))
    mocked_platforms.reset()
    mock_facebook(mocked_platforms, 1534)
    sync_account(fb_account.id)

    assert list(AccountMetricSnapshot.objects.order_by("captured_at").values_list("followers", flat=True)) == [1520, 1534]
    assert AccountMetrics.objects.get(account=fb_account).followers == 1534
    body = api_client.get(f"/api/v1/analytics/accounts/{fb_account.id}/").json()
    assert [point["followers"] for point in body["followers"]["series"]] == [1520, 1534]
    assert body["followers"]["latest"] == 1534


def test_a_second_delivery_of_the_same_sync_makes_no_calls_and_no_rows(fb_account, mocked_platforms):
    mock_facebook(mocked_platforms, 1520)
    sync_account(fb_account.id)
    calls = len(mocked_platforms.calls)

    assert sync_account(fb_account.id) is None  # duplicate message, or cron twice within minutes

    assert len(mocked_platforms.calls) == calls
    assert SyncRun.objects.count() == 1 and PostMetricSnapshot.objects.count() == 1
    assert AccountMetricSnapshot.objects.count() == 1


def test_saving_the_same_page_twice_in_one_run_adds_no_second_snapshot(fb_account):
    run = SyncRun.objects.create(account=fb_account)
    now = timezone.now()
    page = [store.FetchedPost(platform_post_id=f"101_{i}", published_at=now - timedelta(hours=i),
                              counters={"views": i}, metrics={"views": i}, raw={"id": f"101_{i}"}) for i in range(5)]
    account = store.FetchedAccount(followers=10, metrics={"followers": 10})

    assert store.save_posts(fb_account, run, page, now) == 5
    assert store.save_posts(fb_account, run, page, now) == 0
    store.save_account(fb_account, run, account, now)
    store.save_account(fb_account, run, account, now)

    assert PostMetricSnapshot.objects.filter(sync_run=run).count() == 5
    assert TrackedPost.objects.count() == 5 and AccountMetricSnapshot.objects.count() == 1
    run.refresh_from_db()
    assert run.posts_synced == 5


def test_cadence_is_hourly_on_the_first_day_then_slower_and_stops_after_the_window(settings):
    settings.ANALYTICS_CADENCE = "24:1,168:6,2160:24"
    settings.ANALYTICS_WINDOW_DAYS = 90
    now = timezone.now()
    assert store.next_sync_at(now - timedelta(hours=3), now) == now + timedelta(hours=1)
    assert store.next_sync_at(now - timedelta(days=3), now) == now + timedelta(hours=6)
    assert store.next_sync_at(now - timedelta(days=30), now) == now + timedelta(hours=24)
    assert store.next_sync_at(now - timedelta(days=91), now) is None


def test_posts_outside_the_window_get_no_snapshot_schedule(fb_account):
    run = SyncRun.objects.create(account=fb_account)
    now = timezone.now()
    old = store.FetchedPost(platform_post_id="101_old", published_at=now - timedelta(days=120),
                            counters={}, metrics={}, raw={})
    store.save_posts(fb_account, run, [old], now)
    assert TrackedPost.objects.get().next_sync_at is None
