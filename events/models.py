"""Events out: the outbox (Event), the customer's receivers (WebhookEndpoint) and each delivery.

An Event row is written in the transaction that makes the change it reports (events.services.record),
together with one Delivery row per subscribed endpoint, so an event and its deliveries exist exactly
when the change was committed. Workers then POST each delivery (events.delivery) until a 2xx or
WEBHOOK_RETRY_HOURS have passed.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from social.fields import EncryptedTokenField
from unipulse.conventions import api_datetime


class Event(models.Model):
    seq = models.BigAutoField(primary_key=True, help_text="Order of the workspace's feed; the cursor.")
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, help_text="The event's public id.")
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=40)
    occurred_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(help_text="The object as the REST API shows it (never a token).")

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["workspace", "seq"], name="event_feed"),
                   models.Index(fields=["occurred_at"], name="event_age")]

    def __str__(self) -> str:
        return f"{self.type} {self.public_id}"

    @property
    def public_id(self) -> str:
        return f"evt_{self.uid.hex}"

    def envelope(self) -> dict:
        """What a receiver and the feed get."""
        return {"id": self.public_id, "type": self.type, "workspace": self.workspace_id,
                "occurred_at": api_datetime(self.occurred_at), "data": self.data}


class WebhookEndpoint(models.Model):
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    event_types = models.JSONField(default=list, help_text='Types sent here; ["*"] for all.')
    enabled = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True, default="")
    secret = EncryptedTokenField(help_text="Signing secret (encrypted; shown once, at creation or roll).")
    previous_secret = EncryptedTokenField(help_text="The secret before the last roll, still signed with until "
                                                    "previous_secret_expires_at.")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True,
                                         help_text="First failed attempt since the last 2xx; cleared by a 2xx.")
    disabled_reason = models.CharField(max_length=200, blank=True, default="")
    created_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["workspace", "id"]
        indexes = [models.Index(fields=["workspace"], condition=Q(enabled=True), name="endpoint_enabled")]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return "*" in self.event_types or event_type in self.event_types

    def signing_secrets(self, now=None) -> list[str]:
        now = now or timezone.now()
        secrets = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and self.previous_secret_expires_at > now:
            secrets.append(self.previous_secret)
        return secrets


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, help_text="The UniPulse-Delivery header.")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True, help_text="While `sending`: a worker holds it until then.")
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="uniq_delivery")]
        indexes = [
            models.Index(fields=["endpoint", "-id"], name="delivery_log"),
            models.Index(fields=["next_attempt_at"], condition=Q(status__in=["pending", "sending"]),
                         name="delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event.type} to {self.endpoint.url}"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True, default="")
    response_excerpt = models.TextField(blank=True, default="", help_text="The start of the answer, as text, never "
                                                                           "interpreted.")

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="uniq_attempt")]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error}"
