"""Inbox events (events.catalogue), written in the transaction of the change they report."""

from __future__ import annotations

from unipulse import hooks

from .models import Message


def message_event(message: Message, event_type: str) -> None:
    """The message as GET /api/v1/conversations/{id}/messages/ shows it (its conversation id inside)."""
    from .serializers import MessageSerializer

    message.refresh_from_db(fields=["status", "external_id", "error", "idempotency_key"])
    hooks.record_event(message.account.workspace_id, event_type, {"object": MessageSerializer(message).data})
