"""Redis stopped in the middle of a stream of signed Meta webhook deliveries, then restarted.

Four threads post validly signed deliveries (Page comments and Messenger messages for a connected
sandbox Page, some sent twice as Meta does) to gunicorn while a Dramatiq worker consumes. Redis runs
without persistence, so messages queued before the stop are gone after the restart too. Every
delivery must be answered 200 and stored; after the restart `manage.py process_webhooks` re-sends
what is still waiting, and each delivery is processed exactly once.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections import Counter

import pytest
import requests

from tests.servers import PrivateRedis, manage, wait_for

from .stack import running_stack

pytestmark = pytest.mark.faults

APP_SECRET = "sandbox-app-secret"  # the Meta app secret the sandbox configures (docs/platforms.md, "Sandbox")


def delivery(page_id: str, n: int) -> tuple[bytes, str]:
    """A Page feed comment (even n) or a Messenger message (odd n), as Meta sends it; and its external id."""
    now = int(time.time())
    if n % 2 == 0:
        external_id = f"{page_id}_900{n}_{n}"
        value = {"item": "comment", "verb": "add", "comment_id": external_id, "post_id": f"{page_id}_900{n}",
                 "parent_id": f"{page_id}_900{n}", "from": {"id": f"7000{n}", "name": f"Fan {n}"},
                 "message": f"Comment number {n}", "created_time": now}
        payload = {"object": "page", "entry": [{"id": page_id, "time": now, "changes": [{"field": "feed", "value": value}]}]}
    else:
        external_id = f"m_fault_{n}"
        payload = {"object": "page", "entry": [{"id": page_id, "time": now * 1000, "messaging": [{
            "sender": {"id": f"7000{n}"}, "recipient": {"id": page_id}, "timestamp": now * 1000,
            "message": {"mid": external_id, "text": f"Message number {n}"}}]}]}
    return json.dumps(payload, separators=(",", ":")).encode(), external_id


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


def test_every_delivery_accepted_while_redis_is_down_is_processed_once(private_postgres):
    redis = PrivateRedis()
    redis.start()
    try:
        with running_stack(private_postgres, redis, WEBHOOK_RESEND_AFTER_SECONDS="0") as stack:
            from tests.e2e.test_full_flow import connect

            stack.start_worker()
            connect(stack, "facebook")
            page_id = stack.accounts()["facebook"][0]["external_id"]
            run(stack, redis, page_id)
    finally:
        redis.stop()


def run(stack, redis: PrivateRedis, page_id: str) -> None:
    numbers = itertools.count()
    lock = threading.Lock()
    sent: dict[str, int] = {}  # external id -> times posted
    statuses: Counter = Counter()
    phase = {"name": "before"}
    during_outage = Counter()
    stop = threading.Event()

    def sender():
        session = requests.Session()
        while not stop.is_set():
            with lock:
                n = next(numbers)
            body, external_id = delivery(page_id, n)
            copies = 2 if n % 10 == 0 else 1  # Meta repeats some deliveries
            for _ in range(copies):
                try:
                    status = session.post(stack.base + "/api/v1/webhooks/meta", data=body, timeout=10, headers={
                        "Content-Type": "application/json", "X-Hub-Signature-256": sign(body)}).status_code
                except requests.RequestException:
                    status = "no answer"
                with lock:
                    statuses[status] += 1
                    sent[external_id] = sent.get(external_id, 0) + 1
                    during_outage[phase["name"]] += 1

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(2)
        phase["name"] = "redis down"
        redis.stop()
        time.sleep(3)
        phase["name"] = "after"
        redis.start()  # same port, empty: whatever was queued before the stop is gone
        time.sleep(2)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)

    accepted = len(sent)
    posts = sum(sent.values())
    assert statuses == Counter({200: posts}), statuses  # every delivery answered 200, Redis up or down
    assert during_outage["redis down"] >= 20, during_outage  # the outage was really hit

    stored = stack.one("SELECT count(*) FROM conversations_webhookevent")
    assert stored == accepted  # one row per distinct delivery: repeats de-duplicated

    # The worker drains what reached Redis; then what never did is still waiting.
    def settled():
        counts = dict(stack.sql("SELECT status, count(*) FROM conversations_webhookevent GROUP BY status"))
        time.sleep(3)
        return counts if counts == dict(stack.sql("SELECT status, count(*) FROM conversations_webhookevent GROUP BY status")) else None

    before_resend = wait_for(settled, timeout=90, interval=0)
    waiting = before_resend.get("received", 0)
    assert waiting > 0, before_resend  # deliveries stored while Redis was down were not enqueued
    out = manage(stack.env, "process_webhooks")
    assert f"{waiting} waiting, {waiting} enqueued" in out, out
    wait_for(lambda: stack.one("SELECT count(*) FROM conversations_webhookevent WHERE status = 'processed'") == accepted,
             timeout=90, interval=0.5)

    attempts = dict(stack.sql("SELECT attempts, count(*) FROM conversations_webhookevent GROUP BY attempts"))
    assert attempts == {1: accepted}, attempts  # each processed exactly once
    per_id = dict(stack.sql("SELECT external_id, count(*) FROM conversations_message WHERE external_id = ANY(%s) "
                            "GROUP BY external_id", list(sent)))
    assert per_id == dict.fromkeys(sent, 1), {k: v for k, v in per_id.items() if v != 1} or len(per_id)
    print(f"\nwebhooks: {posts} posted ({posts - accepted} repeats), {during_outage['redis down']} while Redis was down, "
          f"all answered 200; {accepted} stored, {waiting} re-sent by process_webhooks, {accepted} processed once, "
          f"{len(per_id)} inbox messages")
