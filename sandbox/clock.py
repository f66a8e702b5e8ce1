"""The sandbox's one clock. Tests freeze or move it instead of sleeping (containers finish, metrics grow)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.utils import timezone

_now: Callable[[], datetime] = timezone.now
_sleep: Callable[[float], None] = time.sleep


def now() -> datetime:
    return _now()


def sleep(seconds: float) -> None:
    _sleep(seconds)


def set_clock(now_fn: Callable[[], datetime] | None = None, sleep_fn: Callable[[float], None] | None = None) -> None:
    """Replace the clock (None restores the real one)."""
    global _now, _sleep
    _now = now_fn or timezone.now
    _sleep = sleep_fn or time.sleep


@contextmanager
def frozen(at: datetime | None = None) -> Iterator[FrozenClock]:
    """Freeze the sandbox clock; `advance()` moves it, and slow answers advance it instead of sleeping."""
    clock = FrozenClock(at or timezone.now())
    set_clock(clock.now, clock.advance)
    try:
        yield clock
    finally:
        set_clock()


class FrozenClock:
    def __init__(self, at: datetime) -> None:
        self.at = at
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += timedelta(seconds=seconds)
