"""Signed deliveries of odd shapes: never a 500, never retried for nothing, text cleaned on every database."""

from __future__ import annotations

import hashlib
import json

import pytest

from conversations.models import Message, WebhookEvent
from conversations.services import process_webhook_event

from .conftest import PAGE_ID, raw_fixture, tiktok_signature

pytestmark = pytest.mark.django_db


def comment_body(message: str = "hello", **value) -> dict:
    body = json.loads(raw_fixture("facebook/webhook_feed_comment_add.json"))
    body["entry"][0]["changes"][0]["value"].update({"message": message, **value})
    return body


def route(sent_events) -> WebhookEvent:
    """Run the one enqueued event as the worker would; it must neither raise nor stay waiting."""
    (event_id,) = sent_events
    process_webhook_event(event_id)
    return WebhookEvent.objects.get(pk=event_id)


def test_a_signed_body_nested_tens_of_thousands_deep_is_stored_ignored_with_the_reason(post_meta, sent_events):
    body = b'{"object": "page", "entry": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    response = post_meta(body)
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.status, event.error) == ("ignored", "JSON nested deeper than 32 levels.")
    assert event.processed_at is not None and event.dedupe_key == hashlib.sha256(body).hexdigest()
    assert sent_events == []  # never routed, never retried


def test_the_depth_limit_is_the_json_max_depth_setting(post_meta, sent_events, settings):
    settings.JSON_MAX_DEPTH = 4
    assert post_meta({"object": "page", "entry": [{"id": "1", "changes": [{"value": {}}]}]}).status_code == 200  # 5 deep
    assert post_meta({"object": "page", "entry": [{"id": "2", "changes": []}]}).status_code == 200  # 3 deep
    deep, shallow = WebhookEvent.objects.order_by("id")
    assert (deep.status, deep.error) == ("ignored", "JSON nested deeper than 4 levels.")
    assert shallow.status == "received" and sent_events == [shallow.id]


def test_a_utf16_body_is_stored_ignored_not_failed_and_retried(post_meta, sent_events):
    body = json.dumps(comment_body()).encode("utf-16")
    assert post_meta(body).status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.status, event.error) == ("ignored", "The body is not UTF-8 text.")
    assert "\x00" not in event.body  # PostgreSQL refuses NUL in text: the stored copy is cleaned
    assert sent_events == []


def test_a_comment_with_a_nul_and_a_lone_surrogate_reaches_the_inbox_cleaned(post_meta, sent_events, page):
    body = json.dumps(comment_body("Do you\u0000 ship \ud800to Lyon?",
                                   **{"from": {"id": "8765432109876543", "name": "Ja\u0000ne"}})).encode()
    assert b"\\u0000" in body and b"\\ud800" in body  # escaped in the JSON, as Meta would send them
    assert post_meta(body).status_code == 200
    event = route(sent_events)
    assert (event.status, event.error) == ("processed", "")
    message = Message.objects.get()
    assert message.text == "Do you ship \ufffdto Lyon?"
    assert message.author_name == "Jane"
    assert message.conversation.snippet.startswith("Do you ship")


def test_a_nul_in_the_topic_is_stored_cleaned(post_meta, sent_events):
    assert post_meta({"object": "pa\u0000ge", "entry": []}).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.topic == "page"


@pytest.mark.parametrize(("payload", "reason"), [
    ({"object": ["page"], "entry": []}, "UnroutableError: `object` is not a string."),
    ({"object": "page", "entry": {"id": PAGE_ID}}, "UnroutableError: `entry` is not a list."),
])
def test_an_unroutable_shape_is_ignored_at_once_with_the_reason(post_meta, sent_events, page, payload, reason):
    assert post_meta(payload).status_code == 200
    event = route(sent_events)
    assert (event.status, event.attempts, event.error) == ("ignored", 1, reason)


@pytest.mark.parametrize("value", [
    [{"item": "comment"}],  # a list where Meta sends an object
    {"item": "comment", "verb": "add", "comment_id": ["1"], "from": "someone"},
    {"item": "comment", "verb": "add", "comment_id": "1_2", "from": ["x"], "message": {"text": "hi"},
     "created_time": 1e300},
])
def test_odd_values_inside_an_entry_never_fail_the_event(post_meta, sent_events, page, value):
    body = {"object": "page", "entry": [{"id": PAGE_ID, "changes": [{"field": "feed", "value": value}]}, "not-an-entry"]}
    assert post_meta(body).status_code == 200
    event = route(sent_events)
    assert event.status in ("processed", "ignored") and event.attempts == 1
    assert event.status != "failed"


def test_an_odd_value_with_a_usable_comment_still_stores_the_comment(post_meta, sent_events, page):
    body = comment_body(message=["not", "text"], created_time="١٧٨٩٤٦٣٩٢١", **{"from": "someone"})
    assert post_meta(body).status_code == 200
    assert route(sent_events).status == "processed"
    message = Message.objects.get()
    assert (message.text, message.author_id) == ("", "")


@pytest.mark.parametrize("content", ["[1, 2]", "not json", 42, "[" * 5000, {"reason": 1}])
def test_a_tiktok_event_with_odd_content_is_ignored_not_failed(post_tiktok, sent_events, tiktok_account, content):
    body = {"event": "post.publish.complete", "user_openid": tiktok_account.external_id, "content": content}
    assert post_tiktok(body).status_code == 200
    event = route(sent_events)
    assert (event.status, event.attempts) == ("ignored", 1)


@pytest.mark.parametrize("stamp", ["\u00b9\u00b2\u00b3", "\u0661\u0667\u0668\u0669"])
def test_a_tiktok_signature_timestamp_in_non_ascii_digits_is_403_not_500(post_tiktok, sent_events, stamp):
    body = raw_fixture("tiktok/webhook_authorization_removed.json")
    digest = tiktok_signature(body).split("s=")[1]
    response = post_tiktok(body, signature=f"t={stamp},s={digest}")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "bad_signature"
    assert WebhookEvent.objects.count() == 0


def test_a_repeat_of_an_ignored_delivery_is_one_row_and_never_enqueued(post_meta, sent_events):
    body = b'{"object": "page", "entry": ' + b"[" * 100 + b"]" * 100 + b"}"
    assert post_meta(body).status_code == post_meta(body).status_code == 200
    assert WebhookEvent.objects.count() == 1 and sent_events == []


def test_a_temporary_failure_is_still_failed_and_retried(post_meta, sent_events, page, monkeypatch):
    from django.db import OperationalError

    from conversations.services import inbox

    def down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(inbox, "upsert_item", down)
    post_meta(comment_body())
    with pytest.raises(OperationalError):
        process_webhook_event(sent_events[0])
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == ("failed", 1)
    assert event.error.startswith("OperationalError: ")


def test_a_deeply_nested_signed_request_on_deauthorize_is_refused_not_a_500(client):
    import base64
    import hashlib as _hashlib
    import hmac

    payload = base64.urlsafe_b64encode(b"[" * 20_000 + b"]" * 20_000).rstrip(b"=")
    sig = base64.urlsafe_b64encode(hmac.new(b"test-app-secret", payload, _hashlib.sha256).digest()).rstrip(b"=")
    response = client.post("/api/v1/webhooks/meta/deauthorize", {"signed_request": f"{sig.decode()}.{payload.decode()}"})
    assert response.status_code == 403
