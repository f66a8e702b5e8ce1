"""Each platform's publish steps behind one small protocol, and the registry that finds them.

The engine (`publishing.services.engine`) owns the order and its safety rules; a platform module only
knows its own calls. One run of a target, as the engine drives it:

    published already        -> follow_up(target)                 (the first comment, TikTok's late post id)
    commit_started_at set    -> reconcile(run)                    (ask the platform; never posts)
    not committed yet        -> prepare(run) -> poll(run) -> commit(run)
    committed, platform busy -> poll(run)                         (TikTok status/fetch)
    just published           -> the engine reads the permalink after a commit, then after_publish(target)

Every step answers with an Outcome. A step saves each remote handle itself as soon as it exists
(`engine.save_handles`), since only it knows when one exists; a step that ends the run on its own (a
failure saved with `engine.mark_failed`, a delayed message sent) answers STOPPED. The engine saves
`commit_started_at` before `commit` and clears it only on a definite refusal; a commit whose outcome
nobody can learn raises Unconfirmable.
"""

from __future__ import annotations

import enum
import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, cast, runtime_checkable

from social.models import Platform

if TYPE_CHECKING:
    from social.models import SocialAccount

    from ..models import PostMedia, PostTarget


class Unconfirmable(Exception):  # noqa: N818 - control flow, not an error to report
    """The platform cannot tell whether an ambiguous commit went out."""


class Next(enum.Enum):
    READY = "ready"            # go on to the next step
    STOPPED = "stopped"        # this run has nothing more to do (the step recorded why)
    POLL_LATER = "poll_later"  # the platform is still processing: the engine comes back (bounded)
    NOT_SENT = "not_sent"      # reconcile: the platform says the interrupted commit did not go out
    TOO_EARLY = "too_early"    # commit: refused because the media is not ready; nothing went out


READY, STOPPED, POLL_LATER, NOT_SENT, TOO_EARLY = Next


@dataclass(frozen=True)
class Published:
    """The post is live. An empty id: live but not named yet (TikTok before moderation, a lost IG answer)."""

    post_id: str
    permalink: str = ""
    after_publish: bool = True  # False: nothing is owed after it (a TikTok inbox delivery never gets a public id)


@dataclass(frozen=True)
class Sent:
    """The commit reached the platform, which finishes on its own: poll it. `handles` go on the row with it."""

    handles: dict = field(default_factory=dict)


Outcome = Next | Published | Sent


@dataclass
class Run:
    """One run's view of a target: the media, read once, and what a step learnt for a later one."""

    target: PostTarget
    media: list[PostMedia]
    learnt: dict = field(default_factory=dict)

    @property
    def account(self) -> SocialAccount:
        return self.target.account

    @property
    def options(self) -> dict:
        return self.target.options or {}


@runtime_checkable
class PublishPlatform(Protocol):
    def reconcile(self, run: Run) -> Outcome:
        """commit_started_at is set: did that commit go out? Read-only; NOT_SENT lets the engine commit again."""

    def prepare(self, run: Run) -> Outcome:
        """Containers or uploads not made yet, each handle saved as soon as it exists. Safe to repeat."""

    def poll(self, run: Run) -> Outcome:
        """Read-only status: of the prepared media before the commit, or of a Sent commit after it."""

    def commit(self, run: Run) -> Outcome:
        """The one public-making call: Published, Sent, or TOO_EARLY."""

    def permalink(self, account: SocialAccount, post_id: str) -> str:
        """The public link of a post a commit just made (read best effort)."""

    def after_publish(self, target: PostTarget) -> None:
        """Right after the post went live: start what is owed after it."""

    def follow_up_due(self, target: PostTarget) -> bool:
        """A published target still owes a follow-up (a later message runs follow_up)."""

    def follow_up(self, target: PostTarget) -> None:
        """A later run on a published target: the first comment, a check for the post id."""


MODULES = {Platform.FACEBOOK: "facebook", Platform.INSTAGRAM: "instagram", Platform.TIKTOK: "tiktok"}


def get_platform(platform: str) -> PublishPlatform:
    """The module that publishes to `platform` (a social.models.Platform value)."""
    # Imported on first use: the platform modules use the engine, which uses this registry.
    return cast(PublishPlatform, importlib.import_module(f"{__name__}.{MODULES[Platform(platform)]}"))
