"""Token refresh scan: time and queries to select and enqueue 10,000 due accounts among 40,000.

Baselines, measured in the same run: for the select, the obvious approach, loading every account and
deciding in Python whether it is due (what a cron job without the due-time column and index would do);
for the enqueue, the per-message path `refresh_tokens` had before batches (`token_refresh.send(id)` per
due id: one Redis round trip and one task-history statement each), against the command itself
(`refresh_tokens`: pipelined batches of 1,000 and one task-history INSERT per batch).
"""

from __future__ import annotations

from datetime import timedelta

from benchmarks.common import Row, setup_django, timed

N_ACCOUNTS = 40_000  # a quarter of them, 10,000, are due
LABEL = "Token refresh scan (40,000 accounts, 10,000 due)"


def run() -> list[Row]:
    setup_django()
    from contextlib import contextmanager
    from io import StringIO

    import dramatiq
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from django_dramatiq.models import Task

    from social.models import SocialAccount
    from tokens.actors import token_refresh
    from tokens.services import compute_refresh_due_at, select_due_account_ids
    from workspaces.services import personal_workspace

    SocialAccount.objects.all().delete()
    owner, _ = get_user_model().objects.get_or_create(username="bench-owner")
    workspace = personal_workspace(owner)
    now = timezone.now()
    accounts = []
    for i in range(N_ACCOUNTS):
        # a quarter are due now; the rest later
        expires = now + (timedelta(minutes=10) if i % 4 == 0 else timedelta(hours=2))
        a = SocialAccount(workspace=workspace, platform="tiktok", external_id=f"bench-{i}", platform_user_id=f"open-{i}",
                          access_token=f"act.bench-{i}", refresh_token=f"rft.bench-{i}", token_expires_at=expires)
        a.token_refresh_due_at = compute_refresh_due_at(a, now) if i % 4 else now - timedelta(minutes=1)
        accounts.append(a)
    SocialAccount.objects.bulk_create(accounts, batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE social_socialaccount")

    broker = dramatiq.get_broker()

    def scan_and_enqueue():  # the command cron runs: batched (drain_embedded is a no-op on Redis)
        call_command("refresh_tokens", stdout=StringIO(), stderr=StringIO())

    def per_message_scan_and_enqueue():  # the path before batches: one send per id
        ids = select_due_account_ids()
        for account_id in ids:
            token_refresh.send(account_id)
        return ids

    def queued_ids() -> list[int]:
        raw = broker.client.hvals(f"{broker.namespace}:token-refresh.msgs")
        return sorted(dramatiq.Message.decode(m).args[0] for m in raw)

    def fresh():  # the same starting point for every run: empty queue, empty task history
        broker.flush_all()
        Task.tasks.all().delete()

    def naive_select():
        return [a.pk for a in SocialAccount.objects.all()  # decrypts two tokens per row, in Python
                if a.status == "active" and a.token_expires_at
                and a.token_expires_at - timezone.now() < timedelta(minutes=24)]

    @contextmanager
    def counting(counter: list[int]):
        # Every statement, however many (Django's own query log keeps only the last 9,000).
        def count(execute, sql, params, many, context):
            counter[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            yield

    fresh()
    batched_count, per_message_count = [0], [0]
    with counting(batched_count):
        scan_and_enqueue()
    batched_ids = queued_ids()
    fresh()
    with counting(per_message_count):
        per_message_ids = per_message_scan_and_enqueue()
    assert batched_ids == sorted(per_message_ids) == queued_ids() == sorted(naive_select()), \
        (len(batched_ids), len(per_message_ids))
    assert len(batched_ids) == N_ACCOUNTS // 4 == Task.tasks.filter(status="enqueued").count()
    fresh()
    ours_select_s = timed(select_due_account_ids)
    theirs_select_s = timed(naive_select, repeat=1)
    batched_s = timed(lambda: (fresh(), scan_and_enqueue()))  # fresh() is a few ms against seconds
    per_message_s = timed(lambda: (fresh(), per_message_scan_and_enqueue()), repeat=1)
    fresh()
    SocialAccount.objects.all().delete()
    per_message = "per-message send (before batches)"
    return [
        Row(LABEL, "select time", ours_select_s, "load all rows, decide in Python", theirs_select_s, "s"),
        Row(LABEL, "select + enqueue time (`refresh_tokens`, batches of 1,000)", batched_s, per_message,
            per_message_s, "s"),
        Row(LABEL, "SQL statements to select + enqueue", batched_count[0], per_message, per_message_count[0],
            "queries"),
    ]


if __name__ == "__main__":
    from benchmarks.common import table

    print(table(run()))
