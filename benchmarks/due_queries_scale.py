"""The queries that pick due work, at 10,000 and at 100,000 accounts (opt-in: `benchmarks.run --scale`).

The data is generated inside PostgreSQL with `generate_series` (no Python row objects): per account
50 tracked posts (5,000,000 at 100,000 accounts), one post with one target and 10 webhook events, with
about 1% of each due. The same four querysets the product runs are then explained with
`EXPLAIN (ANALYZE, BUFFERS)`, first at 10,000 accounts, then after generating the other 90,000, so each
row's baseline is the same query on a tenth of the data in the same run: the time should follow the
rows returned (about 10x for the global queries, flat for one account's posts), not the table size.

Each table's generated columns are one mapping below (column -> SQL expression of the series value
`g`); the workspaces migration adds `workspace_id` to social_socialaccount and publishing_post with
one entry each. `time_workspace_data_migration` is where that migration is timed on this data.
"""

from __future__ import annotations

import sys
import time

from benchmarks.common import Row, setup_django

SMALL, LARGE = 10_000, 100_000
POSTS_PER_ACCOUNT, EVENTS_PER_ACCOUNT = 50, 10
LABEL = "Due queries at scale (EXPLAIN ANALYZE)"

# column -> SQL expression of g (the account number, 1..n); %(owner)s is the bench user's id, %(workspace)s theirs.
ACCOUNT_COLUMNS = {
    "id": "g", "workspace_id": "%(workspace)s", "connected_by_id": "%(owner)s", "parent_id": "NULL",
    "platform": "(ARRAY['facebook', 'instagram', 'tiktok'])[1 + g %% 3]",
    "external_id": "'scale-' || g", "platform_user_id": "'user-' || g",
    "name": "''", "username": "''", "avatar_url": "''", "scopes": "'[]'::jsonb",
    "status": "CASE WHEN g %% 50 = 0 THEN 'needs_reauth' ELSE 'active' END", "status_reason": "''",
    "token_expires_at": "now() + (g %% 60) * interval '1 day'",
    # 1% due now; the rest spread over the next day
    "token_refresh_due_at": "CASE WHEN g %% 100 = 7 THEN now() - interval '1 minute' "
                            "ELSE now() + interval '1 hour' + (g %% 1440) * interval '1 minute' END",
    "is_sandbox": "false", "connected_at": "now()", "updated_at": "now()",
}
# g is the post number (1..n*50); its account is (g - 1) / 50 + 1.
TRACKED_POST_COLUMNS = {
    "id": "g", "account_id": f"(g - 1) / {POSTS_PER_ACCOUNT} + 1",
    "platform": "(ARRAY['facebook', 'instagram', 'tiktok'])[1 + ((g - 1) / 50 + 1) %% 3]",
    "platform_post_id": "'post-' || g", "media_type": "''", "product_type": "'FEED'", "caption": "''",
    "permalink": "''", "published_at": f"now() - (g %% {POSTS_PER_ACCOUNT}) * interval '1 day'",
    "source": "'external'", "latest_metrics": "'{}'::jsonb", "last_synced_at": "now() - interval '1 hour'",
    # 2 of each account's 50 due now (by cadence), the rest later
    "next_sync_at": "CASE WHEN g %% 25 = 3 THEN now() - interval '5 minutes' "
                    "ELSE now() + (1 + g %% 48) * interval '1 hour' END",
}
POST_COLUMNS = {
    "id": "g", "workspace_id": "%(workspace)s", "created_by_id": "%(owner)s", "text": "'scale'", "link": "''", "first_comment": "''",
    "scheduled_at": "now()", "created_at": "now()", "updated_at": "now()",
    "idempotency_key": "''", "idempotency_fingerprint": "''",
}
TARGET_COLUMNS = {
    "id": "g", "post_id": "g", "account_id": "g",
    # 1% scheduled and due, 1% scheduled later, the rest published long ago
    "status": "CASE WHEN g %% 100 IN (11, 12) THEN 'scheduled' ELSE 'published' END", "step": "''",
    "scheduled_at": "CASE WHEN g %% 100 = 11 THEN now() - interval '1 minute' "
                    "WHEN g %% 100 = 12 THEN now() + interval '1 day' ELSE now() - interval '30 days' END",
    "options": "'{}'::jsonb", "container_ids": "'[]'::jsonb", "publish_id": "''", "platform_post_id": "''",
    "permalink": "''", "attempts": "0", "polls": "0", "last_error_code": "''", "last_error_message": "''",
    "first_comment": "''", "first_comment_id": "''", "first_comment_status": "''",
    "created_at": "now()", "updated_at": "now()",
}
# g is the event number (1..n*10)
EVENT_COLUMNS = {
    "id": "g", "platform": "'meta'", "topic": "'page'", "body": "'{}'", "headers": "'{}'::jsonb",
    "dedupe_key": "md5(g::text)",
    # 0.1% still waiting (a broker outage), the rest processed
    "status": "CASE WHEN g %% 1000 = 5 THEN 'received' ELSE 'processed' END",
    "received_at": "now() - interval '1 hour'", "processed_at": "NULL", "error": "''", "attempts": "0",
    "is_sandbox": "false",
}
TABLES = [  # (table, columns, rows per account)
    ("social_socialaccount", ACCOUNT_COLUMNS, 1),
    ("analytics_trackedpost", TRACKED_POST_COLUMNS, POSTS_PER_ACCOUNT),
    ("publishing_post", POST_COLUMNS, 1),
    ("publishing_posttarget", TARGET_COLUMNS, 1),
    ("conversations_webhookevent", EVENT_COLUMNS, EVENTS_PER_ACCOUNT),
]


def generate(cursor, owner_id: int, first: int, last: int) -> None:
    """Accounts first..last (1-based, inclusive) and everything that belongs to them."""
    for table, columns, per_account in TABLES:
        names = ", ".join(columns)
        from django.contrib.auth import get_user_model

        from workspaces.services import personal_workspace

        workspace = personal_workspace(get_user_model().objects.get(pk=owner_id)).pk
        values = ", ".join(columns.values()) % {"owner": owner_id, "workspace": workspace}
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {values} "  # noqa: S608 - our own constants
                       f"FROM generate_series({(first - 1) * per_account + 1}, {last * per_account}) AS g")
    for table, _, _ in TABLES:
        cursor.execute(f"ANALYZE {table}")
        # the ids were given: move each sequence past them, as if the rows had been created one by one
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608


def clear(cursor) -> None:
    cursor.execute("TRUNCATE " + ", ".join(table for table, _, _ in TABLES) + " CASCADE")


def due_querysets(n_accounts: int) -> dict:
    """The querysets the product runs to pick due work, as its services build them."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from analytics.models import TrackedPost
    from analytics.services import store
    from conversations.models import WebhookEvent
    from publishing.models import PostTarget, TargetStatus
    from tokens.services import due_accounts

    now = timezone.now()
    stale = WebhookEvent.objects.filter(received_at__lte=now - timedelta(
        seconds=settings.WEBHOOK_RESEND_AFTER_SECONDS)).order_by("id")
    return {
        "accounts due for a token refresh (refresh_tokens)":
            due_accounts(now).order_by("token_refresh_due_at").values_list("pk", flat=True),
        "one account's posts due by cadence (analytics sync)":
            TrackedPost.objects.filter(store.due_filter(now), account_id=n_accounts // 2 + 1).values_list("pk", flat=True),
        "targets due to publish (publish_due)":
            PostTarget.objects.filter(status=TargetStatus.SCHEDULED, scheduled_at__lte=now)
            .order_by("scheduled_at").values_list("pk", flat=True)[:1000],
        "webhook events to re-send (process_webhooks)":
            stale.filter(status=WebhookEvent.Status.RECEIVED).values_list("id", flat=True),
    }


def explain(queryset) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of the queryset: time, rows, scan nodes and buffers of the plan."""
    import json

    plan = json.loads(queryset.explain(format="json", analyze=True, buffers=True))[0]
    nodes: list[dict] = []

    def walk(node: dict) -> None:
        nodes.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    scans = [f"{n['Node Type']}" + (f" on {n['Index Name']}" if n.get("Index Name") else f" on {n.get('Relation Name')}")
             for n in nodes if "Scan" in n["Node Type"]]
    return {"ms": plan["Execution Time"], "rows": plan["Plan"]["Actual Rows"], "scans": scans,
            "seq_scan": any(n["Node Type"] == "Seq Scan" for n in nodes),
            "buffers": plan["Plan"].get("Shared Hit Blocks", 0) + plan["Plan"].get("Shared Read Blocks", 0)}


def measure(n_accounts: int) -> dict:
    results = {}
    for name, queryset in due_querysets(n_accounts).items():
        explain(queryset)  # warm the cache: the figure is the query, not the first disk read
        results[name] = explain(queryset)
    return results


def time_workspace_data_migration(cursor) -> list[Row]:
    """Hook for the lead: time the workspaces data migration on this data (100,000 accounts, 5,000,000
    tracked posts, 100,000 posts). Fill in: run the migration's data step (e.g. `call_command("migrate",
    "workspaces", ...)` or its RunPython function) between two perf_counter() calls and return a Row.
    Nothing to time before the workspaces app exists."""
    return []


def run() -> list[Row]:
    setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection

    owner, _ = get_user_model().objects.get_or_create(username="bench-scale-owner")
    timings = {}
    with connection.cursor() as cursor:
        clear(cursor)
        cursor.execute("SET synchronous_commit = off")
        start = time.perf_counter()
        generate(cursor, owner.pk, 1, SMALL)
        timings[SMALL] = time.perf_counter() - start
        small = measure(SMALL)
        start = time.perf_counter()
        generate(cursor, owner.pk, SMALL + 1, LARGE)
        timings[LARGE] = time.perf_counter() - start
        large = measure(LARGE)
        rows = time_workspace_data_migration(cursor)
        clear(cursor)
    print(f"generated {SMALL:,} accounts in {timings[SMALL]:.0f} s, the other {LARGE - SMALL:,} in "
          f"{timings[LARGE]:.0f} s", file=sys.stderr)
    out = []
    for name, at_large in large.items():
        at_small = small[name]
        print(f"{name}: 10k {at_small}  100k {at_large}", file=sys.stderr)
        plan = ", ".join(dict.fromkeys(at_large["scans"]))
        label = f"{LABEL}: {name}"
        out.append(Row(label, f"execution time at {LARGE:,} accounts ({plan})", at_large["ms"],
                       f"same, {SMALL:,} accounts", at_small["ms"], "ms"))
        out.append(Row(label, f"rows returned at {LARGE:,} accounts", at_large["rows"],
                       f"same, {SMALL:,} accounts", at_small["rows"], "rows"))
        out.append(Row(label, f"buffers touched at {LARGE:,} accounts", at_large["buffers"],
                       f"same, {SMALL:,} accounts", at_small["buffers"], "blocks"))
        assert not at_large["seq_scan"], (name, at_large["scans"])
    out.append(Row(LABEL, f"generate {LARGE - SMALL:,} accounts and all their rows (generate_series)",
                   timings[LARGE], f"the first {SMALL:,}", timings[SMALL], "s"))
    return out + rows


if __name__ == "__main__":
    from benchmarks.common import table

    print(table(run()))
