"""Every command exits non-zero, with one clear line, when it could not do its job (cron mails that).

call_command() raising CommandError is what `manage.py` turns into "CommandError: <line>" on stderr
and exit status 1; one test runs a real process to check that status.
"""

import os
import re
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path
from unittest import mock

import dramatiq
import pytest
import redis
from django.core.management import CommandError, call_command
from django.db import DatabaseError
from django.utils import timezone
from django_dramatiq.models import Task

from conversations.models import WebhookEvent
from publishing.models import Post, PostTarget, TargetStatus
from social.models import SocialAccount
from tests.conftest import load_fixture
from unipulse import scheduler

pytestmark = pytest.mark.django_db

GRAPH = "https://graph.facebook.com/v25.0"
SUBSCRIBED_APPS = re.compile(rf"{re.escape(GRAPH)}/[^/]+/subscribed_apps")


@pytest.fixture
def broker_down(broker, monkeypatch):
    """Every send fails the way the Redis broker does when Redis is unreachable."""
    def refuse(message, *, delay=None):
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(broker, "enqueue", refuse)
    return broker


@pytest.fixture(autouse=True)
def _commands_leave_messages_queued(no_drain):
    """Every command here leaves its messages on the stub broker for the test to read."""


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def queued_args(broker, queue: str) -> list:
    return [dramatiq.Message.decode(raw).args[0] for raw in broker.queues[queue].queue] if queue in broker.queues else []


def due_target(account) -> PostTarget:
    post = Post.objects.create(workspace=account.workspace, created_by=account.connected_by, text="hello", scheduled_at=timezone.now() - timedelta(minutes=1))
    return PostTarget.objects.create(post=post, account=account, status=TargetStatus.SCHEDULED,
                                     scheduled_at=post.scheduled_at)


def stale_event() -> WebhookEvent:
    event = WebhookEvent.objects.create(platform="meta", body="{}", dedupe_key="a" * 64)
    WebhookEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(minutes=10))
    return event


# ---- publish_due ---------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)  # the messages go out when publish_due's transaction commits
def test_publish_due_succeeds_and_sends_the_due_target(account_factory, broker):
    target = due_target(account_factory("facebook"))
    assert run("publish_due") == f"publish_due: queued 1 target(s): {target.pk}\n"
    assert queued_args(broker, "publish") == [target.pk]


@pytest.mark.django_db(transaction=True)
def test_publish_due_fails_with_one_line_when_the_broker_is_down_and_the_next_run_sends_them(account_factory,
                                                                                          broker_down, monkeypatch):
    account = account_factory("facebook")
    first, second = due_target(account), due_target(account)
    with pytest.raises(CommandError) as caught:
        run("publish_due")
    assert str(caught.value) == ("publish_due: the broker refused 2 of 2 target(s); they are scheduled again "
                                 "for the next run.")
    # Nothing is left `queued` without a message: both are due again, with the reason on the row.
    rows = list(PostTarget.objects.order_by("pk").values_list("pk", "status", "last_error_message"))
    assert rows == [(t.pk, "scheduled", "The job queue could not be reached; publish_due sends this again within "
                                        "a minute.") for t in (first, second)]
    monkeypatch.delattr(broker_down, "enqueue")  # the broker is back (the class's enqueue again)
    assert run("publish_due") == f"publish_due: queued 2 target(s): {first.pk}, {second.pk}\n"
    assert queued_args(broker_down, "publish") == [first.pk, second.pk]


# ---- process_webhooks ----------------------------------------------------------------------------

def test_process_webhooks_succeeds_and_sends_the_waiting_event(broker):
    event = stale_event()
    assert run("process_webhooks") == "process_webhooks: 1 waiting, 1 enqueued\n"
    assert queued_args(broker, "webhook-process") == [event.pk]


def test_process_webhooks_fails_when_the_broker_is_down_and_leaves_the_events_waiting(broker_down):
    first = stale_event()
    WebhookEvent.objects.create(platform="meta", body="{}", dedupe_key="b" * 64)
    WebhookEvent.objects.exclude(pk=first.pk).update(received_at=timezone.now() - timedelta(minutes=10))
    tried = []
    refuse = broker_down.enqueue
    broker_down.enqueue = lambda message, *, delay=None: (tried.append(message), refuse(message, delay=delay))
    with pytest.raises(CommandError) as caught:
        run("process_webhooks")
    assert str(caught.value) == ("process_webhooks: the broker refused a message (ConnectionError); "
                                 "0 of 2 enqueued, the rest go on the next run.")
    assert len(tried) == 1  # stopped at the first refusal, not one timeout per event
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"received"}


# ---- the enqueue-per-account commands ------------------------------------------------------------

@pytest.mark.parametrize(("command", "queue", "summary"), [
    ("sync_analytics", "analytics-sync", "sync_analytics: enqueued 1 account syncs\n"),
    ("sync_conversations", "ice-process", "sync_conversations: 1 account(s) enqueued\n"),
    ("refresh_tokens", "token-refresh", "refresh_tokens: enqueued 1 token refresh\n"),
])
def test_enqueue_commands_succeed_with_a_summary(command, queue, summary, account_factory, broker):
    account = account_factory("facebook")
    SocialAccount.objects.filter(pk=account.pk).update(token_refresh_due_at=timezone.now() - timedelta(minutes=1))
    assert run(command) == summary
    assert queued_args(broker, queue) == [account.pk]


@pytest.mark.parametrize("command", ["sync_analytics", "sync_conversations", "refresh_tokens"])
def test_enqueue_commands_fail_with_one_line_when_the_broker_is_down(command, account_factory, broker_down):
    account = account_factory("facebook")
    account_factory("instagram")
    SocialAccount.objects.update(token_refresh_due_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(CommandError) as caught:
        run(command)
    assert str(caught.value) == (f"{command}: the broker refused a message (ConnectionError); "
                                 "0 of 2 enqueued, the rest go on the next run.")
    assert "\n" not in str(caught.value) and account.access_token not in str(caught.value)


# ---- subscribe_webhooks --------------------------------------------------------------------------

def test_subscribe_webhooks_succeeds_when_every_page_is_subscribed(account_factory, mocked_platforms):
    mocked_platforms.add("POST", SUBSCRIBED_APPS, json=load_fixture("facebook/oauth_subscribed_apps_success.json"))
    mocked_platforms.add("GET", SUBSCRIBED_APPS, json=load_fixture("facebook/oauth_subscribed_apps_read.json"))
    account_factory("facebook")
    assert run("subscribe_webhooks") == "subscribe_webhooks: subscribed 1 Page(s) and 0 Instagram Login account(s); 0 failed.\n"


def test_subscribe_webhooks_fails_when_a_page_could_not_be_subscribed(account_factory, mocked_platforms):
    # The Pages go in id order: the first one's POST is refused, the second one's succeeds.
    mocked_platforms.add("POST", SUBSCRIBED_APPS, status=400, json=load_fixture("facebook/errors_200_permission.json"))
    mocked_platforms.add("POST", SUBSCRIBED_APPS, json=load_fixture("facebook/oauth_subscribed_apps_success.json"))
    mocked_platforms.add("GET", SUBSCRIBED_APPS, json=load_fixture("facebook/oauth_subscribed_apps_read.json"))
    refused, subscribed = account_factory("facebook"), account_factory("facebook")
    with pytest.raises(CommandError) as caught:
        run("subscribe_webhooks")
    assert str(caught.value) == "subscribe_webhooks: subscribed 1 Page(s) and 0 Instagram Login account(s); 1 failed. See each account's status reason."
    refused.refresh_from_db()
    subscribed.refresh_from_db()
    assert refused.status_reason.startswith("Webhook subscription failed") and refused.webhook_subscribed_at is None
    assert subscribed.status_reason == "" and subscribed.webhook_subscribed_at is not None


# ---- prune_task_history --------------------------------------------------------------------------

def test_prune_task_history_succeeds(broker):
    from tokens.actors import token_refresh

    old = token_refresh.send(1)
    Task.tasks.filter(id=old.message_id).update(created_at=timezone.now() - timedelta(days=30))
    assert run("prune_task_history", "--days", "7") == "prune_task_history: deleted 1 task row(s) older than 7 days\n"


def test_prune_task_history_refuses_a_negative_age():
    with pytest.raises(CommandError, match=r"^prune_task_history: --days must be 0 or more, not -1\.$"):
        run("prune_task_history", "--days", "-1")


def test_prune_task_history_fails_with_one_line_when_the_database_refuses(broker):
    from tokens.actors import token_refresh

    Task.tasks.filter(id=token_refresh.send(1).message_id).update(created_at=timezone.now() - timedelta(days=30))
    with mock.patch("django.db.models.query.QuerySet.delete", side_effect=DatabaseError("disk full")):
        with pytest.raises(CommandError) as caught:
            run("prune_task_history")
    assert str(caught.value) == "prune_task_history: could not delete old task rows (DatabaseError); 0 deleted."


# ---- sandbox_activity ----------------------------------------------------------------------------

def test_sandbox_activity_succeeds_with_the_sandbox_on(settings):
    settings.SOCIAL_SANDBOX = True
    assert run("sandbox_activity") == "Sandbox activity: nothing new; 0 delivered, 0 failed.\n"


def test_sandbox_activity_fails_with_the_sandbox_off(settings):
    settings.SOCIAL_SANDBOX = False
    with pytest.raises(CommandError, match=r"^The sandbox is off"):
        run("sandbox_activity")


# ---- run_scheduler --once ------------------------------------------------------------------------

def test_run_scheduler_once_succeeds_when_every_job_ran():
    with mock.patch.object(scheduler, "call_command") as ran:
        out = run("run_scheduler", "--once")
    jobs = scheduler.available_jobs()
    assert out.splitlines()[-1] == f"scheduler: ran {len(jobs)} commands"
    assert [c.args[0] for c in ran.call_args_list] == [j.command for j in jobs]


def test_run_scheduler_once_fails_naming_the_job_that_failed():
    def flaky(name):
        if name == "refresh_tokens":
            raise CommandError("refresh_tokens: the broker refused a message")

    with mock.patch.object(scheduler, "call_command", side_effect=flaky):
        with pytest.raises(CommandError) as caught:
            run("run_scheduler", "--once")
    assert str(caught.value) == (f"scheduler: ran {len(scheduler.available_jobs()) - 1} commands; "
                                 "failed: refresh_tokens.")


# ---- a real exit status --------------------------------------------------------------------------

def test_manage_py_exits_1_with_one_line_on_stderr():
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k not in ("ENCRYPTION_KEY_PREVIOUS", "DATABASE_URL")}
    # Real-looking keys, so the only line on stderr is the command's own (no development-key warning).
    env.update(DJANGO_SETTINGS_MODULE="tests.settings", SECRET_KEY="exit-code-test-" + "s" * 40,
               ENCRYPTION_KEY="ZXhpdC1jb2RlLXRlc3Qta2V5LW9mLTMyLWJ5dGVzISE=")
    done = subprocess.run([sys.executable, "manage.py", "rotate_encryption_key"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip() == "CommandError: Give the previous key with --old-key or ENCRYPTION_KEY_PREVIOUS."
    assert done.stdout == ""
