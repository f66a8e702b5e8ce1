"""Outgoing webhooks: 10,000 events fanned out to a local receiver, against a bare loop of POSTs to it.

The receiver is a bare WSGI app under gunicorn on loopback (benchmarks.webhook_receiver_app). Events are
recorded one transaction each, as the product writes them, then one Dramatiq worker (the Procfile's
`rundramatiq`, 2 processes × 4 threads) delivers them from Redis while they are written. Reported: events
delivered per second (first commit to last arrival), p50/p99 from each event's commit to its arrival,
lost events (never arrived) and events delivered twice although the receiver answered 2xx. The baseline is
a loop of the same number of POSTs of the same size from one thread with a kept-alive connection.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/unipulse_bench REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python -m benchmarks.webhook_delivery --events 10000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else 0.0


def read_log(path: str) -> list[tuple[str, str, float]]:
    rows = []
    for line in Path(path).read_text().splitlines():
        delivery, event, at = line.split()
        rows.append((delivery, event, float(at)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--latency-events", type=int, default=1000,
                        help="events committed while the worker runs, for commit-to-arrival latency")
    parser.add_argument("--processes", type=int, default=2, help="worker processes (the Procfile's default)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker process (the Procfile's default)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(name):
            sys.exit(f"{name} must be set: the benchmark measures the production path (PostgreSQL + Redis).")
    os.environ.update(WEBHOOK_ALLOW_HTTP="true", WEBHOOK_ALLOW_PRIVATE_ADDRESSES="true", DEBUG="true",
                      DJANGO_SETTINGS_MODULE="benchmarks.bench_settings")
    from benchmarks.common import setup_django
    from tests.servers import free_port

    setup_django()
    import dramatiq
    import requests
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.db.models import Count

    from events.models import Delivery, Event, WebhookEndpoint
    from unipulse import hooks
    from workspaces.services import personal_workspace

    log = tempfile.NamedTemporaryFile(prefix="receiver-", suffix=".log", delete=False).name
    port = free_port()
    env = {**os.environ, "RECEIVER_LOG": log, "PYTHONPATH": str(ROOT)}
    receiver = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "benchmarks.webhook_receiver_app:application", "--bind",
         f"127.0.0.1:{port}", "--workers", "2", "--threads", "8", "--worker-class", "gthread", "--log-level",
         "warning"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/unipulse"
    worker = None
    try:
        for _ in range(300):
            try:
                requests.post(url, data=b"{}", timeout=1)
                break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)

        # Baseline: the same number of POSTs of the same size, one thread, one kept-alive connection.
        body = json.dumps({"id": "evt_" + "0" * 32, "type": "target.published", "workspace": 1,
                           "occurred_at": "2026-12-04T00:00:00Z", "data": {"object": {"id": 1, "status": "published",
                                                                                        "text": "x" * 200}}}).encode()
        session = requests.Session()
        started = time.perf_counter()
        for _ in range(args.events):
            session.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=5).raise_for_status()
        bare_rate = args.events / (time.perf_counter() - started)
        Path(log).write_text("")

        Event.objects.all().delete()
        WebhookEndpoint.objects.all().delete()
        user, _ = get_user_model().objects.get_or_create(username="bench-events")
        workspace = personal_workspace(user)
        WebhookEndpoint.objects.create(workspace=workspace, url=url, event_types=["*"], secret="whsec_bench")
        dramatiq.get_broker().flush("webhook-deliver")

        def produce(count: int, per_second: float | None = None) -> dict[str, float]:
            committed: dict[str, float] = {}
            begin = time.time()
            for n in range(count):
                if per_second:  # paced: each event at its time, never a burst to catch up
                    time.sleep(max(0.0, begin + n / per_second - time.time()))
                with transaction.atomic():
                    event = hooks.record_event(workspace.pk, "target.published",
                                               {"object": {"id": n, "status": "published", "text": "x" * 200}})
                committed[event.public_id] = time.time()  # on_commit sent its delivery just before this
            return committed

        def wait_delivered(count: int) -> None:
            deadline = time.time() + 900
            while time.time() < deadline and Delivery.objects.filter(status="delivered").count() < count:
                time.sleep(0.25)

        def start_worker():
            return subprocess.Popen(
                [sys.executable, "manage.py", "rundramatiq", "--processes", str(args.processes),
                 "--threads", str(args.threads),
                 "--queues", "webhook-deliver"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)

        # Throughput: the events are all committed (their messages waiting in Redis), then one worker drains them.
        started = time.time()
        committed = produce(args.events)
        produce_seconds = time.time() - started
        worker = start_worker()
        wait_delivered(args.events)
        time.sleep(1)
        arrivals = read_log(log)
        times = sorted(at for _, _, at in arrivals)
        rate = len(times) / (times[-1] - times[0]) if len(times) > 1 else 0.0
        # Latency: with the worker running, events committed at half the rate just measured.
        Path(log).write_text("")
        late = produce(args.latency_events, per_second=rate / 2)
        committed.update(late)
        wait_delivered(args.events + args.latency_events)
        time.sleep(1)
        arrivals += read_log(log)
        by_event: dict[str, list[float]] = {}
        for _, event_id, at in arrivals:
            by_event.setdefault(event_id, []).append(at)
        lost = len(set(committed) - set(by_event))
        twice = sum(1 for times in by_event.values() if len(times) > 1)
        latencies = [min(by_event[e]) - late[e] for e in late if e in by_event]
        statuses = dict(Delivery.objects.values_list("status").annotate(n=Count("id")))
    finally:
        if worker:
            worker.terminate()
            worker.wait(30)
        receiver.terminate()
        receiver.wait(10)
        Path(log).unlink(missing_ok=True)
    result = {"events": args.events, "latency_events": args.latency_events, "rate": rate, "bare_rate": bare_rate, "p50": p(latencies, 50),
              "p99": p(latencies, 99), "lost": lost, "twice": twice, "statuses": statuses,
              "produce_rate": args.events / produce_seconds, "threads": args.threads,
              "processes": args.processes}
    if args.json:
        print(json.dumps(result))
        return
    print(json.dumps(result, indent=2))


def run() -> list:
    """For benchmarks.run: this script in its own process."""
    from benchmarks.common import Row

    done = subprocess.run([sys.executable, "-m", "benchmarks.webhook_delivery", "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=1800, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode:
        raise RuntimeError(f"webhook_delivery failed:\n{done.stderr[-3000:]}")
    r = json.loads(done.stdout.strip().splitlines()[-1])
    bench = (f"Outgoing webhooks: {r['events']:,} events to a local gunicorn receiver (worker {r['processes']} "
             f"processes × {r['threads']} threads)")
    return [
        Row(bench, "events delivered per second (all committed first, then drained)", r["rate"],
            "bare loop of POSTs, one kept-alive connection", r["bare_rate"], "events/s", False),
        Row(bench, f"p50 from commit to arrival ({r['latency_events']:,} events at half that rate)", r["p50"],
            "—", None, "ms"),
        Row(bench, f"p99 from commit to arrival ({r['latency_events']:,} events at half that rate)", r["p99"],
            "—", None, "ms"),
        Row(bench, "events lost", r["lost"], "events recorded", r["events"] + r["latency_events"], ""),
        Row(bench, "events delivered twice after a 2xx", r["twice"], "events recorded",
            r["events"] + r["latency_events"], ""),
    ]


if __name__ == "__main__":
    main()
