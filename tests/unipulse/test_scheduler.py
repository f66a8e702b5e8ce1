"""The scheduler fires on the crontab's clock times (a fake clock), not on intervals from start-up."""

import threading
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from unipulse import scheduler

UTC = ZoneInfo("UTC")
EVERY_MINUTE = ["publish_due", "send_webhooks"]


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def set(self, hour: int, minute: int, second: int = 0, day: int = 1) -> None:
        self.moment = datetime(2026, 6, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _sandbox_on(settings):
    settings.SOCIAL_SANDBOX = True  # sandbox_activity (*/2) is part of the schedule in these tests
    settings.TIME_ZONE = "UTC"


@pytest.fixture
def calls():
    ran = []
    with mock.patch.object(scheduler, "call_command", side_effect=ran.append):
        yield ran


def started_at(hour: int, minute: int, second: int = 0) -> tuple[scheduler.Clock, FakeClock]:
    fake = FakeClock(datetime(2026, 6, 1, hour, minute, second, tzinfo=UTC))
    return scheduler.Clock(now=fake), fake


def fired_at(hour: int, minute: int) -> list[str]:
    """What runs in the minute hour:minute, for a scheduler that handled the minute before."""
    clock, fake = started_at(hour, minute)
    clock.handled -= timedelta(minutes=1)
    return clock.tick()


def test_nothing_runs_at_start_up(calls):
    clock, fake = started_at(10, 7, 30)
    assert clock.tick() == [] and calls == []
    fake.set(10, 7, 59)
    assert clock.tick() == []  # still the minute it started in


def test_at_ten_oclock_the_hourly_job_fires_with_the_frequent_ones(calls):
    assert fired_at(10, 0) == ["publish_due", "send_webhooks", "process_webhooks", "sync_conversations", "refresh_tokens",
                               "sync_analytics", "sandbox_activity"]


def test_at_a_quarter_past_only_the_quarter_hour_and_five_minute_jobs_fire(calls):
    assert fired_at(10, 15) == ["publish_due", "send_webhooks", "process_webhooks", "sync_conversations", "refresh_tokens"]


def test_at_three_thirty_the_daily_jobs_fire(calls):
    assert fired_at(3, 30) == ["publish_due", "send_webhooks", "process_webhooks", "sync_conversations", "refresh_tokens",
                               "subscribe_webhooks", "prune_task_history", "prune_webhook_events", "sandbox_activity"]


@pytest.mark.parametrize(("hour", "minute", "expected"), [
    (10, 1, EVERY_MINUTE),
    (10, 2, ["publish_due", "send_webhooks", "sandbox_activity"]),
    (10, 5, ["publish_due", "send_webhooks", "process_webhooks"]),
    (10, 30, ["publish_due", "send_webhooks", "process_webhooks", "sync_conversations", "refresh_tokens", "sandbox_activity"]),
    (4, 30, ["publish_due", "send_webhooks", "process_webhooks", "sync_conversations", "refresh_tokens", "sandbox_activity"]),
    (3, 0, ["publish_due", "send_webhooks", "process_webhooks", "sync_conversations", "refresh_tokens", "sync_analytics",
            "sandbox_activity"]),
])
def test_other_minutes_fire_exactly_their_jobs(calls, hour, minute, expected):
    assert fired_at(hour, minute) == expected


def test_an_hour_of_ticks_runs_each_job_as_often_as_its_cron_line(calls):
    clock, fake = started_at(9, 59, 40)
    for second in range(0, 3600, 10):  # a tick every 10 s from 10:00:00 to 10:59:50
        fake.moment = datetime(2026, 6, 1, 10, 0, tzinfo=UTC) + timedelta(seconds=second)
        clock.tick()
    counts = {command: calls.count(command) for command in set(calls)}
    assert counts == {"publish_due": 60, "send_webhooks": 60, "process_webhooks": 12, "sync_conversations": 4, "refresh_tokens": 4,
                      "sync_analytics": 1, "create_recurring_posts": 1, "sandbox_activity": 30}


def test_minutes_missed_by_a_long_command_still_run_each_due_job_once(calls):
    clock, fake = started_at(9, 58, 50)
    fake.set(10, 3, 5)  # the loop was stuck from 9:58 to 10:03 (10:00 passed unseen)
    assert clock.tick() == ["publish_due", "send_webhooks", "process_webhooks", "sync_conversations", "refresh_tokens",
                            "sync_analytics", "sandbox_activity"]
    assert calls.count("publish_due") == 1  # five minutes missed, one run
    fake.set(10, 3, 40)
    assert clock.tick() == []


def test_the_crontab_times_are_in_time_zone(calls, settings):
    settings.TIME_ZONE = "Europe/Paris"  # 01:30 UTC in June is 03:30 in Paris
    assert "subscribe_webhooks" in fired_at(1, 30)
    assert "subscribe_webhooks" not in fired_at(3, 30)


def test_a_failing_command_does_not_stop_the_others():
    def flaky(name):
        if name == "refresh_tokens":
            raise RuntimeError("boom")

    with mock.patch.object(scheduler, "call_command", side_effect=flaky):
        ran = fired_at(10, 15)
    assert ran == ["publish_due", "send_webhooks", "process_webhooks", "sync_conversations"]


def test_run_forever_ticks_until_stopped(calls):
    fake = FakeClock(datetime(2026, 6, 1, 10, 14, 59, tzinfo=UTC))
    clock = scheduler.Clock(now=fake)
    stop = threading.Event()
    waits = []

    def wait(seconds):
        waits.append(seconds)
        fake.moment += timedelta(seconds=1)
        if fake.moment.minute == 16:
            stop.set()
        return stop.is_set()

    with mock.patch.object(stop, "wait", side_effect=wait):
        scheduler.run_forever(stop, clock=clock, tick=5.0)
    assert calls == ["publish_due", "send_webhooks", "process_webhooks", "sync_conversations", "refresh_tokens"]  # 10:15 only
    assert waits[0] == pytest.approx(1.05)  # woke up just after 10:15:00, not 5 s later
    assert max(waits) <= 5.0


@pytest.mark.parametrize(("expression", "moment", "fires"), [
    ("30 3 * * *", datetime(2026, 6, 1, 3, 30), True),
    ("30 3 * * *", datetime(2026, 6, 1, 3, 31), False),
    ("*/15 * * * *", datetime(2026, 6, 1, 7, 45), True),
    ("*/15 * * * *", datetime(2026, 6, 1, 7, 50), False),
    ("0 9 * * 0", datetime(2026, 6, 7, 9, 0), True),    # a Sunday
    ("0 9 * * 7", datetime(2026, 6, 7, 9, 0), True),    # Sunday as 7
    ("0 9 * * 1", datetime(2026, 6, 7, 9, 0), False),
    ("0 9 1 * 1", datetime(2026, 6, 8, 9, 0), True),    # cron: day-of-month OR day-of-week when both are given
    ("0 9 1 * *", datetime(2026, 6, 8, 9, 0), False),
    ("0,30 * * 6 *", datetime(2026, 6, 2, 5, 30), True),
    ("0,30 * * 7 *", datetime(2026, 6, 2, 5, 30), False),
])
def test_cron_expressions(expression, moment, fires):
    assert scheduler.Cron(expression).matches(moment) is fires


@pytest.mark.parametrize("expression", ["* * * *", "61 * * * *", "*/0 * * * *", "1-5 * * * *", "@daily", "a * * * *"])
def test_unsupported_cron_expressions_are_refused(expression):
    with pytest.raises(ValueError):
        scheduler.Cron(expression)


def test_sandbox_activity_runs_only_with_the_sandbox_on(settings):
    settings.SOCIAL_SANDBOX = False
    assert "sandbox_activity" not in [j.command for j in scheduler.available_jobs()]
    settings.SOCIAL_SANDBOX = True
    assert "sandbox_activity" in [j.command for j in scheduler.available_jobs()]


def test_the_operations_crontab_lists_every_production_job_on_the_same_cadence():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    for job in scheduler.SCHEDULE:
        if not job.sandbox_only:
            assert f"| `{job.cron}` | `python manage.py {job.command}" in doc, job.command
