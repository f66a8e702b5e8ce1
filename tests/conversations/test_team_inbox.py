"""The inbox for a team: assignment, open/done, who sent each reply, and the filters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Conversation
from conversations.platforms.base import InboxItem
from conversations.services import upsert_item
from tests.conftest import load_fixture
from workspaces.models import AuditEntry, Role

from .conftest import PAGE_ID

pytestmark = pytest.mark.django_db
GRAPH = "https://graph.facebook.com/v25.0"


def thread(account, key: str, **fields) -> Conversation:
    return Conversation.objects.create(account=account, kind="comment", thread_key=key, root_comment_id=key[2:],
                                       platform_post_id=f"{PAGE_ID}_1", last_message_at=timezone.now(),
                                       last_inbound_at=timezone.now(), **fields)


def test_an_editor_assigns_a_conversation_to_a_member_and_marks_it_done(page, workspace, member_factory, user):
    editor_user, editor = member_factory(workspace, Role.EDITOR)
    conversation = thread(page, "c:1_1")
    url = f"/api/v1/conversations/{conversation.pk}/"
    body = editor.patch(url, {"assigned_to": user.pk, "status": "done"}, format="json").json()
    assert (body["assigned_to"], body["status"]) == (user.pk, "done")
    entry = AuditEntry.objects.get(action="inbox.conversation_changed")
    assert (entry.actor_id, entry.summary) == (editor_user.pk, f"Conversation {conversation.pk}: assigned to user "
                                                                f"{user.pk}, marked done.")
    assert editor.patch(url, {"assigned_to": None}, format="json").json()["assigned_to"] is None


def test_only_members_of_the_workspace_can_be_assigned(api_client, page, other_user):
    conversation = thread(page, "c:1_1")
    response = api_client.patch(f"/api/v1/conversations/{conversation.pk}/", {"assigned_to": other_user.pk},
                                format="json")
    assert response.status_code == 400 and list(response.json()["error"]["fields"]) == ["assigned_to"]
    assert Conversation.objects.get().assigned_to is None


def test_a_viewer_cannot_assign(page, workspace, member_factory):
    _, viewer = member_factory(workspace, Role.VIEWER)
    conversation = thread(page, "c:1_1")
    response = viewer.patch(f"/api/v1/conversations/{conversation.pk}/", {"status": "done"}, format="json")
    assert response.status_code == 403 and Conversation.objects.get().status == "open"


def test_filters_assigned_to_me_unassigned_and_open(api_client, page, user, workspace, member_factory):
    colleague, _ = member_factory(workspace, Role.EDITOR)
    mine = thread(page, "c:1_1", assigned_to=user)
    theirs = thread(page, "c:1_2", assigned_to=colleague, status="done")
    nobody = thread(page, "c:1_3")

    def ids(query: str) -> set[int]:
        response = api_client.get(f"/api/v1/conversations/?{query}")
        assert response.status_code == 200, response.json()
        return {c["id"] for c in response.json()["results"]}

    assert ids("assigned=me") == {mine.pk}
    assert ids("assigned=none") == {nobody.pk}
    assert ids(f"assigned={colleague.pk}") == {theirs.pk}
    assert ids("status=open") == {mine.pk, nobody.pk}
    assert ids("status=done&assigned=me") == set()
    assert api_client.get("/api/v1/conversations/?assigned=someone").status_code == 400


def test_a_new_inbound_message_reopens_a_done_conversation(page):
    item = InboxItem(kind="comment", external_id="1_5", post_id=f"{PAGE_ID}_1", parent_id=f"{PAGE_ID}_1",
                     direction="in", author_id="u1", author_name="Ana", text="First", created_at=timezone.now())
    message, _ = upsert_item(page, item, "webhook")
    Conversation.objects.filter(pk=message.conversation_id).update(status="done")
    reply = InboxItem(kind="comment", external_id="1_6", post_id=f"{PAGE_ID}_1", parent_id="1_5", direction="in",
                      author_id="u1", author_name="Ana", text="Still there?",
                      created_at=timezone.now() + timedelta(seconds=5))
    upsert_item(page, reply, "webhook")
    assert Conversation.objects.get(pk=message.conversation_id).status == "open"


def test_each_reply_records_the_member_who_sent_it_and_is_audited(page, workspace, member_factory, mocked_platforms):
    editor_user, editor = member_factory(workspace, Role.EDITOR)
    conversation = thread(page, "c:822334455667788_1234567890123456")
    mocked_platforms.post(f"{GRAPH}/822334455667788_1234567890123456/comments",
                          json=load_fixture("facebook/conversations_comment_reply.json"))
    response = editor.post(f"/api/v1/conversations/{conversation.pk}/reply/",
                           {"text": "Thanks!", "idempotency_key": "k1"}, format="json")
    assert response.status_code == 201 and response.json()["sent_by"] == editor_user.pk
    entry = AuditEntry.objects.get(action="inbox.reply_sent")
    assert entry.actor_id == editor_user.pk and entry.object_id == str(response.json()["id"])
