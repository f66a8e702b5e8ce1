"""publish_due: due scheduled targets move to queued with one conditional UPDATE and are sent once."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from publishing.models import Post, PostTarget
from publishing.services import posts
from tests.conftest import side_by_side, workspace_of_user

pytestmark = pytest.mark.django_db


def scheduled(user, account, minutes: int) -> PostTarget:
    when = timezone.now() + timedelta(minutes=minutes)
    post = Post.objects.create(workspace=workspace_of_user(user), created_by=user, text="later", scheduled_at=when)
    return PostTarget.objects.create(post=post, account=account, status="scheduled", scheduled_at=when)


def test_publish_due_queues_and_sends_due_targets_only_and_prints_them(user, account_factory, sent,
                                                                      django_capture_on_commit_callbacks):
    account = account_factory("facebook")
    due, not_yet = scheduled(user, account, -2), scheduled(user, account, 30)
    out = StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("publish_due", "--no-drain", stdout=out)

    assert out.getvalue().strip() == f"publish_due: queued 1 target(s): {due.pk}"
    assert sent == [(due.pk, 0)]
    assert PostTarget.objects.get(pk=due.pk).status == "queued"
    assert PostTarget.objects.get(pk=not_yet.pk).status == "scheduled"


def test_a_second_run_enqueues_nothing(user, account_factory, sent, django_capture_on_commit_callbacks):
    due = scheduled(user, account_factory("facebook"), -1)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("publish_due", "--no-drain", stdout=StringIO())
        call_command("publish_due", "--no-drain", stdout=out)
    assert out.getvalue().strip() == "publish_due: queued 0 target(s)"
    assert sent == [(due.pk, 0)]


def test_the_conditional_update_lets_only_one_scheduler_claim_a_target(user, account_factory):
    due = scheduled(user, account_factory("facebook"), -1)
    # Both schedulers read the row as due; only the first UPDATE still finds it `scheduled`.
    assert posts.claim_due_target(due.pk) is True
    assert posts.claim_due_target(due.pk) is False


def test_cancelled_targets_are_never_queued(user, account_factory, sent):
    due = scheduled(user, account_factory("facebook"), -1)
    PostTarget.objects.filter(pk=due.pk).update(status="cancelled")
    assert posts.enqueue_due_targets() == [] and sent == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs two real connections (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_publish_due_runs_enqueue_each_target_once(user, account_factory, sent):
    account = account_factory("facebook")
    due = [scheduled(user, account, -1).pk for _ in range(20)]
    errors, results = side_by_side(posts.enqueue_due_targets)

    assert errors == [] and len(results) == 2
    assert sorted(results[0] + results[1]) == sorted(due)
    assert sorted(pk for pk, _ in sent) == sorted(due)
