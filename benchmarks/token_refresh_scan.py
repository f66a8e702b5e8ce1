"""Token refresh scan: time and queries to select and enqueue 10,000 due accounts among 40,000.

Baseline, measured in the same run: the obvious approach, loading every account and deciding in
Python whether it is due (what a cron job without the due-time column and index would do).
"""

from __future__ import annotations

from datetime import timedelta

from benchmarks.common import Row, setup_django, timed

N_ACCOUNTS = 40_000  # a quarter of them, 10,000, are due
LABEL = "Token refresh scan (40,000 accounts, 10,000 due)"


def run() -> list[Row]:
    setup_django()
    from contextlib import contextmanager

    import dramatiq
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

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

    def scan_and_enqueue():
        ids = select_due_account_ids()
        for account_id in ids:
            token_refresh.send(account_id)
        return ids

    def naive_scan_and_enqueue():
        due = []
        for account in SocialAccount.objects.all():  # decrypts two tokens per row, in Python
            if account.status == "active" and account.token_expires_at and \
                    account.token_expires_at - timezone.now() < timedelta(minutes=24):
                due.append(account.pk)
        for account_id in due:
            token_refresh.send(account_id)
        return due

    @contextmanager
    def counting(counter: list[int]):
        # Every statement, however many (Django's own query log keeps only the last 9,000).
        def count(execute, sql, params, many, context):
            counter[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            yield

    ours_count, theirs_count = [0], [0]
    with counting(ours_count):
        ids = scan_and_enqueue()
    with counting(theirs_count):
        naive = naive_scan_and_enqueue()
    ours_queries, theirs_queries = ours_count[0], theirs_count[0]
    assert sorted(ids) == sorted(naive) and len(ids) == N_ACCOUNTS // 4, (len(ids), len(naive))
    broker.flush_all()
    ours_select_s = timed(select_due_account_ids)
    theirs_select_s = timed(lambda: [a.pk for a in SocialAccount.objects.all() if a.token_expires_at - timezone.now() < timedelta(minutes=24)], repeat=1)
    ours_s = timed(lambda: (scan_and_enqueue(), broker.flush_all()))
    theirs_s = timed(lambda: (naive_scan_and_enqueue(), broker.flush_all()), repeat=1)
    SocialAccount.objects.all().delete()
    return [
        Row(LABEL, "select time", ours_select_s, "load all rows, decide in Python", theirs_select_s, "s"),
        Row(LABEL, "select + enqueue time", ours_s, "load all rows, decide in Python", theirs_s, "s"),
        Row(LABEL, "SQL queries", ours_queries,
            "load all rows, decide in Python", theirs_queries, "queries"),
    ]


if __name__ == "__main__":
    from benchmarks.common import table

    print(table(run()))
