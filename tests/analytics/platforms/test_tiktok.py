"""TikTok sync: counts from the video list (20 a page); video query only for posts the list missed."""

from datetime import timedelta

from django.utils import timezone
from responses import matchers

from analytics.models import AccountMetricSnapshot, PostMetricSnapshot, TrackedPost
from analytics.services import store, sync_account
from tests.conftest import load_fixture

from ..conftest import TIKTOK, json_body, load_fresh, query

LIST_URL = f"{TIKTOK}/v2/video/list/"
QUERY_URL = f"{TIKTOK}/v2/video/query/"
INFO_URL = f"{TIKTOK}/v2/user/info/"


def mock_list(mocked_platforms):
    page1 = load_fresh("tiktok/analytics_video_list_page1.json")
    mocked_platforms.post(LIST_URL, json=load_fresh("tiktok/analytics_video_list_page2.json"),
                          match=[matchers.json_params_matcher({"max_count": 20, "cursor": page1["data"]["cursor"]})])
    mocked_platforms.post(LIST_URL, json=page1, match=[matchers.json_params_matcher({"max_count": 20})])
    mocked_platforms.get(INFO_URL, json=load_fixture("tiktok/analytics_user_info.json"))
    return page1


def test_tiktok_sync_reads_counts_from_the_video_list_pages_and_followers_from_user_info(tt_account, mocked_platforms):
    page1 = mock_list(mocked_platforms)

    sync_account(tt_account.id)

    assert [c.request.url.split("?")[0] for c in mocked_platforms.calls] == [INFO_URL, LIST_URL, LIST_URL]
    assert "follower_count" in query(mocked_platforms.calls[0])["fields"]
    assert json_body(mocked_platforms.calls[2]) == {"max_count": 20, "cursor": page1["data"]["cursor"]}
    assert "view_count" in query(mocked_platforms.calls[1])["fields"]
    assert mocked_platforms.calls[1].request.headers["Authorization"] == f"Bearer {tt_account.access_token}"
    video = TrackedPost.objects.get(platform_post_id="7440000000000000003")
    assert (video.views, video.likes, video.comments, video.shares) == (48211, 5120, 88, 301)
    assert video.permalink == "https://www.tiktok.com/@bakery/video/7440000000000000003"
    assert TrackedPost.objects.count() == 3 and PostMetricSnapshot.objects.count() == 3
    assert AccountMetricSnapshot.objects.get().followers == 15234
    assert not any(c.request.url.startswith(QUERY_URL) for c in mocked_platforms.calls)


def test_due_posts_the_list_did_not_reach_are_queried_by_id_twenty_at_a_time(tt_account, mocked_platforms):
    mock_list(mocked_platforms)
    now = timezone.now()
    known = [f"73000000000000{i:05d}" for i in range(45)]  # e.g. videos made private: not listed any more
    TrackedPost.objects.bulk_create([
        TrackedPost(account=tt_account, platform="tiktok", platform_post_id=pid, published_at=now - timedelta(days=20),
                    last_synced_at=now - timedelta(days=1), next_sync_at=now - timedelta(minutes=5))
        for pid in known
    ])
    mocked_platforms.post(QUERY_URL, json={"data": {"videos": [], "cursor": 0, "has_more": False},
                                           "error": {"code": "ok", "message": "", "log_id": "x"}})

    sync_account(tt_account.id)

    queried = [json_body(c)["filters"]["video_ids"] for c in mocked_platforms.calls if c.request.url.startswith(QUERY_URL)]
    assert [len(ids) for ids in queried] == [20, 20, 5]
    assert sorted(sum(queried, [])) == sorted(known)
    # not returned (private or deleted): retried only at the slowest cadence
    assert not TrackedPost.objects.filter(platform_post_id__in=known, next_sync_at__lte=now).exists()


def test_a_due_post_found_by_query_gets_its_counts_and_a_snapshot(tt_account, mocked_platforms):
    mocked_platforms.get(INFO_URL, json=load_fixture("tiktok/analytics_user_info.json"))
    mocked_platforms.post(LIST_URL, json={"data": {"videos": [], "cursor": 0, "has_more": False},
                                          "error": {"code": "ok", "message": "", "log_id": "x"}})
    mocked_platforms.post(QUERY_URL, json=load_fresh("tiktok/analytics_video_query.json"))
    now = timezone.now()
    TrackedPost.objects.create(account=tt_account, platform="tiktok", platform_post_id="7440000000000000001",
                               published_at=now - timedelta(days=3), last_synced_at=now - timedelta(days=1),
                               next_sync_at=now - timedelta(minutes=1), views=350)

    sync_account(tt_account.id)

    assert TrackedPost.objects.get().views == 360
    assert PostMetricSnapshot.objects.get().metrics["views"] == 360


def test_without_the_stats_scope_the_videos_are_still_synced(tt_account, mocked_platforms):
    mock_list(mocked_platforms)
    mocked_platforms.replace("GET", INFO_URL, status=401, json={
        "data": {}, "error": {"code": "scope_not_authorized", "message": "The user did not authorize the scope required for completing this request.", "log_id": "x"}})

    run = sync_account(tt_account.id)

    assert run.status == "done" and TrackedPost.objects.count() == 3
    assert not AccountMetricSnapshot.objects.exists()


def test_a_post_unipulse_published_that_the_list_never_returns_is_queried_by_id(tt_account, mocked_platforms):
    from analytics.services import register_published_post

    mock_list(mocked_platforms)  # the public videos; ours (private) is not among them
    mocked_platforms.post(QUERY_URL, json={"data": {"videos": [], "cursor": 0, "has_more": False},
                                           "error": {"code": "ok", "message": "", "log_id": "x"}})
    register_published_post(tt_account.id, "7449999999999999999", timezone.now() - timedelta(hours=1))
    ours = TrackedPost.objects.get(platform_post_id="7449999999999999999")
    assert (ours.source, ours.next_sync_at, ours.last_synced_at) == ("unipulse", None, None)

    sync_account(tt_account.id)

    queried = [json_body(c)["filters"]["video_ids"] for c in mocked_platforms.calls if c.request.url.startswith(QUERY_URL)]
    assert queried == [["7449999999999999999"]]


def test_a_registered_post_found_by_query_gets_its_first_snapshot(tt_account, mocked_platforms):
    from analytics.services import register_published_post

    mocked_platforms.get(INFO_URL, json=load_fixture("tiktok/analytics_user_info.json"))
    mocked_platforms.post(LIST_URL, json={"data": {"videos": [], "cursor": 0, "has_more": False},
                                          "error": {"code": "ok", "message": "", "log_id": "x"}})
    mocked_platforms.post(QUERY_URL, json=load_fresh("tiktok/analytics_video_query.json"))
    register_published_post(tt_account.id, "7440000000000000001", timezone.now() - timedelta(hours=1))

    sync_account(tt_account.id)

    post = TrackedPost.objects.get()
    assert post.views == 360 and post.source == "unipulse"
    assert PostMetricSnapshot.objects.get(tracked_post=post).metrics["views"] == 360
    assert post.next_sync_at == store.next_sync_at(post.published_at, post.last_synced_at)


def test_a_registered_post_the_query_does_not_return_waits_for_the_slowest_cadence(tt_account, mocked_platforms):
    from analytics.models import SyncRun
    from analytics.services import register_published_post

    mocked_platforms.get(INFO_URL, json=load_fixture("tiktok/analytics_user_info.json"))
    mocked_platforms.post(LIST_URL, json={"data": {"videos": [], "cursor": 0, "has_more": False},
                                          "error": {"code": "ok", "message": "", "log_id": "x"}})
    mocked_platforms.post(QUERY_URL, json={"data": {"videos": [], "cursor": 0, "has_more": False},
                                           "error": {"code": "ok", "message": "", "log_id": "x"}})
    register_published_post(tt_account.id, "7449999999999999999", timezone.now() - timedelta(hours=1))

    sync_account(tt_account.id)
    SyncRun.objects.update(finished_at=timezone.now() - timedelta(hours=1))
    sync_account(tt_account.id)  # an hour later: not asked for again

    queries = [c for c in mocked_platforms.calls if c.request.url.startswith(QUERY_URL)]
    assert len(queries) == 1
    post = TrackedPost.objects.get()
    assert post.next_sync_at > timezone.now() + timedelta(hours=23)


def test_a_finished_sync_stamps_the_accounts_last_sync_time(tt_account, mocked_platforms):
    from social.models import SocialAccount

    mock_list(mocked_platforms)
    assert tt_account.last_synced_at is None
    run = sync_account(tt_account.id)
    assert SocialAccount.objects.get(pk=tt_account.pk).last_synced_at == run.finished_at
