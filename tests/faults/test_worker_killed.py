"""A Dramatiq worker killed with SIGKILL in the middle of each publishing step.

The sandbox answers the chosen step slowly, so the worker is inside that very HTTP call when its
whole process group gets SIGKILL. The sandbox keeps serving the call after the worker is gone (a
lost answer: the container, photo or post exists on the platform, the worker never learnt it).

Recovery is the product's own: Redis keeps the killed worker's messages unacknowledged; once the
dead worker misses heartbeats for DRAMATIQ_HEARTBEAT_TIMEOUT_MS, queue maintenance puts them back
(here every fetch runs maintenance, DRAMATIQ_MAINTENANCE_CHANCE=1000000, and the timeout is 4 s).
The target's lease outlives a killed worker by design (the actor's time limit + a margin), so that a
redelivered message never runs beside a platform call still in flight; here the time limit is 15 s
and the margin 2 s (PUBLISH_TIME_LIMIT_SECONDS, PUBLISH_LEASE_MARGIN_SECONDS) instead of 10 min + 1 min,
and nothing else helps: a new worker starts, the redelivered message waits for the lease to run out
by itself, then resumes. Each step ends with the sandbox holding exactly one post.
"""

from __future__ import annotations

import time
import uuid

import pytest

from tests import media
from tests.servers import wait_for

from .stack import IMAGE, VIDEO, connect_all, running_stack

pytestmark = pytest.mark.faults

SLOW = 4.0  # seconds the sandbox holds the chosen call; the kill lands 1 s into it
TIME_LIMIT, MARGIN = 15, 2  # the publish actor's time limit and the lease margin for this stack (seconds)


@pytest.fixture(scope="module")
def stack(private_postgres):
    from tests.servers import PrivateRedis

    redis = PrivateRedis()
    redis.start()
    try:
        with running_stack(private_postgres, redis, PUBLISH_POLL_DELAY_SECONDS="1", SANDBOX_CONTAINER_SECONDS="3",
                           SANDBOX_TIKTOK_STEP_SECONDS="1", DRAMATIQ_HEARTBEAT_TIMEOUT_MS="4000",
                           DRAMATIQ_MAINTENANCE_CHANCE="1000000", PUBLISH_TIME_LIMIT_SECONDS=str(TIME_LIMIT),
                           PUBLISH_LEASE_MARGIN_SECONDS=str(MARGIN)) as stack:
            stack.start_worker()
            stack.accounts_by_platform = connect_all(stack)
            yield stack
    finally:
        redis.stop()


def kill_inside(stack, body: dict, failure) -> tuple[dict, float]:
    """Create the post, let the worker enter the slowed call, SIGKILL it, restart; the lease lapses by itself.

    `failure` is the slow call to match, or a function of the created post giving it (for a call whose
    path holds an id that exists only once the run has started)."""
    stack.clear_failures()
    if isinstance(failure, dict):
        stack.inject(kind="slow", delay=SLOW, **failure)
    post = stack.create_post(body)
    if callable(failure):
        stack.inject(kind="slow", delay=SLOW, **failure(post))
    status, restarted = kill_and_restart(stack, post["targets"][0]["id"], "status")
    assert status == "publishing", status  # killed mid-run
    assert stack.target(post["id"])["status"] == "publishing"  # nobody touched it while the lease held
    target = stack.wait_target(post["id"], timeout=120)
    return target, time.monotonic() - restarted


def kill_and_restart(stack, target_id: int, column: str) -> tuple[str, float]:
    """Once the worker is inside the slowed call: read `column` of the target, SIGKILL the worker (it holds
    the lease), start a new one and wait until the platform has finished the lost call. Returns the column's
    value at the kill and when the new worker started."""
    wait_for(lambda: not stack.pending_failures(), timeout=60, interval=0.1)  # the worker is in the call now
    entered = time.monotonic()
    time.sleep(1.0)
    value, lease_left = stack.sql(f"SELECT {column}, extract(epoch FROM lease_until - now()) "  # noqa: S608 - fixed names
                                  "FROM publishing_posttarget WHERE id = %s", target_id)[0]
    stack.worker.kill()
    assert lease_left is not None and TIME_LIMIT < lease_left <= TIME_LIMIT + MARGIN, lease_left  # held at the kill
    restarted = time.monotonic()
    stack.start_worker()  # the redelivered message must wait for the lease, not run beside the dead worker's call
    time.sleep(max(0.0, entered + SLOW + 1.0 - time.monotonic()))  # the platform finished the call meanwhile
    return value, restarted


def unique(step: str) -> str:
    return f"Killed during {step} {uuid.uuid4().hex[:8]}"


def count(stack, table: str, column: str, value: str) -> int:
    return stack.one(f"SELECT count(*) FROM {table} WHERE {column} = %s", value)  # noqa: S608 - fixed names


def image_post(account: dict, text: str) -> dict:
    return {"text": text, "media": [{"url": IMAGE.format(1), "type": "image"}], "accounts": [account["id"]]}


def test_instagram_prepare_container_creation(stack):
    ig = stack.accounts_by_platform["instagram"][0]
    text = unique("container creation")
    target, took = kill_inside(stack, image_post(ig, text), {"platform": "meta", "path": f"{ig['external_id']}/media",
                                                             "method": "POST"})
    assert target["status"] == "published" and target["platform_post_id"], target
    assert count(stack, "sandbox_post", "message", text) == 1
    assert count(stack, "sandbox_mediacontainer", "caption", text) == 2  # the lost one, then a new one: safe to repeat
    print(f"\nIG prepare killed: published once, {took:.1f} s after the restart")


def test_instagram_status_polling(stack):
    ig = stack.accounts_by_platform["instagram"][0]
    text = unique("status polling")

    def slow_status_read(post):  # the container id exists only once the run has created it
        target_id = post["targets"][0]["id"]
        parent = wait_for(lambda: stack.one("SELECT container_ids->>'parent' FROM publishing_posttarget WHERE id = %s",
                                            target_id), timeout=30, interval=0.05)
        return {"platform": "meta", "path": parent, "method": "GET"}

    target, took = kill_inside(stack, image_post(ig, text), slow_status_read)
    assert target["status"] == "published" and target["platform_post_id"], target
    assert count(stack, "sandbox_post", "message", text) == 1
    assert count(stack, "sandbox_mediacontainer", "caption", text) == 1
    print(f"\nIG poll killed: published once, {took:.1f} s after the restart")


def test_instagram_commit_media_publish(stack):
    ig = stack.accounts_by_platform["instagram"][0]
    text = unique("media_publish")
    target, took = kill_inside(stack, image_post(ig, text), {"platform": "meta", "path": "media_publish", "method": "POST"})
    assert target["status"] == "published" and target["platform_post_id"], target
    assert count(stack, "sandbox_post", "message", text) == 1
    assert stack.one("SELECT count(*) FROM sandbox_post WHERE post_id = %s", target["platform_post_id"]) == 1
    print(f"\nIG commit killed: reconciled as published once, {took:.1f} s after the restart")


def test_facebook_commit_feed(stack):
    page = stack.accounts_by_platform["facebook"][0]
    text = unique("feed")
    target, took = kill_inside(stack, {"text": text, "accounts": [page["id"]]},
                               {"platform": "meta", "path": f"{page['external_id']}/feed", "method": "POST"})
    assert target["status"] == "published" and target["platform_post_id"], target
    assert count(stack, "sandbox_post", "message", text) == 1
    assert stack.one("SELECT post_id FROM sandbox_post WHERE message = %s", text) == target["platform_post_id"]
    print(f"\nFB commit killed: reconciled as published once, {took:.1f} s after the restart")


def test_instagram_carousel_child_creation(stack):
    """Killed while the first carousel item's container is being made: the lost child is left unused, the
    retry makes the children again and publishes the album once."""
    ig = stack.accounts_by_platform["instagram"][0]
    text = unique("carousel child")
    body = {"text": text, "media": [{"url": IMAGE.format(n), "type": "image"} for n in (1, 2)], "accounts": [ig["id"]]}
    target, took = kill_inside(stack, body, {"platform": "meta", "path": f"{ig['external_id']}/media", "method": "POST"})
    assert target["status"] == "published" and target["platform_post_id"], target
    assert count(stack, "sandbox_post", "message", text) == 1
    assert count(stack, "sandbox_mediacontainer", "caption", text) == 1  # one album container: the one published
    print(f"\nIG carousel child killed: published once, {took:.1f} s after the restart")


def test_facebook_commit_photo(stack):
    page = stack.accounts_by_platform["facebook"][0]
    text = unique("photo")
    target, took = kill_inside(stack, {"text": text, "media": [{"url": IMAGE.format(3), "type": "image"}],
                                       "accounts": [page["id"]]},
                               {"platform": "meta", "path": f"{page['external_id']}/photos", "method": "POST"})
    assert target["status"] == "published" and target["platform_post_id"], target
    assert count(stack, "sandbox_post", "message", text) == 1
    print(f"\nFB photo commit killed: reconciled as published once, {took:.1f} s after the restart")


def test_facebook_first_comment(stack):
    """Killed while the first comment is being posted (the post is already live): the retry looks for
    the comment on the post before posting, finds the one the lost call made, and never posts it twice."""
    page = stack.accounts_by_platform["facebook"][0]
    text, comment = unique("first comment"), f"First comment {uuid.uuid4().hex[:8]}"
    stack.clear_failures()
    post = stack.create_post({"text": text, "first_comment": comment, "accounts": [page["id"]],
                              "options": {"facebook": {"first_comment_delay_seconds": 4}}})
    live = wait_for(lambda: (t := stack.target(post["id"]))["platform_post_id"] and t, timeout=60, interval=0.1)
    assert live["status"] == "published" and live["first_comment_status"] == "pending", live
    stack.inject(kind="slow", delay=SLOW, platform="meta", path=f"{live['platform_post_id']}/comments", method="POST")
    comment_status, restarted = kill_and_restart(stack, post["targets"][0]["id"], "first_comment_status")
    assert comment_status == "unknown", comment_status  # "look first" was saved before the call
    done = wait_for(lambda: (t := stack.target(post["id"]))["first_comment_status"] == "posted" and t, timeout=120,
                    interval=0.5)
    assert done["status"] == "published" and done["first_comment_id"], done
    assert count(stack, "sandbox_comment", "message", comment) == 1
    assert stack.one("SELECT comment_id FROM sandbox_comment WHERE message = %s", comment) == done["first_comment_id"]
    assert count(stack, "sandbox_post", "message", text) == 1
    print(f"\nFB first comment killed: found on the post, posted once, {time.monotonic() - restarted:.1f} s after the restart")


def test_facebook_commit_video(stack):
    page = stack.accounts_by_platform["facebook"][0]
    text = unique("video")
    target, took = kill_inside(stack, {"text": text, "media": [{"url": VIDEO, "type": "video"}], "accounts": [page["id"]]},
                               {"platform": "meta", "path": f"{page['external_id']}/videos", "method": "POST"})
    assert target["status"] == "published" and target["platform_post_id"], target
    assert count(stack, "sandbox_post", "message", text) == 1
    print(f"\nFB video commit killed: reconciled as published once, {took:.1f} s after the restart")


def tiktok_post(account: dict, text: str, privacy: str = "SELF_ONLY") -> dict:
    return {"text": text, "media": [{"url": VIDEO, "type": "video"}], "accounts": [account["id"]],
            "options": {"tiktok": {"privacy_level": privacy}}}


def test_tiktok_commit_init_public(stack):
    """A lost init answer has no publish_id to ask about, but a public video appears in the creator's
    video list: the retry finds it there by caption and time and records it, never publishing twice."""
    tt = stack.accounts_by_platform["tiktok"][0]
    text = unique("TikTok init public")
    target, took = kill_inside(stack, tiktok_post(tt, text, "PUBLIC_TO_EVERYONE"), {"platform": "tiktok", "path": "video/init"})
    assert target["status"] == "published" and target["platform_post_id"], target
    assert count(stack, "sandbox_publishjob", "title", text) == 1
    print(f"\nTikTok init killed (public): found in the video list, published once, {took:.1f} s after the restart")


def test_tiktok_commit_init_private(stack):
    """A private video never shows in the public list: the documented outcome is `unconfirmed`, never a second publish."""
    tt = stack.accounts_by_platform["tiktok"][0]
    text = unique("TikTok init")
    target, took = kill_inside(stack, tiktok_post(tt, text), {"platform": "tiktok", "path": "video/init"})
    assert target["status"] == "unconfirmed", target
    assert "check the profile" in target["last_error_message"]
    assert count(stack, "sandbox_publishjob", "title", text) == 1
    print(f"\nTikTok init killed (private): unconfirmed, one publish on TikTok, {took:.1f} s after the restart")


def test_tiktok_file_upload_of_our_own_video(stack):
    """A video uploaded to UniPulse goes to TikTok by FILE_UPLOAD; its (only) chunk is the commit. Killed
    inside that PUT, whose bytes TikTok receives anyway: the retry asks TikTok how many bytes arrived,
    sends nothing again, and follows the publish to its end."""
    tt = stack.accounts_by_platform["tiktok"][0]
    text = unique("TikTok upload")
    video = media.video(5, width=320, height=240, fps=10)  # a real MP4 (uploads are decoded before acceptance)
    uploaded = stack.api("POST", "/api/v1/media/", files={"file": ("clip.mp4", video, "video/mp4")})
    assert uploaded.status_code == 201, uploaded.text
    body = {"text": text, "media": [{"url": uploaded.json()["url"], "type": "video"}], "accounts": [tt["id"]],
            "options": {"tiktok": {"privacy_level": "SELF_ONLY"}}}
    target, took = kill_inside(stack, body, {"platform": "tiktok", "path": "tiktok-upload/video"})
    assert target["status"] == "published", target
    assert count(stack, "sandbox_publishjob", "title", text) == 1
    assert stack.one("SELECT uploaded_bytes FROM sandbox_publishjob WHERE title = %s", text) == len(video)
    print(f"\nTikTok upload killed: {len(video):,} bytes arrived once, published, {took:.1f} s after the restart")


def test_tiktok_status_polling(stack):
    tt = stack.accounts_by_platform["tiktok"][0]
    text = unique("TikTok status")
    target, took = kill_inside(stack, tiktok_post(tt, text), {"platform": "tiktok", "path": "status/fetch"})
    assert target["status"] == "published", target
    assert count(stack, "sandbox_publishjob", "title", text) == 1
    print(f"\nTikTok poll killed: published once, {took:.1f} s after the restart")
