"""The inbox's per-platform code: one module per platform behind one small protocol, and a registry.

A platform with an inbox API (`INBOX = True`) offers what `InboxPlatform` lists: poll its comments
and DMs, reply in either, hide a comment, read a DM participant's profile. A Meta platform also reads its own entries of Meta's
webhook deliveries (`route_change`, `route_message`, called by meta.route_meta). Each module that
receives webhooks maps its webhook sources to a route in `WEBHOOK_ROUTES`: route(payload) -> whether
it was handled; a payload whose shape no route can take raises UnroutableError (stored `ignored`).

TikTok's Login Kit, Display and Content Posting APIs have no comment or DM endpoints, so TikTok is
registered for its webhooks only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import ModuleType
from typing import Protocol

from . import facebook, instagram, meta, tiktok
from .base import Participant, PollResult


class InboxPlatform(Protocol):
    INBOX: bool

    def poll(self, account, comments_since: datetime | None, messages_since: datetime | None) -> PollResult: ...

    def reply_to_comment(self, account, conversation, text: str) -> str: ...  # the new comment's id

    def send_direct_message(self, account, conversation, text: str, tag: str | None) -> str: ...  # the message id

    def set_comment_hidden(self, account, comment_id: str, hidden: bool) -> None: ...

    def read_participant(self, account, participant_id: str) -> Participant: ...  # a DM thread's other person


PLATFORMS: dict[str, ModuleType] = {"facebook": facebook, "instagram": instagram, "tiktok": tiktok}

# Webhook source (WebhookEvent.Source) -> its route. Meta's one endpoint serves Facebook and Instagram.
WEBHOOK_ROUTES: dict[str, Callable[[dict], bool]] = {**meta.WEBHOOK_ROUTES, **tiktok.WEBHOOK_ROUTES}


class NoInboxError(Exception):
    """This platform has no comment/DM API we can use (TikTok)."""


def get_inbox(platform: str) -> InboxPlatform:
    module = PLATFORMS.get(platform)
    if module is None or not module.INBOX:
        raise NoInboxError(f"{platform} has no comment or message API.")
    return module


def inbox_platforms() -> list[str]:
    """The platforms whose accounts have an inbox to poll."""
    return [platform for platform, module in PLATFORMS.items() if module.INBOX]
