"""API reads: SQL queries per request and p99 latency of the list endpoints at 10 and at 1,000 rows.

Through Django's test client (the whole middleware + DRF stack, token authentication) on PostgreSQL.
Each endpoint is read by a user owning 10 rows of everything and by one owning 1,000; the
10-row figure is the baseline, so a query count that grows with rows shows as a ratio above 1×.
Lists ask for `page_size=200` (the largest page), so a per-row query would show 200 times.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

from benchmarks.common import Row, setup_django

SIZES = (10, 1_000)
REQUESTS = 40  # per endpoint and size, after one warm-up request
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

    User = get_user_model()
    User.objects.filter(username=username).delete()
    user = User.objects.create_user(username)
    token = Token.objects.create(user=user)
    now = timezone.now()
    accounts = SocialAccount.objects.bulk_create([
        SocialAccount(owner=user, platform=PLATFORMS[i % 3], external_id=f"{username}-{i}", platform_user_id=f"u-{i}",
                      name=f"Account {i}", access_token=f"tok-{i}", scopes=["pages_manage_posts"],
                      token_expires_at=now + timedelta(days=50), token_refresh_due_at=now + timedelta(days=40))
        for i in range(n)
    ], batch_size=500)
    AccountMetrics.objects.bulk_create([AccountMetrics(account=a, followers=100 + i, last_synced_at=now)
                                        for i, a in enumerate(accounts)], batch_size=500)
    posts = Post.objects.bulk_create([Post(owner=user, text=f"post {i}") for i in range(n)], batch_size=500)
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


def _measure(client, headers: dict, path: str) -> tuple[int, float, int | None]:
    """(queries of one request, p99 latency in ms, items on the page or None for a report)."""
    from django.db import connection

    client.get(path, **headers)  # warm-up
    queries = []
    # An execute wrapper, not CaptureQueriesContext: request_started resets the debug query log.
    with connection.execute_wrapper(lambda execute, sql, params, many, context: (queries.append(sql), execute(sql, params, many, context))[1]):
        response = client.get(path, **headers)
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
    body = response.json()
    items = len(body["results"]) if isinstance(body, dict) and "results" in body else None
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        client.get(path, **headers)
        samples.append(time.perf_counter() - started)
    p99 = statistics.quantiles(samples, n=100)[98] * 1000
    return len(queries), p99, items


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
    results: dict[int, dict[str, tuple[int, float, int | None]]] = {}
    usernames = []
    try:
        for n in SIZES:
            username = f"bench-reads-{n}"
            usernames.append(username)
            _user, key, first = _seed(username, n)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            client = Client(HTTP_HOST="127.0.0.1")
            headers = {"HTTP_AUTHORIZATION": f"Token {key}"}
            results[n] = {name: _measure(client, headers, path.format(first=first)) for name, path in endpoints}
    finally:
        get_user_model().objects.filter(username__in=usernames).delete()

    small, large = SIZES
    rows = []
    for name, path in endpoints:
        q_small, p99_small, _ = results[small][name]
        q_large, p99_large, items = results[large][name]
        bench = f"API read: {name} (`{path.split('?')[0].replace('{first}', '{id}')}`)"
        shown = f" ({items} on the page)" if items is not None else ""
        rows.append(Row(bench, f"SQL queries per request, {large:,} rows{shown}", q_large, f"same, {small} rows", q_small, "queries"))
        rows.append(Row(bench, f"p99 latency, {large:,} rows{shown}", p99_large, f"same, {small} rows", p99_small, "ms"))
    return rows


if __name__ == "__main__":
    from benchmarks.common import table

    print(table(run()))
