"""What every inbox platform shares: the platform-neutral items the upsert understands, and the
readers that take a webhook payload's values without trusting their shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.utils import timezone

HANDLED, IGNORED = True, False


@dataclass
class InboxItem:
    kind: str                     # "comment" | "dm"
    external_id: str              # comment id or message mid
    direction: str                # "in" | "out"
    created_at: datetime
    text: str = ""
    author_id: str = ""
    author_name: str = ""
    attachments: list = field(default_factory=list)
    # comment threads
    post_id: str = ""
    parent_id: str = ""           # parent comment ("" for a top-level comment)
    # DM threads
    participant_id: str = ""
    participant_name: str = ""
    hidden: bool | None = None    # None: unknown, keep what is stored
    deleted: bool = False


@dataclass
class Participant:
    """The other person of a DM thread, as the platform's profile lookup describes them."""

    name: str = ""
    avatar_url: str = ""


@dataclass
class PollResult:
    comments: list[InboxItem]
    messages: list[InboxItem]
    comments_since: datetime | None
    messages_since: datetime | None

    @classmethod
    def after(cls, comments: list[InboxItem], comments_since: datetime | None, messages: list[InboxItem],
              messages_since: datetime | None, newest_message: datetime | None) -> PollResult:
        """One poll's answer: only comments newer than the last poll (a listing may repeat the boundary), and
        each cursor moved to the newest item it saw, or left where it was."""
        comments = [c for c in comments if comments_since is None or c.created_at > comments_since]
        return cls(comments=comments, messages=messages,
                   comments_since=max([c.created_at for c in comments], default=comments_since),
                   messages_since=newest_message or messages_since)


class UnroutableError(ValueError):
    """A payload no code path can route (its shape is not one the platform documents): stored `ignored`."""


def inbox():
    """The inbox services the webhook routes write through (upsert by external id).

    Looked up at call time: the services import this package's registry, so importing them here
    at load time would be a loop.
    """
    from ..services import inbox as services_inbox

    return services_inbox


def as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def as_dicts(value) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def as_str(value) -> str:
    """A platform string field: a number becomes its digits; anything else (lists, objects) is empty."""
    if isinstance(value, str):
        return value
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else ""


def as_int(value) -> int:
    if isinstance(value, str) and not value.strip().isascii():
        return 0  # int() reads other scripts' digits ("١٢٣"); platforms send ASCII digits only
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(float("inf"))
        return 0


def from_epoch(value) -> datetime:
    """Meta sends seconds in feed events and milliseconds in messaging events."""
    number = as_int(value)
    if not number:
        return timezone.now()
    try:
        return datetime.fromtimestamp(number / 1000 if number > 10**11 else number, tz=UTC)
    except (OverflowError, OSError, ValueError):  # a time no calendar holds: when it reached us
        return timezone.now()
