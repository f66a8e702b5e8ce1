"""TikTok in the inbox: comment counts per video, from analytics (TikTok's APIs cannot read comments)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.models import TrackedPost

pytestmark = pytest.mark.django_db


def test_tiktok_videos_show_their_comment_counts_newest_first_and_only_the_callers(api_client, account_factory, other_user):
    mine = account_factory("tiktok")
    theirs = account_factory("tiktok", owner=other_user)
    now = timezone.now()
    TrackedPost.objects.create(account=mine, platform="tiktok", platform_post_id="7301", comments=4, published_at=now - timedelta(days=2))
    TrackedPost.objects.create(account=mine, platform="tiktok", platform_post_id="7302", comments=9, published_at=now)
    TrackedPost.objects.create(account=theirs, platform="tiktok", platform_post_id="7399", comments=1, published_at=now)
    response = api_client.get("/api/v1/conversations/tiktok-videos/")
    assert response.status_code == 200
    assert [(v["platform_post_id"], v["comments"]) for v in response.json()["results"]] == [("7302", 9), ("7301", 4)]
    assert response.json()["count"] == 2
    assert api_client.get(f"/api/v1/conversations/tiktok-videos/?account={theirs.pk}").json()["results"] == []
    assert api_client.get("/api/v1/conversations/tiktok-videos/?account=abc").status_code == 400


def test_tiktok_video_counts_take_one_query_for_the_rows(api_client, account_factory, django_assert_max_num_queries):
    account = account_factory("tiktok")
    TrackedPost.objects.bulk_create([TrackedPost(account=account, platform="tiktok", platform_post_id=str(i), comments=i)
                                     for i in range(50)])
    with django_assert_max_num_queries(4):  # auth token + the page's count + the rows
        assert len(api_client.get("/api/v1/conversations/tiktok-videos/").json()["results"]) == 50
