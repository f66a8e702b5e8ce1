"""Publishing throughput through the real `publish` queue, and platform calls per published target.

Starts the product as `make e2e` does: a fresh PostgreSQL database, a private Redis, gunicorn and one
Dramatiq worker (1 process x 4 threads), with the built-in sandbox as the three platforms and its
realistic delays (an Instagram container is IN_PROGRESS for SANDBOX_CONTAINER_SECONDS, twice that
for a video; a TikTok publish spends SANDBOX_TIKTOK_STEP_SECONDS per step) and the production poll
delay (PUBLISH_POLL_DELAY_SECONDS, 20 s). Connects the sandbox's Pages, Instagram accounts and TikTok
creator over OAuth, creates a burst of posts through the API, and waits until every target is done.

Each account gets one content type, so our per-account call counters
(`social.clients.ratelimit.get_call_counts`) give the calls per published target of that type. The
baseline is the fewest calls the platform's flow needs for that type (listed in MINIMUM_CALLS).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import uuid
from datetime import datetime

import psycopg

from benchmarks.common import Row

ROUNDS = 8  # posts per account; ~50 targets in all
DEADLINE_SECONDS = 150
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
IMAGE = "https://cdn.example.com/bench-{}.jpg"
VIDEO = "https://cdn.example.com/bench.mp4"

# The fewest platform calls each flow needs (what the platform's documentation requires, no checks).
MINIMUM_CALLS = {
    "Facebook text": (2, "POST /feed + GET permalink"),
    "Facebook photo": (2, "POST /photos + GET permalink"),
    "Facebook 3 photos": (5, "3 × POST /photos (unpublished) + POST /feed + GET permalink"),
    "Instagram image": (4, "create container + 1 status poll + media_publish + GET permalink"),
    "Instagram reel": (4, "create container + 1 status poll + media_publish + GET permalink"),
    "TikTok video": (4, "creator_info + video/init + 1 status/fetch + video/query (permalink)"),
}


def _post(kind: str, account_id: int, n: int) -> dict:
    image = {"url": IMAGE.format(n), "type": "image"}
    video = {"url": VIDEO, "type": "video"}
    text = f"{kind} #{n} {uuid.uuid4().hex[:6]}"
    return {
        "Facebook text": {"text": text, "accounts": [account_id]},
        "Facebook photo": {"text": text, "media": [image], "accounts": [account_id]},
        "Facebook 3 photos": {"text": text, "media": [image, {"url": IMAGE.format(n + 1000), "type": "image"},
                                                     {"url": IMAGE.format(n + 2000), "type": "image"}], "accounts": [account_id]},
        "Instagram image": {"text": text, "media": [image], "accounts": [account_id]},
        "Instagram reel": {"text": text, "media": [video], "accounts": [account_id], "options": {"instagram": {"kind": "reel"}}},
        "TikTok video": {"text": text, "media": [video], "accounts": [account_id],
                         "options": {"tiktok": {"privacy_level": "PUBLIC_TO_EVERYONE"}}},
    }[kind]


def _call_counts(env: dict, account_ids: list[int]) -> dict[int, dict[str, int]]:
    from tests.servers import manage

    code = ("import json; from social.clients.ratelimit import get_call_counts; "
            f"print(json.dumps({{i: get_call_counts(i) for i in {account_ids!r}}}))")
    out = json.loads(manage(env, "shell", "-c", code).strip().splitlines()[-1])
    return {int(k): v for k, v in out.items()}


def run() -> list[Row]:
    from tests.e2e.test_full_flow import api, connect
    from tests.servers import DramatiqWorker, Gunicorn, PrivateRedis, free_port, manage, server_env

    db = f"unipulse_bench_publish_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    redis = PrivateRedis()
    redis.start()
    port = free_port()
    frontend = f"http://127.0.0.1:{port}/admin/"
    env = server_env(f"postgres://postgres@127.0.0.1:5432/{db}", redis.url, SOCIAL_SANDBOX="true",
                     PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", FRONTEND_URL=frontend, ALLOWED_HOSTS="127.0.0.1",
                     LOG_LEVEL="WARNING", PUBLISH_POLL_DELAY_SECONDS="20",
                     # A day of posting squeezed into two minutes: the hourly Meta budget (200) would pause it.
                     META_CALLS_PER_HOUR="100000")
    server = worker = None
    try:
        manage(env, "migrate", "--noinput")
        token = manage(env, "shell", "-c", (
            "from django.contrib.auth import get_user_model; from rest_framework.authtoken.models import Token;"
            "u = get_user_model().objects.create_user('bench'); print(Token.objects.create(user=u).key)"
        )).strip().splitlines()[-1]
        server = Gunicorn(env, workers=2, threads=4, port=port)
        stack = {"base": server.base, "headers": {"Authorization": f"Token {token}"}, "frontend": frontend}
        connect(stack, "facebook")
        connect(stack, "tiktok")
        accounts = api(stack, "GET", "/api/v1/accounts/?page_size=200").json()["results"]
        by_platform = {p: [a["id"] for a in accounts if a["platform"] == p] for p in ("facebook", "instagram", "tiktok")}
        fb, ig, tt = by_platform["facebook"], by_platform["instagram"], by_platform["tiktok"]
        assert len(fb) >= 3 and len(ig) >= 2 and tt, by_platform
        kinds = {"Facebook text": fb[0], "Facebook photo": fb[1], "Facebook 3 photos": fb[2],
                 "Instagram image": ig[0], "Instagram reel": ig[1], "TikTok video": tt[0]}
        before = _call_counts(env, list(kinds.values()))

        worker = DramatiqWorker(env)
        time.sleep(3)  # the worker imports and connects before the burst
        started = time.time()
        post_kind = {}
        for n in range(ROUNDS):
            for kind, account_id in kinds.items():
                response = api(stack, "POST", "/api/v1/posts/", json=_post(kind, account_id, n))
                assert response.status_code == 201, (kind, response.text)
                post_kind[response.json()["id"]] = kind
        created_s = time.time() - started

        targets: list[dict] = []
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            posts = api(stack, "GET", "/api/v1/posts/?page_size=200").json()["results"]
            targets = [{**t, "kind": post_kind[p["id"]], "created_at": p["created_at"]} for p in posts for t in p["targets"]]
            if all(t["status"] in ("published", "failed", "unconfirmed", "cancelled") for t in targets):
                break
            time.sleep(2)
        after = _call_counts(env, list(kinds.values()))
    finally:
        if worker:
            worker.stop()
        if server:
            server.stop()
        redis.stop()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')

    published = [t for t in targets if t["status"] == "published"]
    assert len(published) == len(kinds) * ROUNDS, {t["status"] for t in targets}
    done_at = [datetime.fromisoformat(t["published_at"]).timestamp() for t in published]
    elapsed = max(done_at) - started
    latencies = [datetime.fromisoformat(t["published_at"]).timestamp() - datetime.fromisoformat(t["created_at"]).timestamp()
                 for t in published]
    bench = f"Publishing ({len(published)} targets, {len(kinds)} content types; `publish` queue, sandbox delays)"
    rows = [
        Row(bench, "targets published per minute", len(published) / elapsed * 60, "—", None, "targets/min", False),
        Row(bench, "median time from create to published", statistics.median(latencies), "—", None, "s"),
        Row(bench, "API requests to create the posts", created_s / len(post_kind) * 1000, "—", None, "ms per post"),
    ]
    for kind, account_id in kinds.items():
        old, new = before.get(account_id, {}), after.get(account_id, {})
        calls = sum(new.values()) - sum(old.values())
        per_endpoint = {k: (v - old.get(k, 0)) / ROUNDS for k, v in new.items() if v != old.get(k, 0)}
        print(f"  {kind}: {per_endpoint}", file=sys.stderr)
        minimum, how = MINIMUM_CALLS[kind]
        rows.append(Row(bench, f"platform calls per published target: {kind}", calls / ROUNDS, f"minimum: {how}",
                        minimum, "calls"))
    return rows


if __name__ == "__main__":
    from benchmarks.common import table

    print(table(run()))
