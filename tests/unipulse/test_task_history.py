from datetime import timedelta

import dramatiq
import pytest
from django.core.management import call_command
from django.utils import timezone
from django_dramatiq.models import Task

from tokens.actors import token_refresh

pytestmark = pytest.mark.django_db


def test_each_message_is_recorded_for_the_admin_and_a_failed_one_can_be_sent_again(client, django_user_model):
    broker = dramatiq.get_broker()
    broker.flush_all()
    message = token_refresh.send(42)
    task = Task.tasks.get(id=message.message_id)
    assert (task.status, task.queue_name, task.actor_name) == ("enqueued", "token-refresh", "token_refresh")
    Task.tasks.filter(pk=task.pk).update(status=Task.STATUS_FAILED)
    staff = django_user_model.objects.create_superuser("ops", "ops@example.com", "pw-ops-12345")
    client.force_login(staff)
    listing = client.get("/admin/django_dramatiq/task/?status__exact=failed").content.decode()
    assert "token_refresh" in listing
    broker.flush_all()
    client.post("/admin/django_dramatiq/task/", {"action": "send_again", "_selected_action": [str(task.pk)]})
    queued = broker.queues["token-refresh"]
    assert queued.qsize() == 1 and b'"args":[42]' in queued.get_nowait()
    broker.flush_all()


def test_prune_task_history_keeps_recent_rows(capsys):
    message = token_refresh.send(7)
    old = token_refresh.send(8)
    Task.tasks.filter(id=old.message_id).update(created_at=timezone.now() - timedelta(days=30))
    call_command("prune_task_history", "--days", "7")
    assert "deleted 1 task row(s) older than 7 days" in capsys.readouterr().out
    assert [str(i) for i in Task.tasks.values_list("id", flat=True)] == [message.message_id]
    dramatiq.get_broker().flush_all()


@pytest.mark.django_db(transaction=True)  # autocommit, as a send after commit runs in production
def test_each_record_is_one_statement_and_a_repeat_of_the_same_message_updates_its_row(
        django_assert_num_queries):
    broker = dramatiq.get_broker()
    broker.flush_all()
    with django_assert_num_queries(1):  # INSERT … ON CONFLICT DO UPDATE (django-dramatiq's own write takes 4)
        message = token_refresh.send(42)
    created = Task.tasks.get(id=message.message_id)
    assert (created.status, created.actor_name, created.queue_name) == ("enqueued", "token_refresh", "token-refresh")

    with django_assert_num_queries(1):  # a retry re-enqueues the same message id, with a delay
        broker.enqueue(message, delay=60_000)
    again = Task.tasks.get(id=message.message_id)
    assert again.status == "delayed" and again.created_at == created.created_at
    assert again.updated_at >= created.updated_at and Task.tasks.count() == 1
    broker.flush_all()


def test_a_processed_message_is_recorded_running_then_done_and_a_failed_one_keeps_its_traceback():
    from unipulse.task_history import TaskHistoryMiddleware

    broker = dramatiq.get_broker()
    broker.flush_all()
    message = token_refresh.send(43)
    middleware = TaskHistoryMiddleware()
    middleware.before_process_message(broker, message)
    assert Task.tasks.get(id=message.message_id).status == "running"
    middleware.after_process_message(broker, message, result=None)
    assert Task.tasks.get(id=message.message_id).status == "done"

    failing = token_refresh.send(44)
    try:
        raise RuntimeError("boom")
    except RuntimeError as error:
        middleware.after_process_message(broker, failing, exception=error)
    failed = Task.tasks.get(id=failing.message_id)
    assert failed.status == "failed" and "RuntimeError: boom" in failed.message.options["traceback"]
    broker.flush_all()


@pytest.mark.django_db(transaction=True)
def test_a_record_written_inside_a_transaction_that_fails_leaves_that_transaction_usable():
    from django.db import DatabaseError, connection, transaction

    from social.models import SocialAccount
    from unipulse import task_history

    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL aborts a transaction after a failed statement")
    broker = dramatiq.get_broker()
    broker.flush_all()
    with transaction.atomic():
        with pytest.raises(DatabaseError):  # the status column holds 8 characters: the database refuses the row
            task_history.record(token_refresh.message(1), "x" * 50)
        assert connection.in_atomic_block
        assert SocialAccount.objects.count() == 0  # the transaction still answers: the failure was contained
    broker.flush_all()


def test_messages_sent_unrecorded_get_no_enqueued_row_but_their_processing_is_recorded(django_assert_num_queries):
    from unipulse.task_history import TaskHistoryMiddleware, enqueue_unrecorded

    broker = dramatiq.get_broker()
    broker.flush_all()
    with django_assert_num_queries(0), enqueue_unrecorded():
        message = token_refresh.send(45)
    assert not Task.tasks.filter(id=message.message_id).exists()
    retried = token_refresh.send(46)  # outside the block: recorded as always
    assert Task.tasks.get(id=retried.message_id).status == "enqueued"
    TaskHistoryMiddleware().before_process_message(broker, message)
    assert Task.tasks.get(id=message.message_id).status == "running"
    broker.flush_all()
