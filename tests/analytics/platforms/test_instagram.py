"""Instagram sync: media and stories with counters and insights in the listing calls; followers."""

from responses import matchers

from analytics.models import AccountMetrics, PostMetricSnapshot, TrackedPost
from analytics.services import sync_account
from tests.conftest import load_fixture

from ..conftest import GRAPH, load_fresh, query

IG = "17841400000000001"
LISTED_METRICS = "views,reach,likes,comments,shares,saved,total_interactions"
STORY_METRICS = "views,reach,shares,total_interactions,profile_visits,follows,replies"


def mock_instagram(mocked_platforms):
    mocked_platforms.get(f"{GRAPH}/{IG}", json=load_fixture("instagram/analytics_profile.json"))
    mocked_platforms.get(f"{GRAPH}/{IG}/media", json=load_fresh("instagram/analytics_media_page2.json"),
                         match=[matchers.query_param_matcher({"after": "QVFIUmlnMnBhZ2U"}, strict_match=False)])
    mocked_platforms.get(f"{GRAPH}/{IG}/media", json=load_fresh("instagram/analytics_media_page1.json"))
    mocked_platforms.get(f"{GRAPH}/{IG}/stories", json=load_fresh("instagram/analytics_stories.json"))
    for ids, name in [("17900000000000002", "feed_page1"), ("17900000000000003", "reels")]:
        mocked_platforms.get(f"{GRAPH}/", json=load_fixture(f"instagram/analytics_media_insights_{name}.json"),
                             match=[matchers.query_param_matcher({"ids": ids}, strict_match=False)])


def test_instagram_sync_reads_counters_and_insights_of_every_media_type_in_the_listing_calls(ig_account, mocked_platforms):
    mock_instagram(mocked_platforms)

    sync_account(ig_account.id)

    urls = [c.request.url.split("?")[0] for c in mocked_platforms.calls]
    # each media page, then the per-type metrics of its media younger than 7 days (one multi-id call per
    # product type): page 2 holds only a 26-day-old image, so it costs nothing more
    assert urls == [f"{GRAPH}/{IG}", f"{GRAPH}/{IG}/media", f"{GRAPH}/", f"{GRAPH}/", f"{GRAPH}/{IG}/media",
                    f"{GRAPH}/{IG}/stories"]
    media = query(mocked_platforms.calls[1])
    assert media["fields"] == ("id,caption,media_type,media_product_type,timestamp,permalink,like_count,comments_count,"
                               f"insights.metric({LISTED_METRICS})")
    assert media["limit"] == "100"
    assert [(query(c)["ids"], query(c)["fields"]) for c in mocked_platforms.calls if c.request.url.split("?")[0] == f"{GRAPH}/"] == [
        ("17900000000000002", "insights.metric(profile_visits,follows)"),
        ("17900000000000003", "insights.metric(ig_reels_avg_watch_time,ig_reels_video_view_total_time)")]
    assert query(mocked_platforms.calls[4])["after"] == "QVFIUmlnMnBhZ2U"
    assert query(mocked_platforms.calls[5])["fields"].endswith(f"insights.metric({STORY_METRICS})")

    reel = TrackedPost.objects.get(platform_post_id="17900000000000003")
    assert (reel.product_type, reel.views, reel.reach, reel.likes, reel.comments, reel.shares, reel.saves) == (
        "REELS", 10450, 7710, 311, 18, 44, 29)
    assert (reel.latest_metrics["avg_watch_time_ms"], reel.latest_metrics["watch_time_ms"]) == (8450, 88306200)
    assert "profile_visits" not in reel.latest_metrics
    album = TrackedPost.objects.get(platform_post_id="17900000000000002")
    assert (album.media_type, album.product_type, album.likes, album.saves) == ("CAROUSEL_ALBUM", "FEED", 95, 12)
    assert (album.latest_metrics["profile_visits"], album.latest_metrics["follows"]) == (14, 3)
    assert "avg_watch_time_ms" not in album.latest_metrics
    snapshot = PostMetricSnapshot.objects.get(tracked_post=reel)
    assert snapshot.raw["kind_only_insights"] == {"ig_reels_avg_watch_time": 8450, "ig_reels_video_view_total_time": 88306200}
    story = TrackedPost.objects.get(platform_post_id="17900000000000009")
    assert story.product_type == "STORY" and story.latest_metrics["replies"] == 4
    assert PostMetricSnapshot.objects.count() == 4
    assert AccountMetrics.objects.get(account=ig_account).metrics == {"followers": 8421, "follows": 310, "media_count": 212}


def test_instagram_listing_stops_at_the_oldest_due_post(ig_account, mocked_platforms):
    mock_instagram(mocked_platforms)
    sync_account(ig_account.id)
    # An hour later only the reel (first day: hourly) is due; the album and the image are daily.
    from datetime import timedelta

    from django.utils import timezone

    from analytics.models import SyncRun

    SyncRun.objects.update(finished_at=timezone.now() - timedelta(hours=1))
    TrackedPost.objects.filter(platform_post_id="17900000000000003").update(next_sync_at=timezone.now())
    TrackedPost.objects.filter(product_type="STORY").update(next_sync_at=timezone.now() + timedelta(hours=1))
    mocked_platforms.calls.reset()

    sync_account(ig_account.id)

    media_calls = [c for c in mocked_platforms.calls if "/media" in c.request.url]
    assert len(media_calls) == 1  # page 1 already reaches the oldest due post
    assert PostMetricSnapshot.objects.filter(tracked_post__platform_post_id="17900000000000003").count() == 2
    assert PostMetricSnapshot.objects.filter(tracked_post__platform_post_id="17900000000000002").count() == 1


def test_media_with_too_few_viewers_keep_their_counters_without_sinking_the_sync(ig_account, mocked_platforms):
    """Graph code 10 'Not enough viewers' for one media fails the expanded page: refetch it counters-only."""
    page1 = load_fresh("instagram/analytics_media_page1.json")
    page1.pop("paging")
    for item in page1["data"]:
        item.pop("insights", None)
    mocked_platforms.get(f"{GRAPH}/{IG}", json=load_fixture("instagram/analytics_profile.json"))
    mocked_platforms.get(f"{GRAPH}/{IG}/media", status=400, json={"error": {
        "message": "(#10) Not enough viewers for the media to show insights", "type": "OAuthException",
        "code": 10, "fbtrace_id": "AxYz"}}, match=[matchers.query_param_matcher(
            {"fields": f"id,caption,media_type,media_product_type,timestamp,permalink,like_count,comments_count,"
                       f"insights.metric({LISTED_METRICS})"}, strict_match=False)])
    mocked_platforms.get(f"{GRAPH}/{IG}/media", json=page1)
    mocked_platforms.get(f"{GRAPH}/{IG}/stories", json={"data": []})
    # the per-type metrics of the same media are withheld the same way: the media keep what they have
    mocked_platforms.get(f"{GRAPH}/", status=400, json={"error": {
        "message": "(#10) Not enough viewers for the media to show insights", "type": "OAuthException",
        "code": 10, "fbtrace_id": "AxYz2"}})

    sync_account(ig_account.id)

    fields = [query(c).get("fields", "") for c in mocked_platforms.calls if c.request.url.split("?")[0] == f"{GRAPH}/{IG}/media"]
    assert len(fields) == 2 and "insights" in fields[0] and "insights" not in fields[1]
    posts = TrackedPost.objects.filter(account=ig_account)
    assert posts.count() == 2
    assert all(p.likes is not None for p in posts)


def test_a_rejected_per_type_metric_is_recorded_and_the_rest_are_asked_again(ig_account, mocked_platforms):
    from analytics.models import RejectedMetric, SyncRun

    page = load_fresh("instagram/analytics_media_page1.json")
    page.pop("paging")
    mocked_platforms.get(f"{GRAPH}/{IG}", json=load_fixture("instagram/analytics_profile.json"))
    mocked_platforms.get(f"{GRAPH}/{IG}/media", json=page)
    mocked_platforms.get(f"{GRAPH}/{IG}/stories", json={"data": []})
    mocked_platforms.get(f"{GRAPH}/", status=400, json={"error": {
        "message": "(#100) The Media Insights API does not support the ig_reels_video_view_total_time metric for "
                   "this media product type.", "type": "OAuthException", "code": 100, "fbtrace_id": "AxYz3"}},
        match=[matchers.query_param_matcher(
            {"fields": "insights.metric(ig_reels_avg_watch_time,ig_reels_video_view_total_time)"}, strict_match=False)])
    mocked_platforms.get(f"{GRAPH}/", json={"17900000000000003": {"id": "17900000000000003", "insights": {"data": [
        {"name": "ig_reels_avg_watch_time", "period": "lifetime", "values": [{"value": 9100}]}]}}},
        match=[matchers.query_param_matcher({"fields": "insights.metric(ig_reels_avg_watch_time)"}, strict_match=False)])
    mocked_platforms.get(f"{GRAPH}/", json=load_fixture("instagram/analytics_media_insights_feed_page1.json"),
                         match=[matchers.query_param_matcher({"ids": "17900000000000002"}, strict_match=False)])

    sync_account(ig_account.id)

    assert SyncRun.objects.get().status == "done"
    reel = TrackedPost.objects.get(platform_post_id="17900000000000003")
    assert reel.latest_metrics["avg_watch_time_ms"] == 9100 and "watch_time_ms" not in reel.latest_metrics
    assert list(RejectedMetric.objects.values_list("metric", "kind")) == [("ig_reels_video_view_total_time", "REELS")]


def test_per_type_metrics_can_be_turned_off(ig_account, mocked_platforms, settings):
    settings.ANALYTICS_TYPE_METRICS_DAYS = 0
    mock_instagram(mocked_platforms)
    sync_account(ig_account.id)
    assert not [c for c in mocked_platforms.calls if c.request.url.split("?")[0] == f"{GRAPH}/"]
    reel = TrackedPost.objects.get(platform_post_id="17900000000000003")
    assert reel.views == 10450 and "avg_watch_time_ms" not in reel.latest_metrics


def young_feed_page(n: int) -> dict:
    """One listing page of `n` feed images published in the last hours (all young and due)."""
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    return {"data": [{"id": f"1790000000001{i:04d}", "caption": f"photo {i}", "media_type": "IMAGE",
                      "media_product_type": "FEED", "permalink": f"https://www.instagram.com/p/x{i}/",
                      "timestamp": (now - timedelta(hours=i + 1)).strftime("%Y-%m-%dT%H:%M:%S+0000"),
                      "like_count": i, "comments_count": 0} for i in range(n)]}


def mock_young_feed(mocked_platforms, n: int) -> None:
    mocked_platforms.get(f"{GRAPH}/{IG}", json=load_fixture("instagram/analytics_profile.json"))
    mocked_platforms.get(f"{GRAPH}/{IG}/media", json=young_feed_page(n))
    mocked_platforms.get(f"{GRAPH}/{IG}/stories", json={"data": []})


def test_one_media_failing_the_multi_id_call_is_isolated_and_only_it_goes_without(ig_account, mocked_platforms):
    import json
    from urllib.parse import parse_qs, urlparse

    mock_young_feed(mocked_platforms, 5)
    shy = "17900000000010003"  # too few viewers: Graph fails every call that names it

    def answer(request):
        ids = parse_qs(urlparse(request.url).query)["ids"][0].split(",")
        if shy in ids:
            return 400, {}, json.dumps({"error": {"message": "(#10) Not enough viewers for the media to show insights",
                                                  "type": "OAuthException", "code": 10, "fbtrace_id": "B1"}})
        return 200, {}, json.dumps({i: {"id": i, "insights": {"data": [
            {"name": "profile_visits", "period": "lifetime", "values": [{"value": 7}]},
            {"name": "follows", "period": "lifetime", "values": [{"value": 1}]}]}} for i in ids})

    mocked_platforms.add_callback("GET", f"{GRAPH}/", callback=answer)

    sync_account(ig_account.id)

    visits = dict(TrackedPost.objects.values_list("platform_post_id", "latest_metrics__profile_visits"))
    assert visits == {f"1790000000001{i:04d}": (None if i == 3 else 7) for i in range(5)}
    batches = [query(c)["ids"].count(",") + 1 for c in mocked_platforms.calls if c.request.url.split("?")[0] == f"{GRAPH}/"]
    assert batches == [5, 2, 3, 1, 2, 1, 1]  # halved until the shy media is alone, then skipped


def test_a_failing_per_type_call_never_costs_the_page_its_numbers(ig_account, mocked_platforms):
    from analytics.models import SyncRun

    mock_young_feed(mocked_platforms, 2)
    mocked_platforms.get(f"{GRAPH}/", status=500, json={"error": {"message": "An unexpected error has occurred.",
                                                                  "type": "OAuthException", "code": 2}})

    sync_account(ig_account.id)

    assert SyncRun.objects.get().status == "done"
    assert sorted(TrackedPost.objects.values_list("likes", flat=True)) == [0, 1]
    assert PostMetricSnapshot.objects.count() == 2


def test_latest_keeps_the_last_per_type_reading_once_the_media_is_no_longer_asked_about(
        ig_account, mocked_platforms, settings):
    from datetime import timedelta

    from django.utils import timezone

    from analytics.models import SyncRun

    mock_instagram(mocked_platforms)
    sync_account(ig_account.id)
    reel = TrackedPost.objects.get(platform_post_id="17900000000000003")
    assert reel.latest_metrics["avg_watch_time_ms"] == 8450

    settings.ANALYTICS_TYPE_METRICS_DAYS = 0  # as if the reel had grown older than the per-type window
    SyncRun.objects.update(finished_at=timezone.now() - timedelta(hours=2), started_at=timezone.now() - timedelta(hours=2))
    TrackedPost.objects.filter(pk=reel.pk).update(next_sync_at=timezone.now())
    sync_account(ig_account.id)

    reel.refresh_from_db()
    assert reel.latest_metrics["avg_watch_time_ms"] == 8450 and reel.latest_metrics["watch_time_ms"] == 88306200
    latest_snapshot = PostMetricSnapshot.objects.filter(tracked_post=reel).order_by("-captured_at", "-id").first()
    assert PostMetricSnapshot.objects.filter(tracked_post=reel).count() == 2
    assert "avg_watch_time_ms" not in latest_snapshot.metrics  # a snapshot holds what its reading had


def multi_id_batches(mocked_platforms) -> list[int]:
    return [query(c)["ids"].count(",") + 1 for c in mocked_platforms.calls if c.request.url.split("?")[0] == f"{GRAPH}/"]


def refuse_every_multi_id_call(mocked_platforms) -> None:
    # Graph refusing the read as a whole for every id, e.g. code 100 for media it will not look up.
    mocked_platforms.get(f"{GRAPH}/", status=400, json={"error": {
        "message": "(#100) Unsupported get request. Object does not exist or cannot be loaded", "type": "GraphMethodException",
        "code": 100, "fbtrace_id": "Arefused1"}})


def test_a_refusal_of_every_multi_id_call_stops_after_three_calls_and_pauses_per_type_metrics_for_a_day(
        ig_account, mocked_platforms, settings, caplog):
    from datetime import timedelta
    from unittest import mock

    from django.utils import timezone

    settings.ANALYTICS_MIN_SYNC_MINUTES = 0
    mock_young_feed(mocked_platforms, 120)  # 120 due feed media: three multi-id calls of 50, 50 and 20
    refuse_every_multi_id_call(mocked_platforms)

    sync_account(ig_account.id)

    assert multi_id_batches(mocked_platforms) == [50, 25, 25]  # the whole, then each half once; no 2n-1 halving
    assert TrackedPost.objects.filter(account=ig_account).count() == 120  # the page's own numbers are all saved
    assert "Graph refused every per-type FEED metrics read of account" in caplog.text
    assert ig_account.access_token not in caplog.text

    mocked_platforms.calls.reset()
    sync_account(ig_account.id)  # later the same day: the listing only, no per-type read at all
    assert multi_id_batches(mocked_platforms) == [] and len(mocked_platforms.calls) > 0

    mocked_platforms.calls.reset()
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(days=1, minutes=1)):
        sync_account(ig_account.id)  # the next day they are asked again
    assert multi_id_batches(mocked_platforms)[:1] == [50]


def test_a_sync_whose_every_multi_id_call_is_refused_costs_at_most_three_calls_more_than_one_without_them(
        ig_account, mocked_platforms, settings):
    from django.core.cache import cache

    settings.ANALYTICS_MIN_SYNC_MINUTES = 0
    mock_young_feed(mocked_platforms, 120)
    refuse_every_multi_id_call(mocked_platforms)
    settings.ANALYTICS_TYPE_METRICS_DAYS = 0
    sync_account(ig_account.id)
    without = len(mocked_platforms.calls)

    TrackedPost.objects.filter(account=ig_account).delete()  # the same sync again, from scratch
    cache.clear()
    mocked_platforms.calls.reset()
    settings.ANALYTICS_TYPE_METRICS_DAYS = 7
    sync_account(ig_account.id)

    assert without > 0 and len(mocked_platforms.calls) - without == 3
