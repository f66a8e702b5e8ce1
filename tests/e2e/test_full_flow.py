"""End to end over real HTTP: gunicorn and a Dramatiq worker on PostgreSQL + Redis, the built-in
sandbox standing in for Facebook, Instagram and TikTok. Everything goes through the public API
(`make e2e`; CI runs it)."""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlparse

import psycopg
import pytest
import requests

from tests.e2e.conftest import new_login
from tests.servers import manage, wait_for

pytestmark = pytest.mark.e2e

IMAGE = "https://cdn.example.com/photo-{}.jpg"
VIDEO = "https://cdn.example.com/clip.mp4"


class FormParser(HTMLParser):
    """The sandbox consent page's form: hidden inputs and checked boxes, as a browser would post them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") and (a.get("type") != "checkbox" or "checked" in a):
            self.fields.append((a["name"], a.get("value", "")))


def api(stack, method: str, path: str, headers: dict | None = None, **kwargs) -> requests.Response:
    return requests.request(method, stack["base"] + path, headers={**stack["headers"], **(headers or {})}, timeout=30, **kwargs)


def connect(stack, platform: str, headers: dict | None = None) -> list[int]:
    """Start OAuth through the API, approve in the sandbox's dialog, follow the callback."""
    start = api(stack, "GET", f"/api/v1/auth/oauth/{platform}", headers={"Accept": "application/json", **(headers or {})})
    assert start.status_code == 200, start.text
    browser = requests.Session()
    dialog_url = start.json()["authorization_url"]
    page = browser.get(dialog_url, timeout=30)
    assert page.status_code == 200 and "<form" in page.text
    form = FormParser()
    form.feed(page.text)
    approved = browser.post(dialog_url, data=[*form.fields, ("action", "approve")], allow_redirects=False,
                            headers={"Referer": dialog_url}, timeout=30)
    assert approved.status_code == 302, approved.text[:500]
    callback = browser.get(urljoin(dialog_url, approved.headers["Location"]), allow_redirects=False, timeout=60)
    assert callback.status_code == 302
    result = urlparse(callback.headers["Location"])
    assert f"{result.scheme}://{result.netloc}{result.path}" == stack["frontend"]
    query = parse_qs(result.query)
    assert query.get("result") == ["connected"], query
    assert "token" not in callback.headers["Location"].lower()
    return [int(i) for i in query["accounts"][0].split(",")]


def sandbox_count(stack, query: str, *params) -> int:
    """What the sandbox platforms hold (their tables live in the product's database)."""
    with psycopg.connect(stack["env"]["DATABASE_URL"], autocommit=True) as conn:
        return conn.execute(query, params).fetchone()[0]


def wait_published(stack, post_id: int, timeout: float = 180) -> dict:
    def done():
        post = api(stack, "GET", f"/api/v1/posts/{post_id}/").json()
        finished = all(t["status"] in ("published", "failed", "unconfirmed") for t in post["targets"])
        return post if finished else None

    return wait_for(done, timeout=timeout, interval=1.0)


def test_connect_publish_sync_and_answer_through_the_public_api(stack):
    # ---- connect all three platforms over the sandbox's OAuth dialogs
    fb_ids = connect(stack, "facebook")
    tiktok_ids = connect(stack, "tiktok")
    accounts = api(stack, "GET", "/api/v1/accounts/?page_size=200").json()["results"]
    by_platform = {p: [a for a in accounts if a["platform"] == p] for p in ("facebook", "instagram", "tiktok")}
    assert len(by_platform["facebook"]) >= 2 and len(by_platform["instagram"]) >= 1 and len(by_platform["tiktok"]) == 1
    assert set(fb_ids) >= {a["id"] for a in by_platform["facebook"]}
    assert tiktok_ids == [by_platform["tiktok"][0]["id"]]
    assert all(a["is_sandbox"] and a["status"] == "active" and a["webhook_subscribed_at"] for a in by_platform["facebook"])
    assert connect(stack, "instagram")  # the Instagram button reconnects the same accounts, no duplicates
    assert len(api(stack, "GET", "/api/v1/accounts/?page_size=200").json()["results"]) == len(accounts)
    page, ig, tt = by_platform["facebook"][0]["id"], by_platform["instagram"][0]["id"], by_platform["tiktok"][0]["id"]

    # ---- publish every content type
    image = lambda n: {"url": IMAGE.format(n), "type": "image"}  # noqa: E731
    posts = [
        {"text": "Text post from the e2e run", "accounts": [page]},
        {"text": "A link", "link": "https://example.com/article", "accounts": [page]},
        {"text": "One photo", "media": [image(1)], "accounts": [page]},
        {"text": "Three photos", "media": [image(1), image(2), image(3)], "accounts": [page]},
        {"text": "A video", "media": [{"url": VIDEO, "type": "video"}], "accounts": [page]},
        {"text": "IG image #e2e", "media": [image(4)], "accounts": [ig], "first_comment": "First!"},
        {"text": "IG carousel", "media": [image(5), image(6)], "accounts": [ig], "options": {"instagram": {"kind": "carousel"}}},
        {"text": "IG reel", "media": [{"url": VIDEO, "type": "video"}], "accounts": [ig], "options": {"instagram": {"kind": "reel"}}},
        {"text": "", "media": [image(7)], "accounts": [ig], "options": {"instagram": {"kind": "story"}}},
        {"text": "TikTok video", "media": [{"url": VIDEO, "type": "video"}], "accounts": [tt],
         "options": {"tiktok": {"privacy_level": "PUBLIC_TO_EVERYONE"}}},
        {"text": "TikTok photos", "media": [{"url": IMAGE.format(8), "type": "image"}, {"url": IMAGE.format(9), "type": "image"}],
         "accounts": [tt], "options": {"tiktok": {"privacy_level": "SELF_ONLY"}}},
    ]
    created = []
    for body in posts:
        response = api(stack, "POST", "/api/v1/posts/", json=body)
        assert response.status_code == 201, (body["text"], response.text)
        created.append(response.json()["id"])
    for post_id, body in zip(created, posts, strict=True):
        post = wait_published(stack, post_id)
        for target in post["targets"]:
            assert target["status"] == "published", (body["text"], target)
            assert target["platform_post_id"] or target["platform"] == "tiktok", target
            if target["platform_post_id"]:  # the platform holds it once, under the id we stored (a video's own id)
                assert sandbox_count(stack, "SELECT count(*) FROM sandbox_post WHERE post_id = %s OR photo_id = %s",
                                     target["platform_post_id"], target["platform_post_id"]) == 1, target
        if body["text"]:  # and nothing else carries its text: no second copy went out
            held = ("SELECT count(*) FROM sandbox_publishjob WHERE title = %s" if target["platform"] == "tiktok"
                    else "SELECT count(*) FROM sandbox_post WHERE message = %s AND is_published")
            assert sandbox_count(stack, held, body["text"]) == 1, body["text"]
    assert sandbox_count(stack, "SELECT count(*) FROM sandbox_comment WHERE message = %s", "First!") == 1
    retried = api(stack, "POST", f"/api/v1/posts/{created[0]}/retry")
    assert retried.status_code == 202 and retried.json()["targets"][0]["status"] == "published"
    manage(stack["env"], "publish_due")  # a scheduler pass after the retry finds nothing to send
    assert sandbox_count(stack, "SELECT count(*) FROM sandbox_post WHERE message = %s", posts[0]["text"]) == 1

    # ---- sync metrics through the analytics-sync queue
    manage(stack["env"], "sync_analytics")

    def synced_report():
        r = api(stack, "GET", f"/api/v1/analytics/accounts/{page}/").json()
        return r if r["followers"]["latest"] and r["posts"]["posts"] >= 5 else None

    report = wait_for(synced_report, timeout=90)
    assert report["followers"]["latest"] > 0 and len(report["followers"]["series"]) >= 1
    summary = api(stack, "GET", "/api/v1/analytics/summary/").json()
    platforms = {p["platform"]: p for p in summary["platforms"]}
    assert set(platforms) == {"facebook", "instagram", "tiktok"}
    assert platforms["facebook"]["totals"]["posts"] >= 5 and platforms["facebook"]["followers"] > 0
    def synced_post():
        tracked = api(stack, "GET", f"/api/v1/analytics/posts/{created[0]}/").json()["targets"][0]["tracked"]
        return tracked if tracked and tracked["series"] else None

    tracked = wait_for(synced_post, timeout=90)  # the account's snapshot can land before its posts' snapshots
    assert tracked["source"] == "unipulse" and tracked["series"][-1]["metrics"], tracked

    # ---- a sandbox comment arrives by signed webhook, is processed, and is answered
    out = manage(stack["env"], "sandbox_activity", "--comments", "2", "--dms", "1")
    delivered = re.search(r"; (\d+) delivered, 0 failed\.$", out.strip())
    assert delivered and int(delivered.group(1)) >= 3, out  # 2 comments + 1 DM per subscribed Page at least
    convs = wait_for(lambda: (r := api(stack, "GET", "/api/v1/conversations/?kind=comment").json()["results"]) and r, timeout=60)
    conversation = convs[0]
    assert conversation["unread"] is True and conversation["unread_count"] >= 1, conversation
    key = f"e2e-{uuid.uuid4().hex}"
    reply = api(stack, "POST", f"/api/v1/conversations/{conversation['id']}/reply/", json={"text": "Thanks!", "idempotency_key": key})
    assert reply.status_code == 201, reply.text
    assert reply.json()["status"] == "sent" and reply.json()["direction"] == "out"
    again = api(stack, "POST", f"/api/v1/conversations/{conversation['id']}/reply/", json={"text": "Thanks!", "idempotency_key": key})
    assert again.json()["id"] == reply.json()["id"]  # the same key never sends twice
    messages = api(stack, "GET", f"/api/v1/conversations/{conversation['id']}/messages/").json()
    items = messages["results"] if isinstance(messages, dict) else messages
    assert [m["text"] for m in items].count("Thanks!") == 1
    assert api(stack, "GET", "/healthz").json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_in_a_team_workspace_an_editors_post_is_approved_by_an_admin_and_published_once(stack):
    owner, editor, admin = (new_login(stack, f"{role}-{uuid.uuid4().hex[:6]}") for role in ("owner", "editor", "admin"))
    team = api(stack, "POST", "/api/v1/workspaces/", headers=owner, json={"name": "E2E team", "approval_required": True})
    assert team.status_code == 201, team.text
    ws = team.json()["id"]
    for headers, role in ((editor, "editor"), (admin, "admin")):
        invited = api(stack, "POST", f"/api/v1/workspaces/{ws}/invitations/", headers=owner,
                      json={"email": f"{role}@example.com", "role": role})
        assert invited.status_code == 201, invited.text
        joined = api(stack, "POST", "/api/v1/invitations/accept/", headers=headers, json={"token": invited.json()["token"]})
        assert joined.status_code == 200 and joined.json()["role"] == role, joined.text
    assert {m["role"] for m in api(stack, "GET", f"/api/v1/workspaces/{ws}/members/", headers=owner).json()["results"]} == {
        "owner", "editor", "admin"}

    # The owner's first request without a header would be ambiguous (personal + team): the header picks.
    assert connect(stack, "facebook", headers={**owner, "X-Workspace": str(ws)})
    pages = api(stack, "GET", "/api/v1/accounts/?platform=facebook", headers=editor).json()["results"]
    page = next(a for a in pages if a["platform"] == "facebook")["id"]
    assert api(stack, "GET", "/api/v1/auth/oauth/facebook", headers={**editor, "Accept": "application/json"}
               ).status_code == 403  # editors do not connect accounts

    text = f"Team post {uuid.uuid4().hex[:8]}"
    written = api(stack, "POST", "/api/v1/posts/", headers=editor, json={"text": text, "accounts": [page]})
    assert written.status_code == 201, written.text
    post = written.json()
    assert post["approval"] == "pending" and post["targets"][0]["status"] == "pending_approval"
    assert api(stack, "POST", f"/api/v1/posts/{post['id']}/approve/", headers=editor).status_code == 403
    manage(stack["env"], "publish_due")  # cron leaves a pending post alone
    assert sandbox_count(stack, "SELECT count(*) FROM sandbox_post WHERE message = %s", text) == 0

    approved = api(stack, "POST", f"/api/v1/posts/{post['id']}/approve/", headers=admin)
    assert approved.status_code == 200 and approved.json()["approval"] == "approved", approved.text

    def published():
        current = api(stack, "GET", f"/api/v1/posts/{post['id']}/", headers=editor).json()
        return current if current["targets"][0]["status"] == "published" else None

    wait_for(published, timeout=120, interval=1.0)
    manage(stack["env"], "publish_due")
    assert sandbox_count(stack, "SELECT count(*) FROM sandbox_post WHERE message = %s AND is_published", text) == 1
    audit = api(stack, "GET", f"/api/v1/workspaces/{ws}/audit/", headers=admin).json()["results"]
    actions = [e["action"] for e in audit]
    assert actions.index("post.approved") < actions.index("post.created") and "account.connected" in actions
