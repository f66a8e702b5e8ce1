"""Inbox API: listing and filters, messages, reply, read, hide/unhide, isolation, query counts."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.utils import timezone

from conversations.models import Conversation, Message
from tests.conftest import load_fixture

from .conftest import PAGE_ID, PSID

pytestmark = pytest.mark.django_db
GRAPH = "https://graph.facebook.com/v25.0"


def make_conversation(account, n: int, kind="comment", unread=0, name="", text="hello") -> Conversation:
    now = timezone.now() - timedelta(minutes=n)
    conversation = Conversation.objects.create(
        account=account, kind=kind, thread_key=f"{kind}:{n}", root_comment_id=f"c{n}" if kind == "comment" else "",
        participant_id=f"p{n}", participant_name=name or f"Person {n}", unread_count=unread, last_message_at=now,
        last_inbound_at=now, snippet=text)
    Message.objects.create(conversation=conversation, account=account, external_id=f"m{account.pk}-{n}", direction="in",
                           text=text, created_at=now, origin="webhook", author_name=name)
    return conversation


def test_the_inbox_lists_only_the_callers_conversations_newest_first(api_client, page, account_factory, other_user):
    older, newer = make_conversation(page, 2), make_conversation(page, 1)
    make_conversation(account_factory("facebook", owner=other_user), 0)
    response = api_client.get("/api/v1/conversations/")
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [newer.id, older.id]
    first = response.json()["results"][0]
    assert (first["platform"], first["kind"], first["snippet"], first["unread"]) == ("facebook", "comment", "hello", False)


def test_a_dm_conversation_carries_the_participants_name_and_picture(api_client, page):
    dm = make_conversation(page, 1, kind="dm", name="Paul Martin")
    Conversation.objects.filter(pk=dm.pk).update(participant_avatar_url="https://scontent.xx.fbcdn.net/v/paul.jpg")
    (row,) = api_client.get("/api/v1/conversations/").json()["results"]
    assert (row["participant_name"], row["participant_avatar_url"]) == (
        "Paul Martin", "https://scontent.xx.fbcdn.net/v/paul.jpg")
    assert api_client.get(f"/api/v1/conversations/{dm.id}/").json()["participant_avatar_url"].endswith("paul.jpg")


def test_inbox_filters_by_account_platform_kind_unread_and_search(api_client, page, ig_account):
    comment = make_conversation(page, 1, unread=2)
    dm = make_conversation(page, 2, kind="dm", name="Paul Martin")
    ig = make_conversation(ig_account, 3, text="Where was this taken?")

    def ids(**params):
        return {c["id"] for c in api_client.get("/api/v1/conversations/", params).json()["results"]}

    assert ids(account=ig_account.id) == {ig.id}
    assert ids(platform="facebook") == {comment.id, dm.id}
    assert ids(kind="dm") == {dm.id}
    assert ids(unread="true") == {comment.id}
    assert ids(unread="false") == {dm.id, ig.id}
    assert ids(search="paul") == {dm.id}
    assert ids(search="taken") == {ig.id}


@pytest.mark.parametrize("path", ["/api/v1/conversations/", "/api/v1/conversations/tiktok-videos/"])
@pytest.mark.parametrize("account", ["31393433572933959726137344", "0", "²", "abc"])
def test_an_account_filter_no_database_id_can_be_is_a_400_naming_it(api_client, path, account):
    # found by Schemathesis on SQLite, which cannot bind an integer past 2**63 - 1 (it answered 500)
    response = api_client.get(path, {"account": account})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"account"}


def test_bad_inbox_filters_are_field_errors_not_a_silently_wider_list(api_client, page):
    make_conversation(page, 1)
    response = api_client.get("/api/v1/conversations/", {"kind": "email", "platform": "myspace", "unread": "perhaps"})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"kind", "platform", "unread"}


@pytest.mark.parametrize("size", [3, 12])
def test_the_inbox_list_uses_a_constant_number_of_queries(api_client, page, django_assert_max_num_queries, size):
    for n in range(size):
        make_conversation(page, n)
    with django_assert_max_num_queries(3):
        response = api_client.get("/api/v1/conversations/", {"search": "hello"})
    assert response.json()["count"] == size


@pytest.mark.parametrize("size", [3, 12])
def test_listing_messages_uses_a_constant_number_of_queries(api_client, page, django_assert_max_num_queries, size):
    conversation = make_conversation(page, 0)
    for n in range(size):
        Message.objects.create(conversation=conversation, account=page, external_id=f"x{n}", direction="in", text="hi",
                               created_at=timezone.now(), origin="poll")
    with django_assert_max_num_queries(4):
        response = api_client.get(f"/api/v1/conversations/{conversation.id}/messages/")
    assert response.json()["count"] == size + 1


def test_another_users_conversation_is_a_404_everywhere(other_client, page):
    conversation = make_conversation(page, 0)
    message = conversation.messages.get()
    assert other_client.get(f"/api/v1/conversations/{conversation.id}/").status_code == 404
    assert other_client.get(f"/api/v1/conversations/{conversation.id}/messages/").status_code == 404
    assert other_client.post(f"/api/v1/conversations/{conversation.id}/read/").status_code == 404
    assert other_client.post(f"/api/v1/conversations/{conversation.id}/reply/",
                             {"text": "hi", "idempotency_key": "k"}, format="json").status_code == 404
    assert other_client.post(f"/api/v1/messages/{message.id}/hide/").status_code == 404


def test_reading_a_conversation_clears_its_unread_count(api_client, page):
    conversation = make_conversation(page, 0, unread=3)
    response = api_client.post(f"/api/v1/conversations/{conversation.id}/read/")
    assert response.status_code == 200 and response.json()["unread_count"] == 0
    conversation.refresh_from_db()
    assert conversation.unread_count == 0


def test_reply_endpoint_sends_once_per_idempotency_key(api_client, page, mocked_platforms):
    conversation = make_conversation(page, 0, kind="dm")
    Conversation.objects.filter(pk=conversation.pk).update(participant_id=PSID)
    mocked_platforms.post(f"{GRAPH}/{PAGE_ID}/messages", json=load_fixture("facebook/conversations_send_message.json"))
    body = {"text": "It is back in stock.", "idempotency_key": "2b1f0c"}
    first = api_client.post(f"/api/v1/conversations/{conversation.id}/reply/", body, format="json")
    again = api_client.post(f"/api/v1/conversations/{conversation.id}/reply/", body, format="json")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"] and first.json()["status"] == "sent"
    assert len(mocked_platforms.calls) == 1


def test_reply_endpoint_outside_the_window_is_a_clear_409(api_client, page, mocked_platforms):
    conversation = make_conversation(page, 0, kind="dm")
    Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=timezone.now() - timedelta(days=2))
    response = api_client.post(f"/api/v1/conversations/{conversation.id}/reply/",
                               {"text": "Hello?", "idempotency_key": "k1"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "outside_messaging_window"


def test_reply_endpoint_turns_a_platform_refusal_into_an_api_error(api_client, page, mocked_platforms):
    conversation = make_conversation(page, 0)
    mocked_platforms.post(f"{GRAPH}/c0/comments", status=400, json={"error": {
        "message": "(#100) Invalid parameter", "type": "OAuthException", "code": 100, "fbtrace_id": "AbC"}})
    response = api_client.post(f"/api/v1/conversations/{conversation.id}/reply/",
                               {"text": "Hi", "idempotency_key": "k1"}, format="json")
    assert response.status_code == 422 and response.json()["error"]["code"] == "platform_rejected"
    assert page.access_token not in response.content.decode()


def test_reply_endpoint_validates_its_body(api_client, page):
    conversation = make_conversation(page, 0)
    response = api_client.post(f"/api/v1/conversations/{conversation.id}/reply/", {"text": ""}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"text", "idempotency_key"}


def test_hide_and_unhide_a_facebook_comment(api_client, page, mocked_platforms):
    message = make_conversation(page, 0).messages.get()
    mocked_platforms.post(f"{GRAPH}/{message.external_id}", json=load_fixture("facebook/conversations_hide_comment.json"))
    assert api_client.post(f"/api/v1/messages/{message.id}/hide/").json()["is_hidden"] is True
    assert parse_qs(mocked_platforms.calls[0].request.body)["is_hidden"] == ["true"]
    assert api_client.post(f"/api/v1/messages/{message.id}/unhide/").json()["is_hidden"] is False
    assert parse_qs(mocked_platforms.calls[1].request.body)["is_hidden"] == ["false"]


def test_hide_an_instagram_comment_uses_the_hide_parameter(api_client, ig_account, mocked_platforms):
    message = make_conversation(ig_account, 0).messages.get()
    mocked_platforms.post(f"{GRAPH}/{message.external_id}", json={"success": True})
    assert api_client.post(f"/api/v1/messages/{message.id}/hide/").status_code == 200
    assert parse_qs(mocked_platforms.calls[0].request.body)["hide"] == ["true"]


def test_a_direct_message_cannot_be_hidden(api_client, page, mocked_platforms):
    message = make_conversation(page, 0, kind="dm").messages.get()
    response = api_client.post(f"/api/v1/messages/{message.id}/hide/")
    assert response.status_code == 422 and response.json()["error"]["code"] == "not_a_comment"
    assert len(mocked_platforms.calls) == 0


def test_the_inbox_list_never_decrypts_account_tokens(api_client, page, monkeypatch):
    """Found by `make bench` (API reads): each listed conversation's account had its tokens decrypted."""
    from social.fields import EncryptedTokenField

    for n in range(3):
        make_conversation(page, n)
    monkeypatch.setattr(EncryptedTokenField, "from_db_value", lambda *a: pytest.fail("a token was decrypted"))
    assert api_client.get("/api/v1/conversations/").json()["count"] == 3
