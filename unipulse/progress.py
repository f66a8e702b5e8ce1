"""A progress bar for management commands: drawn in place on a terminal, nothing at all under cron.

    accounts [###############...............]  50% 120/240

Commands draw it on their stderr, so stdout keeps only the one-line summary a script may read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from django.core.management.base import OutputWrapper

T = TypeVar("T")

WIDTH = 30


class ProgressBar:
    """Call update(done) or advance(n) as work completes, then close() (or use it as a context manager).

    On a stream that is not a terminal (cron's mail, a pipe, a log file) it writes nothing. It redraws
    only when the percentage moves, so a million rows cost a hundred writes.
    """

    def __init__(self, stream, label: str, total: int) -> None:
        self.stream, self.label, self.total = stream, label, total
        self.done = 0
        self.visible = bool(getattr(stream, "isatty", lambda: False)()) and total > 0
        self._drawn: tuple[int, int] | None = None  # (percent, done) last drawn

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def advance(self, n: int = 1) -> None:
        self.update(self.done + n)

    def update(self, done: int) -> None:
        self.done = min(done, self.total)
        if not self.visible:
            return
        percent = 100 * self.done // self.total
        if self._drawn is not None and self._drawn[0] == percent and self.done != self.total:
            return
        if self._drawn == (percent, self.done):
            return
        filled = WIDTH * self.done // self.total
        self._write(f"\r{self.label} [{'#' * filled}{'.' * (WIDTH - filled)}] {percent:3d}% {self.done}/{self.total}")
        self._drawn = (percent, self.done)

    def close(self) -> None:
        """End the bar's line, so whatever is written next starts on a line of its own."""
        if self.visible and self._drawn is not None:
            self._write("\n")
            self._drawn = None
            self.visible = False

    def _write(self, text: str) -> None:
        if isinstance(self.stream, OutputWrapper):
            self.stream.write(text, style_func=str, ending="")  # stderr's style would paint the bar red
        else:
            self.stream.write(text)
        self.stream.flush()


def progress(items: Iterable[T], stream, label: str) -> Iterator[T]:
    """Yield `items`, advancing a ProgressBar on `stream` (a command's self.stderr) after each one."""
    items = list(items)
    with ProgressBar(stream, label, len(items)) as bar:
        for item in items:
            yield item
            bar.advance()
