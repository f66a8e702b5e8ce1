"""The periodic commands, at the clock times of the documented crontab.

Production runs these from cron (docs/operations.md, "Cron") or as the Procfile's single `scheduler` process.
`make run` on the embedded defaults runs them on a thread inside the web process, because the
in-process broker only reaches workers in the same process.

Like cron, a job runs in each minute its expression matches (TIME_ZONE's wall clock), never just
because the scheduler started. A minute the loop missed (a long command, a suspended laptop) still
counts once: each job due in the gap runs once when the loop comes back, not once per missed minute.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.management import call_command, get_commands
from django.utils import timezone

logger = logging.getLogger(__name__)

MINUTE = timedelta(minutes=1)
CATCH_UP = timedelta(days=1)  # longer gaps are not replayed minute by minute: a day holds every cadence


class CronField:
    """One field of a crontab line: `*`, `*/n`, `n`, or a comma list of those. Nothing else is needed."""

    def __init__(self, text: str, low: int, high: int) -> None:
        self.any = text.startswith("*")  # cron: a "*" field does not restrict the other day field
        self.values: set[int] = set()
        for part in text.split(","):
            if part == "*":
                self.values.update(range(low, high + 1))
            elif part.startswith("*/") and part[2:].isdigit() and int(part[2:]) > 0:
                self.values.update(range(low, high + 1, int(part[2:])))
            elif part.isdigit() and low <= int(part) <= high:
                self.values.add(int(part))
            else:
                raise ValueError(f"unsupported cron field {text!r} (use *, */n or numbers {low}-{high})")


class Cron:
    """A five-field crontab expression: minute hour day-of-month month day-of-week (0 or 7 = Sunday)."""

    def __init__(self, expression: str) -> None:
        fields = expression.split()
        if len(fields) != 5:
            raise ValueError(f"a cron expression has five fields, not {len(fields)}: {expression!r}")
        self.minute, self.hour = CronField(fields[0], 0, 59), CronField(fields[1], 0, 23)
        self.day, self.month = CronField(fields[2], 1, 31), CronField(fields[3], 1, 12)
        self.weekday = CronField(fields[4], 0, 7)

    def matches(self, moment: datetime) -> bool:
        """Whether this expression fires in the minute of `moment` (a local wall-clock time)."""
        if moment.minute not in self.minute.values or moment.hour not in self.hour.values:
            return False
        if moment.month not in self.month.values:
            return False
        day = moment.day in self.day.values
        weekday = bool({moment.isoweekday() % 7, moment.isoweekday()} & self.weekday.values)  # Sunday: 0 or 7
        if not self.day.any and not self.weekday.any:
            return day or weekday  # cron: either restriction is enough when both are given
        return day and weekday


@dataclass(frozen=True)
class Job:
    command: str
    cron: str  # the same line as docs/operations.md's "Cron" table
    sandbox_only: bool = False  # the built-in sandbox's simulated activity (new comments, DMs, TikTok events)
    schedule: Cron = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "schedule", Cron(self.cron))


SCHEDULE = [
    Job("publish_due", "* * * * *"),
    Job("send_webhooks", "* * * * *"),
    Job("process_webhooks", "*/5 * * * *"),
    Job("sync_conversations", "*/15 * * * *"),
    Job("refresh_tokens", "*/15 * * * *"),
    Job("sync_analytics", "0 * * * *"),
    Job("create_recurring_posts", "10 * * * *"),
    Job("subscribe_webhooks", "30 3 * * *"),
    Job("prune_task_history", "30 3 * * *"),
    Job("prune_webhook_events", "30 3 * * *"),
    Job("prune_events", "40 3 * * *"),
    Job("sandbox_activity", "*/2 * * * *", sandbox_only=True),
]


def available_jobs() -> list[Job]:
    installed = get_commands()
    return [job for job in SCHEDULE if job.command in installed and (settings.SOCIAL_SANDBOX or not job.sandbox_only)]


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def due_jobs(after: datetime, until: datetime) -> list[Job]:
    """The jobs whose expression matches a minute in (after, until], each once, in SCHEDULE order."""
    start = max(_minute(after), _minute(until) - CATCH_UP)
    minutes = []
    moment = start + MINUTE
    while moment <= until:
        minutes.append(timezone.localtime(moment))  # crontab times are wall-clock times in TIME_ZONE
        moment += MINUTE
    return [job for job in available_jobs() if any(job.schedule.matches(m) for m in minutes)]


def run_jobs(jobs: list[Job]) -> list[str]:
    """Run each job's command; return those that succeeded. One failing command does not stop the others."""
    ran = []
    for job in jobs:
        try:
            call_command(job.command)
            ran.append(job.command)
        except Exception:  # noqa: BLE001 - logged with its traceback; the schedule goes on
            logger.exception("Scheduled command %s failed", job.command)
    return ran


@dataclass
class Clock:
    """Where the loop stands: the last minute already handled (starts at the minute it was created)."""

    now: Callable[[], datetime] = timezone.now
    handled: datetime | None = None

    def __post_init__(self) -> None:
        if self.handled is None:
            self.handled = _minute(self.now())  # the minute we start in is not run: cron would have started it

    def tick(self) -> list[str]:
        """Run what became due since the last tick; return the commands that succeeded."""
        now = self.now()
        jobs = due_jobs(self.handled, now)
        self.handled = max(self.handled, _minute(now))
        return run_jobs(jobs) if jobs else []

    def seconds_to_next_minute(self) -> float:
        now = self.now()
        return max((_minute(now) + MINUTE - now).total_seconds(), 0.0)


def run_forever(stop: threading.Event, clock: Clock | None = None, tick: float = 5.0) -> None:
    clock = clock or Clock()
    while not stop.is_set():
        clock.tick()
        stop.wait(min(tick, clock.seconds_to_next_minute() + 0.05))


_thread: threading.Thread | None = None
_stop = threading.Event()


def start_in_background() -> None:
    global _thread
    if _thread is None:
        _thread = threading.Thread(target=run_forever, args=(_stop,), name="unipulse-scheduler", daemon=True)
        _thread.start()
        logger.info("Embedded scheduler started: %s", ", ".join(f"{j.command} ({j.cron})" for j in available_jobs()))


def stop_background() -> None:
    _stop.set()
