"""Business logic of the conversations app (plain functions; see STYLE.md).

intake: store a verified delivery, enqueue it · routing: route it into the inbox / publishing / accounts ·
inbox: upsert by external id · polling: incremental fetch for what webhooks missed · replies: agent replies.
"""

from .inbox import filter_conversations, mark_conversation_read, update_conversation, upsert_item
from .intake import (
    count_prunable_webhook_events,
    enqueue_webhook_event,
    get_waiting_webhook_events,
    prune_webhook_events,
    reprocess_webhook_events,
    store_webhook_event,
)
from .polling import sync_account_inbox
from .replies import OutsideMessagingWindowError, send_agent_reply, set_message_hidden
from .routing import process_webhook_event

__all__ = [
    "OutsideMessagingWindowError", "count_prunable_webhook_events", "enqueue_webhook_event", "filter_conversations",
    "get_waiting_webhook_events", "mark_conversation_read", "process_webhook_event", "prune_webhook_events",
    "reprocess_webhook_events", "send_agent_reply", "set_message_hidden", "store_webhook_event", "sync_account_inbox",
    "update_conversation", "upsert_item",
]
