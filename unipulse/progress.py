"""A progress counter for management commands: shown on a terminal, silent under cron."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], stream, label: str) -> Iterator[T]:
    """Yield `items`, writing "label n/total" over itself on `stream` (a command's OutputWrapper) on a terminal."""
    items = list(items)
    tty = stream.isatty()
    for n, item in enumerate(items, start=1):
        if tty:
            stream.write(f"\r{label} {n}/{len(items)}", ending="")
        yield item
    if tty and items:
        stream.write("")
