"""The metric table: removed names are never requested for the configured version and date."""

from datetime import date

import pytest

from analytics import catalogue

REMOVED_EVERYWHERE = {"impressions", "plays", "clips_replays_count", "ig_reels_aggregated_all_plays_count",
                      "video_views", "engagement", "post_impressions", "post_impressions_unique", "post_engaged_users"}
KINDS = [(catalogue.FB_POST,), catalogue.IG_LISTED, (catalogue.IG_FEED,), (catalogue.IG_REELS,), (catalogue.IG_STORY,)]


@pytest.mark.parametrize("version", ["v21.0", "v22.0", "v25.0", "v26.0"])
@pytest.mark.parametrize("kinds", KINDS)
def test_deprecated_metric_names_are_never_requested_today(version, kinds):
    names = catalogue.metric_names(kinds, version=version, today=date(2026, 11, 25))
    assert names and not set(names) & REMOVED_EVERYWHERE


def test_version_removals_apply_before_the_date_that_removed_them_everywhere():
    before = date(2025, 3, 1)
    assert "impressions" in catalogue.metric_names((catalogue.IG_FEED,), version="v21.0", today=before)
    assert "impressions" not in catalogue.metric_names((catalogue.IG_FEED,), version="v22.0", today=before)
    assert "post_impressions_unique" in catalogue.metric_names((catalogue.FB_POST,), version="v25.0", today=date(2026, 6, 14))
    assert "post_impressions_unique" not in catalogue.metric_names((catalogue.FB_POST,), version="v25.0", today=date(2026, 6, 15))


def test_the_media_listing_asks_only_for_metrics_valid_for_every_listed_product_type():
    listed = catalogue.metric_names(catalogue.IG_LISTED, version="v25.0", today=date(2026, 11, 25))
    assert listed == ["views", "reach", "likes", "comments", "shares", "saved", "total_interactions"]
    assert "ig_reels_avg_watch_time" not in listed and "profile_visits" not in listed


def test_what_the_listing_cannot_ask_for_is_asked_per_product_type():
    today = date(2026, 11, 25)
    assert catalogue.kind_only_metric_names(catalogue.IG_REELS, version="v25.0", today=today) == [
        "ig_reels_avg_watch_time", "ig_reels_video_view_total_time"]
    assert catalogue.kind_only_metric_names(catalogue.IG_FEED, version="v25.0", today=today) == ["profile_visits", "follows"]
    assert catalogue.kind_only_metric_names(catalogue.IG_FEED, version="v25.0", today=today,
                                            rejected={"follows"}) == ["profile_visits"]
    # before v22 the Reels plays count was valid for Reels only, so it was asked for the same way
    assert "plays" in catalogue.kind_only_metric_names(catalogue.IG_REELS, version="v21.0", today=date(2025, 3, 1))


def test_deprecated_names_never_reach_the_wire_in_a_full_sync(fb_account, ig_account, mocked_platforms):
    from analytics.services import sync_account
    from tests.conftest import load_fixture

    from .conftest import GRAPH, load_fresh, mock_kind_only_insights

    mock_kind_only_insights(mocked_platforms)
    mocked_platforms.get(f"{GRAPH}/101", json=load_fixture("facebook/analytics_page_followers.json"))
    mocked_platforms.get(f"{GRAPH}/101/published_posts", json=load_fresh("facebook/analytics_published_posts_page2.json"))
    mocked_platforms.get(f"{GRAPH}/{ig_account.external_id}", json=load_fixture("instagram/analytics_profile.json"))
    mocked_platforms.get(f"{GRAPH}/{ig_account.external_id}/media", json=load_fresh("instagram/analytics_media_page2.json"))
    mocked_platforms.get(f"{GRAPH}/{ig_account.external_id}/stories", json=load_fresh("instagram/analytics_stories.json"))

    sync_account(fb_account.id)
    sync_account(ig_account.id)

    requested = set()
    for call in mocked_platforms.calls:
        fields = call.request.params.get("fields", "")
        if "insights.metric(" in fields:
            requested |= set(fields.split("insights.metric(")[1].rstrip(")").split(","))
    assert requested and not requested & REMOVED_EVERYWHERE
