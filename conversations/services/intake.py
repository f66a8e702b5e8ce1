"""Store a verified webhook delivery once, and hand it to the queue after the commit."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.db import transaction
from django.http.request import HttpHeaders
from django.utils import timezone

from unipulse.broker import BackgroundSender
from unipulse.db import GroupedInsert
from unipulse.text import clean_text

from ..models import WebhookEvent, WebhookReplayKey

logger = logging.getLogger(__name__)

# Concurrent deliveries of one process share one INSERT (group commit): see unipulse.db.GroupedInsert.
_events = GroupedInsert(WebhookEvent, ("platform", "topic", "body", "headers", "dedupe_key", "received_at", "attempts",
                                       "is_sandbox", "status", "error", "processed_at"),
                        conflict="dedupe_key", returning="id")

KEPT_HEADERS = ("Content-Type", "User-Agent", "X-Hub-Signature-256", "TikTok-Signature", "X-Forwarded-For")
_KEPT_META = tuple((name, HttpHeaders.to_wsgi_name(name)) for name in KEPT_HEADERS)


def kept_headers(meta) -> dict[str, str]:
    """The KEPT_HEADERS a request carries, read from its WSGI environ (request.META)."""
    return {name: meta[key] for name, key in _KEPT_META if key in meta}


def store_webhook_event(platform: str, raw_body: bytes, headers, topic: str = "", ignored_reason: str = "") -> int:
    """Insert the delivery unless the same body was stored before; enqueue it after commit. Returns its id.

    With `ignored_reason` (a signed body no router can take: not UTF-8, nested too deep) the row is
    stored `ignored` with that reason and never enqueued. Text is stored cleaned of NUL and lone
    surrogates (PostgreSQL takes neither); the dedupe key is still the sha256 of the raw bytes.

    Meta and TikTok repeat deliveries; the sha256 of the raw body makes a repeat one row. A batch holds
    many entries, so per-entry de-duplication happens later, at upsert by external id.
    One statement for a new delivery (INSERT ... ON CONFLICT DO NOTHING RETURNING id), autocommitted.
    """
    dedupe_key = hashlib.sha256(raw_body).hexdigest()
    # One statement for a new delivery, autocommitted: INSERT ... ON CONFLICT DO NOTHING RETURNING id.
    now = timezone.now()
    event_id = _events.insert({
        "platform": platform, "topic": clean_text(topic)[:64],
        "body": clean_text(raw_body.decode("utf-8", errors="replace")),
        "headers": {name: clean_text(headers[name]) for name in KEPT_HEADERS if name in headers},
        "dedupe_key": dedupe_key, "received_at": now, "attempts": 0, "is_sandbox": is_from_sandbox(platform),
        **({"status": WebhookEvent.Status.IGNORED, "error": ignored_reason[:500], "processed_at": now}
           if ignored_reason else {"status": WebhookEvent.Status.RECEIVED, "error": "", "processed_at": None}),
    })
    if ignored_reason:
        logger.warning("%s webhook delivery %s stored as ignored: %s", platform, event_id or "(repeat)", ignored_reason)
        return event_id or WebhookEvent.objects.filter(dedupe_key=dedupe_key).values_list("id", flat=True).get()
    if event_id is None:  # a repeat: enqueue again only if the first copy is still waiting
        event_id, status = WebhookEvent.objects.filter(dedupe_key=dedupe_key).values_list("id", "status").get()
        if status != WebhookEvent.Status.RECEIVED:
            return event_id
    transaction.on_commit(lambda: enqueue_webhook_event(event_id))
    return event_id


def is_from_sandbox(platform: str) -> bool:
    """A delivery received while the built-in sandbox stands in for that platform came from the sandbox.

    Set at intake rather than derived from the body: the body names only platform ids, so telling
    would take an account lookup per row on every admin page. With the sandbox on, the app secret that
    signs deliveries is the sandbox's and the real platform does not know this server.
    """
    url = settings.TIKTOK_API_URL if platform == WebhookEvent.Source.TIKTOK else settings.META_GRAPH_URL
    base = getattr(settings, "SANDBOX_URL", "")  # read from the settings: no product module imports the sandbox
    return bool(settings.SOCIAL_SANDBOX and base and url.startswith(base))


_sender = BackgroundSender("webhook intake")


@cache
def _webhook_process():
    from ..actors import webhook_process  # not at import time: the actors module imports this one

    return webhook_process


def enqueue_webhook_event(event_id: int) -> bool:
    """Send to `webhook-process`. A broker outage is logged, not raised: the row stays `received`
    and `manage.py process_webhooks` sends it later. No task-history "enqueued" row: this event's own
    `received` row says the same, and skipping it halves the intake's database round trips.

    On Redis the message goes through a per-process sender thread (unipulse.broker.BackgroundSender),
    pipelined with the others arriving meanwhile: the request thread never waits for Redis."""
    try:
        _sender.send(_webhook_process().message(event_id))
    except Exception as error:  # any broker failure (Redis down, timeout): the stored row is the safety net
        logger.warning("webhook event %s stored but not enqueued (%s); process_webhooks will resend it",
                       event_id, type(error).__name__)
        return False
    return True


@dataclass(frozen=True)
class WaitingEvents:
    received: list[int]  # never routed (e.g. stored while the broker was down)
    failed: list[int]    # routing failed and attempts remain (WEBHOOK_MAX_ATTEMPTS)

    @property
    def ids(self) -> list[int]:
        return sorted([*self.received, *self.failed])


def get_waiting_webhook_events(older_than: timedelta | None = None) -> WaitingEvents:
    """Stored events `process_webhooks` sends again: still `received`, or `failed` with attempts left.

    A failed event counts the worker's own retries in `attempts`; once it has had WEBHOOK_MAX_ATTEMPTS
    it stays failed, for the admin's "Process again". Only events older than WEBHOOK_RESEND_AFTER_SECONDS:
    a fresh one may still be on its way through the queue.
    """
    older_than = older_than if older_than is not None else timedelta(seconds=settings.WEBHOOK_RESEND_AFTER_SECONDS)
    stale = WebhookEvent.objects.filter(received_at__lte=timezone.now() - older_than).order_by("id")
    return WaitingEvents(
        received=list(stale.filter(status=WebhookEvent.Status.RECEIVED).values_list("id", flat=True)),
        failed=list(stale.filter(status=WebhookEvent.Status.FAILED, attempts__lt=settings.WEBHOOK_MAX_ATTEMPTS)
                    .values_list("id", flat=True)),
    )


def reprocess_webhook_events(event_ids: list[int]) -> int:
    """Admin "process again": back to received, then enqueue. Returns how many were sent."""
    WebhookEvent.objects.filter(pk__in=event_ids).update(status=WebhookEvent.Status.RECEIVED, error="")
    return sum(enqueue_webhook_event(event_id) for event_id in event_ids)


def prune_webhook_events(older_than_days: int, batch: int = 1000, progress=None) -> int:
    """Delete processed and ignored events older than this many days, keeping each one's dedupe key
    (WebhookReplayKey) so a replay of it is never routed again. Received and failed events stay.
    Returns how many were deleted. Short batches: intake keeps inserting meanwhile."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    old = WebhookEvent.objects.filter(status__in=[WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED],
                                      received_at__lte=cutoff).order_by("id")
    deleted = 0
    while rows := list(old.values_list("id", "dedupe_key", "received_at")[:batch]):
        with transaction.atomic():
            WebhookReplayKey.objects.bulk_create(
                [WebhookReplayKey(dedupe_key=key, received_at=received) for _, key, received in rows],
                ignore_conflicts=True)
            deleted += WebhookEvent.objects.filter(pk__in=[row[0] for row in rows]).delete()[0]
        if progress is not None:
            progress(deleted)
    return deleted


def count_prunable_webhook_events(older_than_days: int) -> int:
    cutoff = timezone.now() - timedelta(days=older_than_days)
    return WebhookEvent.objects.filter(status__in=[WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED],
                                       received_at__lte=cutoff).count()
