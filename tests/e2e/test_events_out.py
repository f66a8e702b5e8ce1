"""Events out, end to end: an endpoint made through the API receives signed `account.connected` and
`target.published` events from the running worker, and the feed shows the same events."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from docs.examples.webhook_receiver import verify
from tests.e2e.conftest import new_login
from tests.e2e.test_full_flow import api, connect
from tests.servers import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver():
    got: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            got.append({"headers": dict(self.headers), "body": body})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/unipulse", got
    server.shutdown()
    server.server_close()


def test_a_webhook_endpoint_receives_signed_events_and_the_feed_shows_them(stack, receiver):
    url, got = receiver
    # A login of its own (its personal workspace): the shared e2e user's workspaces stay as the other tests expect.
    me = new_login(stack, f"events-{uuid.uuid4().hex[:6]}")
    created = api(stack, "POST", "/api/v1/webhook-endpoints/", headers=me,
                  json={"url": url, "event_types": ["account.connected", "target.published"]})
    assert created.status_code == 201, created.text
    secret, endpoint = created.json()["secret"], created.json()["id"]
    workspace = api(stack, "GET", "/api/v1/workspaces/", headers=me).json()["results"][0]["id"]

    page = connect(stack, "facebook", headers=me)[0]
    post = api(stack, "POST", "/api/v1/posts/", headers=me, json={"text": "Events e2e", "accounts": [page]})
    assert post.status_code == 201, post.text

    def published():
        targets = api(stack, "GET", f"/api/v1/posts/{post.json()['id']}/", headers=me).json()["targets"]
        return targets[0] if targets[0]["status"] in ("published", "failed", "unconfirmed") else None

    target = wait_for(published, timeout=180, interval=1.0)
    assert target["status"] == "published"

    def published_arrived():
        events = [json.loads(r["body"]) for r in got]
        return [e for e in events if e["type"] == "target.published"] or None

    [published] = wait_for(published_arrived, timeout=60, interval=0.5)
    assert published["data"]["object"]["id"] == target["id"] and published["data"]["object"]["post"] == post.json()["id"]
    assert published["workspace"] == workspace
    for request in got:  # every delivery signed with the endpoint's secret, each with its own delivery id
        assert verify(request["headers"]["UniPulse-Signature"], request["body"], secret)
        assert request["headers"]["UniPulse-Event-Id"] == json.loads(request["body"])["id"]
    assert len({r["headers"]["UniPulse-Delivery"] for r in got}) == len(got)
    connected = [json.loads(r["body"]) for r in got if json.loads(r["body"])["type"] == "account.connected"]
    assert page in {e["data"]["object"]["id"] for e in connected}
    token_keys = {"has_access_token", "has_refresh_token", "token_expires_at", "refresh_token_expires_at"}
    assert all({k for k in e["data"]["object"] if "token" in k} <= token_keys for e in connected)  # never a token

    feed = api(stack, "GET", "/api/v1/events/?types=target.published", headers=me).json()
    assert [e["id"] for e in feed["results"]] == [published["id"]]
    log = api(stack, "GET", f"/api/v1/webhook-endpoints/{endpoint}/deliveries/", headers=me).json()["results"]
    assert log and all(d["status"] == "delivered" and d["attempt_count"] == 1 for d in log)
