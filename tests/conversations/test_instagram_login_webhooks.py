"""Instagram Login deliveries: signed by the Instagram app (INSTAGRAM_APP_SECRET) as well as the Facebook app,
and routed to the Page-less account they name."""

import json

import pytest

from conversations.models import Conversation, Message, WebhookEvent
from conversations.services import process_webhook_event
from social.models import LoginPath

from .conftest import IG_ID, meta_signature, raw_fixture

pytestmark = pytest.mark.django_db

IG_APP_SECRET = "test-ig-app-secret"  # tests/settings.py


@pytest.fixture
def ig_login_account(account_factory):
    return account_factory("instagram", external_id=IG_ID, platform_user_id=IG_ID, login_path=LoginPath.INSTAGRAM,
                           name="maison.lumiere")


@pytest.mark.parametrize("secret", ["test-app-secret", IG_APP_SECRET], ids=["facebook-app", "instagram-app"])
def test_an_instagram_delivery_signed_by_either_app_is_accepted_and_stored(post_meta, sent_events, secret):
    body = raw_fixture("instagram/webhook_comments.json")
    response = post_meta(body, signature=meta_signature(body, secret=secret))
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.platform, event.topic) == (WebhookEvent.Source.META, "instagram")
    assert sent_events == [event.pk]


@pytest.mark.parametrize("secret", ["wrong-secret", ""], ids=["wrong", "empty"])
def test_an_instagram_delivery_signed_with_another_secret_is_403_and_not_stored(post_meta, sent_events, secret):
    body = raw_fixture("instagram/webhook_comments.json")
    response = post_meta(body, signature=meta_signature(body, secret=secret or "x") if secret else "sha256=")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "bad_signature"
    assert not WebhookEvent.objects.exists() and sent_events == []


def test_the_instagram_apps_secret_does_not_sign_a_page_delivery(post_meta, sent_events):
    # The Instagram app only ever sends `instagram` deliveries: its signature on a Page's feed is refused.
    body = raw_fixture("facebook/webhook_feed_comment_add.json")
    assert post_meta(body, signature=meta_signature(body, secret=IG_APP_SECRET)).status_code == 403
    assert post_meta(body, signature=meta_signature(body)).status_code == 200  # the Facebook app's still holds
    assert WebhookEvent.objects.count() == 1


def test_the_instagram_apps_secret_is_not_accepted_when_it_is_unset(post_meta, settings):
    settings.INSTAGRAM_APP_SECRET = ""
    body = raw_fixture("instagram/webhook_comments.json")
    assert post_meta(body, signature=meta_signature(body, secret="")).status_code == 403


def test_instagram_login_comments_and_dms_reach_the_page_less_account(ig_login_account, post_meta, sent_events):
    for name in ("instagram/webhook_comments.json", "instagram/webhook_messages.json"):
        body = raw_fixture(name)
        assert post_meta(body, signature=meta_signature(body, secret=IG_APP_SECRET)).status_code == 200
    for event_id in sent_events:
        process_webhook_event(event_id)
    comments = Message.objects.filter(conversation__account=ig_login_account, conversation__kind="comment")
    assert sorted(comments.values_list("external_id", flat=True)) == ["17865432109876543", "17865432109876999"]
    dm = Conversation.objects.get(account=ig_login_account, kind="dm")
    assert dm.participant_id == "7012345678901234"
    assert [(m.direction, m.text) for m in dm.messages.order_by("created_at")] == [
        ("in", "Do you have this in size M?"), ("out", "Yes! Sending you the link.")]


def test_a_comment_printed_in_the_entry_itself_as_in_metas_instagram_login_examples_is_routed(
        ig_login_account, post_meta, sent_events):
    body = json.dumps({"object": "instagram", "entry": [{
        "id": IG_ID, "time": 1789463925, "field": "comments",
        "value": {"from": {"id": "2345678901234567", "username": "claire.voyage"}, "id": "17865432109870001",
                  "text": "Love it", "media": {"id": "18023456789012345", "media_product_type": "REELS"}}}]}).encode()
    assert post_meta(body, signature=meta_signature(body, secret=IG_APP_SECRET)).status_code == 200
    process_webhook_event(sent_events[0])
    message = Message.objects.get(conversation__account=ig_login_account)
    assert (message.external_id, message.text, message.conversation.platform_post_id) == (
        "17865432109870001", "Love it", "18023456789012345")
