"""webhook_process routing: every event shape into the inbox, publishing or account status."""

from __future__ import annotations

import pytest

from conversations.actors import webhook_process
from conversations.models import Conversation, InboxSyncState, Message, WebhookEvent
from social.models import AccountStatus
from tests.conftest import recorded_events
from unipulse import hooks

from .conftest import IGSID, PAGE_ID, PSID, raw_fixture

pytestmark = pytest.mark.django_db


def test_a_facebook_comment_becomes_an_unread_comment_thread(deliver, page):
    deliver("facebook/webhook_feed_comment_add.json")
    conversation = Conversation.objects.get()
    assert (conversation.account, conversation.kind) == (page, "comment")
    assert conversation.platform_post_id == f"{PAGE_ID}_822334455667788"
    assert conversation.root_comment_id == "822334455667788_1234567890123456"
    assert conversation.unread_count == 1 and conversation.last_inbound_at is not None
    message = conversation.messages.get()
    assert (message.direction, message.author_name, message.text, message.origin) == (
        "in", "Jane Doe", "Do you ship to Lyon? 🚚", "webhook")
    assert message.created_at.timestamp() == 1789463921
    assert WebhookEvent.objects.get().status == "processed"
    assert InboxSyncState.objects.get(account=page).last_webhook_at is not None


def test_a_webhook_after_quiet_polls_drops_the_quiet_reason_and_keeps_the_others(deliver, page):
    from conversations.services.inbox import QUIET_REASON

    type(page).objects.filter(pk=page.pk).update(status_reason=f"Instagram account was unlinked. | {QUIET_REASON}")
    deliver("facebook/webhook_feed_comment_add.json")
    page.refresh_from_db()
    assert page.status_reason == "Instagram account was unlinked."

    type(page).objects.filter(pk=page.pk).update(status_reason=QUIET_REASON)
    deliver("facebook/webhook_feed_comment_edited.json")
    page.refresh_from_db()
    assert page.status_reason == ""


def test_a_webhook_leaves_a_status_reason_without_the_quiet_one_as_it_is(deliver, page):
    type(page).objects.filter(pk=page.pk).update(status_reason="Instagram account was unlinked.")
    deliver("facebook/webhook_feed_comment_add.json")
    page.refresh_from_db()
    assert page.status_reason == "Instagram account was unlinked."


def test_a_batch_routes_every_entry_and_change_and_stores_the_pages_own_reply_as_outbound(deliver, page):
    deliver("facebook/webhook_feed_batch.json")
    threads = {c.root_comment_id: c for c in Conversation.objects.all()}
    assert set(threads) == {"822334455667788_1234567890123456", "933445566778899_2234567890123456"}
    first = threads["822334455667788_1234567890123456"]
    assert [(m.direction, m.text) for m in first.messages.order_by("created_at")] == [
        ("in", "Do you ship to Lyon? 🚚"), ("in", "Also, is it free over 50€?"),
        ("out", "Yes, we ship everywhere in France!")]
    assert first.unread_count == 2  # our own reply is never unread
    assert threads["933445566778899_2234567890123456"].messages.get().author_name == "Marc Petit"
    assert Message.objects.count() == 4  # the reaction is not a message
    inbound = Message.objects.filter(direction="in").order_by("pk")
    assert [(e.type, e.data["object"]["id"], e.data["object"]["text"]) for e in recorded_events()] == [
        ("inbox.message.received", m.pk, m.text) for m in inbound]  # one per new inbound message, none for ours


def test_a_webhook_delivered_twice_in_different_batches_makes_one_message(deliver, page):
    deliver("facebook/webhook_feed_comment_add.json")
    deliver("facebook/webhook_feed_batch.json")  # repeats the first comment
    assert Message.objects.filter(external_id="822334455667788_1234567890123456").count() == 1
    received = [e.data["object"]["external_id"] for e in recorded_events("inbox.message.received")]
    assert received.count("822334455667788_1234567890123456") == 1 and len(received) == 3
    assert Conversation.objects.get(root_comment_id="822334455667788_1234567890123456").unread_count == 2


def test_an_edited_comment_updates_the_text_and_remove_and_hide_set_flags(deliver, page):
    deliver("facebook/webhook_feed_comment_add.json")
    deliver("facebook/webhook_feed_comment_edited.json")
    message = Message.objects.get()
    assert message.text == "Do you ship to Lyon or Grenoble?"
    deliver("facebook/webhook_feed_comment_hide.json")
    message.refresh_from_db()
    assert message.is_hidden and not message.is_deleted
    deliver("facebook/webhook_feed_comment_remove.json")
    message.refresh_from_db()
    assert message.is_deleted
    assert Conversation.objects.get().unread_count == 1


def test_a_messenger_message_becomes_a_dm_thread_with_its_attachment(deliver, page):
    deliver("facebook/webhook_messages.json")
    conversation = Conversation.objects.get()
    assert (conversation.kind, conversation.participant_id, conversation.unread_count) == ("dm", PSID, 1)
    message = conversation.messages.get()
    assert message.external_id == "m_AbCdEf0123456789-XyZ_aBcDeFgHiJkLmNoPqRsTuVwXyZ01"
    assert message.attachments[0]["type"] == "image"
    assert conversation.last_inbound_at.timestamp() == pytest.approx(1789463924.987)


def test_a_messenger_echo_is_stored_as_outbound_in_the_same_thread(deliver, page):
    deliver("facebook/webhook_messages.json")
    deliver("facebook/webhook_message_echo.json")
    conversation = Conversation.objects.get()
    assert [m.direction for m in conversation.messages.order_by("created_at")] == ["in", "out"]
    assert conversation.unread_count == 1
    assert conversation.snippet == "Yes, it is back since Monday."


def test_an_echo_of_our_own_reply_matches_the_stored_reply_by_message_id(deliver, page):
    deliver("facebook/webhook_messages.json")
    conversation = Conversation.objects.get()
    ours = Message.objects.create(
        conversation=conversation, account=page, external_id="m_EcHo0123456789-ourReply_aBcDeFgHiJkLmNoPqRsTuVw",
        direction="out", text="Yes, it is back since Monday.", created_at=conversation.last_message_at,
        status="sent", origin="agent", idempotency_key="k1")
    deliver("facebook/webhook_message_echo.json")
    assert list(conversation.messages.filter(direction="out")) == [ours]


def test_delivery_receipts_and_unknown_fields_are_stored_and_marked_ignored(deliver, page):
    deliver("facebook/webhook_message_delivery.json")
    deliver("facebook/webhook_unknown_field.json")
    assert list(WebhookEvent.objects.values_list("status", flat=True)) == ["ignored", "ignored"]
    assert Message.objects.count() == 0


def test_an_unknown_meta_object_is_ignored(post_meta, sent_events):
    assert post_meta({"object": "whatsapp_business_account", "entry": []}).status_code == 200
    webhook_process(sent_events[0])
    assert WebhookEvent.objects.get().status == "ignored"


def test_events_for_an_unknown_page_are_ignored(deliver, account_factory):
    account_factory("facebook", external_id="999")
    deliver("facebook/webhook_feed_comment_add.json")
    assert WebhookEvent.objects.get().status == "ignored"
    assert Message.objects.count() == 0


def test_a_page_connected_by_two_users_gets_the_comment_in_both_inboxes(deliver, page, account_factory, other_user):
    account_factory("facebook", owner=other_user, external_id=PAGE_ID)
    deliver("facebook/webhook_feed_comment_add.json")
    assert Message.objects.count() == 2
    assert Conversation.objects.values("account__workspace").distinct().count() == 2


def test_instagram_comments_and_replies_share_one_thread(deliver, ig_account):
    deliver("instagram/webhook_comments.json")
    conversation = Conversation.objects.get()
    assert (conversation.account, conversation.kind, conversation.root_comment_id) == (ig_account, "comment", "17865432109876543")
    assert conversation.platform_post_id == "18023456789012345"
    assert [m.author_name for m in conversation.messages.order_by("id")] == ["claire.voyage", "tom_b"]
    assert conversation.messages.get(external_id="17865432109876999").parent_external_id == "17865432109876543"


def test_instagram_messages_and_echoes_make_one_dm_thread(deliver, ig_account):
    deliver("instagram/webhook_messages.json")
    conversation = Conversation.objects.get()
    assert (conversation.account, conversation.participant_id) == (ig_account, IGSID)
    assert [m.direction for m in conversation.messages.order_by("created_at")] == ["in", "out"]
    assert conversation.unread_count == 1


def test_tiktok_publish_events_go_to_publishing(deliver, monkeypatch, tiktok_account):
    calls = []

    def fake_apply(publish_id, event, post_id=None, reason=None):
        calls.append((publish_id, event, post_id, reason))
        return True

    monkeypatch.setattr(hooks.tiktok_publish_event, "_function", fake_apply)
    deliver("tiktok/webhook_post_publish_publicly_available.json")
    deliver("tiktok/webhook_post_publish_failed.json")
    assert calls == [
        ("v_pub_file~v2-1.7301234567890123456", "post.publish.publicly_available", "7301234567890123456", None),
        ("v_pub_file~v2-1.7301234567890123456", "post.publish.failed", None, "file_format_check_failed"),
    ]
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}


def test_a_tiktok_publish_event_for_no_known_post_is_ignored(deliver, monkeypatch):
    monkeypatch.setattr(hooks.tiktok_publish_event, "_function", lambda *a, **k: False)
    deliver("tiktok/webhook_post_publish_failed.json")
    assert WebhookEvent.objects.get().status == "ignored"


def test_tiktok_authorization_removed_disconnects_the_account_with_a_reason(deliver, tiktok_account):
    deliver("tiktok/webhook_authorization_removed.json")
    tiktok_account.refresh_from_db()
    assert tiktok_account.status == AccountStatus.DISCONNECTED
    assert tiktok_account.status_reason == "TikTok access was removed: the user disconnected UniPulse."


def test_unknown_tiktok_events_are_ignored(deliver, tiktok_account):
    deliver("tiktok/webhook_unknown_event.json")
    assert WebhookEvent.objects.get().status == "ignored"


def test_meta_deauthorize_callback_disconnects_the_users_pages_and_instagram(client, page, ig_account, sent_events,
                                                                          django_capture_on_commit_callbacks):
    import base64
    import hashlib
    import hmac
    import json

    payload = base64.urlsafe_b64encode(json.dumps(
        {"algorithm": "HMAC-SHA256", "issued_at": 1789463921, "user_id": "fbuser-1"}).encode()).rstrip(b"=").decode()
    sig = base64.urlsafe_b64encode(hmac.new(b"test-app-secret", payload.encode(), hashlib.sha256).digest()).rstrip(b"=")
    with django_capture_on_commit_callbacks(execute=True):
        forged = client.post("/api/v1/webhooks/meta/deauthorize", {"signed_request": f"AAAA.{payload}"})
        response = client.post("/api/v1/webhooks/meta/deauthorize", {"signed_request": f"{sig.decode()}.{payload}"})
    assert (forged.status_code, response.status_code) == (403, 200)
    webhook_process(sent_events[0])
    page.refresh_from_db()
    ig_account.refresh_from_db()
    assert page.status == ig_account.status == AccountStatus.DISCONNECTED


def test_a_routing_failure_marks_the_event_failed_and_raises_for_a_retry(deliver, post_meta, sent_events, monkeypatch, page):
    from conversations.services import inbox

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(inbox, "upsert_item", broken)
    post_meta(b'{"object": "page", "entry": [{"id": "104523678912345", "changes": [{"field": "feed", "value": '
              b'{"item": "comment", "verb": "add", "comment_id": "1_2", "post_id": "104523678912345_1"}}]}]}')
    with pytest.raises(RuntimeError):
        webhook_process(sent_events[0])
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == ("failed", 1)
    assert "database went away" in event.error


def test_meta_deauthorize_for_a_page_disconnects_only_that_page(page, ig_account):
    from conversations.platforms.meta import route_meta_deauth

    assert route_meta_deauth({"algorithm": "HMAC-SHA256", "user_id": "0", "profile_id": page.external_id}) is True
    page.refresh_from_db()
    ig_account.refresh_from_db()
    assert (page.status, ig_account.status) == (AccountStatus.DISCONNECTED, AccountStatus.ACTIVE)
    assert page.status_reason == "UniPulse was removed from this Page's apps."


def test_an_instagram_comment_by_the_account_itself_is_stored_as_outbound(post_meta, sent_events, ig_account):
    from .conftest import IG_ID

    post_meta({"object": "instagram", "entry": [{"id": IG_ID, "time": 1789463925, "changes": [{"field": "comments", "value": {
        "from": {"id": IG_ID, "username": "maison.lumiere"}, "media": {"id": "18023456789012345", "media_product_type": "FEED"},
        "id": "17865432109877777", "parent_id": "17865432109876543", "text": "Étretat, indeed!"}}]}]})
    webhook_process(sent_events[0])
    message = Message.objects.get()
    assert (message.direction, message.status) == ("out", "sent")
    assert message.conversation.unread_count == 0


@pytest.mark.django_db(transaction=True)
def test_a_delivery_being_routed_by_one_worker_is_left_alone_by_a_second_copy_of_its_message(post_meta, sent_events, page):
    """Found by the Redis-outage fault test: a delivery repeated while its first copy waited was on the
    queue twice, and two workers routed it at once (attempts = 2). The row lock makes it single flight."""
    import threading

    from django.db import connection, connections, transaction

    from conversations.services import process_webhook_event

    if connection.vendor != "postgresql":
        pytest.skip("row locks: SQLite serialises writers instead (IMMEDIATE transactions)")
    post_meta(raw_fixture("facebook/webhook_feed_comment_add.json"))
    event_id = WebhookEvent.objects.get().pk
    locked, release = threading.Event(), threading.Event()

    def first_worker():  # holds the row as a worker in the middle of routing it would
        try:
            with transaction.atomic():
                WebhookEvent.objects.select_for_update().get(pk=event_id)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=first_worker)
    holder.start()
    assert locked.wait(10)
    try:
        process_webhook_event(event_id)  # the second copy of the message
        event = WebhookEvent.objects.get()
        assert (event.status, event.attempts) == ("received", 0)
        assert not Message.objects.exists()
    finally:
        release.set()
        holder.join(10)
    process_webhook_event(event_id)
    process_webhook_event(event_id)
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == ("processed", 1)
    assert Message.objects.count() == 1


def test_a_reason_written_meanwhile_is_kept_and_the_quiet_one_is_removed_by_a_later_webhook(deliver, page, monkeypatch):
    from conversations.services import inbox
    from conversations.services.inbox import QUIET_REASON

    type(page).objects.filter(pk=page.pk).update(status_reason=QUIET_REASON)
    real_filter = type(page).objects.filter

    def another_writer_first(*args, **kwargs):
        # Between our read and our compare-and-set another worker adds a reason: ours must not overwrite it.
        if "status_reason" in kwargs:
            type(page).objects.filter(pk=page.pk).update(status_reason=f"{QUIET_REASON} | Token expires soon.")
        return real_filter(*args, **kwargs)

    with monkeypatch.context() as patched:  # only this: the fixtures' own patches stay
        patched.setattr(inbox.SocialAccount.objects, "filter", another_writer_first)
        deliver("facebook/webhook_feed_comment_add.json")
    page.refresh_from_db()
    assert page.status_reason == f"{QUIET_REASON} | Token expires soon."

    deliver("facebook/webhook_feed_comment_edited.json")
    page.refresh_from_db()
    assert page.status_reason == "Token expires soon."
