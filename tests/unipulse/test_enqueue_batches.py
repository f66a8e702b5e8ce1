"""The enqueue commands send in batches: on Redis one pipelined round trip per 1,000 messages, and on
every broker one task-history INSERT per 1,000 rows that never overwrites a status a worker wrote."""

import os
import uuid
from datetime import timedelta
from io import StringIO

import dramatiq
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_dramatiq.models import Task
from dramatiq.brokers.redis import RedisBroker

from social.models import SocialAccount
from tests.conftest import own_redis_broker, workspace_of_user
from tokens.actors import token_refresh
from unipulse import task_history
from unipulse.broker import EnqueueError, enqueue_many

pytestmark = pytest.mark.django_db(transaction=True)  # autocommit, as cron runs the commands


@pytest.fixture(autouse=True)
def _leave_messages_queued(no_drain):
    """The messages stay on the stub broker for the test to count."""


@pytest.fixture
def due_accounts(user):
    def make(n: int) -> list[int]:
        due = timezone.now() - timedelta(minutes=1)
        SocialAccount.objects.bulk_create(
            SocialAccount(workspace=workspace_of_user(user), connected_by=user, platform="tiktok", external_id=f"batch-{i}", platform_user_id=f"open-{i}",
                          access_token=f"act.batch-{i}", refresh_token=f"rft.batch-{i}", token_refresh_due_at=due)
            for i in range(n))
        return list(SocialAccount.objects.order_by("id").values_list("id", flat=True))
    return make


def test_refresh_tokens_sends_2500_messages_with_one_select_and_one_history_insert_per_thousand(
        due_accounts, broker):
    ids = due_accounts(2500)
    with CaptureQueriesContext(connection) as queries:
        call_command("refresh_tokens", stdout=StringIO(), stderr=StringIO())
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "django_dramatiq_task"')]
    assert len(inserts) == 3 and all(sql.endswith('ON CONFLICT ("id") DO NOTHING') for sql in inserts)
    assert len(queries.captured_queries) == 4  # the due-accounts SELECT and the three INSERTs
    queued = [dramatiq.Message.decode(raw) for raw in broker.queues["token-refresh"].queue]
    assert [m.args for m in queued] == [(pk,) for pk in ids]
    assert Task.tasks.filter(status="enqueued", queue_name="token-refresh").count() == 2500
    assert {str(pk) for pk in Task.tasks.values_list("id", flat=True)} == {m.message_id for m in queued}
    stored = Task.tasks.get(id=queued[-1].message_id)  # the bytes the queue holds, readable by the admin
    assert stored.message.encode() == queued[-1].encode() and stored.message.args == (ids[-1],)


def test_a_forced_refresh_of_one_account_still_sends_force_true(due_accounts, broker):
    account_id = due_accounts(1)[0]
    call_command("refresh_tokens", "--account", str(account_id), stdout=StringIO(), stderr=StringIO())
    assert [dramatiq.Message.decode(raw).args for raw in broker.queues["token-refresh"].queue] == [(account_id, True)]


def test_the_enqueued_row_written_after_the_batch_keeps_a_status_a_worker_already_wrote(broker):
    first, second = token_refresh.message(1), token_refresh.message(2)
    with task_history.recorded_together():
        enqueue_many([first, second])
        # A worker picked the first message up before the batch's rows were written.
        task_history.record(first, Task.STATUS_RUNNING)
        assert Task.tasks.count() == 1
    assert dict(Task.tasks.values_list("id", "status")) == {uuid.UUID(first.message_id): "running",
                                                             uuid.UUID(second.message_id): "enqueued"}


def test_a_refusal_half_way_reports_what_went_and_records_exactly_those(due_accounts, broker, monkeypatch):
    due_accounts(1500)
    enqueue, tried = broker.enqueue, []

    def refuse_after_1200(message, *, delay=None):
        tried.append(message)
        if len(tried) > 1200:
            raise ConnectionError("Redis went away")
        return enqueue(message, delay=delay)

    monkeypatch.setattr(broker, "enqueue", refuse_after_1200)
    with pytest.raises(CommandError) as caught:
        call_command("refresh_tokens", stdout=StringIO(), stderr=StringIO())
    assert str(caught.value) == ("refresh_tokens: the broker refused a message (ConnectionError); "
                                 "1200 of 1500 enqueued, the rest go on the next run.")
    assert len(tried) == 1201  # stopped at the first refusal
    assert broker.queues["token-refresh"].qsize() == 1200 == Task.tasks.count()


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the Redis-broker path runs where REDIS_URL is set (CI)")
def test_on_redis_a_batch_is_one_pipeline_and_every_message_is_consumable():
    with own_redis_broker(middleware=[task_history.TaskHistoryMiddleware()]) as (redis_broker, namespace):
        redis_broker.declare_queue("token-refresh")
        executed = []
        pipeline = redis_broker.client.pipeline

        def counted_pipeline(*args, **kwargs):
            pipe = pipeline(*args, **kwargs)
            execute = pipe.execute
            pipe.execute = lambda *a, **kw: executed.append(len(pipe.command_stack)) or execute(*a, **kw)
            return pipe

        redis_broker.client.pipeline = counted_pipeline
        redis_broker.client.script_load(redis_broker.scripts["dispatch"].script)  # as on a Redis that ran one enqueue
        messages = [token_refresh.message(pk) for pk in range(1, 1001)]
        assert enqueue_many(messages, broker=redis_broker) == 1000
        assert executed == [1000]  # one round trip for the thousand
        assert redis_broker.client.hlen(f"{namespace}:token-refresh.msgs") == 1000
        consumer = redis_broker.consume("token-refresh", prefetch=1000, timeout=1000)
        received = [next(iter(consumer)) for _ in range(1000)]
        assert [m.args[0] for m in received] == list(range(1, 1001))
        assert {m.message_id for m in received} == {m.message_id for m in messages}
        for message in received:
            consumer.ack(message)
        consumer.close()
        assert Task.tasks.filter(status="enqueued").count() == 1000


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the Redis-broker path runs where REDIS_URL is set (CI)")
def test_on_redis_a_refused_pipeline_is_reported_with_nothing_counted_as_sent():
    redis_broker = RedisBroker(url="redis://127.0.0.1:1/0", socket_connect_timeout=1)  # nothing listens there
    with pytest.raises(EnqueueError) as caught:
        enqueue_many([token_refresh.message(1), token_refresh.message(2)], broker=redis_broker)
    assert caught.value.sent == 0 and str(caught.value) == "ConnectionError"
    assert Task.tasks.count() == 0


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the Redis-broker path runs where REDIS_URL is set (CI)")
def test_on_redis_a_batch_costs_one_round_trip_and_a_lost_script_is_loaded_and_nothing_sent_twice():
    """The dispatch goes as EVALSHA without redis-py's SCRIPT EXISTS check (a second round trip per batch);
    a Redis that lost the script (restart, SCRIPT FLUSH) gets it loaded, and each message arrives once."""
    with own_redis_broker() as (redis_broker, _):
        redis_broker.declare_queue("token-refresh")
        commands = []
        send = redis_broker.client.connection_pool.connection_class.send_packed_command

        def counted(connection, command, check_health=True):
            packed = b"".join(command) if isinstance(command, list) else command
            commands.append([name for name in (b"EVALSHA", b"SCRIPT", b"EXISTS", b"LOAD") if name in packed])
            return send(connection, command, check_health)

        redis_broker.client.script_load(redis_broker.scripts["dispatch"].script)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(redis_broker.client.connection_pool.connection_class, "send_packed_command", counted)
            enqueue_many([token_refresh.message(1), token_refresh.message(2)], broker=redis_broker)
            assert commands == [[b"EVALSHA"]]  # one write for the whole batch, no SCRIPT EXISTS before it
            redis_broker.client.script_flush()  # as after a Redis restart
            commands.clear()
            enqueue_many([token_refresh.message(3), token_refresh.message(4)], broker=redis_broker)
        assert commands[0] == [b"EVALSHA"] and commands[1] == [b"SCRIPT", b"LOAD"] and commands[2] == [b"EVALSHA"]
        assert len(commands) == 3
        consumer = redis_broker.consume("token-refresh", prefetch=10, timeout=500)
        received = [next(iter(consumer)) for _ in range(5)]  # the fifth is None: nothing more is queued
        for message in received[:4]:
            consumer.ack(message)
        consumer.close()
    assert received[4] is None and sorted(m.args[0] for m in received[:4]) == [1, 2, 3, 4]
