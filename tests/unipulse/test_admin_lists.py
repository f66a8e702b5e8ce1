"""Admin lists never decrypt a token: an account joined for its name, flags or token presence is
read without its encrypted columns, and a list page takes the same number of queries for 2 or 20 rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.models import AccountMetrics, AccountMetricSnapshot, SyncRun, TrackedPost
from conversations.models import Conversation, InboxSyncState, Message
from publishing.models import Post, PostTarget
from social.fields import EncryptedTokenField
from tests.conftest import workspace_of_user

pytestmark = pytest.mark.django_db

LISTS = ["/admin/social/socialaccount/", "/admin/publishing/posttarget/", "/admin/conversations/conversation/",
         "/admin/conversations/message/", "/admin/conversations/inboxsyncstate/", "/admin/analytics/trackedpost/",
         "/admin/analytics/accountmetricsnapshot/", "/admin/analytics/accountmetrics/", "/admin/analytics/syncrun/"]


def make_rows(user, account_factory, n: int) -> None:
    now = timezone.now()
    for i in range(n):
        account = account_factory("facebook", access_token=f"EAA-LIST-{i}", token_expires_at=now + timedelta(days=30))
        post = Post.objects.create(workspace=workspace_of_user(user), created_by=user, text=f"post {i}")
        PostTarget.objects.create(post=post, account=account, status="published")
        conversation = Conversation.objects.create(account=account, kind="dm", thread_key=f"dm:{i}",
                                                   participant_id=f"p{i}", last_message_at=now, snippet="hi")
        Message.objects.create(conversation=conversation, account=account, external_id=f"m{i}", direction="in",
                               text="hi", created_at=now, origin="webhook")
        InboxSyncState.objects.create(account=account)
        TrackedPost.objects.create(account=account, platform="facebook", platform_post_id=f"p_{i}", published_at=now)
        run = SyncRun.objects.create(account=account, status=SyncRun.Status.DONE)
        AccountMetricSnapshot.objects.create(account=account, sync_run=run, captured_at=now, followers=i)
        AccountMetrics.objects.create(account=account, followers=i, last_synced_at=now)


def queries_for(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, path
    assert "EAA-LIST-" not in response.content.decode()
    return len(captured)


@pytest.mark.parametrize("path", LISTS)
def test_an_admin_list_decrypts_no_token_and_its_queries_do_not_grow_with_rows(staff, user, account_factory,
                                                                              monkeypatch, path):
    make_rows(user, account_factory, 2)
    monkeypatch.setattr(EncryptedTokenField, "from_db_value", lambda *a: pytest.fail(f"{path} decrypted a token"))
    few = queries_for(staff, path)
    monkeypatch.undo()
    make_rows(user, account_factory, 18)
    monkeypatch.setattr(EncryptedTokenField, "from_db_value", lambda *a: pytest.fail(f"{path} decrypted a token"))
    assert queries_for(staff, path) == few


def test_the_account_list_reads_token_presence_without_the_tokens_and_budgets_in_one_round_trip(
        staff, user, account_factory, monkeypatch):
    from social import services

    make_rows(user, account_factory, 3)
    account_factory("tiktok", username="wiped", access_token="", refresh_token="", status="disconnected")
    monkeypatch.setattr(services, "get_call_budget", lambda account: pytest.fail("one budget read per row"))
    monkeypatch.setattr(EncryptedTokenField, "from_db_value", lambda *a: pytest.fail("a token was decrypted"))

    response = staff.get("/admin/social/socialaccount/")

    rows = {account.username or account.name: account for account in response.context["cl"].result_list}
    assert len(rows) == 4
    assert [rows["wiped"].listed_has_access_token, rows["wiped"].listed_has_refresh_token] == [False, False]
    # a Meta Page: an access token, no refresh token; its user's hourly budget untouched
    page = next(a for a in rows.values() if a.platform == "facebook")
    assert [page.listed_has_access_token, page.listed_has_refresh_token] == [True, False]
    assert page.listed_call_budget == 200 and rows["wiped"].listed_call_budget is None
