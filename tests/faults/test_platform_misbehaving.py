"""The platforms misbehaving, over real HTTP: the sandbox's failure injection in front of gunicorn and
a Dramatiq worker. Each case publishes one post and checks the bounded reaction, the final target
and account states, that the platform holds at most one post, and what reached the platform: the
sandbox's calls are counted from gunicorn's access log, and every Graph call must have been taken
from the Facebook user's hourly budget (the budget counter in Redis moves exactly as much).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis as redis_lib

from tests.servers import PrivateRedis, wait_for

from .stack import IMAGE, VIDEO, connect_all, running_stack

pytestmark = pytest.mark.faults

GRAPH, TIKTOK = "/sandbox/graph/", "/sandbox/tiktok-api/"
READ_TIMEOUT = 2  # PLATFORM_HTTP_READ_TIMEOUT for this stack; the "slow" case answers after 4 s
QUIET = 3.0  # seconds a waiting target is watched: no call may reach the platform meanwhile


@pytest.fixture(scope="module")
def stack(private_postgres):
    server = PrivateRedis()
    server.start()
    try:
        # A 5xx'd Facebook commit is posted again only after the reconcile grace period: 5 s, not 2 min, here.
        with running_stack(private_postgres, server, PUBLISH_POLL_DELAY_SECONDS="1", SANDBOX_CONTAINER_SECONDS="1",
                           SANDBOX_TIKTOK_STEP_SECONDS="1", PLATFORM_HTTP_READ_TIMEOUT=str(READ_TIMEOUT),
                           PUBLISH_RECONCILE_GRACE_SECONDS="5") as stack:
            stack.start_worker()
            stack.accounts_by_platform = connect_all(stack)
            stack.redis = redis_lib.Redis.from_url(server.url)
            yield stack
    finally:
        server.stop()


def reset(stack) -> None:
    """A clean slate between cases: no queued failure, no rate-limit pause, every account active and unblocked."""
    stack.clear_failures()
    for pattern in ("unipulse:rl:pause:*", "unipulse:rl:strike:*"):
        keys = list(stack.redis.scan_iter(match=pattern))
        if keys:
            stack.redis.delete(*keys)
    stack.sql("UPDATE social_socialaccount SET blocked_until = NULL, status = 'active', status_reason = ''")


def budget_used(stack) -> int:
    return sum(stack.redis.zcard(key) for key in stack.redis.scan_iter(match="unipulse:rl:budget:meta:user:*"))


def sandbox_posts(stack, text: str, kind: str) -> int:
    """Posts the platform holds with this text: TikTok publish jobs (a private video has no public post), or Meta posts."""
    if kind == "tiktok":
        return stack.one("SELECT count(*) FROM sandbox_publishjob WHERE title = %s", text)
    return stack.one("SELECT count(*) FROM sandbox_post WHERE message = %s", text)


def body_for(stack, kind: str, text: str) -> dict:
    accounts = stack.accounts_by_platform
    if kind == "facebook":
        return {"text": text, "accounts": [accounts["facebook"][0]["id"]]}
    if kind == "instagram":
        return {"text": text, "media": [{"url": IMAGE.format(1), "type": "image"}], "accounts": [accounts["instagram"][0]["id"]]}
    return {"text": text, "media": [{"url": VIDEO, "type": "video"}], "accounts": [accounts["tiktok"][0]["id"]],
            "options": {"tiktok": {"privacy_level": "SELF_ONLY"}}}


def page_id(stack) -> str:
    return stack.accounts_by_platform["facebook"][0]["external_id"]


def ig_id(stack) -> str:
    return stack.accounts_by_platform["instagram"][0]["external_id"]


# (case id, account kind, failure to inject (a function of the stack), expected outcome)
CASES = [
    ("5xx on a GET: retried in place", "instagram",
     lambda s: dict(kind="server_error", platform="meta", path="content_publishing_limit", method="GET", status=503, count=2),
     "published:0"),
    ("5xx on the commit: retried after backoff, reconciled", "facebook",
     lambda s: dict(kind="server_error", platform="meta", path=f"{page_id(s)}/feed", method="POST", status=500),
     "published:1"),
    ("slow commit beyond the read timeout: reconciled, not reposted", "facebook",
     lambda s: dict(kind="slow", platform="meta", path=f"{page_id(s)}/feed", method="POST", delay=READ_TIMEOUT + 2),
     "published:1"),
    ("TikTok 429 with Retry-After", "tiktok",
     lambda s: dict(kind="rate_limit", platform="tiktok", path="video/init"), "waiting"),
    ("TikTok 429 with a short Retry-After: waits, then publishes once", "tiktok",
     lambda s: dict(kind="rate_limit", platform="tiktok", path="video/init", delay=3), "published:0"),
    ("TikTok 429 without Retry-After", "tiktok",
     lambda s: dict(kind="tiktok_error", platform="tiktok", path="video/init", code="rate_limit_exceeded"), "waiting"),
    ("Graph 4 as HTTP 429 without Retry-After (app usage 100%)", "facebook",
     lambda s: dict(kind="rate_limit", platform="meta", path=f"{page_id(s)}/feed", code=4, status=429), "waiting"),
    ("Graph 17 (user rate limit)", "facebook",
     lambda s: dict(kind="rate_limit", platform="meta", path=f"{page_id(s)}/feed", code=17), "waiting"),
    ("Graph 32 (Page rate limit)", "facebook",
     lambda s: dict(kind="rate_limit", platform="meta", path=f"{page_id(s)}/feed", code=32), "waiting"),
    ("Graph 613 (calls within one hour exceeded)", "instagram",
     lambda s: dict(kind="graph_error", platform="meta", path=f"{ig_id(s)}/media_publish", code=613), "waiting"),
    ("Graph 368 (blocked for policy)", "instagram",
     lambda s: dict(kind="graph_error", platform="meta", path=f"{ig_id(s)}/media_publish", code=368, subcode=1390008),
     "blocked"),
    ("Graph 190 (token revoked)", "facebook",
     lambda s: dict(kind="graph_error", platform="meta", path=f"{page_id(s)}/feed", code=190, subcode=460), "reauth"),
]


@pytest.mark.parametrize(("case", "kind", "failure", "expected"), CASES, ids=[c[0] for c in CASES])
def test_platform_misbehaving(stack, case, kind, failure, expected):
    reset(stack)
    calls_before = {m: stack.platform_calls(m) for m in (GRAPH, TIKTOK)}
    budget_before = budget_used(stack)
    injected = failure(stack)
    stack.inject(**injected)
    text = f"{case} {uuid.uuid4().hex[:8]}"
    post = stack.create_post(body_for(stack, kind, text))
    target_id = post["targets"][0]["id"]
    started = time.monotonic()

    if expected.startswith("published"):
        target = stack.wait_target(post["id"], timeout=60)
        assert target["status"] == "published", target
        assert target["platform_post_id"] or kind == "tiktok", target  # a private TikTok has no public post id
        assert sandbox_posts(stack, text, kind) == 1
        assert not stack.pending_failures()  # the fault was really served
        # A GET's 5xx is retried in place (no job retry); a commit's 5xx or timeout costs one job retry,
        # which asks the platform before committing again.
        assert target["attempts"] == int(expected.split(":")[1]), target
    else:
        target = wait_for(lambda: (t := stack.target(post["id"]))["last_error_message"] and t, timeout=30, interval=0.3)
        assert not stack.pending_failures()
        if expected == "reauth":
            assert target["status"] == "failed", target
            assert target["last_error_message"] == "Reconnect your Facebook account, then retry this post.", target
            account = stack.account(target["account"])
            assert account["status"] == "needs_reauth" and "Reconnect" in account["status_reason"], account
        else:
            # Not a failure: the target waits in `queued` (nothing went out, it can still be cancelled).
            assert target["status"] == "queued", target
            assert target["last_error_message"].startswith("Waiting "), target
            assert target["attempts"] == 0, target
            if expected == "blocked":
                blocked_until = datetime.fromisoformat(stack.account(target["account"])["blocked_until"])
                assert blocked_until > datetime.now(UTC) + timedelta(hours=23), blocked_until
        assert sandbox_posts(stack, text, kind) == 0
        # Never looping: nothing more reaches the platform while the target waits.
        settled = {m: stack.platform_calls(m) for m in (GRAPH, TIKTOK)}
        row = stack.sql("SELECT status, updated_at FROM publishing_posttarget WHERE id = %s", target_id)
        time.sleep(QUIET)
        assert {m: stack.platform_calls(m) for m in (GRAPH, TIKTOK)} == settled
        assert stack.sql("SELECT status, updated_at FROM publishing_posttarget WHERE id = %s", target_id) == row
        if target["status"] == "queued":
            # Nothing went out, so the user may still cancel it; its delayed message then does nothing
            # (and cannot reach the platform during a later case).
            assert stack.api("DELETE", f"/api/v1/posts/{post['id']}/").status_code == 200
            assert stack.target(post["id"])["status"] == "cancelled"

    # Every Graph request that reached Meta was taken from the user's hourly budget, retries included.
    # The budget is taken before a request goes out and gunicorn writes its access-log line only after the
    # response has gone back, so the worker can mark the target published a few milliseconds before the last
    # call is in the log: the two counts must meet within a second, and stay equal.
    def counts():
        return (budget_used(stack) - budget_before, stack.platform_calls(GRAPH) - calls_before[GRAPH])

    try:
        wait_for(lambda: (c := counts())[0] == c[1], timeout=1.0, interval=0.05)
    except TimeoutError:
        pass
    budget, graph_calls = counts()
    assert budget == graph_calls, (budget, graph_calls)
    tiktok_calls = stack.platform_calls(TIKTOK) - calls_before[TIKTOK]
    print(f"\n{case}: {target['status']} in {time.monotonic() - started:.1f} s; platform received "
          f"{graph_calls} Graph + {tiktok_calls} TikTok calls; budget spent {budget}; "
          f"message: {target['last_error_message'][:80]!r}")
