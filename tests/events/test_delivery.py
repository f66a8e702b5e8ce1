"""One attempt against a real receiver on 127.0.0.1: what goes on the wire, what is recorded, what comes next."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from events import delivery as deliveries
from events.models import Delivery, DeliveryAttempt, DeliveryStatus, WebhookEndpoint
from events.services import record, roll_secret

pytestmark = pytest.mark.django_db


def verify(header: str, body: bytes, secret: str, tolerance: int = 300) -> bool:
    """What a receiver does (the README's few lines)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if item.startswith("t="))
    signatures = [item.split("=", 1)[1] for item in header.split(",") if item.startswith("v1=")]
    timestamp = int(parts["t"])
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return abs(time.time() - timestamp) <= tolerance and any(hmac.compare_digest(expected, s) for s in signatures)


@pytest.fixture
def one_delivery(workspace, endpoint_factory, receiver):
    endpoint = endpoint_factory(url=receiver.url)
    event = record(workspace.pk, "target.published", {"object": {"id": 42, "status": "published"}})
    return Delivery.objects.get(event=event, endpoint=endpoint)


def test_a_2xx_is_delivered_signed_with_the_ids_in_headers(one_delivery, receiver):
    done = deliveries.attempt(one_delivery.pk)

    assert done.status == DeliveryStatus.DELIVERED and done.attempts == 1 and done.delivered_at is not None
    [request] = receiver.requests
    assert request["path"] == "/hooks"
    body = request["body"]
    assert json.loads(body) == one_delivery.event.envelope()
    headers = request["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["UniPulse-Delivery"] == str(one_delivery.uid)
    assert headers["UniPulse-Event"] == "target.published"
    assert headers["UniPulse-Event-Id"] == one_delivery.event.public_id
    assert verify(headers["UniPulse-Signature"], body, "whsec_first")
    assert not verify(headers["UniPulse-Signature"], body, "whsec_other")
    assert not verify(headers["UniPulse-Signature"], body + b" ", "whsec_first")
    [logged] = DeliveryAttempt.objects.filter(delivery=one_delivery)
    assert (logged.number, logged.status_code, logged.response_excerpt, logged.error) == (1, 200, "ok", "")


def test_a_second_message_for_a_delivered_delivery_sends_nothing(one_delivery, receiver):
    deliveries.attempt(one_delivery.pk)
    assert deliveries.attempt(one_delivery.pk) is None
    assert len(receiver.requests) == 1


def test_a_500_is_retried_later_with_backoff_and_the_answer_kept_truncated(one_delivery, receiver):
    receiver.status, receiver.body = 500, b"x" * 5000
    before = timezone.now()
    done = deliveries.attempt(one_delivery.pk)

    assert done.status == DeliveryStatus.PENDING and done.attempts == 1 and done.last_status_code == 500
    assert done.last_error == "answered HTTP 500"
    assert before + timedelta(seconds=22) <= done.next_attempt_at <= timezone.now() + timedelta(seconds=38)
    logged = DeliveryAttempt.objects.get(delivery=one_delivery)
    assert logged.response_excerpt == "x" * deliveries.EXCERPT_BYTES
    assert deliveries.attempt(one_delivery.pk) is None  # not due yet: a duplicate message does nothing


def test_the_backoff_doubles_from_30_seconds_to_4_hours_with_jitter():
    import random

    low, high = random.Random(1), random.Random(1)
    low.uniform = lambda a, b: a
    high.uniform = lambda a, b: b
    assert [deliveries.retry_delay(n, low) for n in (1, 2, 3, 4)] == [22.5, 45.0, 90.0, 180.0]
    assert deliveries.retry_delay(20, high) == 4 * 3600 * 1.25
    total, n = 0.0, 0
    middle = random.Random(1)
    middle.uniform = lambda a, b: (a + b) / 2
    while total < 24 * 3600:
        n += 1
        total += deliveries.retry_delay(n, middle)
    assert 12 <= n <= 16  # about a dozen attempts over the 24 hours


def test_a_redirect_is_not_followed(one_delivery, receiver):
    receiver.status, receiver.headers = 302, {"Location": "http://169.254.169.254/latest/meta-data/"}
    done = deliveries.attempt(one_delivery.pk)
    assert done.status == DeliveryStatus.PENDING and done.last_status_code == 302
    assert len(receiver.requests) == 1


def test_a_receiver_slower_than_the_timeout_is_a_failed_attempt(one_delivery, receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.delay = 1.0
    done = deliveries.attempt(one_delivery.pk)
    assert done.status == DeliveryStatus.PENDING and done.last_status_code is None
    assert "ReadTimeoutError" in done.last_error
    logged = DeliveryAttempt.objects.get(delivery=one_delivery)
    assert 250 <= logged.duration_ms < 1000


def test_a_refused_connection_is_a_failed_attempt(workspace, endpoint_factory, local_hooks):
    from tests.servers import free_port

    endpoint = endpoint_factory(url=f"http://127.0.0.1:{free_port()}/nobody")
    record(workspace.pk, "analytics.synced", {"object": {}})
    done = deliveries.attempt(Delivery.objects.get(endpoint=endpoint).pk)
    assert done.status == DeliveryStatus.PENDING and "NewConnectionError" in done.last_error


def test_after_the_retry_window_the_delivery_fails_for_good(one_delivery, receiver, settings):
    receiver.status = 503
    event = one_delivery.event
    event.occurred_at = timezone.now() - timedelta(hours=settings.WEBHOOK_RETRY_HOURS) + timedelta(seconds=10)
    event.save()
    done = deliveries.attempt(one_delivery.pk)
    assert done.status == DeliveryStatus.FAILED and done.attempts == 1


def test_a_name_that_now_resolves_to_a_private_address_is_not_connected_to(workspace, endpoint_factory, receiver,
                                                                          monkeypatch, settings):
    """DNS rebinding: public when saved, loopback at delivery. The check runs again and nothing is sent."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])
    monkeypatch.setattr("events.urlsafety.resolve", lambda host, port: next(answers))
    port = receiver.server.server_address[1]
    from events.serializers import EndpointSerializer

    saved = EndpointSerializer(data={"url": f"http://rebind.example:{port}/hooks", "event_types": ["*"]})
    assert saved.is_valid(), saved.errors
    endpoint = WebhookEndpoint.objects.create(workspace=workspace, secret="whsec_x", **saved.validated_data)
    record(workspace.pk, "analytics.synced", {"object": {}})

    done = deliveries.attempt(Delivery.objects.get(endpoint=endpoint).pk)

    assert receiver.requests == []
    assert done.status == DeliveryStatus.PENDING
    assert done.last_error == ("refused: the URL resolves to a loopback address (127.0.0.1); webhooks go to public "
                               "addresses only")


def test_the_connection_goes_to_the_checked_address_with_the_name_in_the_host_header(
        workspace, endpoint_factory, receiver, monkeypatch):
    monkeypatch.setattr("events.urlsafety.resolve", lambda host, port: ["127.0.0.1"])
    port = receiver.server.server_address[1]
    endpoint = endpoint_factory(url=f"http://receiver.example:{port}/in?team=7")
    record(workspace.pk, "analytics.synced", {"object": {}})
    deliveries.attempt(Delivery.objects.get(endpoint=endpoint).pk)
    [request] = receiver.requests
    assert request["path"] == "/in?team=7"
    assert request["headers"]["Host"] == f"receiver.example:{port}"


def test_while_a_secret_rolls_both_sign_then_only_the_new_one(one_delivery, receiver, settings):
    endpoint = roll_secret(one_delivery.endpoint)
    new = str(endpoint.secret)
    assert new.startswith("whsec_") and new != "whsec_first"
    deliveries.attempt(one_delivery.pk)
    header, body = receiver.requests[0]["headers"]["UniPulse-Signature"], receiver.requests[0]["body"]
    assert header.count("v1=") == 2
    assert verify(header, body, new) and verify(header, body, "whsec_first")

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret_expires_at=timezone.now())
    later = record(one_delivery.event.workspace_id, "analytics.synced", {"object": {}})
    deliveries.attempt(Delivery.objects.get(event=later).pk)
    header, body = receiver.requests[1]["headers"]["UniPulse-Signature"], receiver.requests[1]["body"]
    assert header.count("v1=") == 1 and verify(header, body, new) and not verify(header, body, "whsec_first")


def test_two_workers_never_attempt_the_same_delivery_at_once(one_delivery):
    assert deliveries.claim(one_delivery.pk) is True
    assert deliveries.claim(one_delivery.pk) is False
    later = timezone.now() + timedelta(seconds=deliveries.LEASE_SECONDS + 1)
    assert deliveries.claim(one_delivery.pk, now=later) is True  # the first worker died: its lease ran out


def test_three_days_of_failures_disable_the_endpoint_and_tell_the_admins(one_delivery, receiver, settings, user,
                                                                        django_capture_on_commit_callbacks):
    receiver.status = 500
    endpoint = one_delivery.endpoint
    deliveries.attempt(one_delivery.pk)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None and endpoint.enabled

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=settings.WEBHOOK_DISABLE_AFTER_DAYS, minutes=1))
    Delivery.objects.filter(pk=one_delivery.pk).update(next_attempt_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        done = deliveries.attempt(one_delivery.pk)

    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_reason.startswith("failing since ")
    assert done.status == DeliveryStatus.FAILED  # nothing more is sent to a disabled endpoint
    [notice] = mail.outbox
    assert notice.to == [user.email] and endpoint.url in notice.subject


def test_a_2xx_ends_the_failing_streak(one_delivery, receiver):
    WebhookEndpoint.objects.filter(pk=one_delivery.endpoint_id).update(failing_since=timezone.now())
    deliveries.attempt(one_delivery.pk)
    assert WebhookEndpoint.objects.get(pk=one_delivery.endpoint_id).failing_since is None


def test_a_delivery_to_a_disabled_endpoint_fails_without_a_request(one_delivery, receiver):
    WebhookEndpoint.objects.filter(pk=one_delivery.endpoint_id).update(enabled=False, disabled_reason="by staff")
    done = deliveries.attempt(one_delivery.pk)
    assert receiver.requests == [] and done.status == DeliveryStatus.FAILED
    assert done.last_error == "not sent: the endpoint is disabled (by staff)"


def test_a_short_retry_is_a_delayed_message_and_a_long_one_waits_for_the_sweep(one_delivery, receiver, monkeypatch):
    from tests.conftest import keep_enqueued

    kept = keep_enqueued(monkeypatch, "webhook-deliver", keep=lambda message, delay: (message.args[0], delay))
    receiver.status = 500
    deliveries.attempt(one_delivery.pk)
    [(delivery_id, delay)] = kept
    assert delivery_id == one_delivery.pk and 22_000 <= delay <= 38_000

    Delivery.objects.filter(pk=one_delivery.pk).update(attempts=8, next_attempt_at=timezone.now())
    deliveries.attempt(one_delivery.pk)
    assert len(kept) == 1  # about an hour away: send_webhooks sends it when it is due


def test_deliveries_to_one_receiver_reuse_the_connection_and_a_long_answer_is_cut_off(workspace, endpoint_factory,
                                                                                    receiver):
    endpoint = endpoint_factory(url=receiver.url)
    for _ in range(3):
        record(workspace.pk, "analytics.synced", {"object": {}})
    ids = list(Delivery.objects.filter(endpoint=endpoint).values_list("pk", flat=True))
    receiver.body = b"ok"
    for pk in ids[:2]:
        deliveries.attempt(pk)
    receiver.body = b"y" * 200_000  # far more than the excerpt: not read on, the connection is closed
    assert deliveries.attempt(ids[2]).status == DeliveryStatus.DELIVERED
    ports = [r["client_port"] for r in receiver.requests]
    assert ports[0] == ports[1]  # kept alive between the first two
    assert DeliveryAttempt.objects.get(delivery_id=ids[2]).response_excerpt == "y" * deliveries.EXCERPT_BYTES
