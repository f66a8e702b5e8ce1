"""Everything the sandbox creates is marked as sandbox in the API and the admin.

The mark is the account's `is_sandbox`, read through the account each list already joins (no extra
query per row); webhook events carry their own, set at intake while the sandbox serves the platform.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.models import AccountMetricSnapshot, SyncRun
from conversations.models import Conversation, Message, WebhookEvent
from conversations.services import store_webhook_event
from publishing.models import Post, PostTarget
from tests.conftest import workspace_of_user
from tests.conversations.conftest import meta_signature

pytestmark = pytest.mark.django_db

SANDBOX = "http://testserver/sandbox"


@pytest.fixture
def accounts(account_factory):
    """One sandbox Page and one real one (the mark is set explicitly: the switch has its own tests)."""
    return account_factory("facebook", is_sandbox=True), account_factory("facebook")


def make_post(owner, *accounts, text="hi") -> Post:
    post = Post.objects.create(workspace=workspace_of_user(owner), created_by=owner, text=text)
    for account in accounts:
        PostTarget.objects.create(post=post, account=account, status="published")
    return post


def make_conversation(account, n: int) -> Conversation:
    now = timezone.now() - timedelta(minutes=n)
    conversation = Conversation.objects.create(account=account, kind="dm", thread_key=f"dm:{account.pk}:{n}",
                                               participant_id=f"p{n}", last_message_at=now, snippet="hello")
    Message.objects.create(conversation=conversation, account=account, external_id=f"m{account.pk}-{n}",
                           direction="in", text="hello", created_at=now, origin="webhook")
    return conversation


def changelist_ids(client, path: str, **params) -> list[int]:
    response = client.get(path, params)
    assert response.status_code == 200
    return sorted(row.pk for row in response.context["cl"].result_list)


# ---- API -----------------------------------------------------------------------------------------

def test_posts_and_their_targets_say_whether_they_are_sandbox(api_client, user, accounts):
    sandbox, real = accounts
    mixed, only_real = make_post(user, sandbox, real), make_post(user, real)
    rows = {p["id"]: p for p in api_client.get("/api/v1/posts/").json()["results"]}
    assert rows[mixed.pk]["is_sandbox"] is True and rows[only_real.pk]["is_sandbox"] is False
    assert {t["account"]: t["is_sandbox"] for t in rows[mixed.pk]["targets"]} == {sandbox.pk: True, real.pk: False}
    assert api_client.get(f"/api/v1/posts/{only_real.pk}/").json()["targets"][0]["is_sandbox"] is False


def test_the_sandbox_mark_adds_no_query_per_post(api_client, user, account_factory):
    make_post(user, account_factory("facebook", is_sandbox=True))
    with CaptureQueriesContext(connection) as one:
        api_client.get("/api/v1/posts/")
    for _ in range(6):
        make_post(user, account_factory("instagram", is_sandbox=True), account_factory("tiktok"))
    with CaptureQueriesContext(connection) as seven:
        assert len(api_client.get("/api/v1/posts/").json()["results"]) == 7
    assert len(seven) == len(one)


def test_conversations_and_messages_say_whether_they_are_sandbox(api_client, accounts):
    sandbox, real = accounts
    ours, theirs = make_conversation(sandbox, 1), make_conversation(real, 2)
    listed = {c["id"]: c["is_sandbox"] for c in api_client.get("/api/v1/conversations/").json()["results"]}
    assert listed == {ours.pk: True, theirs.pk: False}
    assert api_client.get(f"/api/v1/conversations/{ours.pk}/").json()["is_sandbox"] is True
    messages = api_client.get(f"/api/v1/conversations/{ours.pk}/messages/").json()["results"]
    assert [m["is_sandbox"] for m in messages] == [True]
    assert api_client.get(f"/api/v1/conversations/{theirs.pk}/messages/").json()["results"][0]["is_sandbox"] is False


def test_the_sandbox_mark_adds_no_query_per_message(api_client, accounts):
    conversation = make_conversation(accounts[0], 1)
    with CaptureQueriesContext(connection) as one:
        api_client.get(f"/api/v1/conversations/{conversation.pk}/messages/")
    for n in range(8):
        Message.objects.create(conversation=conversation, account=accounts[0], external_id=f"extra{n}",
                               direction="in", text="hi", created_at=timezone.now(), origin="poll")
    with CaptureQueriesContext(connection) as nine:
        assert api_client.get(f"/api/v1/conversations/{conversation.pk}/messages/").json()["count"] == 9
    assert len(nine) == len(one)


def test_the_schema_documents_the_mark():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    for name in ("Post", "Target", "Conversation", "Message"):
        assert schema[name]["properties"]["is_sandbox"]["type"] == "boolean", name
        assert schema[name]["properties"]["is_sandbox"]["readOnly"] is True, name


# ---- webhook events: marked at intake ------------------------------------------------------------

def sandbox_on(settings, meta=True, tiktok=True):
    settings.SOCIAL_SANDBOX = True
    settings.SANDBOX_URL = SANDBOX
    settings.META_GRAPH_URL = f"{SANDBOX}/graph" if meta else "https://graph.facebook.com"
    settings.TIKTOK_API_URL = f"{SANDBOX}/tiktok-api" if tiktok else "https://open.tiktokapis.com"


def test_a_delivery_received_while_the_sandbox_serves_meta_is_marked(client, settings,
                                                                     django_capture_on_commit_callbacks):
    sandbox_on(settings)
    body = json.dumps({"object": "page", "entry": []}).encode()
    with django_capture_on_commit_callbacks():
        response = client.generic("POST", "/api/v1/webhooks/meta", body, content_type="application/json",
                                  HTTP_X_HUB_SIGNATURE_256=meta_signature(body))
    assert response.status_code == 200
    assert WebhookEvent.objects.get().is_sandbox is True


def test_deliveries_are_marked_per_platform_and_not_at_all_with_the_sandbox_off(settings,
                                                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        real = store_webhook_event("meta", b'{"n": 1}', {})
        sandbox_on(settings, meta=True, tiktok=False)
        deauth = store_webhook_event("meta_deauth", b'{"n": 2}', {})
        tiktok = store_webhook_event("tiktok", b'{"n": 3}', {})
    assert dict(WebhookEvent.objects.values_list("pk", "is_sandbox")) == {real: False, deauth: True, tiktok: False}


# ---- admin ---------------------------------------------------------------------------------------

def test_the_post_and_target_admin_filter_and_show_the_mark(staff, user, accounts):
    sandbox, real = accounts
    mixed, only_real = make_post(user, sandbox, real), make_post(user, real)
    assert changelist_ids(staff, "/admin/publishing/post/", sandbox="yes") == [mixed.pk]
    assert changelist_ids(staff, "/admin/publishing/post/", sandbox="no") == [only_real.pk]
    sandbox_target = PostTarget.objects.get(account=sandbox)
    assert changelist_ids(staff, "/admin/publishing/posttarget/", sandbox="yes") == [sandbox_target.pk]
    assert len(changelist_ids(staff, "/admin/publishing/posttarget/", sandbox="no")) == 2
    html = staff.get("/admin/publishing/post/").content.decode()
    assert html.count('<td class="field-is_sandbox"><img src="/static/admin/img/icon-yes.svg" alt="True"></td>') == 1
    assert html.count('<td class="field-is_sandbox"><img src="/static/admin/img/icon-no.svg" alt="False"></td>') == 1


def test_the_inbox_admin_filters_and_shows_the_mark(staff, accounts):
    sandbox, real = accounts
    ours, _ = make_conversation(sandbox, 1), make_conversation(real, 2)
    assert changelist_ids(staff, "/admin/conversations/conversation/", sandbox="yes") == [ours.pk]
    assert changelist_ids(staff, "/admin/conversations/message/", sandbox="yes") == [ours.messages.get().pk]
    html = staff.get("/admin/conversations/conversation/").content.decode()
    assert html.count('class="field-is_sandbox"><img src="/static/admin/img/icon-yes.svg"') == 1


def test_the_webhook_event_admin_filters_and_shows_the_mark(staff):
    marked = WebhookEvent.objects.create(platform="meta", body="{}", dedupe_key="1" * 64, is_sandbox=True)
    WebhookEvent.objects.create(platform="meta", body="{}", dedupe_key="2" * 64)
    assert changelist_ids(staff, "/admin/conversations/webhookevent/", sandbox="yes") == [marked.pk]
    assert len(changelist_ids(staff, "/admin/conversations/webhookevent/", sandbox="no")) == 1
    html = staff.get("/admin/conversations/webhookevent/").content.decode()
    assert html.count('class="field-sandbox"><img src="/static/admin/img/icon-yes.svg"') == 1


def test_the_analytics_admin_filters_by_the_mark(staff, accounts):
    sandbox, real = accounts
    run, other_run = SyncRun.objects.create(account=sandbox), SyncRun.objects.create(account=real)
    ours = AccountMetricSnapshot.objects.create(account=sandbox, sync_run=run, followers=3, captured_at=timezone.now())
    AccountMetricSnapshot.objects.create(account=real, sync_run=other_run, followers=4, captured_at=timezone.now())
    assert changelist_ids(staff, "/admin/analytics/accountmetricsnapshot/", sandbox="yes") == [ours.pk]
    assert changelist_ids(staff, "/admin/analytics/syncrun/", sandbox="yes") == [run.pk]
    assert changelist_ids(staff, "/admin/analytics/syncrun/", sandbox="no") == [other_run.pk]
