"""One delivery attempt: sign, POST to the checked address, record what happened, plan the next try.

A worker claims a delivery with a lease (one UPDATE), makes the request outside any transaction, and
records the attempt; a worker that dies mid-attempt leaves a lease that runs out, and the sweep
(`send_webhooks`) sends the delivery again. A 2xx is delivered; anything else is retried with
exponential backoff and jitter until WEBHOOK_RETRY_HOURS after the event, then `failed`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

import certifi
import urllib3
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import urlsafety
from .models import Delivery, DeliveryAttempt, DeliveryStatus, WebhookEndpoint

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "UniPulse-Signature"
EXCERPT_BYTES = 1024
FIRST_RETRY_SECONDS = 30
LONGEST_WAIT_SECONDS = 4 * 3600
LEASE_SECONDS = 60  # longer than a request can take (connect + read timeouts)
USER_AGENT = "UniPulse-Webhooks/1"


def sign(body: bytes, secrets: list[str], timestamp: int) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">` with one v1 per valid secret (two while rolling)."""
    signed = f"{timestamp}.".encode() + body
    return ",".join([f"t={timestamp}"] + [
        f"v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}" for secret in secrets])


def body_of(delivery: Delivery) -> bytes:
    return json.dumps(delivery.event.envelope(), separators=(",", ":"), ensure_ascii=False).encode()


def retry_delay(attempts: int, rng: random.Random = random) -> float:  # type: ignore[assignment]
    """Seconds before attempt `attempts + 1`: 30 s doubling to 4 h, each ×0.75–1.25 so receivers coming back
    are not hit by every delivery at once."""
    base = min(LONGEST_WAIT_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1))
    return base * rng.uniform(0.75, 1.25)


@dataclass
class Outcome:
    status_code: int | None
    error: str
    excerpt: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST to the address the URL's check chose; no redirects followed, 5 s to connect and to read."""
    started = time.monotonic()

    def done(status_code=None, error="", excerpt="") -> Outcome:
        return Outcome(status_code, error[:300], excerpt, int((time.monotonic() - started) * 1000))

    try:
        target = urlsafety.check(url)
    except urlsafety.UnsafeURL as error:
        return done(error=f"refused: the URL {error}")
    pool = _pool(target)
    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    try:
        response = pool.urlopen("POST", target.path, body=body, headers={**headers, "Host": host_header},
                                redirect=False, retries=False, preload_content=False)
        try:
            excerpt = response.read(EXCERPT_BYTES, decode_content=False) or b""
        finally:
            if response.length_remaining == 0:  # read whole: the connection can carry the next delivery
                response.release_conn()
            else:  # more than the excerpt, or no length: never read on from a receiver, hang up
                response.close()
        text = excerpt.decode("utf-8", errors="replace").replace("\x00", "")
        return done(status_code=response.status, excerpt=text)
    except urllib3.exceptions.HTTPError as error:
        _pools.cache = {}  # a broken connection is not reused
        return done(error=f"{type(error).__name__}: {_plain(error)}")


_pools = threading.local()
POOLS_PER_THREAD = 32


def _pool(target: urlsafety.Target) -> urllib3.HTTPConnectionPool:
    """A kept-alive connection pool per worker thread and (checked address, port, host name): a receiver
    getting many deliveries is not dialled again for each, and an address that changed gets a new pool."""
    cache = getattr(_pools, "cache", None)
    if cache is None:
        cache = _pools.cache = {}
    key = (target.scheme, target.address, target.port, target.host, settings.WEBHOOK_TIMEOUT_SECONDS,
           settings.WEBHOOK_CA_BUNDLE)
    pool = cache.get(key)
    if pool is not None:
        return pool
    if len(cache) >= POOLS_PER_THREAD:
        cache.pop(next(iter(cache))).close()
    timeout = urllib3.Timeout(connect=settings.WEBHOOK_TIMEOUT_SECONDS, read=settings.WEBHOOK_TIMEOUT_SECONDS)
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address, target.port, timeout=timeout, retries=False, maxsize=1, block=False,
            server_hostname=target.host, assert_hostname=target.host, cert_reqs="CERT_REQUIRED",
            ca_certs=settings.WEBHOOK_CA_BUNDLE or certifi.where())
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout, retries=False, maxsize=1,
                                          block=False)
    cache[key] = pool
    return pool


def _plain(error: Exception) -> str:
    text = str(error)
    return text.split(": ", 1)[-1] if "Pool" in text else text


def claim(delivery_id: int, now=None) -> bool:
    """Take the delivery for one attempt (False: delivered, failed, not due, or another worker has it)."""
    now = now or timezone.now()
    due = Delivery.objects.filter(pk=delivery_id, next_attempt_at__lte=now)
    claimed = due.filter(status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SENDING, lease_until=now + timedelta(seconds=LEASE_SECONDS))
    if not claimed:  # a worker that died mid-attempt
        claimed = due.filter(status=DeliveryStatus.SENDING, lease_until__lt=now).update(
            lease_until=now + timedelta(seconds=LEASE_SECONDS))
    return bool(claimed)


def attempt(delivery_id: int) -> Delivery | None:
    """One attempt, if the delivery is due and not taken. Returns the delivery as recorded (None if skipped)."""
    if not claim(delivery_id):
        return None
    delivery = Delivery.objects.select_related("endpoint", "event").get(pk=delivery_id)
    endpoint = delivery.endpoint
    started_at = timezone.now()
    if not endpoint.enabled:
        outcome = Outcome(None, f"not sent: the endpoint is disabled{_reason(endpoint)}", "", 0)
    else:
        body = body_of(delivery)
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   "UniPulse-Delivery": str(delivery.uid), "UniPulse-Event": delivery.event.type,
                   "UniPulse-Event-Id": delivery.event.public_id,
                   SIGNATURE_HEADER: sign(body, endpoint.signing_secrets(), int(time.time()))}
        outcome = post(endpoint.url, body, headers)
    return _record(delivery, outcome, started_at)


def _reason(endpoint: WebhookEndpoint) -> str:
    return f" ({endpoint.disabled_reason})" if endpoint.disabled_reason else ""


def _record(delivery: Delivery, outcome: Outcome, started_at) -> Delivery:
    now = timezone.now()
    number = delivery.attempts + 1
    give_up_at = delivery.event.occurred_at + timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
    delay = retry_delay(number)
    with transaction.atomic():
        DeliveryAttempt.objects.create(delivery=delivery, number=number, started_at=started_at,
                                       duration_ms=outcome.duration_ms, status_code=outcome.status_code,
                                       error=outcome.error, response_excerpt=outcome.excerpt)
        delivery.attempts = number
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error or ("" if outcome.ok else f"answered HTTP {outcome.status_code}")
        delivery.lease_until = None
        enabled = delivery.endpoint.enabled and _note_endpoint_health(delivery.endpoint, outcome.ok, now)
        if outcome.ok:
            delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
        elif not enabled or now + timedelta(seconds=delay) > give_up_at:
            delivery.status = DeliveryStatus.FAILED
        else:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.PENDING, now + timedelta(seconds=delay)
        delivery.save(update_fields=["attempts", "last_status_code", "last_error", "lease_until", "status",
                                     "delivered_at", "next_attempt_at"])
    if delivery.status == DeliveryStatus.PENDING and delay <= settings.WEBHOOK_DELAYED_MESSAGE_MAX_SECONDS:
        _send_later(delivery.pk, delay)
    return delivery


def _send_later(delivery_id: int, delay: float) -> None:
    from .actors import webhook_deliver

    try:
        webhook_deliver.send_with_options(args=(delivery_id,), delay=int(delay * 1000))
    except Exception as error:  # noqa: BLE001 - the sweep sends it when it is due
        logger.warning("webhook delivery %s retry not enqueued (%s); send_webhooks will send it",
                       delivery_id, type(error).__name__)


def _note_endpoint_health(endpoint: WebhookEndpoint, ok: bool, now) -> bool:
    """A 2xx clears the failing streak; failing for WEBHOOK_DISABLE_AFTER_DAYS in a row disables the endpoint
    and tells the workspace's admins. Returns whether the endpoint is still enabled."""
    endpoints = WebhookEndpoint.objects.filter(pk=endpoint.pk)
    if ok:
        if endpoint.failing_since is not None:
            endpoints.update(failing_since=None)
        return True
    if endpoint.failing_since is None:
        endpoints.filter(failing_since__isnull=True).update(failing_since=now)
        return True
    if endpoint.failing_since > now - timedelta(days=settings.WEBHOOK_DISABLE_AFTER_DAYS):
        return True
    reason = f"failing since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC"
    if endpoints.filter(enabled=True).update(enabled=False, disabled_reason=reason):
        from .notify import endpoint_disabled

        transaction.on_commit(lambda: endpoint_disabled(endpoint.pk))
    return False
