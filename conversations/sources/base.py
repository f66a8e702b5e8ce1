"""What every inbox source produces: platform-neutral items the upsert understands."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
class PollResult:
    comments: list[InboxItem]
    messages: list[InboxItem]
    comments_since: datetime | None
    messages_since: datetime | None
