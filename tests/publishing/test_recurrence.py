"""Recurring posts: the RRULE subset, occurrences created ahead, "this one" / "this and following", delete."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from publishing.models import Post, PostSeries, PostTarget, TargetStatus
from publishing.services import recurrence

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday

        def __call__(self):
            return self.now

    fake = Clock()
    monkeypatch.setattr(timezone, "now", fake)
    return fake


def repeat(client, accounts, rule, first, text="Weekly tip"):
    return client.post("/api/v1/posts/", {"text": text, "accounts": [a.pk for a in accounts], "recurrence": rule,
                                          "scheduled_at": first.isoformat()}, format="json")


def times_of(series_id) -> list[datetime]:
    return list(Post.objects.filter(series_id=series_id).order_by("series_at").values_list("series_at", flat=True))


@pytest.mark.parametrize("rule,part", [
    ("FREQ=YEARLY", "FREQ"), ("FREQ=DAILY;BYHOUR=9", "BYHOUR"), ("FREQ=DAILY;BYDAY=MO", "BYDAY"),
    ("FREQ=WEEKLY;BYDAY=1MO", "BYDAY"), ("FREQ=DAILY;COUNT=3;UNTIL=20261231", "UNTIL and COUNT"),
    ("FREQ=DAILY;INTERVAL=0", "INTERVAL"), ("FREQ=DAILY;UNTIL=tomorrow", "UNTIL"), ("INTERVAL=2", "FREQ"),
    ("FREQ=MONTHLY;BYMONTHDAY=1", "BYMONTHDAY"), ("FREQ=DAILY;COUNT=2;COUNT=3", "COUNT"),
])
def test_a_rule_outside_the_subset_is_a_400_naming_the_part(api_client, account_factory, clock, rule, part):
    response = repeat(api_client, [account_factory("facebook")], rule, clock.now + timedelta(days=1))
    assert response.status_code == 400
    assert part in response.json()["error"]["fields"]["recurrence"][0]
    assert Post.objects.count() == 0


def test_weekly_on_given_days_keeps_the_local_time_across_dst(api_client, account_factory, clock, workspace, settings):
    settings.SCHEDULING_RECURRENCE_DAYS = 30
    workspace.timezone = "Europe/Paris"
    workspace.save()
    fb = account_factory("facebook")
    first = datetime(2026, 3, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 CET
    response = repeat(api_client, [fb], "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=5", first)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["recurrence"] == "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=5" and body["series_at"] == "2026-03-23T08:00:00Z"
    local = [t.astimezone(recurrence.ZoneInfo("Europe/Paris")).strftime("%a %d %H:%M") for t in times_of(body["series"])]
    assert local == ["Mon 23 09:00", "Wed 25 09:00", "Mon 30 09:00", "Wed 01 09:00"]  # the window ends April 1st 12:00
    assert set(PostTarget.objects.values_list("status", flat=True)) == {TargetStatus.SCHEDULED}

    clock.now += timedelta(days=14)
    call_command("create_recurring_posts")
    call_command("create_recurring_posts")  # a second run creates nothing twice
    assert [t.strftime("%d %H:%M") for t in times_of(body["series"])] == [
        "23 08:00", "25 08:00", "30 07:00", "01 07:00", "06 07:00"]  # COUNT=5 reached


def test_daily_with_interval_until_a_date_and_monthly(clock):
    series = PostSeries(rule="FREQ=DAILY;INTERVAL=2;UNTIL=20260310", starts_at=datetime(2026, 3, 3, 9, tzinfo=UTC),
                        timezone="UTC")
    assert [t.day for t in recurrence.occurrences(series, None, clock.now + timedelta(days=60))] == [3, 5, 7, 9]
    monthly = PostSeries(rule="FREQ=MONTHLY;COUNT=3", starts_at=datetime(2026, 1, 31, 9, tzinfo=UTC), timezone="UTC")
    assert [t.month for t in recurrence.occurrences(monthly, None, clock.now + timedelta(days=400))] == [1, 3, 5]  # RFC 5545: no Feb 31


def test_editing_this_one_changes_only_that_occurrence(api_client, account_factory, clock):
    fb = account_factory("facebook")
    body = repeat(api_client, [fb], "FREQ=DAILY;COUNT=4", clock.now + timedelta(days=1)).json()
    second = Post.objects.filter(series_id=body["series"]).order_by("series_at")[1]
    edited = api_client.patch(f"/api/v1/posts/{second.pk}/", {"text": "Just this one"}, format="json")
    assert edited.status_code == 200, edited.json()
    texts = list(Post.objects.filter(series_id=body["series"]).order_by("series_at").values_list("text", flat=True))
    assert texts == ["Weekly tip", "Just this one", "Weekly tip", "Weekly tip"]


def test_editing_this_and_following_starts_a_new_series_from_there(api_client, account_factory, clock):
    fb = account_factory("facebook")
    body = repeat(api_client, [fb], "FREQ=DAILY;COUNT=4", clock.now + timedelta(days=1)).json()
    third = Post.objects.filter(series_id=body["series"]).order_by("series_at")[2]
    edited = api_client.patch(f"/api/v1/posts/{third.pk}/?scope=following", {"text": "New wording"}, format="json")
    assert edited.status_code == 200, edited.json()
    new_series = edited.json()["series"]
    assert new_series != body["series"] and edited.json()["recurrence"] == "FREQ=DAILY;COUNT=2"
    live = Post.objects.exclude(targets__status=TargetStatus.CANCELLED).order_by("scheduled_at")
    assert [(p.text, p.series_id == new_series) for p in live] == [
        ("Weekly tip", False), ("Weekly tip", False), ("New wording", True), ("New wording", True)]
    assert len({p.scheduled_at for p in live}) == 4


def test_deleting_the_series_cancels_only_unstarted_occurrences(api_client, account_factory, clock):
    fb = account_factory("facebook")
    body = repeat(api_client, [fb], "FREQ=DAILY;COUNT=3", clock.now + timedelta(days=1)).json()
    first = Post.objects.filter(series_id=body["series"]).order_by("series_at").first()
    PostTarget.objects.filter(post=first).update(status=TargetStatus.PUBLISHED)
    response = api_client.delete(f"/api/v1/posts/{body['id']}/?scope=series")
    assert response.status_code == 200
    statuses = list(PostTarget.objects.order_by("post__series_at").values_list("status", flat=True))
    assert statuses == [TargetStatus.PUBLISHED, TargetStatus.CANCELLED, TargetStatus.CANCELLED]
    clock.now += timedelta(days=40)
    call_command("create_recurring_posts")
    assert Post.objects.count() == 3  # an ended series makes no more posts


def test_a_scope_on_a_post_that_does_not_repeat_is_a_400(api_client, account_factory, clock):
    fb = account_factory("facebook")
    post = api_client.post("/api/v1/posts/", {"text": "Once", "accounts": [fb.pk],
                                              "scheduled_at": (clock.now + timedelta(days=1)).isoformat()},
                           format="json").json()
    assert api_client.delete(f"/api/v1/posts/{post['id']}/?scope=series").json()["error"]["code"] == "not_recurring"
    assert api_client.delete(f"/api/v1/posts/{post['id']}/?scope=all").status_code == 400


def test_a_recurring_post_needs_its_first_time(api_client, account_factory):
    response = api_client.post("/api/v1/posts/", {"text": "x", "accounts": [account_factory("facebook").pk],
                                                  "recurrence": "FREQ=DAILY"}, format="json")
    assert response.status_code == 400 and "scheduled_at" in response.json()["error"]["fields"]["recurrence"][0]
