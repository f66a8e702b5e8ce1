"""Facebook Page sync: one field-expanded listing call per 100 posts, shrink, drop-and-retry, budget."""

import json

import pytest
from responses import matchers

from analytics.actors import analytics_sync
from analytics.models import AccountMetricSnapshot, PostMetricSnapshot, RejectedMetric, SyncRun, TrackedPost
from analytics.services import sync_account
from tests.conftest import load_fixture, recorded_events

from ..conftest import GRAPH, load_fresh, query

POSTS_URL = f"{GRAPH}/101/published_posts"
PAGE_URL = f"{GRAPH}/101"
EXPECTED_METRICS = "post_media_view,post_total_media_view_unique,post_clicks,post_reactions_by_type_total"


def mock_page(mocked_platforms, followers=1520):
    mocked_platforms.get(PAGE_URL, json={**load_fixture("facebook/analytics_page_followers.json"), "followers_count": followers})


def mock_two_pages(mocked_platforms):
    mocked_platforms.get(POSTS_URL, json=load_fresh("facebook/analytics_published_posts_page2.json"),
                         match=[matchers.query_param_matcher({"after": "QVFIUnBhZ2UyY3Vyc29y"}, strict_match=False)])
    mocked_platforms.get(POSTS_URL, json=load_fresh("facebook/analytics_published_posts_page1.json"))


def post_calls(mocked_platforms):
    return [c for c in mocked_platforms.calls if c.request.url.startswith(POSTS_URL)]


def test_facebook_sync_reads_summaries_and_insights_by_field_expansion_and_follows_the_cursor(fb_account, mocked_platforms):
    mock_page(mocked_platforms)
    mock_two_pages(mocked_platforms)

    run = sync_account(fb_account.id)

    assert len(mocked_platforms.calls) == 3  # followers + two listing pages for three posts
    first, second = (query(c) for c in post_calls(mocked_platforms))
    assert first["limit"] == "100"
    assert first["fields"] == (
        "id,created_time,message,permalink_url,status_type,shares,reactions.summary(total_count).limit(0),"
        f"comments.summary(total_count).limit(0),insights.metric({EXPECTED_METRICS})"
    )
    assert "after" not in first and int(first["since"]) > 0
    assert second["after"] == "QVFIUnBhZ2UyY3Vyc29y" and second["fields"] == first["fields"]
    assert "appsecret_proof" in first
    post = TrackedPost.objects.get(account=fb_account, platform_post_id="101_2001")
    assert (post.views, post.reach, post.likes, post.comments, post.shares, post.saves) == (1840, 1210, 57, 9, 4, None)
    assert post.latest_metrics["clicks"] == 73 and post.latest_metrics["reactions_by_type"] == {"like": 50, "love": 7}
    assert post.source == TrackedPost.Source.EXTERNAL and post.caption == "Our winter menu is here"
    assert TrackedPost.objects.get(platform_post_id="101_2000").shares == 0  # Graph omits `shares` at zero
    snapshot = PostMetricSnapshot.objects.get(tracked_post=post)
    assert snapshot.sync_run == run and snapshot.raw["id"] == "101_2001" and snapshot.metrics["views"] == 1840
    assert PostMetricSnapshot.objects.count() == 3
    assert AccountMetricSnapshot.objects.get(account=fb_account).followers == 1520
    assert SyncRun.objects.get().status == SyncRun.Status.DONE
    [event] = recorded_events()
    assert (event.type, event.workspace_id) == ("analytics.synced", fb_account.workspace_id)
    assert {k: event.data["object"][k] for k in ("account", "platform", "run", "status", "posts_synced")} == {
        "account": fb_account.pk, "platform": "facebook", "run": run.pk, "status": "done",
        "posts_synced": run.posts_synced}


def test_facebook_sync_halves_the_page_size_when_graph_asks_for_less_data(fb_account, mocked_platforms):
    mock_page(mocked_platforms)
    mocked_platforms.get(POSTS_URL, status=500, json=load_fixture("facebook/analytics_reduce_data_error.json"),
                         match=[matchers.query_param_matcher({"limit": "100"}, strict_match=False)])
    mocked_platforms.get(POSTS_URL, json=load_fresh("facebook/analytics_published_posts_page2.json"),
                         match=[matchers.query_param_matcher({"limit": "50"}, strict_match=False)])

    sync_account(fb_account.id)

    # The HTTP layer does not repeat this 500 (the same request would fail again); the sync asks for half.
    assert [query(c)["limit"] for c in post_calls(mocked_platforms)] == ["100", "50"]
    assert TrackedPost.objects.filter(account=fb_account).count() == 1
    assert SyncRun.objects.get().cursor["posts"]["limit"] == 50


def test_a_rejected_metric_is_found_dropped_recorded_and_never_requested_again(fb_account, mocked_platforms):
    mock_page(mocked_platforms)
    invalid = load_fixture("facebook/analytics_invalid_metric_error.json")

    def listing(request):
        fields = request.params["fields"]
        if "post_clicks" in fields:
            return 400, {}, json.dumps(invalid)
        return 200, {}, json.dumps(load_fresh("facebook/analytics_published_posts_page2.json"))

    mocked_platforms.add_callback("GET", POSTS_URL, callback=listing)

    sync_account(fb_account.id)

    sent = [query(c) for c in post_calls(mocked_platforms)]
    # full request fails; Graph does not name the metric, so halves are probed with one post each
    assert [s["fields"].split("insights.metric(")[1].rstrip(")") for s in sent] == [
        EXPECTED_METRICS,
        "post_media_view,post_total_media_view_unique",
        "post_clicks",
        "post_media_view,post_total_media_view_unique,post_reactions_by_type_total",
    ]
    assert [s["limit"] for s in sent] == ["100", "1", "1", "100"]
    rejected = RejectedMetric.objects.get()
    assert (rejected.platform, rejected.graph_version, rejected.kind, rejected.metric) == ("facebook", "v25.0", "fb_post", "post_clicks")
    assert TrackedPost.objects.get().views == 9120

    SyncRun.objects.update(finished_at=None, status=SyncRun.Status.FAILED)  # allow a second run now
    mocked_platforms.calls.reset()
    sync_account(fb_account.id)
    assert all("post_clicks" not in query(c)["fields"] for c in post_calls(mocked_platforms))
    assert len(post_calls(mocked_platforms)) == 1


def test_a_named_rejected_metric_is_dropped_without_probing(fb_account, mocked_platforms):
    mock_page(mocked_platforms)
    named = {"error": {"message": "(#100) The metric post_clicks is not supported for this object", "type": "OAuthException",
                       "code": 100, "fbtrace_id": "Xy"}}
    mocked_platforms.get(POSTS_URL, json=load_fresh("facebook/analytics_published_posts_page2.json"),
                         match=[matchers.query_param_matcher({"fields": (
                             "id,created_time,message,permalink_url,status_type,shares,reactions.summary(total_count).limit(0),"
                             "comments.summary(total_count).limit(0),insights.metric(post_media_view,"
                             "post_total_media_view_unique,post_reactions_by_type_total)")}, strict_match=False)])
    mocked_platforms.get(POSTS_URL, status=400, json=named)

    sync_account(fb_account.id)

    assert len(post_calls(mocked_platforms)) == 2
    assert RejectedMetric.objects.get().metric == "post_clicks"


@pytest.fixture
def small_budget(settings):
    settings.META_CALLS_PER_HOUR = 2
    settings.ANALYTICS_BUDGET_RESERVE = 0


def test_budget_running_out_mid_sync_keeps_the_fetched_page_and_reenqueues_the_rest(
    fb_account, mocked_platforms, small_budget, stub_broker,
):
    from social.clients import ratelimit

    mock_page(mocked_platforms)
    mock_two_pages(mocked_platforms)

    analytics_sync(fb_account.id)  # the actor: a budget stop is not a failure

    assert len(mocked_platforms.calls) == 2  # followers + page 1; page 2 would overspend
    assert set(TrackedPost.objects.values_list("platform_post_id", flat=True)) == {"101_2001", "101_2000"}
    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.PAUSED
    assert run.cursor["posts"] == {"limit": 100, "after": "QVFIUnBhZ2UyY3Vyc29y", "done": False}
    assert stub_broker.queues["analytics-sync.DQ"].qsize() == 1  # sent again, with a delay

    ratelimit.get_store().clear()  # an hour later
    mocked_platforms.calls.reset()
    analytics_sync(fb_account.id)

    assert [query(c).get("after") for c in mocked_platforms.calls] == ["QVFIUnBhZ2UyY3Vyc29y"]  # resumes; no profile call
    run.refresh_from_db()
    assert run.status == SyncRun.Status.DONE and run.posts_synced == 3
    assert PostMetricSnapshot.objects.filter(sync_run=run).count() == 3
    assert AccountMetricSnapshot.objects.count() == 1


def test_no_token_is_kept_in_raw_payloads_or_logged(fb_account, mocked_platforms, caplog):
    token = fb_account.access_token
    mock_page(mocked_platforms)
    page = load_fresh("facebook/analytics_published_posts_page2.json")
    # Graph's nested paging URLs carry the caller's token
    page["data"][0]["insights"]["paging"] = {"next": f"{GRAPH}/101_1999/insights?access_token={token}&until=2"}
    mocked_platforms.get(POSTS_URL, status=500, json=load_fixture("facebook/analytics_reduce_data_error.json"),
                         match=[matchers.query_param_matcher({"limit": "100"}, strict_match=False)])
    mocked_platforms.get(POSTS_URL, json=page)

    sync_account(fb_account.id)

    raw = PostMetricSnapshot.objects.get().raw
    assert "paging" not in raw["insights"] and raw["insights"]["data"][0]["name"] == "post_media_view"
    assert token not in caplog.text


def test_a_platform_outage_pauses_the_run_and_the_retry_resumes_at_the_cursor(fb_account, mocked_platforms):
    from unipulse.platform_errors import TransientError

    outage = {"error": {"code": 2, "message": "Service temporarily unavailable", "is_transient": True, "fbtrace_id": "T"}}
    state = {"down": True}

    def listing(request):
        if "after" not in request.params:
            return 200, {}, json.dumps(load_fresh("facebook/analytics_published_posts_page1.json"))
        if state["down"]:
            return 503, {}, json.dumps(outage)
        return 200, {}, json.dumps(load_fresh("facebook/analytics_published_posts_page2.json"))

    mock_page(mocked_platforms)
    mocked_platforms.add_callback("GET", POSTS_URL, callback=listing)

    with pytest.raises(TransientError):
        sync_account(fb_account.id)  # Dramatiq retries the message with backoff

    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.PAUSED and run.error_code == "meta:2"
    assert TrackedPost.objects.count() == 2
    state["down"] = False
    mocked_platforms.calls.reset()

    assert sync_account(fb_account.id) == run
    assert [query(c).get("after") for c in mocked_platforms.calls] == ["QVFIUnBhZ2UyY3Vyc29y"]
    assert SyncRun.objects.get().status == SyncRun.Status.DONE and TrackedPost.objects.count() == 3


def test_a_cursor_that_does_not_move_ends_the_listing(fb_account, mocked_platforms):
    mock_page(mocked_platforms)
    mocked_platforms.get(POSTS_URL, json=load_fresh("facebook/analytics_published_posts_page1.json"))

    sync_account(fb_account.id)

    assert len(post_calls(mocked_platforms)) == 2  # the second answer repeats the cursor: stop, do not loop
