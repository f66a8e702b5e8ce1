"""Instagram Login accounts subscribe to their own webhooks, in the background after connect, retried until
it holds; the state is on the account (webhook_subscribed_at, a status reason)."""

from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from conversations.services.polling import sync_account_inbox
from social.models import LoginPath, SocialAccount
from social.services import (
    needs_webhook_subscription,
    subscribe_account_webhooks,
    subscribe_instagram_login_webhooks,
)
from tests.conftest import keep_enqueued, load_fixture
from unipulse.platform_errors import RateLimitedError, TransientError

from .conftest import start_oauth
from .test_oauth_instagram_login import callback, instagram_login  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db

IG_ID = "17841400000000009"
HOST = "https://graph.instagram.com/v25.0"
SUBSCRIBE = f"{HOST}/{IG_ID}/subscribed_apps"


@pytest.fixture
def account(account_factory):
    return account_factory("instagram", external_id=IG_ID, platform_user_id=IG_ID, login_path=LoginPath.INSTAGRAM,
                           access_token="IGAAlong-LOGIN-TOKEN-444", token_expires_at=timezone.now() + timedelta(days=50))


def test_a_subscription_that_meta_confirms_stamps_the_account(account):
    with responses.RequestsMock() as rsps:
        rsps.add("POST", SUBSCRIBE, json=load_fixture("instagram/login_subscribed_apps.json"))
        rsps.add("GET", SUBSCRIBE, json=load_fixture("instagram/login_subscribed_apps_read.json"))
        assert subscribe_instagram_login_webhooks(account) is True
        assert rsps.calls[0].request.body == "subscribed_fields=comments%2Cmessages&access_token=IGAAlong-LOGIN-TOKEN-444"
    account.refresh_from_db()
    assert account.webhook_subscribed_at is not None and account.status_reason == ""
    assert not needs_webhook_subscription(account)


def test_a_field_meta_did_not_confirm_is_a_visible_reason(account):
    with responses.RequestsMock() as rsps:
        rsps.add("POST", SUBSCRIBE, json={"success": True})
        rsps.add("GET", SUBSCRIBE, json={"data": [{"subscribed_fields": ["comments"]}]})
        assert subscribe_instagram_login_webhooks(account) is False
    account.refresh_from_db()
    assert account.status_reason == "Webhook subscription failed: Meta did not confirm messages."
    assert account.webhook_subscribed_at is None and needs_webhook_subscription(account)


def test_a_refused_subscription_is_recorded_and_not_raised(account):
    with responses.RequestsMock() as rsps:
        rsps.add("POST", SUBSCRIBE, status=403, json={"error": {
            "message": "(#200) Requires instagram_business_manage_messages permission", "type": "OAuthException",
            "code": 200, "fbtrace_id": "AbCdEf123"}})
        assert subscribe_instagram_login_webhooks(account) is False
    account.refresh_from_db()
    assert account.status_reason.startswith("Webhook subscription failed: Instagram permission missing")
    assert "instagram_business_manage_messages" in account.status_reason


def test_a_temporary_failure_is_recorded_then_raised_for_the_job_to_retry(account):
    with responses.RequestsMock() as rsps:
        rsps.add("POST", SUBSCRIBE, status=500, json={"error": {"message": "An unexpected error has occurred.",
                                                                "code": 2, "is_transient": True}})
        with pytest.raises(TransientError):
            subscribe_instagram_login_webhooks(account)
    account.refresh_from_db()
    assert account.status_reason.startswith("Webhook subscription failed: Instagram had a temporary problem")
    assert account.status_reason.endswith("It is retried.")
    # The admin action and the command never raise: they report False.
    with responses.RequestsMock() as rsps:
        rsps.add("POST", SUBSCRIBE, status=500, json={"error": {"message": "x", "code": 2, "is_transient": True}})
        assert subscribe_account_webhooks(account) is False


def test_the_connect_enqueues_the_background_subscription_on_the_inbox_queue(
        api_client, instagram_login, monkeypatch, django_capture_on_commit_callbacks):  # noqa: F811
    sent = keep_enqueued(monkeypatch, "ice-process")
    state = start_oauth(api_client, "instagram_login")
    with django_capture_on_commit_callbacks(execute=True):
        assert callback(api_client, code="ig-good-code", state=state).status_code == 302
    account = SocialAccount.objects.get()
    assert sent == [account.pk]
    assert account.webhook_subscribed_at is None and needs_webhook_subscription(account)
    assert not any("subscribed_apps" in c.request.url for c in instagram_login.calls)  # not during the callback


def test_the_inbox_job_subscribes_first_then_polls(account):
    with responses.RequestsMock() as rsps:
        rsps.add("POST", SUBSCRIBE, json=load_fixture("instagram/login_subscribed_apps.json"))
        rsps.add("GET", SUBSCRIBE, json=load_fixture("instagram/login_subscribed_apps_read.json"))
        rsps.add("GET", f"{HOST}/{IG_ID}/media", json={"data": []})
        rsps.add("GET", f"{HOST}/{IG_ID}/conversations", json={"data": []})
        assert sync_account_inbox(account.pk) == 0
        urls = [c.request.url.split("?")[0] for c in rsps.calls]
    assert urls == [SUBSCRIBE, SUBSCRIBE, f"{HOST}/{IG_ID}/media", f"{HOST}/{IG_ID}/conversations"]
    account.refresh_from_db()
    assert account.webhook_subscribed_at is not None
    # The next poll does not subscribe again.
    with responses.RequestsMock() as rsps:
        rsps.add("GET", f"{HOST}/{IG_ID}/media", json={"data": []})
        rsps.add("GET", f"{HOST}/{IG_ID}/conversations", json={"data": []})
        sync_account_inbox(account.pk)
        assert len(rsps.calls) == 2


def test_a_rate_limited_subscription_stops_the_job_before_polling(account):
    with responses.RequestsMock() as rsps:
        rsps.add("POST", SUBSCRIBE, status=400, json={"error": {"message": "(#4) Application request limit reached",
                                                                "code": 4, "fbtrace_id": "Xy"}})
        with pytest.raises(RateLimitedError):
            sync_account_inbox(account.pk)
        assert len(rsps.calls) == 1


def test_facebook_login_accounts_are_never_subscribed_by_the_inbox_job(account_factory):
    page = account_factory("facebook", external_id="104500000000001")
    fb_path = account_factory("instagram", external_id=IG_ID, parent=page, login_path=LoginPath.FACEBOOK)
    assert not needs_webhook_subscription(fb_path)


def test_analytics_checks_the_instagram_users_own_budget(account, settings):
    from analytics.services.sync import ensure_meta_budget
    from social.clients import ratelimit

    settings.META_CALLS_PER_HOUR, settings.ANALYTICS_BUDGET_RESERVE = 5, 2
    for _ in range(3):  # a Facebook user with the same id spending its budget does not matter
        ratelimit.take_budget(ratelimit.meta_user_key(IG_ID), "meta")
    ensure_meta_budget(account)
    for _ in range(3):
        ratelimit.take_budget(ratelimit.instagram_user_key(IG_ID), "meta")
    with pytest.raises(RateLimitedError) as caught:
        ensure_meta_budget(account)
    assert caught.value.scope == "budget"


def test_the_daily_command_resubscribes_instagram_login_accounts_too(account, capsys):
    from django.core.management import call_command

    with responses.RequestsMock() as rsps:
        rsps.add("POST", SUBSCRIBE, json=load_fixture("instagram/login_subscribed_apps.json"))
        rsps.add("GET", SUBSCRIBE, json=load_fixture("instagram/login_subscribed_apps_read.json"))
        call_command("subscribe_webhooks")
        assert len(rsps.calls) == 2
    assert capsys.readouterr().out.strip() == (
        "subscribe_webhooks: subscribed 0 Page(s) and 1 Instagram Login account(s); 0 failed.")
    account.refresh_from_db()
    assert account.webhook_subscribed_at is not None
