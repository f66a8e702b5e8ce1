"""API reads: SQL queries per request and p99 latency of the list endpoints at 10 and at 1,000 rows.

Through Django's test client (the whole middleware + DRF stack, token authentication) on PostgreSQL.
Each endpoint is read by a user owning 10 rows of everything and by one owning 1,000; the
10-row figure is the baseline, so a query count that grows with rows shows as a ratio above 1×.
Lists ask for `page_size=200` (the largest page), so a per-row query would show 200 times; their
latency is also measured with a page of 10 at both sizes, which isolates what the table's size costs.
"""

from __future__ import annotations

import gc
import statistics
import time
from datetime import timedelta

from benchmarks.common import Row, setup_django

SIZES = (10, 1_000)
REQUESTS = 100  # per endpoint and size, after one warm-up request ...
MAX_SECONDS = 6.0  # ... or fewer if they take longer than this (at least 30)
PLATFORMS = ("facebook", "instagram", "tiktok")


def _seed(username: str, n: int):
    """A user with n accounts, n posts (1 media, 1 target each), n conversations (1 message each),
    n tracked posts and n follower snapshots on its first account."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from analytics.models import AccountMetrics, AccountMetricSnapshot, SyncRun, TrackedPost
    from conversations.models import Conversation, Message
    from publishing.models import Post, PostMedia, PostTarget
    from social.models import SocialAccount
    from workspaces.services import personal_workspace

    User = get_user_model()
    User.objects.filter(username=username).delete()
    user = User.objects.create_user(username)
    token = Token.objects.create(user=user)
    workspace = personal_workspace(user)
    # A team of 20: the membership check must stay one query whatever the team's size.
    from workspaces.models import Membership

    User.objects.filter(username__startswith=f"{username}-member-").delete()
    Membership.objects.bulk_create([Membership(workspace=workspace, user=User.objects.create_user(f"{username}-member-{i}"),
                                               role="editor") for i in range(19)])
    now = timezone.now()
    accounts = SocialAccount.objects.bulk_create([
        SocialAccount(workspace=workspace, connected_by=user, platform=PLATFORMS[i % 3], external_id=f"{username}-{i}", platform_user_id=f"u-{i}",
                      name=f"Account {i}", access_token=f"tok-{i}", scopes=["pages_manage_posts"],
                      token_expires_at=now + timedelta(days=50), token_refresh_due_at=now + timedelta(days=40))
        for i in range(n)
    ], batch_size=500)
    AccountMetrics.objects.bulk_create([AccountMetrics(account=a, followers=100 + i, last_synced_at=now)
                                        for i, a in enumerate(accounts)], batch_size=500)
    posts = Post.objects.bulk_create([Post(workspace=workspace, created_by=user, text=f"post {i}") for i in range(n)], batch_size=500)
    PostMedia.objects.bulk_create([PostMedia(post=p, url=f"https://cdn.example.com/{i}.jpg", type="image")
                                   for i, p in enumerate(posts)], batch_size=500)
    PostTarget.objects.bulk_create([PostTarget(post=p, account=accounts[i], status="published", step="done",
                                               platform_post_id=f"pp-{i}", published_at=now - timedelta(hours=i % 200))
                                    for i, p in enumerate(posts)], batch_size=500)
    conversations = Conversation.objects.bulk_create([
        Conversation(account=accounts[i], kind="comment" if i % 2 else "dm", thread_key=f"t:{i}", participant_id=f"p{i}",
                     participant_name=f"Fan {i}", snippet=f"hello {i}", unread_count=i % 3,
                     last_message_at=now - timedelta(minutes=i), last_inbound_at=now - timedelta(minutes=i))
        for i in range(n)
    ], batch_size=500)
    Message.objects.bulk_create([Message(conversation=c, account_id=c.account_id, external_id=f"m{i}", direction="in",
                                         author_id=f"p{i}", text=f"hello {i}", created_at=now - timedelta(minutes=i),
                                         origin="webhook") for i, c in enumerate(conversations)], batch_size=500)
    TrackedPost.objects.bulk_create([
        TrackedPost(account=accounts[i], platform=accounts[i].platform, platform_post_id=f"tp-{i}",
                    published_at=now - timedelta(hours=1 + i % 600), views=10 * i, reach=5 * i, likes=i, comments=i % 7,
                    shares=i % 5, saves=i % 3, last_synced_at=now)
        for i in range(n)
    ], batch_size=500)
    first = accounts[0]
    TrackedPost.objects.bulk_create([
        TrackedPost(account=first, platform=first.platform, platform_post_id=f"tp-first-{i}",
                    published_at=now - timedelta(hours=1 + i % 600), views=i, likes=i, last_synced_at=now)
        for i in range(n)
    ], batch_size=500)
    runs = SyncRun.objects.bulk_create([SyncRun(account=first) for _ in range(n)], batch_size=500)
    AccountMetricSnapshot.objects.bulk_create([
        AccountMetricSnapshot(account=first, sync_run=r, captured_at=now - timedelta(minutes=40 * i), followers=1000 + i)
        for i, r in enumerate(runs)
    ], batch_size=500)
    return user, token.key, first.pk


def _queries(client, headers: dict, path: str) -> tuple[int, int | None]:
    """(SQL queries of one request, items on the page or None for a report)."""
    from django.db import connection

    client.get(path, **headers)  # warm-up
    queries = []
    # An execute wrapper, not CaptureQueriesContext: request_started resets the debug query log.
    with connection.execute_wrapper(lambda execute, sql, params, many, context: (queries.append(sql), execute(sql, params, many, context))[1]):
        response = client.get(path, **headers)
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
    body = response.json()
    return len(queries), len(body["results"]) if isinstance(body, dict) and "results" in body else None


def _p99s(client, requests: list[tuple[dict, str]]) -> list[float]:
    """p99 latency (ms) of each (headers, path), requests interleaved so both sizes see the same noise."""
    samples: list[list[float]] = [[] for _ in requests]
    until = time.perf_counter() + MAX_SECONDS
    while len(samples[0]) < REQUESTS and (len(samples[0]) < 30 or time.perf_counter() < until):
        for (headers, path), bucket in zip(requests, samples, strict=True):
            gc.collect()  # outside the timing: one request never pays for the other's garbage
            started = time.perf_counter()
            client.get(path, **headers)
            bucket.append(time.perf_counter() - started)
    return [statistics.quantiles(bucket, n=100)[98] * 1000 for bucket in samples]


def run() -> list[Row]:
    setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    endpoints = [
        ("posts", "/api/v1/posts/?page_size=200"),
        ("accounts", "/api/v1/accounts/?page_size=200"),
        ("conversations", "/api/v1/conversations/?page_size=200"),
        ("analytics summary", "/api/v1/analytics/summary/"),
        ("analytics account report", "/api/v1/analytics/accounts/{first}/"),
    ]
    small, large = SIZES
    users: dict[int, tuple[dict, int]] = {}
    rows = []
    try:
        for n in SIZES:
            _user, key, first = _seed(f"bench-reads-{n}", n)
            users[n] = ({"HTTP_AUTHORIZATION": f"Token {key}"}, first)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        client = Client(HTTP_HOST="127.0.0.1")
        for name, path in endpoints:
            (h_small, f_small), (h_large, f_large) = users[small], users[large]
            p_small, p_large = path.format(first=f_small), path.format(first=f_large)
            q_small, _ = _queries(client, h_small, p_small)
            q_large, items = _queries(client, h_large, p_large)
            bench = f"API read: {name} (`{path.split('?')[0].replace('{first}', '{id}')}`)"
            shown = f" ({items} on the page)" if items is not None else ""
            rows.append(Row(bench, f"SQL queries per request, {large:,} rows{shown}", q_large, f"same, {small} rows", q_small, "queries"))
            lat_small, lat_large = _p99s(client, [(h_small, p_small), (h_large, p_large)])
            rows.append(Row(bench, f"p99 latency, {large:,} rows{shown}", lat_large, f"same, {small} rows", lat_small, "ms"))
            if "page_size=200" in path:  # the same 10-item page: what the table's size alone costs
                lat_small, lat_large = _p99s(client, [(h_small, p_small.replace("=200", "=10")),
                                                      (h_large, p_large.replace("=200", "=10"))])
                rows.append(Row(bench, f"p99 latency, {large:,} rows, a page of {small}", lat_large, f"same, {small} rows",
                                lat_small, "ms"))
    finally:
        get_user_model().objects.filter(username__in=[f"bench-reads-{n}" for n in SIZES]).delete()
    return rows


if __name__ == "__main__":
    from benchmarks.common import table

    print(table(run()))
