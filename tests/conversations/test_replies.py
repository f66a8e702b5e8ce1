"""send_agent_reply: each kind of reply, the DM window, idempotency, platform errors."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import requests
from django.utils import timezone

from conversations.models import Conversation, Message
from conversations.services import OutsideMessagingWindowError, send_agent_reply
from social.clients import ratelimit
from tests.conftest import load_fixture, recorded_events
from unipulse.platform_errors import PlatformError

from .conftest import IG_ID, IGSID, PAGE_ID, PSID

pytestmark = pytest.mark.django_db
GRAPH = "https://graph.facebook.com/v25.0"


def make_thread(account, kind="comment", inbound_ago=timedelta(minutes=5), **fields) -> Conversation:
    last = timezone.now() - inbound_ago
    key = f"dm:{fields.get('participant_id')}" if kind == "dm" else f"c:{fields.get('root_comment_id')}"
    return Conversation.objects.create(account=account, kind=kind, thread_key=key, last_message_at=last,
                                       last_inbound_at=last, **fields)


def test_reply_to_a_facebook_comment_posts_under_the_root_comment(page, user, mocked_platforms):
    thread = make_thread(page, root_comment_id="822334455667788_1234567890123456",
                         platform_post_id=f"{PAGE_ID}_822334455667788")
    mocked_platforms.post(f"{GRAPH}/822334455667788_1234567890123456/comments",
                          json=load_fixture("facebook/conversations_comment_reply.json"))
    message = send_agent_reply(thread, "Yes, to Lyon in 2 days.", "key-1", user)
    sent = parse_qs(mocked_platforms.calls[0].request.body)
    assert sent["message"] == ["Yes, to Lyon in 2 days."]
    assert "appsecret_proof" in sent and sent["access_token"] == [page.access_token]
    assert (message.status, message.external_id, message.direction, message.sent_by) == (
        "sent", "822334455667788_1234567891888888", "out", user)
    thread.refresh_from_db()
    assert thread.snippet == "Yes, to Lyon in 2 days."


def test_reply_to_an_instagram_comment_uses_its_replies_edge(ig_account, user, mocked_platforms):
    thread = make_thread(ig_account, root_comment_id="17865432109876543", platform_post_id="18023456789012345")
    mocked_platforms.post(f"{GRAPH}/17865432109876543/replies", json=load_fixture("instagram/conversations_comment_reply.json"))
    message = send_agent_reply(thread, "Étretat, indeed!", "key-1", user)
    assert parse_qs(mocked_platforms.calls[0].request.body)["message"] == ["Étretat, indeed!"]
    assert message.external_id == "17865432109877777"


def test_reply_to_a_messenger_dm_inside_24_hours_sends_a_response(page, user, mocked_platforms):
    thread = make_thread(page, kind="dm", participant_id=PSID, inbound_ago=timedelta(hours=23))
    mocked_platforms.post(f"{GRAPH}/{PAGE_ID}/messages", json=load_fixture("facebook/conversations_send_message.json"))
    message = send_agent_reply(thread, "It is back in stock.", "key-1", user)
    request = mocked_platforms.calls[0].request
    assert json.loads(request.body) == {"recipient": {"id": PSID}, "message": {"text": "It is back in stock."},
                                        "messaging_type": "RESPONSE"}
    assert "appsecret_proof=" in request.url
    assert message.external_id == "m_SentByAgent0123456789abcdefghijklmnopqrstuvwxyz012"


def test_reply_to_an_instagram_dm_goes_through_the_linked_page(ig_account, user, mocked_platforms):
    thread = make_thread(ig_account, kind="dm", participant_id=IGSID)
    mocked_platforms.post(f"{GRAPH}/{PAGE_ID}/messages", json=load_fixture("instagram/conversations_send_message.json"))
    message = send_agent_reply(thread, "Size M is available.", "key-1", user)
    assert json.loads(mocked_platforms.calls[0].request.body)["recipient"] == {"id": IGSID}
    assert message.status == "sent" and IG_ID in message.author_id


def test_a_dm_reply_outside_the_24_hour_window_is_refused_without_calling_meta(page, user, mocked_platforms):
    thread = make_thread(page, kind="dm", participant_id=PSID, inbound_ago=timedelta(hours=25))
    with pytest.raises(OutsideMessagingWindowError) as caught:
        send_agent_reply(thread, "Hello?", "key-1", user)
    assert caught.value.status_code == 409 and caught.value.error_code == "outside_messaging_window"
    assert len(mocked_platforms.calls) == 0
    assert Message.objects.count() == 0


def test_with_human_agent_a_dm_reply_within_7_days_carries_the_tag(page, user, mocked_platforms, settings):
    settings.META_HUMAN_AGENT_ENABLED = True
    thread = make_thread(page, kind="dm", participant_id=PSID, inbound_ago=timedelta(days=3))
    mocked_platforms.post(f"{GRAPH}/{PAGE_ID}/messages", json=load_fixture("facebook/conversations_send_message.json"))
    send_agent_reply(thread, "Sorry for the delay.", "key-1", user)
    sent = json.loads(mocked_platforms.calls[0].request.body)
    assert (sent["messaging_type"], sent["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    stale = make_thread(page, kind="dm", participant_id="other", inbound_ago=timedelta(days=8))
    with pytest.raises(OutsideMessagingWindowError):
        send_agent_reply(stale, "Hello?", "key-2", user)


def test_a_retry_with_the_same_idempotency_key_never_sends_twice(page, user, mocked_platforms):
    thread = make_thread(page, kind="dm", participant_id=PSID)
    mocked_platforms.post(f"{GRAPH}/{PAGE_ID}/messages", json=load_fixture("facebook/conversations_send_message.json"))
    first = send_agent_reply(thread, "It is back.", "key-1", user)
    again = send_agent_reply(thread, "It is back.", "key-1", user)
    assert again.pk == first.pk
    assert len(mocked_platforms.calls) == 1
    assert Message.objects.count() == 1


def test_a_platform_refusal_is_recorded_on_the_message_and_raised(page, user, mocked_platforms, caplog):
    thread = make_thread(page, kind="dm", participant_id=PSID)
    mocked_platforms.post(f"{GRAPH}/{PAGE_ID}/messages", status=400,
                          json=load_fixture("facebook/conversations_send_outside_window.json"))
    with pytest.raises(PlatformError):
        send_agent_reply(thread, "Late answer", "key-1", user)
    message = Message.objects.get()
    assert message.status == "failed" and message.error
    assert page.access_token not in message.error
    assert page.access_token not in caplog.text


def test_after_a_certain_refusal_the_same_key_may_send_again(page, user, mocked_platforms):
    thread = make_thread(page, kind="dm", participant_id=PSID)
    url = f"{GRAPH}/{PAGE_ID}/messages"
    mocked_platforms.post(url, status=400, json={"error": {
        "message": "(#4) Application request limit reached", "type": "OAuthException", "code": 4, "fbtrace_id": "Ax1"}})
    with pytest.raises(PlatformError):
        send_agent_reply(thread, "Back in stock", "key-1", user)
    refused = Message.objects.get()
    assert (refused.status, refused.idempotency_key) == ("failed", "")  # kept as history, key given back
    [failed] = recorded_events()
    assert (failed.type, failed.data["object"]["id"], failed.data["object"]["status"]) == (
        "inbox.reply.failed", refused.pk, "failed")

    ratelimit.get_store().clear()  # the pause Graph asked for is over
    mocked_platforms.replace("POST", url, json=load_fixture("facebook/conversations_send_message.json"))
    sent = send_agent_reply(thread, "Back in stock", "key-1", user)

    assert len(mocked_platforms.calls) == 2
    assert sent.pk != refused.pk and (sent.status, sent.idempotency_key) == ("sent", "key-1")
    assert [(e.type, e.data["object"]["id"]) for e in recorded_events()][1:] == [("inbox.reply.sent", sent.pk)]
    assert recorded_events()[1].data["object"]["status"] == "sent"
    assert page.access_token not in str([e.data for e in recorded_events()])
    assert send_agent_reply(thread, "Back in stock", "key-1", user).pk == sent.pk
    assert len(mocked_platforms.calls) == 2


@pytest.mark.parametrize("failure", [
    {"status": 500, "json": {"error": {"message": "An unknown error occurred", "type": "OAuthException", "code": 1,
                                       "fbtrace_id": "Ax2"}}},
    {"body": requests.Timeout("read timed out")},
], ids=["graph-unknown-error", "timeout"])
def test_after_an_uncertain_failure_the_same_key_never_sends_again(page, user, mocked_platforms, failure):
    thread = make_thread(page, kind="dm", participant_id=PSID)
    mocked_platforms.post(f"{GRAPH}/{PAGE_ID}/messages", **failure)
    with pytest.raises(PlatformError):
        send_agent_reply(thread, "Back in stock", "key-1", user)
    failed = Message.objects.get()
    calls = len(mocked_platforms.calls)

    again = send_agent_reply(thread, "Back in stock", "key-1", user)  # the reply may be live: do not repeat it

    assert again.pk == failed.pk and again.status == "failed" and again.idempotency_key == "key-1"
    assert len(mocked_platforms.calls) == calls
    assert Message.objects.count() == 1


@pytest.mark.parametrize("winner_status", ["sending", "sent", "failed"])
def test_a_request_that_loses_the_insert_race_returns_the_winners_row_without_calling_the_platform(
        page, user, mocked_platforms, monkeypatch, winner_status):
    from conversations.services import replies

    thread = make_thread(page, kind="dm", participant_id=PSID)
    mocked_platforms.post(f"{GRAPH}/{PAGE_ID}/messages", json=load_fixture("facebook/conversations_send_message.json"))
    # The other request inserted its row between our lookup and our insert (still sending, no external id yet).
    winner = Message.objects.create(conversation=thread, account=page, direction="out", text="It is back.",
                                    created_at=timezone.now(), status=winner_status, origin="agent",
                                    idempotency_key="key-1")
    monkeypatch.setattr(replies, "_find", lambda conversation, key: None)

    loser = send_agent_reply(thread, "It is back.", "key-1", user)

    assert loser.pk == winner.pk and loser.status == winner_status and loser.external_id == ""
    assert len(mocked_platforms.calls) == 0
    assert Message.objects.count() == 1


def test_only_the_request_that_inserted_the_reply_sends_it(page, user, mocked_platforms, monkeypatch):
    """Two requests with one key, interleaved: the loser's insert fails while the winner is mid-send."""
    from conversations.services import replies

    thread = make_thread(page, kind="dm", participant_id=PSID)
    seen = []

    def send(request):
        # The second request arrives now: its lookup misses (the winner's row is not committed yet to it),
        # its insert then conflicts.
        with monkeypatch.context() as m:
            m.setattr(replies, "_find", lambda conversation, key: None)
            seen.append(send_agent_reply(thread, "It is back.", "key-1", user))
        return 200, {}, json.dumps(load_fixture("facebook/conversations_send_message.json"))

    mocked_platforms.add_callback("POST", f"{GRAPH}/{PAGE_ID}/messages", callback=send)

    first = send_agent_reply(thread, "It is back.", "key-1", user)

    assert len(mocked_platforms.calls) == 1
    assert seen[0].pk == first.pk and seen[0].status == "sending"
    assert first.status == "sent" and Message.objects.count() == 1


def test_the_echo_of_a_reply_arriving_before_the_send_answer_leaves_one_row(page, user, mocked_platforms):
    thread = make_thread(page, kind="dm", participant_id=PSID)
    mid = load_fixture("facebook/conversations_send_message.json")["message_id"]

    def echo_first(request):
        Message.objects.create(conversation=thread, account=page, external_id=mid, direction="out", text="Hi",
                               created_at=timezone.now(), status="sent", origin="webhook")
        return 200, {}, json.dumps(load_fixture("facebook/conversations_send_message.json"))

    mocked_platforms.add_callback("POST", f"{GRAPH}/{PAGE_ID}/messages", callback=echo_first)
    message = send_agent_reply(thread, "Hi", "key-1", user)
    assert list(Message.objects.filter(external_id=mid)) == [message]
    assert message.origin == "agent"
