"""Admin: the "Refresh tokens now" action really runs; the token-health filters pick the right rows."""

from datetime import timedelta

import pytest
import responses
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.utils import timezone

from social.models import AccountStatus, SocialAccount
from tests.conftest import load_fixture

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/social/socialaccount/"
TOKEN_URL = "https://open.tiktokapis.com/v2/oauth/token/"


def run_action(client, *accounts):
    return client.post(CHANGELIST, {"action": "refresh_now", ACTION_CHECKBOX_NAME: [a.pk for a in accounts]},
                       follow=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_refresh_now_refreshes_the_selected_accounts_even_when_not_due(staff, account_factory):
    account = account_factory("tiktok", username="creator_ok", token_expires_at=timezone.now() + timedelta(hours=2))
    untouched = account_factory("tiktok", username="creator_other")
    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN_URL, json=load_fixture("tiktok/tokens_refresh_ok.json"))
        response = run_action(staff, account)
        assert len(rsps.calls) == 1
        assert f"refresh_token={account.refresh_token}" in rsps.calls[0].request.body
    assert response.status_code == 200
    assert messages_of(response) == ["Refreshed 1 account(s)."]
    fresh = SocialAccount.objects.get(pk=account.pk)
    assert (fresh.access_token, fresh.refresh_token) == ("act.NEW-ROTATED-ACCESS-9f2", "rft.NEW-ROTATED-REFRESH-4c1")
    assert SocialAccount.objects.get(pk=untouched.pk).access_token == untouched.access_token
    page = response.content.decode()
    assert "NEW-ROTATED" not in page and untouched.access_token not in page


def test_refresh_now_reports_a_refused_grant_and_marks_the_account(staff, account_factory):
    account = account_factory("tiktok", username="creator_gone")
    disconnected = account_factory("tiktok", username="creator_left")
    SocialAccount.objects.filter(pk=disconnected.pk).update(status=AccountStatus.DISCONNECTED)
    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN_URL, status=400, json=load_fixture("tiktok/tokens_refresh_invalid_grant.json"))
        response = run_action(staff, account, disconnected)
        assert len(rsps.calls) == 1  # the disconnected one is skipped
    assert messages_of(response) == [f"{account}: Reconnect your TikTok account: TikTok no longer accepts its authorisation."]
    assert SocialAccount.objects.get(pk=account.pk).status == AccountStatus.NEEDS_REAUTH
    assert account.refresh_token not in response.content.decode()


def test_refresh_now_reports_a_temporary_failure_and_disconnects_nothing(staff, account_factory):
    account = account_factory("tiktok", username="creator_busy")
    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN_URL, status=503, json={"error": "server_error"})
        response = run_action(staff, account)
    (line,) = messages_of(response)
    assert line.startswith(f"{account}: TikTok's sign-in service had a temporary problem")
    assert SocialAccount.objects.get(pk=account.pk).status == AccountStatus.ACTIVE


def test_the_expiring_filter_lists_accounts_with_any_expiry_within_seven_days(staff, account_factory):
    now = timezone.now()
    account_factory("tiktok", username="tt_access_soon", token_expires_at=now + timedelta(hours=2))
    account_factory("tiktok", username="tt_refresh_soon", token_expires_at=None,
                    refresh_token_expires_at=now + timedelta(days=6))
    account_factory("facebook", username="fb_data_soon", data_access_expires_at=now + timedelta(days=6, hours=23))
    account_factory("facebook", username="fb_data_later", data_access_expires_at=now + timedelta(days=7, hours=1))
    account_factory("facebook", username="fb_never")
    gone = account_factory("tiktok", username="tt_disconnected", token_expires_at=now + timedelta(hours=1))
    SocialAccount.objects.filter(pk=gone.pk).update(status=AccountStatus.DISCONNECTED)

    page = staff.get(CHANGELIST, {"token": "expiring"}).content.decode()

    for shown in ("tt_access_soon", "tt_refresh_soon", "fb_data_soon"):
        assert shown in page
    for hidden in ("fb_data_later", "fb_never", "tt_disconnected"):
        assert hidden not in page


def test_the_warning_filter_lists_accounts_with_an_expiring_warning_only(staff, account_factory):
    warned = account_factory("facebook", username="fb_warned")
    SocialAccount.objects.filter(pk=warned.pk).update(
        status_reason="Expiring: Meta needs the user to log in again before 2026-12-01 (data access expiry): reconnect.")
    other_reason = account_factory("facebook", username="fb_missing_perm")
    SocialAccount.objects.filter(pk=other_reason.pk).update(status_reason="Missing permission: pages_manage_posts.")
    account_factory("facebook", username="fb_fine")

    page = staff.get(CHANGELIST, {"token": "warning"}).content.decode()

    assert "fb_warned" in page and "data access expiry" in page
    assert "fb_missing_perm" not in page and "fb_fine" not in page
