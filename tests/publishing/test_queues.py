"""Posting queues: weekly slots in the workspace's timezone, next free slot, DST, concurrency, reorder."""

import random
import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.utils import timezone

from publishing.models import Post, PostingSchedule, PostTarget, TargetStatus
from publishing.services import posts, slots
from tests.conftest import side_by_side

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def clock(monkeypatch):
    """django.utils.timezone.now, settable: `clock.now = ...` (what the API, services and auto_now read)."""

    class Clock:
        now = datetime(2026, 3, 23, 12, 0, tzinfo=UTC)  # a Monday, before Europe's spring-forward

        def __call__(self):
            return self.now

    fake = Clock()
    monkeypatch.setattr(timezone, "now", fake)
    return fake


def put_schedule(client, account, times, paused=False, tz=None):
    if tz:
        workspace = account.workspace
        workspace.timezone = tz
        workspace.save()
    return client.put(f"/api/v1/accounts/{account.pk}/schedule/", {"paused": paused, "times": [
        {"weekday": d, "time": t} for d, t in times]}, format="json")


def queue_post(client, accounts, text="Queued", **extra):
    return client.post("/api/v1/posts/", {"text": text, "accounts": [a.pk for a in accounts], "next_free_slot": True,
                                          **extra}, format="json")


def slots_of(response) -> list[str]:
    return [t["slot_at"] for t in response.json()["targets"]]


# ---- the daylight-saving rule -------------------------------------------------------------------

def test_a_nonexistent_local_time_is_shifted_forward_by_the_gap():
    # Europe/Paris springs forward at 02:00 on 2026-03-29: 02:30 does not exist; it becomes 03:30 CEST.
    instant = slots.slot_instant(date(2026, 3, 29), time(2, 30), PARIS)
    assert instant == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert instant.astimezone(PARIS).strftime("%H:%M %Z") == "03:30 CEST"


def test_an_ambiguous_local_time_is_its_first_occurrence():
    # Europe/Paris falls back at 03:00 on 2026-10-25: 02:30 happens twice; the slot is the first (CEST).
    assert slots.slot_instant(date(2026, 10, 25), time(2, 30), PARIS) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    # America/New_York falls back at 02:00 on 2026-11-01: 01:30 EDT, not 01:30 EST.
    assert slots.slot_instant(date(2026, 11, 1), time(1, 30), NEW_YORK) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_slots_across_a_dst_change_come_once_a_day_at_the_same_local_time():
    every_day_0900 = [(d, time(9, 0)) for d in range(7)]
    after = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
    upcoming = list(slots.upcoming_slots(every_day_0900, PARIS, after, days=4))
    local = [i.astimezone(PARIS).strftime("%a %H:%M %Z") for i in upcoming]
    assert local[:4] == ["Sat 09:00 CET", "Sun 09:00 CEST", "Mon 09:00 CEST", "Tue 09:00 CEST"]
    assert len(set(upcoming)) == len(upcoming)


def test_two_slots_that_the_gap_makes_one_instant_give_one_slot():
    times = [(6, time(2, 30)), (6, time(3, 30))]  # Sunday 2026-03-29 in Paris: both are 03:30 CEST
    upcoming = list(slots.upcoming_slots(times, PARIS, datetime(2026, 3, 28, tzinfo=UTC), days=1))
    assert upcoming == [datetime(2026, 3, 29, 1, 30, tzinfo=UTC)]


@pytest.mark.parametrize("tz,day,local,expected_utc", [
    ("Europe/Paris", "sun", "02:30", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),   # spring forward: 03:30 CEST
    ("Europe/Paris", "sun", "02:30", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),  # fall back: first 02:30
    ("America/New_York", "sun", "01:30", datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),  # fall back: 01:30 EDT
])
def test_a_dst_day_slot_is_published_once_at_its_documented_instant(api_client, account_factory, clock, sent, tz, day,
                                                                     local, expected_utc):
    fb = account_factory("facebook")
    assert put_schedule(api_client, fb, [(day, local)], tz=tz).status_code == 200
    clock.now = expected_utc - timedelta(days=3)
    response = queue_post(api_client, [fb])
    assert response.status_code == 201, response.json()
    assert PostTarget.objects.get().slot_at == expected_utc

    published = []
    for minutes in range(-5, 125, 1):  # publish_due every minute through both hours around the change
        clock.now = expected_utc + timedelta(minutes=minutes)
        published += posts.enqueue_due_targets(now=clock.now)
    assert published == [PostTarget.objects.get().pk]


# ---- next free slot through the API -------------------------------------------------------------

def test_the_schedule_is_read_and_replaced_in_the_workspace_timezone(api_client, account_factory):
    fb = account_factory("facebook")
    response = put_schedule(api_client, fb, [("fri", "17:30"), ("mon", "09:00"), ("mon", "09:00")], tz="Europe/Paris")
    assert response.status_code == 200, response.json()
    assert response.json() == {"account": fb.pk, "timezone": "Europe/Paris", "paused": False,
                               "times": [{"weekday": "mon", "time": "09:00"}, {"weekday": "fri", "time": "17:30"}]}
    assert api_client.get(f"/api/v1/accounts/{fb.pk}/schedule/").json() == response.json()
    bad = put_schedule(api_client, fb, [("someday", "25:00")])
    assert bad.status_code == 400 and "times" in bad.json()["error"]["fields"]


def test_each_target_takes_the_next_slot_its_account_has_free(api_client, account_factory, clock, sent):
    fb, ig = account_factory("facebook"), account_factory("facebook")
    put_schedule(api_client, fb, [("mon", "09:00"), ("mon", "17:30"), ("tue", "09:00")], tz="Europe/Paris")
    put_schedule(api_client, ig, [("tue", "12:00")])
    clock.now = datetime(2026, 3, 23, 10, 0, tzinfo=UTC)  # Monday 11:00 in Paris: 09:00 has passed

    first = queue_post(api_client, [fb, ig], text="One", link="https://example.com/a")
    assert first.status_code == 201, first.json()
    assert slots_of(first) == ["2026-03-23T16:30:00Z", "2026-03-24T11:00:00Z"]  # one workspace, one zone
    assert [t["scheduled_at"] for t in first.json()["targets"]] == slots_of(first)
    assert {t["status"] for t in first.json()["targets"]} == {"scheduled"}
    assert first.json()["scheduled_at"] == "2026-03-23T16:30:00Z"  # the post's time is its earliest slot

    second = queue_post(api_client, [fb], text="Two")
    assert slots_of(second) == ["2026-03-24T08:00:00Z"]
    assert sent == []  # nothing is sent before publish_due finds it due


def test_cancelling_or_publishing_a_queued_post_frees_its_slot(api_client, account_factory, clock, sent):
    fb = account_factory("facebook")
    put_schedule(api_client, fb, [("mon", "18:00"), ("tue", "18:00"), ("wed", "18:00")])
    first, second = queue_post(api_client, [fb], text="A").json(), queue_post(api_client, [fb], text="B").json()

    assert api_client.delete(f"/api/v1/posts/{first['id']}/").status_code == 200
    assert slots_of(queue_post(api_client, [fb], text="C")) == [first["targets"][0]["slot_at"]]

    PostTarget.objects.filter(post_id=second["id"]).update(status=TargetStatus.PUBLISHED)  # as the engine ends it
    assert slots_of(queue_post(api_client, [fb], text="D")) == [second["targets"][0]["slot_at"]]


def test_next_free_slot_is_refused_without_a_schedule_when_paused_or_with_a_time(api_client, account_factory, clock):
    fb, tt = account_factory("facebook"), account_factory("tiktok")
    no_schedule = queue_post(api_client, [tt])
    assert no_schedule.status_code == 400
    assert "has no posting schedule" in no_schedule.json()["error"]["fields"]["next_free_slot"][0]

    put_schedule(api_client, fb, [("mon", "18:00")], paused=True)
    paused = queue_post(api_client, [fb])
    assert paused.status_code == 400 and "paused" in paused.json()["error"]["fields"]["next_free_slot"][0]

    put_schedule(api_client, fb, [("mon", "18:00")])
    both = queue_post(api_client, [fb], scheduled_at=(clock.now + timedelta(hours=1)).isoformat())
    assert both.status_code == 400 and "either" in both.json()["error"]["fields"]["next_free_slot"][0]
    assert Post.objects.count() == 0


def test_editing_a_queued_post_keeps_its_slots_and_a_new_time_takes_it_out(api_client, account_factory, clock):
    fb = account_factory("facebook")
    put_schedule(api_client, fb, [("mon", "18:00"), ("tue", "18:00")])
    queue_post(api_client, [fb], text="First")
    post = queue_post(api_client, [fb], text="Second").json()
    slot = post["targets"][0]["slot_at"]

    edited = api_client.patch(f"/api/v1/posts/{post['id']}/", {"text": "Second, edited"}, format="json")
    assert edited.status_code == 200, edited.json()
    assert slots_of(edited) == [slot] and edited.json()["scheduled_at"] == slot

    later = (clock.now + timedelta(days=5)).replace(microsecond=0)
    moved = api_client.patch(f"/api/v1/posts/{post['id']}/", {"scheduled_at": later.isoformat()}, format="json")
    assert moved.status_code == 200
    assert slots_of(moved) == [None] and moved.json()["targets"][0]["scheduled_at"] == later.isoformat().replace("+00:00", "Z")
    assert slots_of(queue_post(api_client, [fb], text="Third")) == [slot]  # the slot it left is free again

    back = api_client.patch(f"/api/v1/posts/{post['id']}/", {"next_free_slot": True}, format="json")
    assert back.status_code == 200 and slots_of(back)[0] is not None and slots_of(back)[0] > slot


def test_an_editor_queued_post_waits_for_approval_in_its_slot(api_client, account_factory, member_factory, clock,
                                                              workspace, sent):
    workspace.approval_required = True
    workspace.save()
    fb = account_factory("facebook")
    put_schedule(api_client, fb, [("mon", "18:00")])
    _, editor = member_factory(workspace, "editor")
    post = queue_post(editor, [fb]).json()
    assert post["targets"][0]["status"] == "pending_approval" and post["approval"] == "pending"
    assert slots_of(queue_post(editor, [fb])) != slots_of_json(post)  # a pending post holds its slot

    assert api_client.post(f"/api/v1/posts/{post['id']}/approve/").status_code == 200
    assert PostTarget.objects.get(post_id=post["id"]).status == TargetStatus.SCHEDULED
    assert sent == []


def slots_of_json(post: dict) -> list[str]:
    return [t["slot_at"] for t in post["targets"]]


# ---- one slot, one holder -----------------------------------------------------------------------

def test_a_slot_taken_meanwhile_is_refused_by_the_database_and_the_next_is_taken(api_client, account_factory, clock,
                                                                                monkeypatch):
    """The allocator's read saw the slot free (a stale read, as under a race): the unique index refuses it."""
    fb = account_factory("facebook")
    put_schedule(api_client, fb, [("mon", "18:00"), ("tue", "18:00")])
    first = queue_post(api_client, [fb], text="A")
    monkeypatch.setattr(slots, "taken_slots", lambda account_id, after: set())
    second = queue_post(api_client, [fb], text="B")
    assert second.status_code == 201, second.json()
    assert slots_of(first) == ["2026-03-23T18:00:00Z"] and slots_of(second) == ["2026-03-24T18:00:00Z"]


@pytest.mark.django_db(transaction=True)
def test_two_transactions_that_both_saw_a_slot_free_give_it_to_one(user, account_factory):
    """Both databases: transaction 1 takes the slot and commits; transaction 2 read the slots before that
    commit (its read is stale) and writes the same slot: the index refuses it and it takes the next one."""
    fb = account_factory("facebook")
    schedule = PostingSchedule.objects.create(account=fb)
    schedule.times.create(weekday=0, time=time(9, 0))
    schedule.times.create(weekday=3, time=time(9, 0))
    post = Post.objects.create(workspace=fb.workspace)
    after = timezone.now()
    stale = slots.taken_slots(fb.pk, after)  # transaction 2's read, before transaction 1 commits
    with transaction.atomic():  # transaction 1
        first = slots.save_in_next_free_slot(PostTarget(post=post, account=fb, status="scheduled"), after)
    with transaction.atomic():  # transaction 2, with its stale view of the queue
        second_post = Post.objects.create(workspace=fb.workspace)
        real = slots.taken_slots
        slots.taken_slots = lambda account_id, after: stale
        try:
            second = slots.save_in_next_free_slot(PostTarget(post=second_post, account=fb, status="scheduled"), after)
        finally:
            slots.taken_slots = real
    assert first != second
    assert sorted(PostTarget.objects.values_list("slot_at", flat=True)) == sorted([first, second])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs two real connections (PostgreSQL); SQLite "
                    "transactions start IMMEDIATE (unipulse/settings.py) and so never overlap")
@pytest.mark.django_db(transaction=True)
def test_two_requests_asking_for_the_next_slot_at_once_never_take_the_same_one(user, account_factory, monkeypatch):
    from rest_framework.test import APIClient

    fb = account_factory("facebook")
    schedule = PostingSchedule.objects.create(account=fb)
    schedule.times.create(weekday=0, time=time(9, 0))
    schedule.times.create(weekday=3, time=time(9, 0))
    # Both requests read the free slots before either writes: only the unique index can tell them apart.
    real, both_read = slots.taken_slots, threading.Barrier(2)

    def read_then_wait(account_id, after):
        taken = real(account_id, after)
        both_read.wait(timeout=10)
        return taken

    monkeypatch.setattr(slots, "taken_slots", read_then_wait)

    def request():
        client = APIClient()
        client.force_authenticate(user)
        return client.post("/api/v1/posts/", {"text": "Race", "accounts": [fb.pk], "next_free_slot": True}, format="json")

    errors, answers = side_by_side(request)

    assert errors == [] and [a.status_code for a in answers] == [201, 201], [a.content for a in answers]
    taken = list(PostTarget.objects.values_list("slot_at", flat=True))
    assert len(taken) == 2 and len(set(taken)) == 2
    assert sorted(t.astimezone(UTC).weekday() for t in taken) == [0, 3]


# ---- the queue: list, reorder, shuffle, pause -----------------------------------------------------

def test_the_queue_lists_upcoming_slots_and_what_fills_them(api_client, account_factory, clock, viewer_client):
    fb = account_factory("facebook")
    put_schedule(api_client, fb, [("mon", "18:00"), ("wed", "09:00")], tz="Europe/Paris")
    post = queue_post(api_client, [fb], text="Hello queue").json()

    queue = viewer_client.get(f"/api/v1/accounts/{fb.pk}/queue/?count=3")
    assert queue.status_code == 200
    body = queue.json()
    assert body["timezone"] == "Europe/Paris" and body["paused"] is False
    assert [(s["at"], s["local"]) for s in body["slots"]] == [
        ("2026-03-23T17:00:00Z", "2026-03-23T18:00:00+01:00"), ("2026-03-25T08:00:00Z", "2026-03-25T09:00:00+01:00"),
        ("2026-03-30T16:00:00Z", "2026-03-30T18:00:00+02:00")]  # summer time from the 29th
    assert body["slots"][0]["target"] == {"id": post["targets"][0]["id"], "post": post["id"], "status": "scheduled",
                                          "text": "Hello queue"}
    assert body["slots"][1]["target"] is None
    assert viewer_client.put(f"/api/v1/accounts/{fb.pk}/schedule/", {"times": []}, format="json").status_code == 403


@pytest.fixture
def viewer_client(workspace, member_factory):
    return member_factory(workspace, "viewer")[1]


def test_reorder_and_shuffle_move_posts_over_the_slots_they_fill(api_client, account_factory, clock):
    fb = account_factory("facebook")
    put_schedule(api_client, fb, [("mon", "18:00"), ("tue", "18:00"), ("wed", "18:00")])
    ids = [queue_post(api_client, [fb], text=t).json()["targets"][0]["id"] for t in "ABC"]
    before = sorted(PostTarget.objects.values_list("slot_at", flat=True))

    bad = api_client.post(f"/api/v1/accounts/{fb.pk}/queue/reorder/", {"targets": ids[:2]}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "queue_changed"

    reordered = api_client.post(f"/api/v1/accounts/{fb.pk}/queue/reorder/", {"targets": ids[::-1]}, format="json")
    assert reordered.status_code == 200, reordered.json()
    assert [s["target"]["id"] for s in reordered.json()["slots"][:3]] == ids[::-1]
    assert sorted(PostTarget.objects.values_list("slot_at", flat=True)) == before
    for target in PostTarget.objects.select_related("post"):
        assert target.scheduled_at == target.slot_at == target.post.scheduled_at

    slots.shuffle_queue(fb, rng=random.Random(3))
    after = list(PostTarget.objects.order_by("slot_at").values_list("pk", flat=True))
    assert sorted(after) == sorted(ids)
    assert sorted(PostTarget.objects.values_list("slot_at", flat=True)) == before
    assert api_client.post(f"/api/v1/accounts/{fb.pk}/queue/shuffle/").status_code == 200


def test_a_paused_queue_holds_its_posts_back_and_resuming_moves_them_to_the_next_free_slots(api_client, account_factory,
                                                                                          clock):
    fb = account_factory("facebook")
    times = [("mon", "18:00"), ("tue", "18:00"), ("wed", "18:00")]
    put_schedule(api_client, fb, times)
    target = queue_post(api_client, [fb]).json()["targets"][0]
    other = account_factory("facebook")
    plain = PostTarget.objects.create(post=Post.objects.create(workspace=fb.workspace), account=other,
                                      status="scheduled", scheduled_at=clock.now + timedelta(hours=1))
    put_schedule(api_client, fb, times, paused=True)

    clock.now = datetime(2026, 3, 23, 18, 30, tzinfo=UTC)
    assert posts.enqueue_due_targets(now=clock.now) == [plain.pk]  # only the post outside the paused queue
    assert PostTarget.objects.get(pk=target["id"]).status == TargetStatus.SCHEDULED

    put_schedule(api_client, fb, times, paused=False)
    moved = PostTarget.objects.get(pk=target["id"])
    assert moved.slot_at == moved.scheduled_at == datetime(2026, 3, 24, 18, 0, tzinfo=UTC)
    assert moved.post.scheduled_at == moved.slot_at
    assert posts.enqueue_due_targets(now=clock.now) == []


def test_the_admin_lists_schedules_and_edits_their_times_inline(staff, account_factory):
    fb = account_factory("facebook")
    schedule = PostingSchedule.objects.create(account=fb)
    schedule.times.create(weekday=0, time=time(9, 0))
    listing = staff.get("/admin/publishing/postingschedule/")
    assert listing.status_code == 200 and str(fb) in listing.content.decode()
    page = staff.get(f"/admin/publishing/postingschedule/{schedule.pk}/change/")
    assert page.status_code == 200 and "09:00" in page.content.decode()


def test_a_full_queue_answers_409(api_client, account_factory, clock, monkeypatch):
    fb = account_factory("facebook")
    put_schedule(api_client, fb, [("mon", "18:00")])
    monkeypatch.setattr(slots, "HORIZON_DAYS", 3)
    assert queue_post(api_client, [fb]).status_code == 201
    full = queue_post(api_client, [fb])
    assert full.status_code == 409 and full.json()["error"]["code"] == "queue_full"
    assert Post.objects.count() == 1

