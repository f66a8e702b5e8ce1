"""token_refresh under Dramatiq: temporary failures are retried with backoff, bounded; nothing leaks to logs."""

import logging
from datetime import timedelta

import dramatiq
import pytest
import requests
import responses
from django.utils import timezone
from dramatiq.broker import MessageProxy
from dramatiq.common import current_millis
from dramatiq.middleware import Retries

from social.models import AccountStatus, SocialAccount
from tests.conftest import load_fixture
from tokens.actors import token_refresh
from unipulse.jobs import QUEUE_POLICY
from unipulse.platform_errors import TransientError

pytestmark = pytest.mark.django_db

TOKEN_URL = "https://open.tiktokapis.com/v2/oauth/token/"
DEBUG_URL = "https://graph.facebook.com/v25.0/debug_token"
POLICY = QUEUE_POLICY["token-refresh"]


def next_message(broker) -> MessageProxy:
    """The next message a worker would take: the queue first, then the delay queue (its eta skipped)."""
    for name in ("token-refresh", "token-refresh.DQ"):
        queue = broker.queues.get(name)
        if queue is not None and queue.qsize():
            message = dramatiq.Message.decode(queue.get_nowait())
            return MessageProxy(message.copy(queue_name="token-refresh"))
    raise AssertionError("nothing left to process")


def process(broker, message: MessageProxy) -> BaseException | None:
    """What a worker thread does with one message, in this thread: run the actor, then let the
    configured Retries middleware decide (the test database is not shared with worker threads)."""
    retries = next(m for m in broker.middleware if isinstance(m, Retries))
    try:
        broker.get_actor(message.actor_name)(*message.args, **message.kwargs)
    except Exception as exc:  # noqa: BLE001 - handed to the middleware like the worker does
        retries.after_process_message(broker, message, exception=exc)
        return exc
    retries.after_process_message(broker, message, result=None)
    return None


FAILURES = {
    "503": {"status": 503, "json": {"error": "server_error", "error_description": "busy"}},
    "timeout": {"body": requests.exceptions.ReadTimeout("read timed out")},
    "connection error": {"body": requests.exceptions.ConnectionError("connection refused")},
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_a_temporary_refresh_failure_is_retried_by_dramatiq_with_backoff_until_its_limit(account_factory, broker, failure):
    account = account_factory("tiktok", token_expires_at=timezone.now() - timedelta(minutes=1))  # due
    token_refresh.send(account.pk)
    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN_URL, **FAILURES[failure])
        for attempt in range(POLICY["max_retries"] + 1):
            message = next_message(broker)
            sent_at = current_millis()
            assert isinstance(process(broker, message), TransientError)
            if attempt < POLICY["max_retries"]:
                retry = dramatiq.Message.decode(broker.queues["token-refresh.DQ"].queue[0])
                assert retry.options["retries"] == attempt + 1
                backoff = retry.options["eta"] - sent_at
                low = min(POLICY["min_backoff"] * 2 ** attempt, POLICY["max_backoff"] // 2)
                assert low - 1000 <= backoff <= POLICY["max_backoff"] + 1000
            else:
                assert message.failed  # retries exhausted: the message ends, it does not loop
        assert len(rsps.calls) == POLICY["max_retries"] + 1  # one POST per run: never resent by the HTTP layer
    assert broker.queues["token-refresh"].qsize() == broker.queues["token-refresh.DQ"].qsize() == 0
    fresh = SocialAccount.objects.get(pk=account.pk)
    assert (fresh.status, fresh.status_reason) == (AccountStatus.ACTIVE, "")
    assert fresh.access_token == account.access_token and fresh.refresh_token == account.refresh_token


def test_a_temporary_failure_then_success_refreshes_on_the_retry(account_factory, broker):
    account = account_factory("tiktok", token_expires_at=timezone.now() - timedelta(minutes=1))
    token_refresh.send(account.pk)
    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN_URL, status=503, json={"error": "server_error"})
        rsps.post(TOKEN_URL, json=load_fixture("tiktok/tokens_refresh_ok.json"))
        assert isinstance(process(broker, next_message(broker)), TransientError)
        assert process(broker, next_message(broker)) is None
    assert SocialAccount.objects.get(pk=account.pk).access_token == "act.NEW-ROTATED-ACCESS-9f2"
    assert broker.queues["token-refresh.DQ"].qsize() == 0


def test_a_refused_grant_is_not_retried(account_factory, broker):
    account = account_factory("tiktok", token_expires_at=timezone.now() - timedelta(minutes=1))
    token_refresh.send(account.pk)
    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN_URL, status=400, json=load_fixture("tiktok/tokens_refresh_invalid_grant.json"))
        assert process(broker, next_message(broker)) is None  # recorded on the account, the message ends
    assert SocialAccount.objects.get(pk=account.pk).status == AccountStatus.NEEDS_REAUTH
    assert broker.queues["token-refresh.DQ"].qsize() == 0


def _meta_page(account_factory):
    return account_factory("facebook", external_id="104512345678901", access_token="EAApage-SECRET-77",
                           data_access_expires_at=timezone.now() + timedelta(days=80))


META_ANSWERS = {
    "valid": ({"json": "facebook/tokens_debug_token_page_valid.json"}, None),
    "revoked": ({"json": "facebook/tokens_debug_token_invalid.json"}, None),
    "graph error": ({"status": 400, "json": {"error": {
        "message": "Invalid OAuth access token - Cannot parse access_token=EAApage-SECRET-77", "type": "OAuthException",
        "code": 190, "fbtrace_id": "AbCdTrace1"}}}, None),
    "server error": ({"status": 500, "json": {"error": {"message": "Service unavailable", "code": 2,
                                                         "is_transient": True, "fbtrace_id": "AbCdTrace2"}}},
                     TransientError),
    "timeout": ({"body": requests.exceptions.ReadTimeout(
        "HTTPSConnectionPool: Read timed out. (url: /debug_token?input_token=EAApage-SECRET-77)")}, TransientError),
}


@pytest.mark.parametrize("answer", sorted(META_ANSWERS))
def test_no_token_in_any_log_line_of_a_meta_check(account_factory, caplog, answer):
    account = _meta_page(account_factory)
    kwargs, raised = META_ANSWERS[answer]
    if isinstance(kwargs.get("json"), str):
        kwargs = {**kwargs, "json": load_fixture(kwargs["json"])}
    with responses.RequestsMock() as rsps, caplog.at_level(logging.DEBUG):
        rsps.get(DEBUG_URL, **kwargs)
        if raised:
            with pytest.raises(raised) as caught:
                token_refresh(account.pk, True)
            assert "EAApage-SECRET-77" not in str(caught.value)
        else:
            token_refresh(account.pk, True)
        assert len(rsps.calls) >= 1
    for secret in ("EAApage-SECRET-77", "test-app-secret", "input_token=E", "access_token=E"):
        assert secret not in caplog.text
    fresh = SocialAccount.objects.get(pk=account.pk)
    assert "EAApage-SECRET-77" not in fresh.status_reason


def test_a_revoked_meta_token_found_by_the_actor_is_logged_by_code_only(account_factory, caplog):
    account = _meta_page(account_factory)
    with responses.RequestsMock() as rsps, caplog.at_level(logging.INFO):
        rsps.get(DEBUG_URL, json=load_fixture("facebook/tokens_debug_token_invalid.json"))
        token_refresh(account.pk, True)
    assert f"token_refresh({account.pk}, True) stopped: ReauthRequiredError" in caplog.text
    assert SocialAccount.objects.get(pk=account.pk).status == AccountStatus.NEEDS_REAUTH
