"""Actors: declared on the right queues with deliberate retry limits; run on the embedded broker;
enqueue on the real Redis broker."""

import json
import os
import subprocess
import sys
from pathlib import Path

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from tests.conftest import own_redis_broker
from unipulse import broker as embedded
from unipulse.broker import import_actors
from unipulse.jobs import QUEUE_POLICY

EXPECTED = {
    "publish": "publish",
    "analytics_sync": "analytics-sync",
    "ice_process": "ice-process",
    "webhook_process": "webhook-process",
    "token_refresh": "token-refresh",
    "webhook_deliver": "webhook-deliver",
}


def declared_actors():
    import_actors()
    broker = dramatiq.get_broker()
    return {name: broker.get_actor(name) for name in broker.get_declared_actors()}


def test_every_actor_is_on_its_spec_queue_with_bounded_retries():
    actors = declared_actors()
    assert set(EXPECTED) <= set(actors)
    for name, queue in EXPECTED.items():
        actor = actors[name]
        assert actor.queue_name == queue
        assert name == queue.replace("-", "_")  # the function is named after its queue
        assert actor.options["max_retries"] == QUEUE_POLICY[queue]["max_retries"] <= 10
        assert actor.options["time_limit"] == QUEUE_POLICY[queue]["time_limit"]
    assert {a.queue_name for a in actors.values()} <= set(EXPECTED.values())


def test_actors_run_on_the_embedded_broker(monkeypatch):
    """A message sent on the in-process broker is consumed by worker threads in this process."""
    import dramatiq.middleware

    broker = StubBroker(middleware=[dramatiq.middleware.Retries(max_retries=0)])
    ran = []

    @dramatiq.actor(broker=broker, queue_name="token-refresh", actor_name="probe_token_refresh", max_retries=0)
    def probe(account_id: int) -> None:
        ran.append(account_id)

    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()
    try:
        probe.send(42)
        broker.join("token-refresh", timeout=10_000)
        worker.join()
    finally:
        worker.stop()
    assert ran == [42]


def test_send_from_the_app_uses_the_configured_broker_queue():
    from tokens.actors import token_refresh

    broker = dramatiq.get_broker()
    broker.flush_all()
    token_refresh.send(7)
    queue = broker.queues["token-refresh"]
    assert queue.qsize() == 1
    message = queue.get_nowait()
    assert b'"args":[7]' in message
    broker.flush_all()


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the Redis-broker path runs where REDIS_URL is set (CI)")
def test_actors_enqueue_on_the_right_queue_names_on_the_real_redis_broker():
    with own_redis_broker() as (broker, namespace):
        for name, queue in EXPECTED.items():
            actor = declared_actors()[name]
            broker.declare_actor(actor)
            broker.enqueue(actor.message(123))
        for name, queue in EXPECTED.items():
            assert broker.client.hlen(f"{namespace}:{queue}.msgs") == 1, queue
            consumer = broker.consume(queue, prefetch=1, timeout=1000)
            message = next(iter(consumer))
            assert message.actor_name == name
            assert message.args == (123,)
            consumer.ack(message)
            consumer.close()


# ---- the embedded path with the app's own actors ---------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
PAGE_ID = "104523678912345"  # the Page of tests/fixtures/facebook/webhook_feed_comment_add.json
COMMENT_ID = "822334455667788_1234567890123456"


def reset_stub_broker() -> None:
    """Empty every queue, including what earlier tests' workers held when they stopped (it counts as
    unfinished, and a drain would wait for it)."""
    broker = dramatiq.get_broker()
    broker.flush_all()
    for queue in broker.queues.values():
        while queue.unfinished_tasks:
            queue.task_done()


@pytest.fixture
def stored_comment_event(account_factory, settings):
    """A stored Meta feed delivery for a connected Page, as the webhook view leaves it (committed)."""
    from conversations.models import WebhookEvent

    settings.BROKER_MODE = "embedded"  # what settings.py picks without REDIS_URL (also on a Redis CI run)
    reset_stub_broker()
    page = account_factory("facebook", external_id=PAGE_ID)
    body = (ROOT / "tests/fixtures/facebook/webhook_feed_comment_add.json").read_text()
    event = WebhookEvent.objects.create(platform="meta", topic="page", body=body, dedupe_key="e" * 64)
    yield page, event
    embedded.stop_embedded_worker()
    dramatiq.get_broker().flush_all()


@pytest.mark.django_db(transaction=True)  # the worker threads read the rows through their own connections
def test_drain_embedded_runs_the_real_webhook_process_actor_to_completion(stored_comment_event):
    from conversations.actors import webhook_process
    from conversations.models import Message

    page, event = stored_comment_event
    webhook_process.send(event.pk)
    embedded.drain_embedded(timeout_ms=30_000)

    event.refresh_from_db()
    assert (event.status, event.attempts) == ("processed", 1)
    message = Message.objects.get(external_id=COMMENT_ID)
    assert (message.account_id, message.conversation.kind, message.origin) == (page.pk, "comment", "webhook")
    assert embedded._worker is None  # drained, then stopped: a command exits with nothing left running


@pytest.mark.django_db(transaction=True)
def test_a_web_process_worker_consumes_what_the_app_sends_and_drain_leaves_it_alone(stored_comment_event):
    from conversations.models import Message, WebhookEvent
    from conversations.services import enqueue_webhook_event

    _, event = stored_comment_event
    worker = embedded.start_embedded_worker()
    assert worker is not None and embedded.start_embedded_worker() is worker  # idempotent
    assert enqueue_webhook_event(event.pk) is True
    embedded.drain_embedded()  # a no-op beside running workers (the scheduler's case): returns at once
    assert embedded._worker is worker
    broker = dramatiq.get_broker()
    broker.join("webhook-process", timeout=30_000)
    worker.join()
    assert WebhookEvent.objects.get(pk=event.pk).status == "processed"
    assert Message.objects.filter(external_id=COMMENT_ID).count() == 1


def test_nothing_embedded_starts_with_the_redis_broker(settings):
    settings.BROKER_MODE = "redis"
    assert embedded.start_embedded_worker() is None
    embedded.drain_embedded()
    assert embedded._worker is None


# ---- settings with REDIS_URL: Dramatiq's RedisBroker, without a Redis to talk to ------------------

PROBE = """
import json, django
django.setup()
import dramatiq
from django.conf import settings
from unipulse.broker import import_actors
import_actors()
broker = dramatiq.get_broker()
kwargs = broker.client.connection_pool.connection_kwargs
print(json.dumps({
    "mode": settings.BROKER_MODE,
    "broker": f"{type(broker).__module__}.{type(broker).__name__}",
    "queues": sorted(broker.get_declared_queues()),
    "actors": {name: broker.get_actor(name).queue_name for name in broker.get_declared_actors()},
    "middleware": sorted(type(m).__name__ for m in broker.middleware),
    "redis": [kwargs.get("host"), kwargs.get("port"), kwargs.get("db")],
    "cache": settings.CACHES["default"]["BACKEND"],
}))
"""


def test_settings_with_redis_url_build_the_redis_broker_with_the_five_queues():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    # Port 1 on localhost: nothing listens there, so this also shows start-up never connects.
    env.update(DJANGO_SETTINGS_MODULE="unipulse.settings", DEBUG="true", SOCIAL_SANDBOX="false",
               REDIS_URL="redis://127.0.0.1:1/5")
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["mode"] == "redis"
    assert seen["broker"] == "dramatiq.brokers.redis.RedisBroker"
    assert set(EXPECTED.values()) <= set(seen["queues"])
    assert {seen["actors"][name] for name in EXPECTED} == set(EXPECTED.values())
    assert {"Retries", "TimeLimit", "AgeLimit", "Callbacks", "DbConnectionsMiddleware"} <= set(seen["middleware"])
    assert seen["redis"] == ["127.0.0.1", 1, 5]
    assert seen["cache"] == "django.core.cache.backends.redis.RedisCache"


@pytest.fixture
def embedded_broker(settings):
    settings.BROKER_MODE = "embedded"
    reset_stub_broker()
    yield dramatiq.get_broker()
    embedded.stop_embedded_worker()
    reset_stub_broker()


@pytest.mark.django_db(transaction=True)
def test_a_job_that_keeps_failing_is_reported_as_it_happens_and_the_wait_is_bounded(embedded_broker, monkeypatch):
    import io

    from django.core.management.base import CommandError

    from analytics import services
    from analytics.actors import analytics_sync
    from unipulse.platform_errors import TransientError

    def unreachable(account_id):
        raise TransientError("The platform did not answer.", platform="tiktok")

    monkeypatch.setattr(services, "sync_account", unreachable)
    analytics_sync.send_with_options(args=(7,), max_retries=50, min_backoff=200, max_backoff=400)
    stream = io.StringIO()
    with pytest.raises(CommandError) as refused:
        embedded.drain_embedded(timeout_ms=2_500, stream=stream)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "analytics_sync(7,) failed (attempt 0): TransientError: The platform did not answer."
    assert len(lines) >= 2 and all(" failed (attempt " in line for line in lines)  # each retry reported too
    assert "jobs still unfinished after 2 s (1 failing: analytics_sync(7,)" in str(refused.value)
    assert embedded._worker is None


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_last_attempt_failed_makes_the_drain_fail(embedded_broker, monkeypatch):
    import io

    from django.core.management.base import CommandError

    from analytics import services
    from analytics.actors import analytics_sync

    attempts = []

    def bug(account_id):
        attempts.append(account_id)
        if account_id == 1:
            raise ValueError("secret-looking text that is never printed")

    monkeypatch.setattr(services, "sync_account", bug)
    analytics_sync.send_with_options(args=(1,), max_retries=0)
    analytics_sync.send_with_options(args=(2,), max_retries=0)
    stream = io.StringIO()
    with pytest.raises(CommandError) as refused:
        embedded.drain_embedded(timeout_ms=20_000, stream=stream)
    assert sorted(attempts) == [1, 2]
    assert str(refused.value) == "1 job(s) failed: analytics_sync(1,): ValueError"
    assert "secret-looking" not in stream.getvalue() + str(refused.value)
