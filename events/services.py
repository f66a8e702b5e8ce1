"""Recording events and reading the feed. No HTTP here (that is events.delivery)."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .catalogue import EVENT_TYPES, PING
from .models import Delivery, DeliveryStatus, Event, WebhookEndpoint

logger = logging.getLogger(__name__)


def record(workspace_id: int, event_type: str, data: dict, *, occurred_at=None) -> Event:
    """Write the event and a delivery for each enabled endpoint of the workspace that wants it.

    Call it inside the transaction that makes the change: a rolled-back change takes its event with it.
    The deliveries are sent once that transaction commits (a lost message is picked up by
    `send_webhooks`, which sends every delivery whose time has come).
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}: add it to events/catalogue.py")
    event = Event.objects.create(workspace_id=workspace_id, type=event_type, data=data,
                                 occurred_at=occurred_at or timezone.now())
    endpoints = [endpoint for endpoint in WebhookEndpoint.objects.filter(workspace_id=workspace_id, enabled=True)
                 .only("id", "event_types") if endpoint.wants(event_type)]
    if endpoints:
        deliveries = Delivery.objects.bulk_create(
            [Delivery(endpoint=endpoint, event=event, next_attempt_at=event.occurred_at) for endpoint in endpoints])
        send_after_commit([delivery.pk for delivery in deliveries])
    return event


def record_ping(endpoint: WebhookEndpoint) -> Delivery:
    """A test event for one endpoint only (not fanned out, not in the feed)."""
    with transaction.atomic():
        event = Event.objects.create(workspace_id=endpoint.workspace_id, type=PING,
                                     data={"object": {"endpoint": endpoint.pk, "url": endpoint.url}})
        delivery = Delivery.objects.create(endpoint=endpoint, event=event)
        send_after_commit([delivery.pk])
    return delivery


def send_after_commit(delivery_ids: list[int]) -> None:
    def send() -> None:
        from unipulse.broker import enqueue_many

        from .actors import webhook_deliver

        try:
            enqueue_many([webhook_deliver.message(pk) for pk in delivery_ids])
        except Exception as error:  # noqa: BLE001 - the sweep sends them; the change is committed already
            logger.warning("webhook deliveries %s not enqueued (%s); send_webhooks will send them",
                           delivery_ids, type(error).__name__)

    transaction.on_commit(send)


def redeliver(delivery: Delivery) -> Delivery:
    """Send a delivery again now, whatever its state (a person asked for it)."""
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(),
                                                   lease_until=None)
    send_after_commit([delivery.pk])
    delivery.refresh_from_db()
    return delivery


def due_delivery_ids(now=None, limit: int = 10_000) -> list[int]:
    """Deliveries whose attempt is due (a lost message, a retry later than a delayed message may wait) and
    `sending` ones whose worker's lease ran out (it died mid-attempt)."""
    now = now or timezone.now()
    due = (Q(status=DeliveryStatus.PENDING) | Q(status=DeliveryStatus.SENDING, lease_until__lt=now))
    return list(Delivery.objects.filter(due, next_attempt_at__lte=now).order_by("next_attempt_at")
                .values_list("pk", flat=True)[:limit])


def feed(workspace_id: int, after: int = 0, types: list[str] | None = None, limit: int = 100) -> tuple[list[Event], bool]:
    """The workspace's events after the cursor, oldest first: (events, whether more follow). One query."""
    events = Event.objects.filter(workspace_id=workspace_id, seq__gt=after).exclude(type=PING)
    if types:
        events = events.filter(type__in=types)
    rows = list(events.order_by("seq")[: limit + 1])
    return rows[:limit], len(rows) > limit


def prune(now=None) -> int:
    """Delete events older than EVENT_RETENTION_DAYS (their deliveries go with them; none can still be
    retrying: the retention is longer than WEBHOOK_RETRY_HOURS, the settings check it)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.EVENT_RETENTION_DAYS)
    deleted, by_model = Event.objects.filter(occurred_at__lt=cutoff).delete()
    return by_model.get(Event._meta.label, 0)


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def create_endpoint(workspace, user, **fields) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(workspace=workspace, created_by=user, secret=new_secret(), **fields)


def roll_secret(endpoint: WebhookEndpoint, now=None) -> WebhookEndpoint:
    """A new secret; the old one keeps signing (a second v1) for WEBHOOK_SECRET_GRACE_HOURS."""
    now = now or timezone.now()
    endpoint.previous_secret = str(endpoint.secret)
    endpoint.previous_secret_expires_at = now + timedelta(hours=settings.WEBHOOK_SECRET_GRACE_HOURS)
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return endpoint


def update_endpoint(endpoint: WebhookEndpoint, **fields) -> WebhookEndpoint:
    if fields.get("enabled") and not endpoint.enabled:  # enabled again by a person: a fresh start
        fields.update(disabled_reason="", failing_since=None)
    for name, value in fields.items():
        setattr(endpoint, name, value)
    endpoint.save()
    return endpoint
