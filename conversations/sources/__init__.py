"""Inbox sources: one module per platform that can list and answer comments or DMs.

A source module offers:
  poll(account, comments_since, messages_since) -> PollResult
  reply_to_comment(account, conversation, text) -> str        (the new comment id)
  send_direct_message(account, conversation, text, tag) -> str (the message id)
  set_comment_hidden(account, comment_id, hidden) -> None

TikTok's Login Kit, Display and Content Posting APIs have no comment or DM endpoints, so there is no
TikTok source. A TikTok API for Business comment source (business-api.tiktok.com, its own tokens)
would be one more module here, registered under "tiktok".
"""

from __future__ import annotations

from types import ModuleType

from . import facebook, instagram

SOURCES: dict[str, ModuleType] = {"facebook": facebook, "instagram": instagram}


class NoInboxSourceError(Exception):
    """This platform has no comment/DM API we can use (TikTok)."""


def get_source(platform: str) -> ModuleType:
    try:
        return SOURCES[platform]
    except KeyError:
        raise NoInboxSourceError(f"{platform} has no comment or message API.") from None
