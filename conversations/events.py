"""Inbox events (events.catalogue), written in the transaction of the change they report."""

from __future__ import annotations

from unipulse import hooks

from .models import Message


def message_event(message: Message, event_type: str) -> None:
    """The message as GET /api/v1/conversations/{id}/messages/ shows it (its conversation id inside). The
    caller's instance carries the change already: no read back."""
    from .serializers import MessageSerializer

    hooks.record_event(message.account.workspace_id, event_type, {"object": MessageSerializer(message).data})
