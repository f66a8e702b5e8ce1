from datetime import timedelta
from unittest import mock

import dramatiq
import pytest
import responses
from django.core.management import call_command
from django.utils import timezone

from social.models import SocialAccount
from tests.conftest import load_fixture
from tokens.actors import token_refresh

pytestmark = pytest.mark.django_db


@responses.activate
def test_post_refresh_forces_a_refresh_and_returns_the_account_without_tokens(api_client, account_factory):
    account = account_factory("tiktok", token_expires_at=timezone.now() + timedelta(hours=2))
    responses.post("https://open.tiktokapis.com/v2/oauth/token/", json=load_fixture("tiktok/tokens_refresh_ok.json"))
    response = api_client.post(f"/api/v1/accounts/{account.pk}/refresh/")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == account.pk and body["status"] == "active"
    assert body["token_expires_at"] and body["refresh_token_expires_at"]
    assert "NEW-ROTATED" not in response.content.decode()
    assert len(responses.calls) == 1


@responses.activate
def test_post_refresh_on_a_revoked_grant_is_409_with_a_reconnect_message(api_client, account_factory):
    account = account_factory("tiktok")
    responses.post("https://open.tiktokapis.com/v2/oauth/token/",
                   json=load_fixture("tiktok/tokens_refresh_invalid_grant.json"), status=400)
    response = api_client.post(f"/api/v1/accounts/{account.pk}/refresh/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "reauth_required"
    assert response.json()["error"]["message"] == "Reconnect your TikTok account: TikTok no longer accepts its authorisation."


@responses.activate
def test_post_refresh_while_another_refresh_holds_the_lock_is_a_temporary_error_not_a_500(api_client, account_factory,
                                                                                         settings):
    from django.core.cache import cache

    settings.TOKEN_REFRESH_LOCK_WAIT = 0.2
    account = account_factory("tiktok")
    cache.add(f"token-refresh-lock:{account.pk}", 1, timeout=60)  # another worker is refreshing it
    try:
        response = api_client.post(f"/api/v1/accounts/{account.pk}/refresh/")
    finally:
        cache.delete(f"token-refresh-lock:{account.pk}")
    assert response.status_code == 502
    assert response.json()["error"]["message"] == (
        "Another refresh of this account is still running; try again in a moment.")
    assert len(responses.calls) == 0  # the refresh token was not spent a second time
    account.refresh_from_db()
    assert account.status == "active"


def test_post_refresh_on_another_users_account_is_404(other_client, account_factory):
    account = account_factory("tiktok")
    assert other_client.post(f"/api/v1/accounts/{account.pk}/refresh/").status_code == 404


def test_refresh_tokens_enqueues_one_message_per_due_account(account_factory, capsys):
    due = account_factory("tiktok")
    SocialAccount.objects.filter(pk=due.pk).update(token_refresh_due_at=timezone.now() - timedelta(minutes=1))
    account_factory("tiktok", token_expires_at=timezone.now() + timedelta(hours=2))
    broker = dramatiq.get_broker()
    broker.flush_all()
    call_command("refresh_tokens", "--dry-run")
    assert "would refresh account" in capsys.readouterr().out
    assert broker.queues.get("token-refresh") is None or broker.queues["token-refresh"].qsize() == 0
    with mock.patch("tokens.management.commands.refresh_tokens.drain_embedded") as drain:
        call_command("refresh_tokens")
    assert "refresh_tokens: enqueued 1 token refresh" in capsys.readouterr().out
    assert broker.queues["token-refresh"].qsize() == 1
    assert f'"args":[{due.pk}]'.encode() in broker.queues["token-refresh"].get_nowait()
    drain.assert_called_once()
    broker.flush_all()


@responses.activate
def test_refresh_tokens_for_one_account_refreshes_it_even_when_not_due(account_factory, capsys):
    account = account_factory("tiktok", token_expires_at=timezone.now() + timedelta(hours=2))
    assert account.token_refresh_due_at > timezone.now() + timedelta(hours=1)  # not due
    responses.post("https://open.tiktokapis.com/v2/oauth/token/", json=load_fixture("tiktok/tokens_refresh_ok.json"))
    broker = dramatiq.get_broker()
    broker.flush_all()
    with mock.patch("tokens.management.commands.refresh_tokens.drain_embedded"):
        call_command("refresh_tokens", "--account", str(account.pk))
    assert "refresh_tokens: enqueued 1 token refresh" in capsys.readouterr().out
    message = dramatiq.Message.decode(broker.queues["token-refresh"].get_nowait())
    assert (message.args, message.kwargs) == ((account.pk, True), {})  # plain JSON: the id and the flag
    broker.flush_all()

    token_refresh(*message.args, **message.kwargs)  # what the worker runs

    assert len(responses.calls) == 1
    assert SocialAccount.objects.get(pk=account.pk).access_token == "act.NEW-ROTATED-ACCESS-9f2"


def test_a_cron_message_leaves_an_account_that_is_not_due_alone(account_factory):
    account = account_factory("tiktok", token_expires_at=timezone.now() + timedelta(hours=2))
    with responses.RequestsMock() as rsps:
        token_refresh(account.pk)
        assert len(rsps.calls) == 0


def test_admin_lists_accounts_needing_reconnect(client, django_user_model, account_factory):
    staff = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123")
    client.force_login(staff)
    broken = account_factory("tiktok", username="broken_creator")
    broken.mark_needs_reauth("Reconnect your TikTok account: test.")
    account_factory("tiktok", username="healthy_creator")
    page = client.get("/admin/social/socialaccount/?token=needs_reauth").content.decode()
    assert "broken_creator" in page and "healthy_creator" not in page
    assert "Reconnect your TikTok account: test." in page
