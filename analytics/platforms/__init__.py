"""Analytics per platform: one module per platform, each the same two functions.

- read_account(sync) -> FetchedAccount | None: the account's followers and metrics; None when the
  platform withholds them and the posts are still worth reading.
- read_posts(sync): list the account's posts in the window with their metrics, handing each page to
  `sync.save_posts` as it arrives. A platform that reads in stages keeps each stage's place with
  `sync.save_stage` and starts from `sync.stage(name)`, so a paused run resumes where it stopped.

services/sync.py owns the run (its cursor, the call budget, what happens on an error) and reaches a
platform only through PLATFORMS; the clients in social/clients/ stay the only code that speaks HTTP.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from social.models import Platform, SocialAccount

from . import facebook, instagram, tiktok

if TYPE_CHECKING:
    from ..services.store import FetchedAccount, FetchedPost


@runtime_checkable
class SyncProgress(Protocol):
    """One sync run as a platform module sees it."""

    account: SocialAccount
    now: datetime

    def stage(self, name: str) -> dict: ...

    def save_stage(self, name: str, state: dict) -> None: ...

    def ensure_meta_budget(self, calls: int = 1) -> None: ...

    def save_posts(self, posts: list[FetchedPost]) -> None: ...


@runtime_checkable
class AnalyticsPlatform(Protocol):
    def read_account(self, sync: SyncProgress) -> FetchedAccount | None: ...

    def read_posts(self, sync: SyncProgress) -> None: ...


PLATFORMS: dict[str, AnalyticsPlatform] = {
    Platform.FACEBOOK: facebook, Platform.INSTAGRAM: instagram, Platform.TIKTOK: tiktok,
}
