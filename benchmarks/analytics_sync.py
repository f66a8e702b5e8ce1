"""Benchmark: API calls of one full analytics sync vs the per-post approach, on mocked platforms.

One account per platform holding 500 posts in the sync window. Platforms are mocked with `responses`
(no network), so "posts/s" measures our side: parsing and bulk writes to the database (PostgreSQL under
`make bench`, in-memory SQLite when DATABASE_URL is unset).
Run: `make bench` (or .venv/bin/python benchmarks/analytics_sync.py [--posts N]). Not part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import responses  # noqa: E402

GRAPH = TIKTOK = ""
NOW = datetime.now(tz=UTC)
REFUSE_MULTI_ID = [False]  # set: Graph refuses every multi-id read as a whole (code 100 for every id)


def _setup() -> None:
    """Django on DATABASE_URL (in-memory SQLite when unset), platforms mocked, no budget in the way."""
    global GRAPH, TIKTOK
    os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "unipulse.settings", "DEBUG": "true", "REDIS_URL": "", "META_CALLS_PER_HOUR": "1000000",
        "ANALYTICS_BUDGET_RESERVE": "0", "LOG_LEVEL": "ERROR", "FACEBOOK_APP_SECRET": "bench-secret",
        "SOCIAL_SANDBOX": "false",
    })
    import django

    django.setup()
    from django.conf import settings

    GRAPH = f"{settings.META_GRAPH_URL}/{settings.META_GRAPH_VERSION}"
    TIKTOK = settings.TIKTOK_API_URL


def _ages(n: int) -> list[datetime]:
    from django.conf import settings

    step = timedelta(days=settings.ANALYTICS_WINDOW_DAYS - 2) / n  # all inside the window, newest first
    return [NOW - step * (i + 1) for i in range(n)]


def _insights(names: list[str], seed: int) -> dict:
    return {"data": [{"name": n, "period": "lifetime", "values": [{"value": seed * 3 + i}], "title": n, "id": f"x/{n}"}
                     for i, n in enumerate(names)]}


def _metrics(fields: str) -> list[str]:
    return fields.split("insights.metric(")[1].rstrip(")").split(",") if "insights.metric(" in fields else []


def _graph_page(items: list[dict], request, base: str) -> tuple[int, dict, str]:
    q = {k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()}
    start, limit = int(q.get("after", 0)), int(q.get("limit", 25))
    page = items[start:start + limit]
    metrics = _metrics(q.get("fields", ""))
    data = [{**item, "insights": _insights(metrics, i)} for i, item in enumerate(page)]
    body: dict = {"data": data, "paging": {"cursors": {"before": str(start), "after": str(start + limit)}}}
    if start + limit < len(items):
        body["paging"]["next"] = f"{base}?after={start + limit}"
    return 200, {}, json.dumps(body)


def mock_platforms(rsps: responses.RequestsMock, n: int) -> None:
    fb_posts = [{"id": f"101_{i}", "created_time": t.strftime("%Y-%m-%dT%H:%M:%S+0000"), "message": f"post {i}",
                 "permalink_url": f"https://www.facebook.com/101/posts/{i}", "status_type": "added_photos",
                 "shares": {"count": i % 7},
                 "reactions": {"data": [], "summary": {"total_count": i}},
                 "comments": {"data": [], "summary": {"total_count": i % 11}}} for i, t in enumerate(_ages(n))]
    ig_media = [{"id": f"179{i:014d}", "caption": f"media {i}", "media_type": "VIDEO" if i % 3 == 0 else "IMAGE",
                 "media_product_type": "REELS" if i % 3 == 0 else "FEED",
                 "timestamp": t.strftime("%Y-%m-%dT%H:%M:%S+0000"), "permalink": f"https://www.instagram.com/p/{i}/",
                 "like_count": i, "comments_count": i % 9} for i, t in enumerate(_ages(n))]
    videos = [{"id": f"744{i:016d}", "title": f"video {i}", "create_time": int(t.timestamp()),
               "share_url": f"https://www.tiktok.com/@b/video/{i}", "view_count": 100 * i, "like_count": i,
               "comment_count": i % 5, "share_count": i % 3} for i, t in enumerate(_ages(n))]
    by_id = {v["id"]: v for v in videos}

    rsps.add_callback("GET", f"{GRAPH}/101/published_posts", callback=lambda r: _graph_page(fb_posts, r, "fb"))
    rsps.add_callback("GET", f"{GRAPH}/17841400000000001/media", callback=lambda r: _graph_page(ig_media, r, "ig"))
    rsps.get(f"{GRAPH}/17841400000000001/stories", json={"data": []})
    rsps.get(f"{GRAPH}/101", json={"followers_count": 1520, "fan_count": 1433, "id": "101"})
    rsps.get(f"{GRAPH}/17841400000000001", json={"followers_count": 8421, "follows_count": 310, "media_count": n})
    ok = {"code": "ok", "message": "", "log_id": "bench"}
    rsps.get(f"{TIKTOK}/v2/user/info/", json={"data": {"user": {"follower_count": 15234}}, "error": ok})

    def video_list(request):
        cursor = json.loads(request.body).get("cursor") or 10 ** 15
        older = [v for v in videos if v["create_time"] * 1000 < cursor][:20]
        more = len([v for v in videos if v["create_time"] * 1000 < cursor]) > 20
        next_cursor = older[-1]["create_time"] * 1000 if older else 0
        return 200, {}, json.dumps({"data": {"videos": older, "cursor": next_cursor, "has_more": more}, "error": ok})

    def video_query(request):
        ids = json.loads(request.body)["filters"]["video_ids"]
        return 200, {}, json.dumps({"data": {"videos": [by_id[i] for i in ids if i in by_id]}, "error": ok})

    rsps.add_callback("POST", f"{TIKTOK}/v2/video/list/", callback=video_list)
    rsps.add_callback("POST", f"{TIKTOK}/v2/video/query/", callback=video_query)
    # Graph's multi-id lookup (GET /?ids=...): the Reels-only and feed-only metrics of a listed page.
    def multiple_ids(request):
        if REFUSE_MULTI_ID[0]:
            return 400, {}, json.dumps({"error": {"message": "(#100) Unsupported get request.", "code": 100,
                                                  "type": "GraphMethodException", "fbtrace_id": "Abench"}})
        q = {k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()}
        metrics = _metrics(q.get("fields", ""))
        return 200, {}, json.dumps({i: {"id": i, "insights": _insights(metrics, n)} for n, i in enumerate(q["ids"].split(","))})

    rsps.add_callback("GET", f"{GRAPH}/", callback=multiple_ids)
    # The per-post approach: one insights call and one engagement call per post (Graph).
    rsps.add_callback("GET", re.compile(rf"{GRAPH}/(101_\d+|179\d+)/insights"),
                      callback=lambda r: (200, {}, json.dumps(_insights(["post_media_view"], 1))))
    rsps.add_callback("GET", re.compile(rf"{GRAPH}/(101_\d+|179\d+)"),
                      callback=lambda r: (200, {}, json.dumps({"id": "x", "shares": {"count": 1}})))


def per_post_calls(account, post_ids: list[str]) -> int:
    """What the seed did: for each post, GET /{id}/insights and GET /{id}?fields=engagement (TikTok: a query per id)."""
    from social.clients import meta, tiktok

    calls = 0
    for pid in post_ids:
        if account.platform == "tiktok":
            tiktok.query_videos(account, [pid])
            calls += 1
            continue
        meta.call(account, "GET", f"{pid}/insights", endpoint="bench.insights", params={"metric": "post_media_view"})
        meta.call(account, "GET", pid, endpoint="bench.engagement", params={"fields": "shares,likes.summary(true)"})
        calls += 2
    return calls


def refused_multi_id_syncs(rsps: responses.RequestsMock, account) -> tuple[int, int]:
    """API calls of one full Instagram sync whose every per-type multi-id call is refused, and of the same
    sync with the per-type metrics turned off (ANALYTICS_TYPE_METRICS_DAYS=0), each from scratch."""
    from django.core.cache import cache
    from django.test import override_settings

    from analytics.models import SyncRun, TrackedPost
    from analytics.services import sync_account

    def from_scratch() -> int:
        TrackedPost.objects.filter(account=account).delete()
        SyncRun.objects.filter(account=account).delete()
        cache.clear()  # no pause left from an earlier refusal
        before = len(rsps.calls)
        sync_account(account.id)
        return len(rsps.calls) - before

    with override_settings(ANALYTICS_TYPE_METRICS_DAYS=0):
        without = from_scratch()
    REFUSE_MULTI_ID[0] = True
    try:
        refused = from_scratch()
    finally:
        REFUSE_MULTI_ID[0] = False
    return refused, without


def later_hourly_syncs(rsps: responses.RequestsMock, account, hours: int = 24) -> list[tuple[int, int]]:
    """(calls, snapshots) of each of the next `hours` hourly syncs, on a clock moved forward an hour at a time.

    The rows are left as the first sync wrote them: each later sync finds due exactly the posts the
    cadence made due by then, and pays for the pages it really has to read.
    """
    from unittest import mock

    from django.utils import timezone

    from analytics.models import PostMetricSnapshot
    from analytics.services import sync_account

    real_now, results = timezone.now, []
    for hour in range(1, hours + 1):
        calls, snapshots = len(rsps.calls), PostMetricSnapshot.objects.filter(tracked_post__account=account).count()
        with mock.patch("django.utils.timezone.now", side_effect=lambda h=hour: real_now() + timedelta(hours=h)):
            sync_account(account.id)
        results.append((len(rsps.calls) - calls,
                        PostMetricSnapshot.objects.filter(tracked_post__account=account).count() - snapshots))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--json", action="store_true", help="print the results as JSON (for benchmarks.run)")
    args = parser.parse_args()
    n = args.posts
    _setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    from analytics.models import PostMetricSnapshot, TrackedPost
    from analytics.services import sync_account
    from social.models import SocialAccount
    from workspaces.services import personal_workspace

    get_user_model().objects.filter(username="bench-analytics").delete()
    owner = get_user_model().objects.create_user("bench-analytics")
    workspace = personal_workspace(owner)
    accounts = [
        SocialAccount.objects.create(workspace=workspace, platform="facebook", external_id="101", platform_user_id="u1", access_token="t1"),
        SocialAccount.objects.create(workspace=workspace, platform="instagram", external_id="17841400000000001",
                                     platform_user_id="u2", access_token="t2"),
        SocialAccount.objects.create(workspace=workspace, platform="tiktok", external_id="open-1", access_token="t3"),
    ]
    rows = []
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_platforms(rsps, n)
        for account in accounts:
            before = len(rsps.calls)
            started = time.perf_counter()
            sync_account(account.id)
            elapsed = time.perf_counter() - started
            calls = len(rsps.calls) - before
            synced = PostMetricSnapshot.objects.filter(tracked_post__account=account).count()
            ids = list(TrackedPost.objects.filter(account=account).values_list("platform_post_id", flat=True))
            before = len(rsps.calls)
            baseline = per_post_calls(account, ids)
            assert len(rsps.calls) - before == baseline
            later = later_hourly_syncs(rsps, account)
            rows.append((account.platform, synced, calls, calls / synced, baseline, baseline / synced, synced / elapsed,
                         later[0][0], later[0][1], sum(c for c, _ in later), sum(s for _, s in later)))
        refused = refused_multi_id_syncs(rsps, accounts[1])

    if args.json:
        keys = ("platform", "posts", "calls", "calls_per_post", "per_post_calls", "per_post_calls_per_post", "posts_per_s",
                "calls_1h_later", "snapshots_1h_later", "calls_next_24h", "snapshots_next_24h")
        results = [dict(zip(keys, row, strict=True)) for row in rows]
        results[1].update(calls_multi_id_refused=refused[0], calls_without_type_metrics=refused[1])
        print(json.dumps(results))
        return
    print(f"instagram sync, every multi-id call refused: {refused[0]} calls; without per-type metrics: {refused[1]}")

    header = ("platform", "posts", "batched calls", "calls/post", "per-post calls", "calls/post", "posts/s",
              "calls 1 h later", "snapshots 1 h later", "calls next 24 h", "snapshots next 24 h")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for platform, synced, calls, ratio, baseline, base_ratio, rate, *later in rows:
        print(f"| {platform} | {synced} | {calls} | {ratio:.3f} | {baseline} | {base_ratio:.2f} | {rate:,.0f} | "
              + " | ".join(str(v) for v in later) + " |")


def run() -> list:
    """For benchmarks.run: this script in its own process (its own settings), on the bench PostgreSQL."""
    import subprocess

    from benchmarks.common import ROOT, Row

    done = subprocess.run([sys.executable, "-m", "benchmarks.analytics_sync", "--json"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode:
        raise RuntimeError(f"analytics_sync failed:\n{done.stderr[-3000:]}")
    rows = []
    for r in json.loads(done.stdout.strip().splitlines()[-1]):
        bench = f"Analytics sync, {r['platform']} ({r['posts']} posts, platform mocked)"
        rows.append(Row(bench, "API calls per synced post", r["calls_per_post"], "per-post approach", r["per_post_calls_per_post"], "calls"))
        rows.append(Row(bench, "API calls of the next hourly sync (clock +1 h)", r["calls_1h_later"], "first full sync", r["calls"], "calls"))
        rows.append(Row(bench, "API calls of the next 24 hourly syncs, together", r["calls_next_24h"], "24 full syncs",
                        24 * r["calls"], "calls"))
        rows.append(Row(bench, "post snapshots of the next 24 hourly syncs (by cadence)", r["snapshots_next_24h"],
                        "one per post per hour", 24 * r["posts"], "snapshots", False))
        rows.append(Row(bench, "posts synced per second (our side)", r["posts_per_s"], "—", None, "posts/s", False))
        if "calls_multi_id_refused" in r:
            rows.append(Row(bench, "API calls of a full sync whose every per-type multi-id call is refused",
                            r["calls_multi_id_refused"], "same sync, per-type metrics off", r["calls_without_type_metrics"],
                            "calls"))
    return rows


if __name__ == "__main__":
    main()
