"""Callbacks that go wrong on our side still end in a redirect to the frontend, keeping nothing."""

import json

import pytest
import redis
from django.db import OperationalError

from social.clients import meta
from social.models import OAuthState, SocialAccount
from tests.conftest import load_fixture

from .conftest import GRAPH, calls_to, query_of, start_oauth
from .test_oauth_meta import TOKENS, callback, redirect_query

pytestmark = pytest.mark.django_db


class _DeadRedis:
    """Stands in for the rate limiter's store with Redis unreachable: every command fails."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        return fail


def _accounts_with(page1_changes: dict):
    page1 = load_fixture("facebook/oauth_accounts_page1.json")
    page1["data"][0].update(page1_changes)
    page1.pop("paging")
    return page1


def test_a_rate_limited_callback_redirects_with_rate_limited_and_leaves_the_state_usable(
        api_client, meta_connect, settings):
    settings.OAUTH_CALLBACK_RATE = "2/m"
    state = start_oauth(api_client, "facebook")
    for _ in range(2):
        assert redirect_query(callback(api_client, code="good-code", state="not-ours"), settings)["error"] == "invalid_state"

    response = callback(api_client, code="good-code", state=state)

    assert redirect_query(response, settings) == {"error": "rate_limited", "platform": "facebook"}
    assert len(meta_connect.calls) == 0 and SocialAccount.objects.count() == 0
    assert OAuthState.objects.get(state=state).used_at is None  # not burned: a later try can still use it


def test_the_callback_rate_limit_is_counted_per_user(api_client, other_client, meta_connect, settings):
    settings.OAUTH_CALLBACK_RATE = "1/m"
    callback(api_client, code="good-code", state="not-ours")
    assert redirect_query(callback(api_client, state="x"), settings)["error"] == "rate_limited"
    assert redirect_query(callback(other_client, state="x"), settings)["error"] == "invalid_state"


def test_redis_down_in_the_platform_rate_limiter_is_connect_failed_with_nothing_written(
        api_client, meta_connect, settings, monkeypatch, caplog):
    state = start_oauth(api_client, "facebook")
    with monkeypatch.context() as patch:  # undone before the fixtures that clear the store
        patch.setattr("social.clients.ratelimit.get_store", lambda: _DeadRedis())
        response = callback(api_client, code="good-code", state=state)

    assert redirect_query(response, settings) == {"error": "connect_failed", "platform": "facebook"}
    assert SocialAccount.objects.count() == 0 and len(meta_connect.calls) == 0
    assert "Traceback" in caplog.text and "ConnectionError" in caplog.text  # server-side, with its traceback
    for token in TOKENS:
        assert token not in caplog.text and token not in response["Location"]


@pytest.mark.parametrize(("fail_open", "expected"), [(True, "result"), (False, "error")])
def test_redis_down_in_the_inbound_limiter_follows_ratelimit_fail_open(
        api_client, meta_connect, settings, monkeypatch, fail_open, expected):
    settings.RATELIMIT_FAIL_OPEN = fail_open
    state = start_oauth(api_client, "facebook")

    def down(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Connection refused.")
    monkeypatch.setattr("unipulse.throttles.is_ratelimited", down)

    query = redirect_query(callback(api_client, code="good-code", state=state), settings)
    assert query == ({"result": "connected", "platform": "facebook", "accounts": query.get("accounts", "")}
                     if fail_open else {"error": "rate_limited", "platform": "facebook"})
    assert SocialAccount.objects.exists() is fail_open


def test_a_database_error_halfway_through_the_upserts_keeps_none_of_them(
        api_client, meta_connect, settings, monkeypatch):
    state = start_oauth(api_client, "facebook")
    real_save = SocialAccount.save
    saves = {"n": 0}

    def flaky_save(self, *args, **kwargs):
        saves["n"] += 1
        if saves["n"] == 3:  # Page 1 and its Instagram account are written, then the database goes away
            raise OperationalError("server closed the connection unexpectedly")
        return real_save(self, *args, **kwargs)
    monkeypatch.setattr(SocialAccount, "save", flaky_save)

    response = callback(api_client, code="good-code", state=state)

    assert redirect_query(response, settings) == {"error": "connect_failed", "platform": "facebook"}
    assert saves["n"] == 3
    assert SocialAccount.objects.count() == 0
    assert calls_to(meta_connect, "/subscribed_apps") == []
    assert OAuthState.objects.get(state=state).used_at is not None  # the state stays burned


def test_a_database_error_reading_the_state_is_connect_failed(api_client, meta_connect, settings, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("could not connect to server")
    monkeypatch.setattr("social.oauth.consume_state", down)
    response = callback(api_client, code="good-code", state="whatever")
    assert redirect_query(response, settings) == {"error": "connect_failed", "platform": "facebook"}
    assert len(meta_connect.calls) == 0


def test_a_failure_before_the_view_runs_still_redirects(meta_connect, settings, monkeypatch, caplog):
    from rest_framework.test import APIClient

    def down(*args, **kwargs):  # the session lookup, with the database gone
        raise OperationalError("could not connect to server")
    monkeypatch.setattr("rest_framework.authentication.SessionAuthentication.authenticate", down)
    response = callback(APIClient(), code="good-code", state="whatever")
    assert redirect_query(response, settings) == {"error": "connect_failed", "platform": "facebook"}
    assert "Traceback" in caplog.text and "OperationalError" in caplog.text


def test_an_unexpected_error_is_logged_with_its_traceback_but_no_credential(
        api_client, meta_connect, settings, monkeypatch, caplog):
    state = start_oauth(api_client, "facebook")

    def bug(*args, **kwargs):
        raise AttributeError("boom while handling access_token=EAAlong-USER-TOKEN-222")
    monkeypatch.setattr("social.oauth.meta.list_pages", bug)

    response = callback(api_client, code="good-code", state=state)

    assert redirect_query(response, settings) == {"error": "connect_failed", "platform": "facebook"}
    assert "AttributeError" in caplog.text and "in bug" in caplog.text
    assert "EAAlong-USER-TOKEN-222" not in caplog.text and "access_token=[REDACTED]" in caplog.text
    assert SocialAccount.objects.count() == 0


@pytest.mark.parametrize("malformed", ["17841400000000001", ["17841400000000001"], 17841400000000001])
def test_a_malformed_instagram_business_account_connects_the_page_without_one(
        api_client, meta_connect, settings, malformed):
    meta_connect.replace("GET", f"{GRAPH}/me/accounts", json=_accounts_with(
        {"instagram_business_account": malformed, "picture": "https://not-an-object"}))
    response = callback(api_client, code="good-code", state=start_oauth(api_client, "facebook"))

    query = redirect_query(response, settings)
    assert query["result"] == "connected"
    assert sorted(SocialAccount.objects.values_list("platform", "external_id")) == [
        ("facebook", "101000000000001"), ("facebook", "101000000000002")]
    assert SocialAccount.objects.get(external_id="101000000000001").avatar_url == ""


@pytest.mark.parametrize("body", [{"data": {"id": "101"}}, {"data": ["101000000000001"]}, {"data": [{"name": "no id"}]}, []])
def test_an_unreadable_page_list_is_exchange_failed(api_client, meta_connect, settings, body):
    meta_connect.replace("GET", f"{GRAPH}/me/accounts", body=json.dumps(body), content_type="application/json")
    response = callback(api_client, code="good-code", state=start_oauth(api_client, "facebook"))
    assert redirect_query(response, settings) == {"error": "exchange_failed", "platform": "facebook"}
    assert SocialAccount.objects.count() == 0


def test_page_grant_reads_a_tasks_value_that_is_not_a_list_as_no_tasks():
    page = meta._page_grant({"id": "1", "tasks": "MANAGE", "instagram_business_account": {"username": "no id"}})
    assert (page.tasks, page.instagram) == ([], None)


def test_an_unexpected_subscription_failure_leaves_the_accounts_connected_and_says_so(
        api_client, meta_connect, settings, monkeypatch):
    def down(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Connection refused.")
    monkeypatch.setattr("social.services.facebook.subscribe_page_webhooks", down)

    response = callback(api_client, code="good-code", state=start_oauth(api_client, "facebook"))

    assert redirect_query(response, settings)["result"] == "connected"
    page = SocialAccount.objects.get(external_id="101000000000001")
    ig = SocialAccount.objects.get(platform="instagram")
    for account in (page, ig):
        assert account.webhook_subscribed_at is None
        assert account.status_reason == ("Webhook subscription failed: an error on our side; "
                                         "manage.py subscribe_webhooks will retry it.")


def test_an_unexpected_tiktok_profile_failure_still_connects(api_client, tiktok_connect, settings, monkeypatch):
    def down(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Connection refused.")
    monkeypatch.setattr("social.oauth.tiktok.get_user_info", down)
    response = callback(api_client, "tiktok", code="good-code", state=start_oauth(api_client, "tiktok"))
    query = redirect_query(response, settings)
    account = SocialAccount.objects.get(platform="tiktok")
    assert query == {"result": "connected", "platform": "tiktok", "accounts": str(account.pk)}
    assert account.access_token and account.name == ""


def test_a_connect_lands_in_the_workspace_it_started_in(api_client, user, meta_connect, settings):
    from workspaces.services import create_workspace

    team = create_workspace(user, "Team")
    response = api_client.get("/api/v1/auth/oauth/facebook", HTTP_ACCEPT="application/json", HTTP_X_WORKSPACE=str(team.pk))
    state = query_of(response.json()["authorization_url"])["state"]
    assert redirect_query(callback(api_client, code="good-code", state=state), settings)["result"] == "connected"
    assert set(SocialAccount.objects.values_list("workspace_id", "connected_by_id")) == {(team.pk, user.pk)}


def test_a_member_demoted_before_the_callback_connects_nothing(api_client, user, workspace, meta_connect, settings):
    from workspaces.models import Membership

    state = start_oauth(api_client, "facebook")
    Membership.objects.filter(user=user, workspace=workspace).update(role="editor")
    assert redirect_query(callback(api_client, code="good-code", state=state), settings) == {
        "error": "not_allowed", "platform": "facebook"}
    assert SocialAccount.objects.count() == 0 and len(meta_connect.calls) == 0


def test_an_editor_cannot_start_a_connect(workspace, member_factory):
    _, editor = member_factory(workspace, "editor")
    response = editor.get("/api/v1/auth/oauth/tiktok", HTTP_ACCEPT="application/json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "role_required"
    assert OAuthState.objects.count() == 0
