"""Store a verified webhook delivery once, and hand it to the queue after the commit."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import WebhookEvent

logger = logging.getLogger(__name__)

KEPT_HEADERS = ("Content-Type", "User-Agent", "X-Hub-Signature-256", "TikTok-Signature", "X-Forwarded-For")


def store_webhook_event(platform: str, raw_body: bytes, headers, topic: str = "") -> int:
    """Insert the delivery unless the same body was stored before; enqueue it after commit. Returns its id.

    Meta and TikTok repeat deliveries; the sha256 of the raw body makes a repeat one row. A batch holds
    many entries, so per-entry de-duplication happens later, at upsert by external id.
    """
    dedupe_key = hashlib.sha256(raw_body).hexdigest()
    kept = {name: headers[name] for name in KEPT_HEADERS if name in headers}
    with transaction.atomic():
        # INSERT ... ON CONFLICT (dedupe_key) DO NOTHING
        WebhookEvent.objects.bulk_create([WebhookEvent(
            platform=platform, topic=topic[:64], body=raw_body.decode("utf-8", errors="replace"),
            headers=kept, dedupe_key=dedupe_key,
        )], ignore_conflicts=True)
        event_id, status = WebhookEvent.objects.filter(dedupe_key=dedupe_key).values_list("id", "status").get()
        if status == WebhookEvent.Status.RECEIVED:
            transaction.on_commit(lambda: enqueue_webhook_event(event_id))
    return event_id


def enqueue_webhook_event(event_id: int) -> bool:
    """Send to `webhook-process`. A broker outage is logged, not raised: the row stays `received`
    and `manage.py process_webhooks` sends it later."""
    from ..actors import webhook_process

    try:
        webhook_process.send(event_id)
    except Exception as error:  # any broker failure (Redis down, timeout): the stored row is the safety net
        logger.warning("webhook event %s stored but not enqueued (%s); process_webhooks will resend it",
                       event_id, type(error).__name__)
        return False
    return True


def get_stale_received_event_ids(older_than: timedelta | None = None) -> list[int]:
    older_than = older_than if older_than is not None else timedelta(seconds=settings.WEBHOOK_RESEND_AFTER_SECONDS)
    cutoff = timezone.now() - older_than
    return list(WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED, received_at__lte=cutoff)
                .order_by("id").values_list("id", flat=True))


def reprocess_webhook_events(event_ids: list[int]) -> int:
    """Admin "process again": back to received, then enqueue. Returns how many were sent."""
    WebhookEvent.objects.filter(pk__in=event_ids).update(status=WebhookEvent.Status.RECEIVED, error="")
    return sum(enqueue_webhook_event(event_id) for event_id in event_ids)
