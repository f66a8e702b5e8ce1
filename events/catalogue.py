"""Every event type UniPulse sends, with what it means. The one list: the API validates subscriptions
against it, `record` refuses a type not in it, and docs/api-reference.md prints it (a test keeps them equal)."""

from __future__ import annotations

EVENT_TYPES: dict[str, str] = {
    "target.published": "A post went live on one account (`data.object` is the target, with its post id).",
    "target.failed": "Publishing to one account failed for good (the target's `last_error_code` and message say why).",
    "target.unconfirmed": "The platform did not confirm a publish in time; UniPulse checks again before retrying.",
    "post.pending_approval": "An editor's post waits for an admin's approval.",
    "post.approved": "An admin approved a post; its targets are queued.",
    "post.rejected": "An admin rejected a post; it is back to draft with the review comment.",
    "account.connected": "An account was connected (or reconnected) through OAuth.",
    "account.needs_reauth": "An account's token stopped working; a member must reconnect it.",
    "account.expiring": "An account's token ends soon and cannot be refreshed automatically.",
    "account.disconnected": "An account was disconnected from the workspace.",
    "inbox.message.received": "A new comment or direct message arrived in the inbox.",
    "inbox.reply.sent": "A reply from the inbox reached the platform.",
    "inbox.reply.failed": "A reply from the inbox was refused by the platform.",
    "analytics.synced": "An account's analytics sync finished.",
}

# Sent only to one endpoint by `POST /api/v1/webhook-endpoints/{id}/ping/`; never in the feed.
PING = "ping"
