"""POST /api/v1/accounts/{id}/sync/: "sync now" enqueues one analytics sync, politely refused when too soon."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.models import SyncRun
from workspaces.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    from analytics import actors

    ids: list[int] = []
    monkeypatch.setattr(actors.analytics_sync, "send", lambda account_id: ids.append(account_id))
    return ids


def test_sync_now_enqueues_one_sync_after_the_commit(api_client, account_factory, sent,
                                                     django_capture_on_commit_callbacks):
    fb = account_factory("facebook")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(f"/api/v1/accounts/{fb.pk}/sync/")
    assert response.status_code == 202
    body = response.json()
    assert body["account"] == fb.pk and body["queued"] is True and body["last_synced_at"] is None
    assert sent == [fb.pk]


def test_within_the_minimum_interval_it_refuses_with_when_to_ask_again(api_client, account_factory, sent, settings):
    settings.ANALYTICS_MIN_SYNC_MINUTES = 10
    fb = account_factory("facebook")
    run = SyncRun.objects.create(account=fb, status=SyncRun.Status.DONE)
    SyncRun.objects.filter(pk=run.pk).update(finished_at=timezone.now() - timedelta(minutes=4))
    response = api_client.post(f"/api/v1/accounts/{fb.pk}/sync/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "sync_too_soon"
    wait = int(response["Retry-After"])
    assert 5 * 60 <= wait <= 6 * 60 and f"ask again in {wait} seconds" in response.json()["error"]["message"]
    assert sent == []


def test_a_viewer_cannot_ask_for_a_sync_and_another_workspace_gets_404(account_factory, workspace, member_factory,
                                                                       other_client, sent):
    fb = account_factory("facebook")
    _, viewer = member_factory(workspace, Role.VIEWER)
    assert viewer.post(f"/api/v1/accounts/{fb.pk}/sync/").status_code == 403
    assert other_client.post(f"/api/v1/accounts/{fb.pk}/sync/").status_code == 404
    assert sent == []
