"""End to end for the Instagram Login path (an Instagram account without a Facebook Page): connect through
the sandbox's Instagram consent page, publish an image and a reel, sync its analytics and answer a DM, all
through the public API, the product calling the sandbox as graph.instagram.com."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
import requests

from tests.e2e.conftest import new_login
from tests.e2e.test_full_flow import IMAGE, VIDEO, FormParser, api, sandbox_count
from tests.servers import manage, wait_for

pytestmark = pytest.mark.e2e

IG_ID = "17841400000000102"  # the sandbox's @sandbox.bakery


def connect_instagram_login(stack, headers: dict) -> list[int]:
    """Start at /auth/oauth/instagram_login, pick one account on Instagram's consent page, follow the callback."""
    start = api(stack, "GET", "/api/v1/auth/oauth/instagram_login", headers={"Accept": "application/json", **headers})
    assert start.status_code == 200, start.text
    dialog_url = start.json()["authorization_url"]
    assert "/sandbox/instagram/oauth/authorize?" in dialog_url
    browser = requests.Session()
    page = browser.get(dialog_url, timeout=30)
    assert page.status_code == 200 and "@sandbox.bakery" in page.text
    form = FormParser()
    form.feed(page.text)
    fields = [(name, value) for name, value in form.fields if name != "account"]  # one radio button is chosen
    approved = browser.post(dialog_url, data=[*fields, ("account", IG_ID), ("action", "approve")],
                            allow_redirects=False, timeout=30)
    assert approved.status_code == 302, approved.text[:500]
    callback = browser.get(urljoin(dialog_url, approved.headers["Location"]), allow_redirects=False, timeout=60)
    query = parse_qs(urlparse(callback.headers["Location"]).query)
    assert query.get("result") == ["connected"] and query.get("platform") == ["instagram_login"], query
    return [int(i) for i in query["accounts"][0].split(",")]


def wait_published_as(stack, headers: dict, post_id: int, timeout: float = 180) -> dict:
    """The post once every target has finished, read as `headers` (the post is in their workspace)."""
    def done():
        post = api(stack, "GET", f"/api/v1/posts/{post_id}/", headers=headers).json()
        return post if all(t["status"] in ("published", "failed", "unconfirmed") for t in post["targets"]) else None

    return wait_for(done, timeout=timeout, interval=1.0)


def test_an_instagram_login_account_connects_publishes_syncs_and_answers_a_dm(stack):
    owner = new_login(stack, f"creator-{uuid.uuid4().hex[:6]}")
    (account_id,) = connect_instagram_login(stack, owner)
    account = api(stack, "GET", f"/api/v1/accounts/{account_id}/", headers=owner).json()
    assert (account["platform"], account["username"], account["status"], account["login_path"]) == (
        "instagram", "sandbox.bakery", "active", "instagram")

    # ---- its webhooks are subscribed in the background, on the account itself (it has no Page)
    def subscribed():
        current = api(stack, "GET", f"/api/v1/accounts/{account_id}/", headers=owner).json()
        return current if current["webhook_subscribed_at"] else None

    wait_for(subscribed, timeout=60, interval=1.0)
    fields = sandbox_count(stack, "SELECT count(*) FROM sandbox_instagramaccount WHERE ig_id = %s "
                                  "AND subscribed_fields::jsonb ? 'messages' AND subscribed_fields::jsonb ? 'comments'",
                           IG_ID)
    assert fields == 1

    # ---- an image and a reel
    tag = uuid.uuid4().hex[:8]
    posts = [
        {"text": f"IG Login image {tag}", "media": [{"url": IMAGE.format(40), "type": "image"}], "accounts": [account_id]},
        {"text": f"IG Login reel {tag}", "media": [{"url": VIDEO, "type": "video"}], "accounts": [account_id],
         "options": {"instagram": {"kind": "reel"}}},
    ]
    for body, product_type in zip(posts, ("FEED", "REELS"), strict=True):
        created = api(stack, "POST", "/api/v1/posts/", headers=owner, json=body)
        assert created.status_code == 201, created.text
        (target,) = wait_published_as(stack, owner, created.json()["id"])["targets"]
        assert target["status"] == "published" and target["platform_post_id"], target
        assert sandbox_count(stack, "SELECT count(*) FROM sandbox_post p JOIN sandbox_instagramaccount i "
                                    "ON p.instagram_id = i.id WHERE p.post_id = %s AND i.ig_id = %s "
                                    "AND p.product_type = %s AND p.message = %s",
                             target["platform_post_id"], IG_ID, product_type, body["text"]) == 1

    # ---- analytics: "sync now", then the account's followers and both posts
    assert api(stack, "POST", f"/api/v1/accounts/{account_id}/sync/", headers=owner).status_code == 202

    def synced():
        report = api(stack, "GET", f"/api/v1/analytics/accounts/{account_id}/", headers=owner).json()
        return report if report["followers"]["latest"] and report["posts"]["posts"] >= 2 else None

    report = wait_for(synced, timeout=90, interval=1.0)
    assert report["followers"]["latest"] > 0

    # ---- a fan's DM arrives by a webhook signed by the Instagram app, and is answered once
    out = manage(stack["env"], "sandbox_activity", "--comments", "0", "--dms", "1")
    assert re.search(r"; \d+ delivered, 0 failed\.$", out.strip()), out

    def dm():
        found = api(stack, "GET", f"/api/v1/conversations/?kind=dm&account={account_id}", headers=owner).json()
        return found["results"] or None

    conversation = wait_for(dm, timeout=60, interval=1.0)[0]
    assert conversation["account"] == account_id and conversation["platform"] == "instagram", conversation
    text = f"Thanks for writing! {tag}"
    key = f"e2e-ig-{tag}"
    reply = api(stack, "POST", f"/api/v1/conversations/{conversation['id']}/reply/", headers=owner,
                json={"text": text, "idempotency_key": key})
    assert reply.status_code == 201, reply.text
    assert reply.json()["status"] == "sent" and reply.json()["direction"] == "out"
    assert api(stack, "POST", f"/api/v1/conversations/{conversation['id']}/reply/", headers=owner,
               json={"text": text, "idempotency_key": key}).json()["id"] == reply.json()["id"]
    assert sandbox_count(stack, "SELECT count(*) FROM sandbox_directmessage WHERE text = %s AND from_id = %s",
                         text, IG_ID) == 1
