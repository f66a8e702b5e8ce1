"""The periodic commands, on the cadence of the documented crontab.

Production runs these from cron (README, "Cron") or as the Procfile's single `scheduler` process.
`make run` on the embedded defaults runs them on a thread inside the web process, because the
in-process broker only reaches workers in the same process.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command, get_commands

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    command: str
    every_seconds: int
    cron: str  # the same cadence as a crontab line (README's "Cron" table)
    sandbox_only: bool = False  # the built-in sandbox's simulated activity (new comments, DMs, TikTok events)


SCHEDULE = [
    Job("publish_due", 60, "* * * * *"),
    Job("process_webhooks", 300, "*/5 * * * *"),
    Job("sync_conversations", 900, "*/15 * * * *"),
    Job("refresh_tokens", 900, "*/15 * * * *"),
    Job("sync_analytics", 3600, "0 * * * *"),
    Job("subscribe_webhooks", 86400, "30 3 * * *"),
    Job("prune_task_history", 86400, "30 3 * * *"),
    Job("sandbox_activity", 120, "*/2 * * * *", sandbox_only=True),
]


def available_jobs() -> list[Job]:
    installed = get_commands()
    return [job for job in SCHEDULE if job.command in installed and (settings.SOCIAL_SANDBOX or not job.sandbox_only)]


def run_due(last_run: dict[str, float], now: float) -> list[str]:
    """Run every job whose interval has passed; return the commands that ran."""
    ran = []
    for job in available_jobs():
        if now - last_run.get(job.command, float("-inf")) < job.every_seconds:
            continue
        last_run[job.command] = now
        try:
            call_command(job.command)
            ran.append(job.command)
        except Exception:  # noqa: BLE001 - one failing command must not stop the others
            logger.exception("Scheduled command %s failed", job.command)
    return ran


def run_forever(stop: threading.Event, tick: float = 1.0) -> None:
    last_run: dict[str, float] = {}
    while not stop.is_set():
        run_due(last_run, time.monotonic())
        stop.wait(tick)


_thread: threading.Thread | None = None
_stop = threading.Event()


def start_in_background() -> None:
    global _thread
    if _thread is None:
        _thread = threading.Thread(target=run_forever, args=(_stop,), name="unipulse-scheduler", daemon=True)
        _thread.start()
        logger.info("Embedded scheduler started: %s", ", ".join(j.command for j in available_jobs()))


def stop_background() -> None:
    _stop.set()
