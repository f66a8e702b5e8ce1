"""Actors: declared on the right queues with deliberate retry limits; run on the embedded broker;
enqueue on the real Redis broker."""

import os
import uuid

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from unipulse.broker import import_actors
from unipulse.jobs import QUEUE_POLICY

EXPECTED = {
    "publish": "publish",
    "analytics_sync": "analytics-sync",
    "ice_process": "ice-process",
    "webhook_process": "webhook-process",
    "token_refresh": "token-refresh",
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
    namespace = f"unipulse-test-{uuid.uuid4().hex[:8]}"
    broker = RedisBroker(url=os.environ["REDIS_URL"], namespace=namespace)
    try:
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
    finally:
        for key in broker.client.scan_iter(match=f"{namespace}*"):
            broker.client.delete(key)
        broker.close()
