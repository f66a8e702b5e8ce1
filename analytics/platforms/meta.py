"""What Facebook and Instagram share: Graph listings with insights by field expansion.

A page of expanded fields can be too heavy (Graph asks for less data: the page shrinks) or name a
metric this account's Graph version refuses (it is recorded and dropped, found by halving when Graph
does not name it). Each page is saved before the next is asked for.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings

from unipulse.platform_errors import (
    InvalidRequestError,
    PermissionMissingError,
    PlatformError,
    TransientError,
)

from .. import catalogue
from ..services import store

if TYPE_CHECKING:
    from . import SyncProgress

logger = logging.getLogger(__name__)

TOO_MUCH_DATA = "reduce the amount of data"
_METRIC_INDEX = re.compile(r"metric\[(\d+)\]")
_WORDS = re.compile(r"[a-z0-9_]+")


def is_too_much_data(error: PlatformError) -> bool:
    # Graph answers HTTP 500 {"error": {"code": 1, "message": "Please reduce the amount of data you're
    # asking for, then retry your request"}} when a page of expanded fields is too heavy.
    return isinstance(error, TransientError) and error.code == 1 and TOO_MUCH_DATA in error.message.lower()


def named_rejected_metric(error: PlatformError, metrics: list[str]) -> str | None:
    """The metric a code-100 error names ("The metric shares is not supported…", "metric[2] must be…")."""
    if not isinstance(error, InvalidRequestError) or error.code != 100:
        return None
    text = error.message.lower()
    index = _METRIC_INDEX.search(text)
    if index and int(index.group(1)) < len(metrics):
        return metrics[int(index.group(1))]
    words = set(_WORDS.findall(text))
    return next((m for m in metrics if m in words), None)


def is_not_enough_viewers(error: PlatformError) -> bool:
    # Graph code 10 "Not enough viewers for the media to show insights" (Instagram media insights).
    return isinstance(error, PermissionMissingError) and error.code == 10 and "viewers" in error.message.lower()


def is_metric_error(error: PlatformError) -> bool:
    text = error.message.lower()
    return isinstance(error, InvalidRequestError) and error.code == 100 and "metric" in text


def graph_pages(sync: SyncProgress, *, fetch: Callable, kind: str, kinds: tuple[str, ...],
                on_page: Callable[[list], bool], stage: str) -> None:
    """Page through a Graph listing with field-expanded insights, saving each page via `on_page`.

    `on_page` returns False to stop. The cursor and a shrunk page size are stored as the run's `stage`,
    so a resumed run continues where this one stopped.
    """
    account = sync.account
    rejected = store.rejected_metrics(account.platform)
    state = sync.stage(stage)
    limit, after = state.get("limit") or settings.ANALYTICS_PAGE_SIZE, state.get("after")
    while True:
        metrics = catalogue.metric_names(kinds, rejected=rejected)
        sync.ensure_meta_budget()
        try:
            page = fetch(metrics=metrics, limit=limit, after=after)
        except (TransientError, InvalidRequestError) as error:
            if is_too_much_data(error) and limit > 1:
                limit = max(1, limit // 2)
                logger.info("Graph asked for less data: page size now %d (account %s)", limit, account.pk)
                continue
            if not is_metric_error(error) or not metrics:
                raise
            name = named_rejected_metric(error, metrics) or _probe_rejected(sync, fetch, metrics)
            store.record_rejected_metric(account.platform, kind, name, error.message)
            rejected.add(name)
            continue
        except PermissionMissingError as error:
            if not is_not_enough_viewers(error) or not metrics:
                raise
            # Instagram withholds insights for media with too few viewers, and one such media fails the
            # whole expanded page: keep this page's counters (likes, comments) without its insights.
            logger.info("Insights withheld for a page of %s media (too few viewers); counters only", account.pk)
            sync.ensure_meta_budget()
            page = fetch(metrics=[], limit=limit, after=after)
        keep_going = on_page(page.items) and page.after != after  # a cursor that does not move ends it
        after = page.after
        sync.save_stage(stage, {"limit": limit, "after": after, "done": not after or not keep_going})
        if not after or not keep_going:
            return


def _probe_rejected(sync: SyncProgress, fetch: Callable, metrics: list[str]) -> str:
    """Find an unnamed rejected metric by halving the list with one-post probes (log2(n) calls)."""
    candidates = list(metrics)
    while len(candidates) > 1:
        half = candidates[: len(candidates) // 2]
        sync.ensure_meta_budget()
        try:
            fetch(metrics=half, limit=1, after=None)
        except InvalidRequestError as error:
            if not is_metric_error(error):
                raise
            candidates = half
        else:
            candidates = candidates[len(half):]
    return candidates[0]


def number(value) -> int | None:
    """A metric value as one number; by-type dicts ({"like": 4, "love": 1}) are summed."""
    if isinstance(value, dict):
        return sum(v for v in value.values() if isinstance(v, int | float))
    return value if isinstance(value, int | float) else None
