"""Webhook ingestion under load: deliveries/s and latency vs a bare Django view, same server, same run.

Needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL). Starts gunicorn on loopback with
benchmarks.bench_settings, drives it from this (separate) process with real Meta signatures, then
lets one Dramatiq worker drain `webhook-process` and checks every accepted delivery was stored once
and processed exactly once. The deliveries are Page comment events for a connected Page account the
benchmark creates (external id BENCH_PAGE), so each is routed into the inbox: one inbox message per
distinct comment id is counted too. Not part of `make test`.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/unipulse_bench REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python benchmarks/webhook_ingest.py --seconds 10 --concurrency 8
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
APP_SECRET = "bench-app-secret"  # noqa: S105
BENCH_PAGE = "bench-page"  # the entry id of every delivery, and the external id of the Page account created for it
BENCH_USER = "bench-webhooks"


def server_env() -> dict:
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE="benchmarks.bench_settings", DEBUG="false", FACEBOOK_APP_ID="bench-app", FACEBOOK_APP_SECRET=APP_SECRET,
               META_WEBHOOK_VERIFY_TOKEN="bench-verify",
               SECRET_KEY=secrets.token_urlsafe(40), ENCRYPTION_KEY=secrets.token_urlsafe(32),
               ALLOWED_HOSTS="127.0.0.1", PYTHONPATH=str(ROOT))
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not env.get(name):
            sys.exit(f"{name} must be set: the benchmark measures the production path (PostgreSQL + Redis).")
    return env


def delivery(n: int) -> tuple[bytes, dict]:
    body = json.dumps({"object": "page", "entry": [{"id": BENCH_PAGE, "time": int(time.time()), "changes": [
        {"field": "feed", "value": {"item": "comment", "verb": "add", "comment_id": f"1_{n}", "post_id": "bench_1",
                                    "parent_id": "bench_1", "from": {"id": "9", "name": "Bench"}, "message": f"#{n}",
                                    "created_time": int(time.time())}}]}]}).encode()
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": signature}


class Counter:
    def __init__(self) -> None:
        self.lock, self.n = threading.Lock(), 0

    def next(self) -> int:
        with self.lock:
            self.n += 1
            return self.n


def drive(url: str, seconds: float, concurrency: int, rate: float | None, counter: Counter) -> tuple[list[float], int]:
    """Closed loop at `concurrency` (rate=None), or paced to `rate` requests/s overall. Returns latencies, non-200s."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    interval = concurrency / rate if rate else 0.0

    def worker() -> None:
        session = requests.Session()
        next_at = time.perf_counter()
        while time.perf_counter() < deadline:
            body, headers = delivery(counter.next())
            started = time.perf_counter()
            ok = session.post(url, data=body, headers=headers, timeout=10).status_code == 200
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed) if ok else None
                errors[0] += 0 if ok else 1
            if interval:
                next_at += interval
                time.sleep(max(0.0, next_at - time.perf_counter()))

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors[0]


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 100 else max(values) * 1000


def manage(*args: str, env: dict) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"manage.py {args[0]} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def reset_rows(env: dict) -> None:
    """No events left from an earlier run, and one connected Page account (no token: nothing calls Meta)
    that the deliveries are routed to, so that they reach the inbox instead of ending `ignored`."""
    code = (
        "from django.contrib.auth import get_user_model; from conversations.models import WebhookEvent;"
        "from social.models import SocialAccount; from workspaces.services import personal_workspace;"
        "WebhookEvent.objects.all().delete();"
        f"SocialAccount.objects.filter(platform='facebook', external_id={BENCH_PAGE!r}).delete();"
        f"get_user_model().objects.filter(username={BENCH_USER!r}).delete();"
        f"owner = get_user_model().objects.create_user({BENCH_USER!r});"
        f"SocialAccount.objects.create(workspace=personal_workspace(owner), platform='facebook', external_id={BENCH_PAGE!r},"
        "platform_user_id='bench-fb-user', name='Bench Page', status='active')"
    )
    manage("shell", "-c", code, env=env)
    # The rows an earlier run deleted or updated are dead tuples until a vacuum; with autovacuum off (as on
    # the machines here) they pile up in the dedupe index across runs and each run's inserts get slower.
    vacuum = ("from django.db import connection; c = connection.cursor();"
              "[c.execute(f'VACUUM ANALYZE {t}') for t in ('conversations_webhookevent', 'conversations_message',"
              " 'conversations_conversation', 'django_dramatiq_task')]")
    manage("shell", "-c", vacuum, env=env)


def count_rows(env: dict) -> dict:
    code = ("from conversations.models import WebhookEvent as W, Message as M; from django.db.models import Count, Max;"
            "import json; m = M.objects.filter(account__platform='facebook', account__external_id="
            f"{BENCH_PAGE!r});"
            "print(json.dumps({'rows': W.objects.count(), 'by_status': dict(W.objects.values_list('status')"
            ".annotate(n=Count('id'))), 'max_attempts': W.objects.aggregate(m=Max('attempts'))['m'],"
            "'once': W.objects.exclude(status='received').filter(attempts=1).count(),"
            "'messages': m.count(), 'comment_ids': m.values('external_id').distinct().count()}))")
    return json.loads(manage("shell", "-c", code, env=env).strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="peak phases per endpoint, taken in turns")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (the Procfile's WEB_THREADS)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--json", action="store_true", help="print the results as JSON (for benchmarks.run)")
    args = parser.parse_args()
    env = server_env()
    manage("migrate", "--noinput", env=env)
    reset_rows(env)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "unipulse.wsgi:application", "--bind", f"127.0.0.1:{args.port}",
         "--workers", str(args.workers), "--threads", str(args.threads), "--log-level", "warning"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(300):  # gunicorn can take a while to boot on a busy machine
            try:
                requests.post(f"{base}/bench/bare", timeout=1)
                break
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or a worker still importing
                time.sleep(0.1)
        counter = Counter()
        # Warm-up, each endpoint alike: a path's first requests open the server threads' database
        # connections and import what it uses, which is not what either phase measures.
        drive(f"{base}/bench/bare", 1, args.concurrency, None, counter)
        warm, _ = drive(f"{base}/api/v1/webhooks/meta", 1, args.concurrency, None, counter)
        accepted = len(warm)  # stored like the others: counted in the exactly-once check
        endpoints = (("bare Django view", "/bench/bare"), ("POST /api/v1/webhooks/meta", "/api/v1/webhooks/meta"))
        # Peak: the two endpoints take turns, `rounds` times, so that whatever else the machine does
        # meanwhile (a checkpoint, a neighbour) falls on both alike; each figure is over all its rounds.
        latencies = {path: [] for _, path in endpoints}
        errors = dict.fromkeys(latencies, 0)
        round_ratios = []
        for _ in range(args.rounds):
            per_round = {}
            for _, path in endpoints:
                lat, failed = drive(base + path, args.seconds, args.concurrency, None, counter)
                latencies[path] += lat
                errors[path] += failed
                per_round[path] = len(lat)
            round_ratios.append(per_round["/api/v1/webhooks/meta"] / per_round["/bench/bare"])
        accepted += len(latencies["/api/v1/webhooks/meta"])
        rows = []
        for name, path in endpoints:
            lat = latencies[path]
            peak = len(lat) / (args.seconds * args.rounds)
            half, _ = drive(base + path, args.seconds, args.concurrency, peak / 2, counter)
            rows.append((name, peak, p(lat, 50), p(lat, 99), p(half, 99), errors[path]))
            if path.endswith("meta"):
                accepted += len(half)
    finally:
        server.terminate()
        server.wait(10)

    worker = subprocess.Popen([sys.executable, "manage.py", "rundramatiq", "--processes", "1", "--threads", "4",
                               "--queues", "webhook-process"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            stats = count_rows(env)
            if not stats["by_status"].get("received"):
                break
            time.sleep(1)
    finally:
        worker.terminate()
        worker.wait(30)

    # Every delivery carries its own comment id: one inbox message each, from a `processed` event.
    exactly_once = (stats["rows"] == accepted and stats["max_attempts"] == 1 and not stats["by_status"].get("received")
                    and stats["by_status"].get("processed", 0) == accepted
                    and stats["messages"] == stats["comment_ids"] == accepted)
    if args.json:
        keys = ("name", "peak", "p50", "p99", "p99_half", "errors")
        print(json.dumps({"endpoints": [dict(zip(keys, row, strict=True)) for row in rows], "accepted": accepted,
                          "stored": stats["rows"], "processed_once": stats["once"], "exactly_once": exactly_once,
                          "processed": stats["by_status"].get("processed", 0), "inbox_messages": stats["messages"],
                          "seconds": args.seconds, "rounds": args.rounds, "round_ratios": round_ratios,
                          "concurrency": args.concurrency, "workers": args.workers,
                          "threads": args.threads}))
        return
    print("| Endpoint | Peak deliveries/s | p50 at peak (ms) | p99 at peak (ms) | p99 at half of peak (ms) | non-200 |")
    print("|---|---|---|---|---|---|")
    for name, peak, p50, p99, half99, errors in rows:
        print(f"| {name} | {peak:.0f} | {p50:.1f} | {p99:.1f} | {half99:.1f} | {errors} |")
    print(f"\npeak ratio per round (webhook / bare): {', '.join(f'{r:.3f}' for r in round_ratios)}")
    print(f"webhook deliveries accepted: {accepted}; rows stored: {stats['rows']}; by status: {stats['by_status']}; "
          f"max attempts: {stats['max_attempts']}; inbox messages: {stats['messages']} "
          f"({stats['comment_ids']} distinct comment ids)")
    print("every accepted delivery stored once and processed exactly once:", "yes" if exactly_once else "NO")


def run() -> list:
    """For benchmarks.run: this script in its own process, 5 s per phase (three peak turns each), on a free port."""
    from benchmarks.common import Row
    from tests.servers import free_port

    done = subprocess.run([sys.executable, "-m", "benchmarks.webhook_ingest", "--json", "--seconds", "5",
                           "--port", str(free_port())], cwd=ROOT, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode:
        raise RuntimeError(f"webhook_ingest failed:\n{done.stderr[-3000:]}")
    r = json.loads(done.stdout.strip().splitlines()[-1])
    bare, hook = r["endpoints"]
    bench = (f"Webhook ingestion (`POST /api/v1/webhooks/meta`, gunicorn {r['workers']} workers × {r['threads']} threads, "
             f"{r['concurrency']} connections)")
    base = "bare Django view, same server"
    rows = [
        Row(bench, f"deliveries per second at peak ({r['rounds']} turns of {r['seconds']:g} s each; ratio per turn "
                   f"{', '.join(f'{x:.2f}' for x in r['round_ratios'])})", hook["peak"], base, bare["peak"], "req/s", False),
        Row(bench, "p50 latency at peak", hook["p50"], base, bare["p50"], "ms"),
        Row(bench, "p99 latency at peak", hook["p99"], base, bare["p99"], "ms"),
        Row(bench, "p99 latency at half of peak", hook["p99_half"], base, bare["p99_half"], "ms"),
        Row(bench, "non-200 answers", hook["errors"], base, bare["errors"], ""),
        Row(bench, "deliveries processed exactly once", r["processed_once"], "deliveries accepted", r["accepted"],
            "", False),
        Row(bench, "inbox messages (one per distinct comment id)", r["inbox_messages"], "deliveries accepted",
            r["accepted"], "", False),
    ]
    if not r["exactly_once"]:
        raise RuntimeError(f"not every accepted delivery was processed exactly once: {r}")
    return rows


if __name__ == "__main__":
    main()
