"""Redis unreachable: the accounts API still answers, with call budgets and counts shown as unknown (null)."""

from __future__ import annotations

import pytest
import redis

pytestmark = pytest.mark.django_db


class _DeadRedis:
    """The rate limiter's store with Redis unreachable: every command fails."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        return fail


@pytest.fixture
def dead_redis(_clean_rate_limits, monkeypatch):
    with monkeypatch.context() as patch:  # undone before the autouse fixture clears the real store
        patch.setattr("social.clients.ratelimit.get_store", lambda: _DeadRedis())
        yield


@pytest.fixture
def accounts(account_factory):
    return [account_factory("facebook", name="Page"), account_factory("tiktok", name="Creator")]


def test_the_account_list_answers_with_unknown_budgets_and_counts(api_client, accounts, dead_redis):
    response = api_client.get("/api/v1/accounts/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert sorted(r["name"] for r in results) == ["Creator", "Page"]
    assert [(r["remaining_call_budget"], r["call_counts"]) for r in results] == [(None, None), (None, None)]
    assert all(r["status"] == "active" and r["platform"] in ("facebook", "tiktok") for r in results)


def test_the_account_detail_answers_with_unknown_budgets_and_counts(api_client, accounts, dead_redis):
    response = api_client.get(f"/api/v1/accounts/{accounts[0].pk}/")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["name"], body["remaining_call_budget"], body["call_counts"]) == (
        accounts[0].pk, "Page", None, None)


def test_with_redis_up_the_same_fields_have_values(api_client, accounts):
    body = api_client.get(f"/api/v1/accounts/{accounts[0].pk}/").json()
    assert (body["remaining_call_budget"], body["call_counts"]) == (200, {})


def test_refresh_answers_with_the_account_and_unknown_counters(api_client, accounts, dead_redis, monkeypatch):
    monkeypatch.setattr("tokens.api.refresh_account_token", lambda pk, force: accounts[0])
    response = api_client.post(f"/api/v1/accounts/{accounts[0].pk}/refresh/")
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["call_counts"]) == (accounts[0].pk, None)


def test_a_redis_failure_anywhere_else_in_a_view_is_a_503_with_retry_after(api_client, accounts, monkeypatch):
    def down(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Connection refused.")

    monkeypatch.setattr("tokens.api.refresh_account_token", down)
    response = api_client.post(f"/api/v1/accounts/{accounts[0].pk}/refresh/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "service_unavailable"


def test_the_schema_documents_the_counters_as_nullable(api_client):
    schema = api_client.get("/api/v1/schema/?format=json").json()
    account = schema["components"]["schemas"]["SocialAccount"]["properties"]
    assert account["remaining_call_budget"]["nullable"] is True
    assert account["call_counts"]["nullable"] is True
    assert "unknown" in account["call_counts"]["description"]
