"""The account admin's actions really run: refresh now (platform call), sync now (a message on the
analytics-sync queue), disconnect (revoke call, tokens wiped)."""

from __future__ import annotations

from datetime import timedelta

import dramatiq
import pytest
from django.utils import timezone

from social.models import AccountStatus, SocialAccount
from tests.conftest import load_fixture

from .conftest import TIKTOK

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/social/socialaccount/"


def act(client, action: str, *accounts: SocialAccount) -> str:
    response = client.post(CHANGELIST, {"action": action, "_selected_action": [a.pk for a in accounts]}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_refresh_now_rotates_the_tiktok_tokens_through_the_platform(staff, account_factory, mocked_platforms):
    mocked_platforms.add("POST", f"{TIKTOK}/v2/oauth/token/", json=load_fixture("tiktok/tokens_refresh_ok.json"))
    account = account_factory("tiktok", access_token="act.OLD-ADMIN-1", refresh_token="rft.OLD-ADMIN-2",
                              token_expires_at=timezone.now() + timedelta(hours=20))  # not due: "now" forces it
    html = act(staff, "refresh_now", account)
    assert "Refreshed 1 account(s)." in html
    assert len(mocked_platforms.calls) == 1
    sent = mocked_platforms.calls[0].request.body
    assert "grant_type=refresh_token" in sent and "refresh_token=rft.OLD-ADMIN-2" in sent
    account.refresh_from_db()
    assert (account.access_token, account.refresh_token) == ("act.NEW-ROTATED-ACCESS-9f2", "rft.NEW-ROTATED-REFRESH-4c1")
    assert "act.NEW-ROTATED" not in html and "rft.OLD-ADMIN" not in html


def test_refresh_now_reports_a_refused_refresh_without_the_token(staff, account_factory, mocked_platforms):
    mocked_platforms.add("POST", f"{TIKTOK}/v2/oauth/token/", status=400,
                         json=load_fixture("tiktok/tokens_refresh_invalid_grant.json"))
    account = account_factory("tiktok", refresh_token="rft.REFUSED-ADMIN-3")
    html = act(staff, "refresh_now", account)
    assert "Refreshed" not in html
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_REAUTH
    assert "rft.REFUSED-ADMIN-3" not in html


def test_sync_now_enqueues_one_analytics_sync_per_active_account(staff, account_factory, broker, mocked_platforms):
    active = account_factory("instagram")
    reauth = account_factory("facebook", status=AccountStatus.NEEDS_REAUTH)
    html = act(staff, "sync_now", active, reauth)
    assert "Queued an analytics sync for 1 account(s)." in html
    queue = broker.queues["analytics-sync"]
    assert [dramatiq.Message.decode(raw).args for raw in queue.queue] == [(active.pk,)]
    assert len(mocked_platforms.calls) == 0  # the worker calls the platform, not the admin


def test_disconnect_revokes_wipes_the_tokens_and_marks_the_account(staff, account_factory, mocked_platforms):
    mocked_platforms.add("POST", f"{TIKTOK}/v2/oauth/revoke/", json=load_fixture("tiktok/oauth_revoke.json"))
    account = account_factory("tiktok", access_token="act.DISCONNECT-ME-4")
    already = account_factory("tiktok", status=AccountStatus.DISCONNECTED)
    html = act(staff, "disconnect", account, already)
    assert "Disconnected 1 account(s)." in html
    assert [c.request.url for c in mocked_platforms.calls] == [f"{TIKTOK}/v2/oauth/revoke/"]
    assert "token=act.DISCONNECT-ME-4" in mocked_platforms.calls[0].request.body
    account.refresh_from_db()
    assert (account.status, account.has_access_token, account.has_refresh_token) == (AccountStatus.DISCONNECTED, False, False)
    assert "act.DISCONNECT-ME-4" not in html
