"""unipulse.broker.BackgroundSender: messages leave the request thread and reach Redis in pipelined batches."""

from __future__ import annotations

import logging
import os
import time

import dramatiq
import pytest

from tests.conftest import own_redis_broker
from unipulse import broker as brokers
from unipulse.broker import BackgroundSender

needs_redis = pytest.mark.skipif(not os.environ.get("REDIS_URL"),
                                 reason="the Redis-broker path runs where REDIS_URL is set (CI)")


@pytest.fixture
def redis_broker():
    from conversations.actors import webhook_process

    previous = dramatiq.get_broker()
    with own_redis_broker() as (broker, namespace):
        broker.declare_actor(webhook_process)
        dramatiq.set_broker(broker)
        try:
            yield broker, namespace, webhook_process
        finally:
            dramatiq.set_broker(previous)
            webhook_process.broker = previous


@pytest.fixture
def batches(monkeypatch) -> list[int]:
    """The size of each batch the sender hands to enqueue_many, in order."""
    sizes: list[int] = []
    real = brokers.enqueue_many
    monkeypatch.setattr(brokers, "enqueue_many", lambda messages: sizes.append(len(messages)) or real(messages))
    return sizes


@pytest.mark.redis
@needs_redis
@pytest.mark.django_db
def test_messages_sent_from_request_threads_reach_redis_in_batches(redis_broker, batches):
    broker, namespace, actor = redis_broker
    sender = BackgroundSender("test", max_batch=25)
    for n in range(60):
        sender.send(actor.message(n))
    deadline = time.monotonic() + 10
    while broker.client.hlen(f"{namespace}:webhook-process.msgs") < 60 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert broker.client.hlen(f"{namespace}:webhook-process.msgs") == 60
    assert sum(batches) == 60 and max(batches) <= 25
    assert sender._thread is not None and sender._thread.name == "sender-test"


@pytest.mark.redis
@needs_redis
@pytest.mark.django_db
def test_messages_arriving_while_the_sender_lingers_go_in_the_same_pipeline(redis_broker, batches):
    broker, namespace, actor = redis_broker
    sender = BackgroundSender("linger", linger=0.5)
    sender.send(actor.message(1))
    time.sleep(0.05)  # the thread has the first message and waits for company
    sender.send(actor.message(2))
    sender.send(actor.message(3))
    deadline = time.monotonic() + 10
    while not batches and time.monotonic() < deadline:
        time.sleep(0.02)
    assert batches == [3]
    assert broker.client.hlen(f"{namespace}:webhook-process.msgs") == 3


@pytest.mark.redis
@needs_redis
@pytest.mark.django_db
def test_a_broker_failure_is_logged_once_per_batch_and_never_raised(redis_broker, monkeypatch, caplog):
    broker, namespace, actor = redis_broker

    def refuse(messages):
        raise brokers.EnqueueError(0, ConnectionError("redis down"))

    monkeypatch.setattr(brokers, "enqueue_many", refuse)
    sender = BackgroundSender("webhook intake")
    sender._ensure_thread = lambda: None  # no thread: flush below sends in this thread, deterministically
    with caplog.at_level(logging.WARNING, logger="unipulse.broker"):
        for n in range(3):
            sender.send(actor.message(n))
        sender.flush()
    assert [r.getMessage() for r in caplog.records] == [
        "webhook intake: 3 message(s) not enqueued (EnqueueError); their rows stay for the resend command"]


@pytest.mark.redis
@needs_redis
def test_a_forked_process_starts_its_own_sender_thread(redis_broker):
    _, _, actor = redis_broker
    sender = BackgroundSender("fork")
    sender._ensure_thread()
    first = sender._thread
    sender._pid = -1  # as in a child after fork: the parent's thread does not exist there
    sender._ensure_thread()
    assert sender._thread is not first and sender._thread.is_alive() and sender._pid == os.getpid()


def test_on_the_stub_or_embedded_broker_the_message_is_enqueued_at_once(broker):
    from conversations.actors import webhook_process

    sender = BackgroundSender("direct")
    sender.send(webhook_process.message(7))
    assert sender._thread is None  # no thread: enqueued in the caller's thread
    queue = broker.queues["webhook-process"]
    assert queue.qsize() == 1 and dramatiq.Message.decode(queue.get_nowait()).args == (7,)
