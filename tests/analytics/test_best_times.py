"""Best times to post: hour-of-week buckets in the workspace's timezone, ranked by the account's own engagement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from analytics.models import TrackedPost
from analytics.services.best_times import get_best_times_in_workspace
from publishing.models import PostingSchedule

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)  # a Wednesday, after Europe's fall-back on 2026-10-25


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)


@pytest.fixture
def paris_account(account_factory, workspace):
    workspace.timezone = "Europe/Paris"
    workspace.save()
    return account_factory("instagram")


def tracked(account, published_at, reach=None, views=None, likes=0, comments=0, shares=None, saves=None):
    tracked.n = getattr(tracked, "n", 0) + 1
    return TrackedPost.objects.create(account=account, platform=account.platform, platform_post_id=f"m-{tracked.n}",
                                      published_at=published_at, reach=reach, views=views, likes=likes,
                                      comments=comments, shares=shares, saves=saves)


def seed(account):
    # Monday 09:xx in Paris, on both sides of the change to winter time: 07:15 UTC in CEST, 08:40 UTC in CET.
    tracked(account, datetime(2026, 10, 19, 7, 15, tzinfo=UTC), reach=100, likes=8, comments=2)      # 0.10
    tracked(account, datetime(2026, 11, 2, 8, 40, tzinfo=UTC), reach=200, likes=30, saves=10)        # 0.20
    tracked(account, datetime(2026, 11, 9, 8, 5, tzinfo=UTC), views=100, likes=20, shares=10)        # 0.30 (views)
    # Tuesday 18:xx in Paris: 16:30 UTC in summer time, 17:30 UTC in winter time; four posts at 0.05.
    tracked(account, datetime(2026, 10, 20, 16, 30, tzinfo=UTC), reach=100, likes=5)
    for day in (datetime(2026, 10, 27), datetime(2026, 11, 3), datetime(2026, 11, 10)):
        tracked(account, day.replace(hour=17, minute=30, tzinfo=UTC), reach=100, likes=5)
    # Wednesday 12:xx: two brilliant posts, below the minimum sample.
    tracked(account, datetime(2026, 11, 4, 11, 0, tzinfo=UTC), reach=10, likes=9)
    tracked(account, datetime(2026, 10, 28, 11, 0, tzinfo=UTC), reach=10, likes=9)
    # Left out: no reach nor views, and a post older than ANALYTICS_BEST_TIMES_DAYS.
    tracked(account, datetime(2026, 11, 9, 8, 30, tzinfo=UTC), likes=50)
    for weeks in (20, 21, 22):
        tracked(account, NOW - timedelta(weeks=weeks), reach=10, likes=10)


def test_hours_of_the_week_are_ranked_by_the_accounts_own_engagement_in_local_time(api_client, paris_account, clock):
    seed(paris_account)

    response = api_client.get(f"/api/v1/analytics/accounts/{paris_account.pk}/best-times/")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["timezone"], body["min_posts"], body["posts_considered"]) == ("Europe/Paris", 3, 9)
    assert body["since"] == (NOW - timedelta(days=90)).isoformat().replace("+00:00", "Z")
    assert body["buckets"] == [
        {"weekday": "mon", "hour": 9, "posts": 3, "engagement_rate": 0.2, "rank": 1},
        {"weekday": "tue", "hour": 18, "posts": 4, "engagement_rate": 0.05, "rank": 2},
    ]


def test_the_minimum_sample_is_a_setting(api_client, paris_account, clock):
    seed(paris_account)
    with override_settings(ANALYTICS_BEST_TIMES_MIN_POSTS=2):
        buckets = api_client.get(f"/api/v1/analytics/accounts/{paris_account.pk}/best-times/").json()["buckets"]
    assert [(b["weekday"], b["hour"], b["posts"]) for b in buckets] == [("wed", 12, 2), ("mon", 9, 3), ("tue", 18, 4)]


@pytest.mark.parametrize("posts", [5, 120])
def test_best_times_take_two_queries_whatever_the_number_of_posts(paris_account, clock, posts, django_assert_num_queries):
    for i in range(posts):
        tracked(paris_account, NOW - timedelta(hours=5 * i + 1), reach=100, likes=i % 7)
    workspace = paris_account.workspace

    with django_assert_num_queries(2):  # the account, then its posts
        result = get_best_times_in_workspace(workspace, paris_account.pk)

    assert result["posts_considered"] == posts


def test_the_schedule_is_filled_from_the_best_hours_and_keeps_its_paused_flag(api_client, paris_account, clock):
    seed(paris_account)
    api_client.put(f"/api/v1/accounts/{paris_account.pk}/schedule/", {"paused": True, "times": [
        {"weekday": "sun", "time": "20:00"}]}, format="json")

    response = api_client.post(f"/api/v1/accounts/{paris_account.pk}/schedule/from-best-times/",
                               {"count": 5, "minute": 15}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json() == {"account": paris_account.pk, "timezone": "Europe/Paris", "paused": True,
                               "times": [{"weekday": "mon", "time": "09:15"}, {"weekday": "tue", "time": "18:15"}]}
    assert PostingSchedule.objects.get(account=paris_account).paused is True

    one = api_client.post(f"/api/v1/accounts/{paris_account.pk}/schedule/from-best-times/", {"count": 1}, format="json")
    assert one.json()["times"] == [{"weekday": "mon", "time": "09:00"}]


def test_filling_the_schedule_without_enough_data_is_a_409_and_changes_nothing(api_client, paris_account, clock):
    tracked(paris_account, NOW - timedelta(days=1), reach=100, likes=5)
    api_client.put(f"/api/v1/accounts/{paris_account.pk}/schedule/", {"paused": False, "times": [
        {"weekday": "sun", "time": "20:00"}]}, format="json")

    response = api_client.post(f"/api/v1/accounts/{paris_account.pk}/schedule/from-best-times/", {}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_enough_data"
    assert response.json()["error"]["message"].startswith("No hour of the week has 3 measured posts of ")
    assert api_client.get(f"/api/v1/accounts/{paris_account.pk}/schedule/").json()["times"] == [
        {"weekday": "sun", "time": "20:00"}]
