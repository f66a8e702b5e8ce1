"""Webhook deliveries, and the inbox: one Conversation per comment thread or DM thread, with its Messages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class WebhookEvent(models.Model):
    """One delivery, stored whole before any processing, so nothing is lost if the queue is down."""

    class Source(models.TextChoices):
        META = "meta", "Meta"
        META_DEAUTH = "meta_deauth", "Meta deauthorize"
        TIKTOK = "tiktok", "TikTok"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    platform = models.CharField(max_length=16, choices=Source.choices)
    topic = models.CharField(max_length=64, blank=True, default="", help_text="Meta object or TikTok event.")
    body = models.TextField(help_text="The raw body exactly as received (its signature covered these bytes).")
    headers = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=64, unique=True, help_text="sha256 of the raw body.")
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    is_sandbox = models.BooleanField(default=False, help_text="Received while the built-in sandbox served this platform.")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "received_at"], name="webhook_status_received")]

    def __str__(self) -> str:
        return f"{self.platform} {self.topic} #{self.pk} ({self.status})"


class WebhookReplayKey(models.Model):
    """The dedupe key of a pruned WebhookEvent: replay protection outlives the event's row.

    `prune_webhook_events` deletes processed events after WEBHOOK_EVENT_RETENTION_DAYS and keeps only
    their key here (a Meta signature has no timestamp, so a captured delivery stays valid forever):
    the same body arriving again is stored, but routed as an ignored replay, never twice.
    """

    dedupe_key = models.CharField(max_length=64, primary_key=True, help_text="sha256 of the raw body.")
    received_at = models.DateTimeField(help_text="When the pruned event was first received.")

    def __str__(self) -> str:
        return self.dedupe_key


class Conversation(models.Model):
    """A comment thread (post + top-level comment) or a DM thread (account + participant)."""

    class Kind(models.TextChoices):
        COMMENT = "comment", "Comment thread"
        DM = "dm", "Direct messages"

    account = models.ForeignKey("social.SocialAccount", on_delete=models.CASCADE, related_name="conversations")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    thread_key = models.CharField(max_length=200, help_text="c:<root comment id> or dm:<participant id>.")
    platform_post_id = models.CharField(max_length=128, blank=True, default="")
    root_comment_id = models.CharField(max_length=128, blank=True, default="")
    participant_id = models.CharField(max_length=128, blank=True, default="")
    participant_name = models.CharField(max_length=255, blank=True, default="")
    participant_avatar_url = models.URLField(max_length=1000, blank=True, default="", help_text=(
        "DM threads: the person's picture, where the platform gives one (Meta's URLs expire after a few days)."))
    participant_looked_up_at = models.DateTimeField(null=True, blank=True, help_text=(
        "DM threads: when the platform's profile lookup answered (one per conversation)."))
    snippet = models.CharField(max_length=200, blank=True, default="", help_text="Start of the latest message.")
    unread_count = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=[("open", "Open"), ("done", "Done")], default="open",
                              help_text="A new inbound message reopens a done conversation.")
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", help_text="A member of the account's workspace.")
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True, help_text="Starts the 24 h messaging window.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["account", "thread_key"], name="uniq_conversation_thread")]
        indexes = [models.Index(fields=["account", "-last_message_at"], name="conversation_account_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.thread_key}"

    @property
    def is_unread(self) -> bool:
        return self.unread_count > 0


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "in", "Inbound"
        OUTBOUND = "out", "Outbound"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    class Origin(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        POLL = "poll", "Poll"
        AGENT = "agent", "Agent reply"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    account = models.ForeignKey("social.SocialAccount", on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=200, blank=True, default="", help_text="Comment id or message mid.")
    parent_external_id = models.CharField(max_length=200, blank=True, default="")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    author_id = models.CharField(max_length=128, blank=True, default="")
    author_name = models.CharField(max_length=255, blank=True, default="")
    text = models.TextField(blank=True, default="")
    attachments = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    is_hidden = models.BooleanField(default=False)
    is_deleted = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    error = models.CharField(max_length=500, blank=True, default="")
    origin = models.CharField(max_length=8, choices=Origin.choices)
    idempotency_key = models.CharField(max_length=100, blank=True, default="")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # Per account rather than per platform: two users may connect the same Page.
            models.UniqueConstraint(fields=["account", "external_id"], condition=~Q(external_id=""),
                                    name="uniq_message_external_id"),
            models.UniqueConstraint(fields=["conversation", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="uniq_message_idempotency_key"),
        ]
        indexes = [models.Index(fields=["conversation", "created_at"], name="message_conversation_time")]

    def __str__(self) -> str:
        return f"{self.direction} {self.external_id or self.pk}"


class InboxSyncState(models.Model):
    """Where the last poll stopped for one account, and how its webhooks are doing."""

    account = models.OneToOneField("social.SocialAccount", on_delete=models.CASCADE, related_name="inbox_sync_state")
    comments_since = models.DateTimeField(null=True, blank=True)
    messages_since = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_webhook_at = models.DateTimeField(null=True, blank=True)
    missed_by_webhooks = models.PositiveIntegerField(default=0, help_text="Items only a poll found (total).")

    def __str__(self) -> str:
        return f"inbox sync of account {self.account_id}"
