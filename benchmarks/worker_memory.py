"""Peak memory of a Dramatiq worker process over a 10,000-message run on the real Redis broker.

The baseline, measured in the same run, is the same worker's memory once it has started and
imported everything, before the first message: the ratio shows how much a long run adds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from benchmarks.common import ROOT, Row, setup_django

N_MESSAGES = 10_000


def rss_kib(pid: int) -> int:
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{p}/status") as fh:
                total = max(total, next(int(line.split()[1]) for line in fh if line.startswith("VmRSS")))
        except (OSError, StopIteration):
            continue
    return total


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    kids = [int(x) for x in out]
    return kids + [g for k in kids for g in _children(k)]


def run() -> list[Row]:
    setup_django()
    import dramatiq
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from social.models import SocialAccount
    from tokens.actors import token_refresh
    from workspaces.services import personal_workspace

    owner, _ = get_user_model().objects.get_or_create(username="bench-owner")
    workspace = personal_workspace(owner)
    SocialAccount.objects.filter(workspace=workspace).delete()
    later = timezone.now() + timezone.timedelta(hours=2)
    accounts = SocialAccount.objects.bulk_create([
        SocialAccount(workspace=workspace, platform="tiktok", external_id=f"mem-{i}", access_token="act.x", refresh_token="rft.x",
                      token_expires_at=later, token_refresh_due_at=later) for i in range(100)
    ])
    broker = dramatiq.get_broker()
    broker.flush_all()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "unipulse.settings"}
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "rundramatiq", "--processes", "1", "--threads", "4", "--queues", "token-refresh"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(6)  # start-up: imports, connections
        baseline = rss_kib(worker.pid)
        # Messages for accounts that are not due: each does the lock, the row read and the skip.
        for i in range(N_MESSAGES):
            token_refresh.send(accounts[i % len(accounts)].pk)
        peak, deadline = baseline, time.monotonic() + 600
        start = time.monotonic()
        while time.monotonic() < deadline:
            peak = max(peak, rss_kib(worker.pid))
            if broker.client.hlen(f"{broker.namespace}:token-refresh.msgs") == 0:
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - start
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        SocialAccount.objects.filter(workspace=workspace).delete()
    return [
        Row("Worker, 10,000 token-refresh messages", "peak RSS of the worker process", peak / 1024, "same worker before the run", baseline / 1024, "MiB"),
        Row("Worker, 10,000 token-refresh messages", "messages per second (1 process × 4 threads)", N_MESSAGES / elapsed, "—", None, "msg/s", False),
    ]


if __name__ == "__main__":
    from benchmarks.common import table

    print(table(run()))
