"""Cadence over simulated hours: the hourly cron reads page 1 every time, yet every post there keeps
its own rhythm (a post not due yet is not pushed back), on Facebook and on the TikTok listing."""

import json
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from responses import matchers

from analytics.models import PostMetricSnapshot, TrackedPost
from analytics.services import store, sync_account
from tests.conftest import load_fixture

from .conftest import GRAPH, TIKTOK

START = datetime(2026, 11, 25, 10, 0, 3, tzinfo=UTC)
YOUNG_AGE, OLDER_AGE = timedelta(hours=2), timedelta(days=3)  # first day: hourly; first week: every 6 h
# When the cron's message is worked on each hour: a few seconds either way, like a real queue.
JITTER = [3, 1, 7, 0, 5, 2, 9, 1, 4, 6, 0, 8, 2]


@contextmanager
def clock(moment: datetime):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def run_hourly(account_id: int, hours: int, first: int = 0) -> list[datetime]:
    """Sync the account once per simulated hour from hour `first` (each a new run, as from `sync_analytics`)."""
    moments = []
    for hour in range(first, first + hours):
        moment = START.replace(second=0) + timedelta(hours=hour, seconds=JITTER[hour % len(JITTER)])
        with clock(moment):
            assert sync_account(account_id) is not None
        moments.append(moment)
    return moments


def snapshot_hours(platform_post_id: str) -> list[int]:
    times = PostMetricSnapshot.objects.filter(tracked_post__platform_post_id=platform_post_id) \
        .order_by("captured_at").values_list("captured_at", flat=True)
    return [round((t - START).total_seconds() / 3600) for t in times]


def graph_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


@pytest.fixture
def cadence_settings(settings):
    settings.ANALYTICS_CADENCE = "24:1,168:6,2160:24"
    settings.ANALYTICS_WINDOW_DAYS = 90
    settings.ANALYTICS_MIN_SYNC_MINUTES = 10


def test_an_older_post_on_page_one_gets_snapshots_every_six_hours_under_an_hourly_cron(
        fb_account, mocked_platforms, cadence_settings):
    def published_posts(request):  # one page, both posts on it, every time
        posts = [
            {"id": "101_young", "created_time": graph_time(START - YOUNG_AGE), "message": "new", "status_type": "added_photos",
             "reactions": {"data": [], "summary": {"total_count": 5}}, "comments": {"data": [], "summary": {"total_count": 1}}},
            {"id": "101_older", "created_time": graph_time(START - OLDER_AGE), "message": "old", "status_type": "added_photos",
             "reactions": {"data": [], "summary": {"total_count": 9}}, "comments": {"data": [], "summary": {"total_count": 2}}},
        ]
        return 200, {}, json.dumps({"data": posts, "paging": {"cursors": {"before": "b", "after": "a"}}})

    mocked_platforms.get(f"{GRAPH}/101", json=load_fixture("facebook/analytics_page_followers.json"))
    mocked_platforms.add_callback("GET", f"{GRAPH}/101/published_posts", callback=published_posts)

    moments = run_hourly(fb_account.id, 13)

    listings = [c for c in mocked_platforms.calls if c.request.url.startswith(f"{GRAPH}/101/published_posts")]
    assert len(listings) == 13  # page 1 was read every hour
    assert snapshot_hours("101_young") == list(range(13))
    assert snapshot_hours("101_older") == [0, 6, 12]
    older = TrackedPost.objects.get(platform_post_id="101_older")
    assert older.next_sync_at == moments[12] + timedelta(hours=6)
    assert older.last_synced_at == moments[12]
    assert older.likes == 9


def test_an_older_video_on_the_first_list_page_gets_snapshots_at_its_cadence(
        tt_account, mocked_platforms, cadence_settings):
    ok = {"code": "ok", "message": "", "log_id": "x"}

    def video_list(request):
        videos = [
            {"id": "7440000000000000009", "title": "new", "create_time": int((START - YOUNG_AGE).timestamp()),
             "share_url": "https://www.tiktok.com/@bakery/video/7440000000000000009", "view_count": 10,
             "like_count": 1, "comment_count": 0, "share_count": 0},
            {"id": "7440000000000000008", "title": "old", "create_time": int((START - OLDER_AGE).timestamp()),
             "share_url": "https://www.tiktok.com/@bakery/video/7440000000000000008", "view_count": 99,
             "like_count": 4, "comment_count": 1, "share_count": 0},
        ]
        return 200, {}, json.dumps({"data": {"videos": videos, "cursor": 1, "has_more": False}, "error": ok})

    mocked_platforms.get(f"{TIKTOK}/v2/user/info/", json=load_fixture("tiktok/analytics_user_info.json"))
    mocked_platforms.add_callback("POST", f"{TIKTOK}/v2/video/list/", callback=video_list)

    run_hourly(tt_account.id, 13)

    assert snapshot_hours("7440000000000000009") == list(range(13))
    assert snapshot_hours("7440000000000000008") == [0, 6, 12]
    # both were listed: nothing left over for the video query fallback
    assert not any(c.request.url.startswith(f"{TIKTOK}/v2/video/query/") for c in mocked_platforms.calls)


def test_a_listed_post_that_is_not_due_keeps_its_next_sync_but_shows_the_fresh_numbers(fb_account):
    from analytics.models import SyncRun

    now = START
    post = TrackedPost.objects.create(account=fb_account, platform="facebook", platform_post_id="101_1",
                                      published_at=now - OLDER_AGE, last_synced_at=now - timedelta(hours=2),
                                      next_sync_at=now + timedelta(hours=4), likes=3)
    fetched = store.FetchedPost(platform_post_id="101_1", published_at=now - OLDER_AGE, counters={"likes": 8},
                                metrics={"likes": 8}, raw={"id": "101_1"})

    assert store.save_posts(fb_account, SyncRun.objects.create(account=fb_account), [fetched], now) == 0

    post.refresh_from_db()
    assert post.next_sync_at == now + timedelta(hours=4)
    assert post.likes == 8 and post.last_synced_at == now
    assert not PostMetricSnapshot.objects.exists()


def test_a_post_due_a_few_seconds_after_the_run_starts_is_synced_by_that_run(fb_account, cadence_settings):
    from analytics.models import SyncRun

    now = START
    TrackedPost.objects.create(account=fb_account, platform="facebook", platform_post_id="101_1",
                               published_at=now - OLDER_AGE, last_synced_at=now - timedelta(hours=6),
                               next_sync_at=now + timedelta(seconds=4))
    late = TrackedPost.objects.create(account=fb_account, platform="facebook", platform_post_id="101_2",
                                      published_at=now - OLDER_AGE, last_synced_at=now - timedelta(hours=1),
                                      next_sync_at=now + timedelta(minutes=11))
    fetched = [store.FetchedPost(platform_post_id=pid, published_at=now - OLDER_AGE, counters={}, metrics={}, raw={})
               for pid in ("101_1", "101_2")]

    assert store.save_posts(fb_account, SyncRun.objects.create(account=fb_account), fetched, now) == 1

    assert list(PostMetricSnapshot.objects.values_list("tracked_post__platform_post_id", flat=True)) == ["101_1"]
    late.refresh_from_db()
    assert late.next_sync_at == now + timedelta(minutes=11)



def mock_two_facebook_pages(mocked_platforms):
    """The conftest's two listing pages (posts 1 h, 5 days and 23 days old at START)."""
    from .conftest import load_fresh

    with clock(START):
        mocked_platforms.get(f"{GRAPH}/101", json=load_fixture("facebook/analytics_page_followers.json"))
        mocked_platforms.get(f"{GRAPH}/101/published_posts", json=load_fresh("facebook/analytics_published_posts_page2.json"),
                             match=[matchers.query_param_matcher({"after": "QVFIUnBhZ2UyY3Vyc29y"}, strict_match=False)])
        mocked_platforms.get(f"{GRAPH}/101/published_posts", json=load_fresh("facebook/analytics_published_posts_page1.json"))


def test_a_due_post_the_listing_no_longer_returns_is_put_off_so_later_runs_read_only_page_one(
        fb_account, mocked_platforms, cadence_settings):
    """A deleted post stays due: without this, every hourly run paged back to it until the window's end."""
    gone = TrackedPost.objects.create(account=fb_account, platform="facebook", platform_post_id="101_deleted",
                                      published_at=START - timedelta(days=20), last_synced_at=START - timedelta(days=1),
                                      next_sync_at=START - timedelta(minutes=30))
    mock_two_facebook_pages(mocked_platforms)

    def listings() -> int:
        return len([c for c in mocked_platforms.calls if "/published_posts" in c.request.url])

    (first,) = run_hourly(fb_account.id, 1)
    assert listings() == 2  # paged back past the deleted post, which was due
    gone.refresh_from_db()
    assert gone.next_sync_at == first + timedelta(hours=24)  # asked again only at the slowest cadence
    assert not PostMetricSnapshot.objects.filter(tracked_post=gone).exists()

    mocked_platforms.calls.reset()
    run_hourly(fb_account.id, 5, first=1)
    assert listings() == 5  # one page an hour: the deleted post no longer drags the listing back


def test_an_unfinished_listing_puts_nothing_off(fb_account, mocked_platforms, cadence_settings, settings):
    """A run that stops for lack of budget has not passed every due post: none is taken as unlisted."""
    from unipulse.platform_errors import RateLimitedError

    settings.ANALYTICS_BUDGET_RESERVE = 0
    due = TrackedPost.objects.create(account=fb_account, platform="facebook", platform_post_id="101_old",
                                     published_at=START - timedelta(days=20), last_synced_at=START - timedelta(days=1),
                                     next_sync_at=START - timedelta(minutes=30))
    mock_two_facebook_pages(mocked_platforms)
    mocked_platforms.replace("GET", f"{GRAPH}/101/published_posts", status=400, json={"error": {
        "message": "(#17) User request limit reached", "type": "OAuthException", "code": 17, "fbtrace_id": "Ax"}},
        match=[matchers.query_param_matcher({"after": "QVFIUnBhZ2UyY3Vyc29y"}, strict_match=False)])

    with clock(START), pytest.raises(RateLimitedError):
        sync_account(fb_account.id)

    due.refresh_from_db()
    assert due.next_sync_at == START - timedelta(minutes=30)


def test_an_expired_story_is_put_off_and_never_drags_the_media_listing_back(
        ig_account, mocked_platforms, cadence_settings):
    from .conftest import load_fresh, mock_kind_only_insights

    ig = "17841400000000001"
    story = TrackedPost.objects.create(account=ig_account, platform="instagram", platform_post_id="17900000000000777",
                                       product_type="STORY", published_at=START - timedelta(days=30),
                                       last_synced_at=START - timedelta(days=29), next_sync_at=START - timedelta(hours=1))
    with clock(START):
        mocked_platforms.get(f"{GRAPH}/{ig}", json=load_fixture("instagram/analytics_profile.json"))
        mocked_platforms.get(f"{GRAPH}/{ig}/media", json=load_fresh("instagram/analytics_media_page2.json"),
                             match=[matchers.query_param_matcher({"after": "QVFIUmlnMnBhZ2U"}, strict_match=False)])
        mocked_platforms.get(f"{GRAPH}/{ig}/media", json=load_fresh("instagram/analytics_media_page1.json"))
        mocked_platforms.get(f"{GRAPH}/{ig}/stories", json=load_fresh("instagram/analytics_stories.json"))
        mock_kind_only_insights(mocked_platforms)
    run_hourly(ig_account.id, 1)  # first sync: the whole window, both media pages
    mocked_platforms.calls.reset()

    (moment,) = run_hourly(ig_account.id, 1, first=1)

    media_pages = [c for c in mocked_platforms.calls if c.request.url.split("?")[0].endswith("/media")]
    assert len(media_pages) == 1  # the 30-day-old story is not looked for in the media listing
    story.refresh_from_db()
    assert story.next_sync_at > moment + timedelta(hours=23)  # put off after its listing, /stories, lacked it


def test_a_post_published_minutes_ago_and_not_listed_yet_stays_due(fb_account, mocked_platforms, cadence_settings):
    from analytics.services import register_published_post

    with clock(START):
        register_published_post(fb_account.id, "101_just_now", START - timedelta(minutes=2))
    mock_two_facebook_pages(mocked_platforms)

    run_hourly(fb_account.id, 1)

    ours = TrackedPost.objects.get(platform_post_id="101_just_now")
    assert (ours.next_sync_at, ours.last_synced_at) == (None, None)  # still due: the next run looks again
