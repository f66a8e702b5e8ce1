"""End to end: a posting queue filled through the public API (one post, then a CSV import) is published in
its slots by the scheduler's `publish_due`, each post once. Slots a couple of minutes ahead, in a workspace
whose timezone is not a whole number of hours from UTC (Asia/Kathmandu, +05:45)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import new_login
from tests.e2e.test_full_flow import api, connect, sandbox_count
from tests.servers import manage

pytestmark = pytest.mark.e2e

ZONE = "Asia/Kathmandu"
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def test_a_queue_filled_through_the_api_and_a_csv_import_is_published_in_its_slots(stack):
    me = new_login(stack, f"queue-{uuid.uuid4().hex[:6]}")
    workspace = api(stack, "GET", "/api/v1/workspaces/", headers=me).json()["results"][0]["id"]
    assert api(stack, "PATCH", f"/api/v1/workspaces/{workspace}/", headers=me, json={"timezone": ZONE}).status_code == 200
    assert connect(stack, "facebook", headers=me)
    page = next(a for a in api(stack, "GET", "/api/v1/accounts/?platform=facebook", headers=me).json()["results"]
                if a["platform"] == "facebook")["id"]

    # Two slots one minute apart, the first 25-85 s from now (slots are whole local minutes): time enough to queue.
    local_now = datetime.now(ZoneInfo(ZONE))
    first = local_now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    if first - local_now < timedelta(seconds=25):
        first += timedelta(minutes=1)
    slots = [first, first + timedelta(minutes=1)]
    schedule = api(stack, "PUT", f"/api/v1/accounts/{page}/schedule/", headers=me, json={"paused": False, "times": [
        {"weekday": WEEKDAYS[s.weekday()], "time": s.strftime("%H:%M")} for s in slots]})
    assert schedule.status_code == 200, schedule.text

    tag = uuid.uuid4().hex[:8]
    single = api(stack, "POST", "/api/v1/posts/", headers=me,
                 json={"text": f"Queued by the API {tag}", "accounts": [page], "next_free_slot": True})
    assert single.status_code == 201, single.text
    csv_text = f"text,accounts,time\nQueued by a CSV {tag},{page},next slot\n"
    dry = api(stack, "POST", "/api/v1/posts/import/?dry_run=true", headers={**me, "Content-Type": "text/csv"},
              data=csv_text.encode())
    assert dry.status_code == 200 and dry.json()["errors"] == [] and dry.json()["created"] == [], dry.text
    imported = api(stack, "POST", "/api/v1/posts/import/", headers=me,
                   files={"file": ("queue.csv", csv_text.encode(), "text/csv")})
    assert imported.status_code == 201, imported.text
    again = api(stack, "POST", "/api/v1/posts/import/", headers=me, files={"file": ("queue.csv", csv_text.encode(), "text/csv")})
    assert again.status_code == 200 and again.json()["already_imported"] == imported.json()["created"]

    post_ids = [single.json()["id"], imported.json()["created"][0]["post"]]
    queue = api(stack, "GET", f"/api/v1/accounts/{page}/queue/?count=2", headers=me).json()
    assert [(s["local"], s["target"]["post"]) for s in queue["slots"]] == [
        (s.isoformat(), post_id) for s, post_id in zip(slots, post_ids, strict=True)]

    manage(stack["env"], "publish_due")  # before its slot, a post does not go out
    checked_at = datetime.now(UTC)
    waiting = [api(stack, "GET", f"/api/v1/posts/{p}/", headers=me).json()["targets"][0]["status"]
               for p, slot in zip(post_ids, slots, strict=True) if slot > checked_at]
    assert waiting and waiting == ["scheduled"] * len(waiting)  # the second slot is 85 s away at least

    # The scheduler's minute job, as cron runs it, until both are out (at most ~2.5 minutes after the first slot).
    deadline = time.monotonic() + 240
    targets: list[dict] = []
    while time.monotonic() < deadline:
        manage(stack["env"], "publish_due")
        targets = [api(stack, "GET", f"/api/v1/posts/{p}/", headers=me).json()["targets"][0] for p in post_ids]
        if all(t["status"] == "published" for t in targets):
            break
        time.sleep(5)
    assert [t["status"] for t in targets] == ["published", "published"], targets
    for target, slot in zip(targets, slots, strict=True):
        slot_at = datetime.fromisoformat(target["slot_at"].replace("Z", "+00:00"))
        assert slot_at == slot.astimezone(UTC)
        assert datetime.fromisoformat(target["published_at"].replace("Z", "+00:00")) >= slot_at - timedelta(seconds=1)
    manage(stack["env"], "publish_due")
    for text in (f"Queued by the API {tag}", f"Queued by a CSV {tag}"):
        assert sandbox_count(stack, "SELECT count(*) FROM sandbox_post WHERE message = %s AND is_published", text) == 1
