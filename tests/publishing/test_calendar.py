"""Calendar: the workspace's posts in a period, grouped by local day, in a constant number of queries."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from publishing.models import Approval, Post, PostMedia, PostTarget, TargetStatus

pytestmark = pytest.mark.django_db


def make_post(workspace, account, at, status=TargetStatus.SCHEDULED, text="Hello", **post_fields):
    post = Post.objects.create(workspace=workspace, text=text, scheduled_at=at, **post_fields)
    published = at if status == TargetStatus.PUBLISHED else None
    PostTarget.objects.create(post=post, account=account, status=status, scheduled_at=at, published_at=published)
    return post


def calendar(client, **params):
    return client.get("/api/v1/calendar/", params)


def test_the_calendar_groups_every_kind_of_post_by_local_day(api_client, account_factory, workspace):
    workspace.timezone = "Europe/Paris"
    workspace.save()
    fb, ig = account_factory("facebook"), account_factory("instagram")
    scheduled = make_post(workspace, fb, datetime(2026, 4, 2, 7, 0, tzinfo=UTC), text="x" * 300)
    PostMedia.objects.create(post=scheduled, url="https://cdn.example.com/a.jpg", type="image", position=0)
    late_evening = make_post(workspace, fb, datetime(2026, 4, 2, 22, 30, tzinfo=UTC))  # 00:30 on the 3rd in Paris
    make_post(workspace, ig, datetime(2026, 4, 5, 9, 0, tzinfo=UTC), status=TargetStatus.PENDING_APPROVAL,
              approval=Approval.PENDING)
    make_post(workspace, fb, datetime(2026, 4, 1, 9, 0, tzinfo=UTC), status=TargetStatus.PUBLISHED)
    make_post(workspace, fb, datetime(2026, 4, 1, 10, 0, tzinfo=UTC), status=TargetStatus.FAILED)
    make_post(workspace, fb, datetime(2026, 4, 1, 11, 0, tzinfo=UTC), status=TargetStatus.CANCELLED)
    make_post(workspace, fb, datetime(2026, 5, 1, 9, 0, tzinfo=UTC))  # outside the period

    response = calendar(api_client, **{"from": "2026-04-01", "to": "2026-04-07"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["timezone"] == "Europe/Paris"
    assert [d["date"] for d in body["days"]] == [f"2026-04-0{n}" for n in range(1, 8)]
    by_day = {d["date"]: d["posts"] for d in body["days"]}
    assert [(p["local_time"], p["statuses"]) for p in by_day["2026-04-01"]] == [
        ("11:00", ["published"]), ("12:00", ["failed"])]  # the cancelled one is not shown
    cell = by_day["2026-04-02"][0]
    assert cell["post"] == scheduled.pk and len(cell["text"]) == 140 and cell["local_time"] == "09:00"
    assert cell["thumbnail"] == {"url": "https://cdn.example.com/a.jpg", "type": "image"}
    assert cell["targets"][0]["platform"] == "facebook" and cell["targets"][0]["from_queue"] is False
    assert [p["post"] for p in by_day["2026-04-03"]] == [late_evening.pk]
    assert by_day["2026-04-05"][0]["approval"] == "pending" and by_day["2026-04-05"][0]["statuses"] == ["pending_approval"]

    in_utc = calendar(api_client, **{"from": "2026-04-02", "to": "2026-04-02", "tz": "UTC"}).json()
    assert [p["post"] for p in in_utc["days"][0]["posts"]] == [scheduled.pk, late_evening.pk]


def test_a_post_whose_targets_fill_slots_on_two_days_is_shown_on_both(api_client, account_factory, workspace):
    fb, fb2 = account_factory("facebook"), account_factory("facebook")
    post = Post.objects.create(workspace=workspace, text="Queued", scheduled_at=datetime(2026, 4, 1, 9, tzinfo=UTC))
    for account, day in ((fb, 1), (fb2, 3)):
        at = datetime(2026, 4, day, 9, tzinfo=UTC)
        PostTarget.objects.create(post=post, account=account, status="scheduled", scheduled_at=at, slot_at=at)
    days = calendar(api_client, **{"from": "2026-04-01", "to": "2026-04-03", "tz": "UTC"}).json()["days"]
    assert [[p["post"] for p in d["posts"]] for d in days] == [[post.pk], [], [post.pk]]
    assert days[0]["posts"][0]["targets"][0]["from_queue"] is True


@pytest.mark.parametrize("params,message", [
    ({"from": "2026-01-01", "to": "2026-04-01"}, "At most 3 months per call"),
    ({"from": "2026-04-02", "to": "2026-04-01"}, "on or after"),
    ({"from": "2026-04-01", "to": "2026-04-02", "tz": "Mars/Olympus"}, "IANA timezone"),
    ({"to": "2026-04-02"}, "required"),
])
def test_a_bad_period_is_a_400_that_says_why(api_client, params, message):
    response = calendar(api_client, **params)
    assert response.status_code == 400
    assert message in str(response.json()["error"])


def test_three_months_is_the_most_one_call_covers(api_client):
    assert calendar(api_client, **{"from": "2026-01-01", "to": "2026-03-31"}).status_code == 200


@pytest.mark.parametrize("count", [10, 200])
def test_the_calendar_costs_the_same_queries_for_10_or_200_posts(api_client, account_factory, workspace, count,
                                                                django_assert_num_queries):
    accounts = [account_factory("facebook"), account_factory("instagram")]
    start = datetime(2026, 4, 1, 8, tzinfo=UTC)
    for n in range(count):
        post = make_post(workspace, accounts[n % 2], start + timedelta(hours=n * 7 % (24 * 80)))
        PostMedia.objects.create(post=post, url=f"https://cdn.example.com/{n}.jpg", type="image", position=0)
    api_client.get("/api/v1/calendar/", {"from": "2026-04-01", "to": "2026-06-30"})  # warm the membership caches
    with django_assert_num_queries(3):  # membership with its workspace, targets with posts and accounts, first media
        response = calendar(api_client, **{"from": "2026-04-01", "to": "2026-06-30"})
    assert sum(len(d["posts"]) for d in response.json()["days"]) == count


def test_moving_a_post_is_a_patch_of_scheduled_at_refused_once_a_target_started(api_client, account_factory):
    fb = account_factory("facebook")
    when = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    post = api_client.post("/api/v1/posts/", {"text": "Move me", "accounts": [fb.pk], "scheduled_at": when.isoformat()},
                           format="json").json()
    later = when + timedelta(days=1)
    moved = api_client.patch(f"/api/v1/posts/{post['id']}/", {"scheduled_at": later.isoformat()}, format="json")
    assert moved.status_code == 200
    assert PostTarget.objects.get(post_id=post["id"]).scheduled_at == later

    PostTarget.objects.filter(post_id=post["id"]).update(status=TargetStatus.PUBLISHING)
    refused = api_client.patch(f"/api/v1/posts/{post['id']}/", {"scheduled_at": when.isoformat()}, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "post_started"
    assert PostTarget.objects.get(post_id=post["id"]).scheduled_at == later


def test_the_calendar_shows_only_the_callers_workspace(other_client, account_factory, workspace):
    make_post(workspace, account_factory("facebook"), datetime(2026, 4, 1, 9, tzinfo=UTC))
    days = calendar(other_client, **{"from": "2026-04-01", "to": "2026-04-01"}).json()["days"]
    assert days == [{"date": "2026-04-01", "posts": []}]
