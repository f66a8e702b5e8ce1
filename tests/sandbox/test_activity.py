"""The webhook emitter: real-shaped Meta and TikTok deliveries whose signatures verify as documented."""

import hashlib
import hmac
import json

import pytest
from django.core.management import CommandError, call_command

from sandbox.activity import emit_activity
from sandbox.models import Comment, DirectMessage, Page
from sandbox.seed import ensure_world
from tests.sandbox.conftest import APP_SECRET, CLIENT_SECRET, connect_tiktok

PAGE, IG = "104500000000001", "17841400000000101"


class Recorder:
    def __init__(self, status: int = 200) -> None:
        self.calls, self.status = [], status

    def __call__(self, url, body, headers):
        self.calls.append((url, body, headers))
        return self.status


@pytest.fixture
def subscribed(sandbox):
    ensure_world()
    Page.objects.filter(page_id=PAGE).update(subscribed_fields=["feed", "messages"])


def test_emits_comments_and_dms_for_subscribed_pages_only(subscribed):
    send = Recorder()
    summary = emit_activity(comments=1, dms=1, send=send)
    assert sorted(d.kind for d in summary.deliveries) == ["feed comment", "instagram comment", "instagram message",
                                                          "messenger message"]
    assert {url for url, _, _ in send.calls} == {"http://testserver/api/v1/webhooks/meta"}
    assert summary.line() == ("Sandbox activity: 1 feed comment, 1 instagram comment, 1 instagram message, "
                              "1 messenger message; 4 delivered, 0 failed.")


def test_meta_deliveries_are_signed_over_the_raw_body_with_the_app_secret(subscribed):
    send = Recorder()
    emit_activity(send=send)
    for _, body, headers in send.calls:
        expected = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Hub-Signature-256"] == expected
        assert headers["Content-Type"] == "application/json"


def test_feed_comment_payload_has_the_documented_shape_and_matches_the_graph_state(subscribed):
    send = Recorder()
    emit_activity(dms=0, send=send)
    payload = next(json.loads(b) for _, b, _ in send.calls if json.loads(b)["object"] == "page")
    entry = payload["entry"][0]
    assert entry["id"] == PAGE and isinstance(entry["time"], int)
    change = entry["changes"][0]
    assert change["field"] == "feed"
    value = change["value"]
    assert set(value) == {"item", "verb", "comment_id", "post_id", "parent_id", "from", "message", "created_time",
                          "post"}
    assert (value["item"], value["verb"]) == ("comment", "add") and value["parent_id"] == value["post_id"]
    comment = Comment.objects.get(comment_id=value["comment_id"])
    assert comment.message == value["message"] and comment.post.post_id == value["post_id"]


def test_instagram_comment_and_message_payloads(subscribed):
    send = Recorder()
    emit_activity(send=send)
    payloads = [json.loads(b) for _, b, _ in send.calls]
    ig = [p for p in payloads if p["object"] == "instagram"]
    comment = next(p for p in ig if "changes" in p["entry"][0])["entry"][0]
    assert comment["id"] == IG and comment["changes"][0]["field"] == "comments"
    assert set(comment["changes"][0]["value"]) == {"from", "media", "id", "text"}
    message = next(p for p in ig if "messaging" in p["entry"][0])["entry"][0]["messaging"][0]
    assert message["recipient"] == {"id": IG} and message["message"]["mid"].startswith("m_")
    assert DirectMessage.objects.filter(mid=message["message"]["mid"]).exists()


def test_tiktok_publish_events_are_signed_and_sent_once(client, sandbox, frozen):
    tokens = connect_tiktok(client)
    init = client.post("/sandbox/tiktok-api/v2/post/publish/video/init/", {
        "post_info": {"privacy_level": "PUBLIC_TO_EVERYONE", "title": "t"},
        "source_info": {"source": "PULL_FROM_URL", "video_url": "https://e.x/v.mp4"}},
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").json()["data"]
    frozen.advance(15)
    send = Recorder()
    summary = emit_activity(comments=0, dms=0, send=send)
    assert [d.kind for d in summary.deliveries] == ["post.publish.complete", "post.publish.publicly_available"]
    for url, body, headers in send.calls:
        assert url == "http://testserver/api/v1/webhooks/tiktok"
        parts = dict(p.split("=", 1) for p in headers["TikTok-Signature"].split(","))
        expected = hmac.new(CLIENT_SECRET.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
        assert parts["s"] == expected
    event = json.loads(send.calls[1][1])
    assert set(event) == {"client_key", "event", "create_time", "user_openid", "content"}
    content = json.loads(event["content"])  # a JSON string inside JSON, as TikTok sends it
    assert content["publish_id"] == init["publish_id"] and content["post_id"].isdigit()
    assert emit_activity(comments=0, dms=0, send=Recorder()).deliveries == []


def test_an_undelivered_tiktok_event_is_sent_again_next_round(client, sandbox, frozen):
    tokens = connect_tiktok(client)
    client.post("/sandbox/tiktok-api/v2/post/publish/inbox/video/init/", {
        "source_info": {"source": "PULL_FROM_URL", "video_url": "https://e.x/v.mp4"}},
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    frozen.advance(15)
    assert emit_activity(comments=0, dms=0, send=Recorder(status=500)).failed
    again = emit_activity(comments=0, dms=0, send=Recorder())
    assert [d.kind for d in again.deliveries] == ["post.publish.inbox_delivered"]


def test_the_command_refuses_to_run_when_the_sandbox_is_off(db):
    with pytest.raises(CommandError, match="The sandbox is off"):
        call_command("sandbox_activity")


def test_the_command_fails_when_a_delivery_fails(subscribed, monkeypatch):
    monkeypatch.setattr("sandbox.activity.http_send", lambda url, body, headers: 0)
    with pytest.raises(CommandError, match="4 failed"):
        call_command("sandbox_activity")


def test_sandbox_activity_off_stops_the_scheduled_comments_and_dms(subscribed, monkeypatch, settings, capsys):
    sent = Recorder()
    monkeypatch.setattr("sandbox.activity.http_send", sent)
    settings.SANDBOX_ACTIVITY = False
    seeded = Comment.objects.count()
    call_command("sandbox_activity")  # as the scheduler runs it
    assert sent.calls == [] and Comment.objects.count() == seeded and DirectMessage.objects.count() == 0
    assert "nothing new" in capsys.readouterr().out
    call_command("sandbox_activity", "--dms", "1")  # asked for by hand: it still counts
    assert [json.loads(body)["entry"][0]["messaging"][0]["sender"]["id"] for _, body, _ in sent.calls]
    assert DirectMessage.objects.count() == 2  # the Page's Messenger and its Instagram account


def test_the_scheduled_round_follows_sandbox_activity(subscribed, monkeypatch, settings):
    from sandbox.activity import run_scheduled_activity

    monkeypatch.setattr("sandbox.activity.http_send", Recorder())
    settings.SANDBOX_ACTIVITY = False
    assert run_scheduled_activity().startswith("Sandbox activity: nothing new")
    settings.SANDBOX_ACTIVITY = True
    assert "1 messenger message" in run_scheduled_activity()
