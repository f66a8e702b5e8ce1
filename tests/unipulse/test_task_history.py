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
