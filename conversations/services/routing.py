"""Route one stored webhook delivery to its platform's route (conversations.platforms): Meta
feed/comments/messages into the inbox, TikTok events to publishing and accounts. Every route is safe
to run twice (upsert by external id)."""

from __future__ import annotations

import logging

from django.db import DataError, transaction
from django.utils import timezone

from unipulse.text import clean_json, loads_limited

from ..models import WebhookEvent, WebhookReplayKey
from ..platforms import WEBHOOK_ROUTES
from ..platforms.base import UnroutableError

logger = logging.getLogger(__name__)

# Webhook source -> route, from the platform modules (a name of its own, so a test can swap it).
ROUTERS = WEBHOOK_ROUTES


def process_webhook_event(event_id: int) -> None:
    """Route a stored delivery once; a processed or ignored event is left alone. Raises to let the actor retry.

    Single flight: the event's row is locked for the whole run, and a run that finds it locked leaves
    it to the worker holding it. One delivery can be on the queue twice (Meta repeats a delivery while
    the first copy still waits, or `process_webhooks` re-sends a row whose message was only late);
    without the lock two workers routed it at once. The routing and the `processed` status commit
    together, so a worker killed in between leaves the event `received`, never half-done.

    Only a temporary failure (database, Redis, a platform's 5xx) ends `failed` and is retried; a
    payload that fails for what it is (an odd shape, too deep, a value no column takes) would fail the
    same way every time, so it is stored `ignored` with the reason at once.
    """
    failure: Exception | None = None
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update(skip_locked=True).filter(pk=event_id).first()
        if event is None or event.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED):
            return  # gone, done, or being routed right now by another worker
        attempts = event.attempts + 1
        if WebhookReplayKey.objects.filter(dedupe_key=event.dedupe_key).exists():
            WebhookEvent.objects.filter(pk=event_id).update(
                status=WebhookEvent.Status.IGNORED, attempts=attempts, processed_at=timezone.now(),
                error="A replay of a delivery already processed (its event was pruned).")
            return
        try:
            with transaction.atomic():
                handled = ROUTERS[event.platform](_payload_of(event))
        except Exception as error:
            reason = f"{type(error).__name__}: {error}"[:500]
            if is_temporary_failure(error):
                WebhookEvent.objects.filter(pk=event_id).update(
                    status=WebhookEvent.Status.FAILED, attempts=attempts, error=reason)
                failure = error
            else:
                logger.warning("webhook event %s cannot be routed, stored as ignored (%s)", event_id,
                               type(error).__name__)
                WebhookEvent.objects.filter(pk=event_id).update(
                    status=WebhookEvent.Status.IGNORED, attempts=attempts, processed_at=timezone.now(), error=reason)
        else:
            status = WebhookEvent.Status.PROCESSED if handled else WebhookEvent.Status.IGNORED
            WebhookEvent.objects.filter(pk=event_id).update(status=status, attempts=attempts,
                                                            processed_at=timezone.now(), error="")
    if failure is not None:
        raise failure


# What a payload makes the routers raise by what it is: routing it again fails the same way.
PAYLOAD_FAILURES = (UnroutableError, TypeError, AttributeError, LookupError, ValueError, OverflowError,
                    RecursionError, DataError)


def is_temporary_failure(error: Exception) -> bool:
    """Whether routing the same payload again may succeed (the database, Redis or a platform was down,
    or anything unforeseen): everything but the failures a payload's own shape or values cause."""
    return not isinstance(error, PAYLOAD_FAILURES)


def _payload_of(event: WebhookEvent) -> dict:
    """The stored body as JSON, every string cleaned of NUL and lone surrogates (unipulse.text)."""
    try:
        payload = loads_limited(event.body)
    except ValueError as error:  # stored before these checks existed, or edited by hand
        raise UnroutableError(f"The body is not usable JSON ({error}).") from None
    if not isinstance(payload, dict):
        raise UnroutableError("The body is not a JSON object.")
    return clean_json(payload)
