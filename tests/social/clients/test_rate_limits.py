"""One place decides: budgets, pauses from usage headers, 429 backoff, safe retries, call counting."""

import json
import time

import dramatiq
import pytest
import requests
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name

from social.clients import facebook, ratelimit, tiktok
from tests.conftest import load_fixture
from unipulse.jobs import run_platform_job
from unipulse.platform_errors import RateLimitedError, TransientError

from ..conftest import GRAPH, TIKTOK

pytestmark = pytest.mark.django_db

PAGE_ID = "101000000000001"
SUBS = f"{GRAPH}/{PAGE_ID}/subscribed_apps"
READ_OK = load_fixture("facebook/oauth_subscribed_apps_read.json")


@pytest.fixture
def page(account_factory):
    return account_factory("facebook", external_id=PAGE_ID, platform_user_id="fbuser-1")


@pytest.fixture
def stub_broker():
    broker = StubBroker()
    broker.emit_after("process_boot")
    yield broker
    broker.flush_all()
    broker.close()


def test_spent_budget_raises_before_any_http(page, mocked_platforms, settings):
    settings.META_CALLS_PER_HOUR = 2
    mocked_platforms.add("GET", SUBS, json=READ_OK)
    facebook.get_page_subscriptions(page)
    facebook.get_page_subscriptions(page)
    with pytest.raises(RateLimitedError) as caught:
        facebook.get_page_subscriptions(page)
    assert caught.value.scope == "budget"
    assert 3500 <= caught.value.retry_after <= 3601
    assert len(mocked_platforms.calls) == 2


def test_budget_is_per_facebook_user_not_per_page(account_factory, mocked_platforms, settings):
    settings.META_CALLS_PER_HOUR = 1
    first = account_factory("facebook", external_id=PAGE_ID, platform_user_id="fbuser-1")
    sibling = account_factory("facebook", external_id="101000000000002", platform_user_id="fbuser-1")
    stranger = account_factory("facebook", external_id="101000000000003", platform_user_id="fbuser-2")
    for page_id in (PAGE_ID, "101000000000002", "101000000000003"):
        mocked_platforms.add("GET", f"{GRAPH}/{page_id}/subscribed_apps", json=READ_OK)
    facebook.get_page_subscriptions(first)
    with pytest.raises(RateLimitedError):
        facebook.get_page_subscriptions(sibling)
    facebook.get_page_subscriptions(stranger)
    assert len(mocked_platforms.calls) == 2


def test_a_job_that_finds_the_budget_spent_is_re_enqueued_with_a_delay_without_calling_http(
        page, mocked_platforms, settings, stub_broker):
    settings.META_CALLS_PER_HOUR = 1
    ratelimit.take_budget(ratelimit.meta_user_key("fbuser-1"), "Facebook")

    @dramatiq.actor(broker=stub_broker, queue_name="analytics-sync", actor_name="probe_analytics_sync", max_retries=0)
    def probe_analytics_sync(account_id: int) -> None:
        run_platform_job(probe_analytics_sync, (account_id,), lambda pk: facebook.get_page_subscriptions(page))

    before_ms = int(time.time() * 1000)
    probe_analytics_sync(page.pk)  # the actor's logic, run directly: it must not raise

    assert len(mocked_platforms.calls) == 0
    assert stub_broker.queues["analytics-sync"].qsize() == 0
    delayed = stub_broker.queues[dq_name("analytics-sync")]
    assert delayed.qsize() == 1
    message = dramatiq.Message.decode(delayed.get_nowait())
    assert message.actor_name == "probe_analytics_sync" and message.args == (page.pk,)
    assert message.options.get("retries", 0) == 0  # a rate limit does not spend a retry
    eta_seconds = (message.options["eta"] - before_ms) / 1000
    assert 3500 <= eta_seconds <= 3602


def test_transient_errors_propagate_so_dramatiq_retries_them(page, mocked_platforms, stub_broker):
    mocked_platforms.add("GET", SUBS, status=503, json={"error": {"message": "busy", "code": 2, "is_transient": True}})

    @dramatiq.actor(broker=stub_broker, queue_name="analytics-sync", actor_name="probe_transient", max_retries=0)
    def probe_transient(account_id: int) -> None:
        run_platform_job(probe_transient, (account_id,), lambda pk: facebook.get_page_subscriptions(page))

    with pytest.raises(TransientError):
        probe_transient(page.pk)
    assert stub_broker.queues[dq_name("analytics-sync")].qsize() == 0


def test_business_use_case_usage_near_100_pauses_that_page_only(account_factory, mocked_platforms):
    page = account_factory("facebook", external_id=PAGE_ID, platform_user_id="fbuser-1")
    other = account_factory("facebook", external_id="101000000000002", platform_user_id="fbuser-1")
    usage = {PAGE_ID: [{"type": "pages", "call_count": 96, "total_cputime": 12, "total_time": 30,
                        "estimated_time_to_regain_access": 0}]}
    mocked_platforms.add("GET", SUBS, json=READ_OK, headers={"X-Business-Use-Case-Usage": json.dumps(usage)})
    mocked_platforms.add("GET", f"{GRAPH}/101000000000002/subscribed_apps", json=READ_OK)

    facebook.get_page_subscriptions(page)  # succeeds, but tells us to stop for this Page
    with pytest.raises(RateLimitedError) as caught:
        facebook.get_page_subscriptions(page)
    assert 290 <= caught.value.retry_after <= 301
    facebook.get_page_subscriptions(other)  # a different Page keeps working
    assert [c.request.url.split("?")[0] for c in mocked_platforms.calls] == [
        SUBS, f"{GRAPH}/101000000000002/subscribed_apps"]


@pytest.mark.parametrize(("peak", "wait"), [(93, 300), (100, 3600)])
def test_page_usage_near_100_pauses_the_facebook_user_behind_the_page(account_factory, mocked_platforms, peak, wait):
    page = account_factory("facebook", external_id=PAGE_ID, platform_user_id="fbuser-1")
    sibling = account_factory("facebook", external_id="101000000000002", platform_user_id="fbuser-1")
    stranger = account_factory("facebook", external_id="101000000000009", platform_user_id="fbuser-7")
    usage = {"call_count": peak, "total_cputime": 10, "total_time": 12}
    mocked_platforms.add("GET", SUBS, json=READ_OK, headers={"X-Page-Usage": json.dumps(usage)})
    mocked_platforms.add("GET", f"{GRAPH}/101000000000009/subscribed_apps", json=READ_OK)

    facebook.get_page_subscriptions(page)  # succeeds, but says this user's token is nearly spent

    assert ratelimit.get_store().get_pause(ratelimit.meta_user_key("fbuser-1")) is not None
    for account in (page, sibling):  # the pause is on the user key, so every Page of that user waits
        with pytest.raises(RateLimitedError) as caught:
            facebook.get_page_subscriptions(account)
        assert caught.value.scope == "user"
        assert wait - 10 <= caught.value.retry_after <= wait + 1
    facebook.get_page_subscriptions(stranger)  # another Facebook user is not affected
    assert ratelimit.get_store().get_pause(ratelimit.META_APP) is None
    assert len(mocked_platforms.calls) == 2


def test_page_usage_below_the_threshold_pauses_nothing(page, mocked_platforms, settings):
    settings.META_USAGE_PAUSE_PERCENT = 90
    mocked_platforms.add("GET", SUBS, json=READ_OK, headers={"X-Page-Usage": json.dumps({"call_count": 89})})
    facebook.get_page_subscriptions(page)
    facebook.get_page_subscriptions(page)
    assert len(mocked_platforms.calls) == 2
    assert ratelimit.get_store().get_pause(ratelimit.meta_user_key("fbuser-1")) is None


def test_app_usage_near_100_pauses_every_meta_call(page, account_factory, mocked_platforms):
    mocked_platforms.add("GET", SUBS, json=READ_OK,
                         headers={"X-App-Usage": json.dumps({"call_count": 97, "total_cputime": 20, "total_time": 31})})
    facebook.get_page_subscriptions(page)
    other = account_factory("facebook", external_id="101000000000009", platform_user_id="fbuser-7")
    with pytest.raises(RateLimitedError) as caught:
        facebook.get_page_subscriptions(other)
    assert caught.value.scope == "app"
    assert len(mocked_platforms.calls) == 1


def test_get_retries_on_5xx_with_backoff(page, mocked_platforms, backoff_sleeps):
    mocked_platforms.add("GET", SUBS, status=503, body="")
    mocked_platforms.add("GET", SUBS, json=READ_OK)
    subscriptions = facebook.get_page_subscriptions(page)
    assert subscriptions[0].fields == ["feed", "messages", "message_echoes"]
    assert len(mocked_platforms.calls) == 2
    assert backoff_sleeps == [0.25]


def test_every_retry_of_a_get_is_taken_from_the_budget_and_counted(page, mocked_platforms, backoff_sleeps, settings):
    """Found by the fault suite: a GET answered 503 twice reached Meta three times but took one unit of
    the hourly budget. Each attempt is a call Meta counts, so each one spends budget (and is counted)."""
    settings.META_CALLS_PER_HOUR, settings.PLATFORM_HTTP_GET_RETRIES = 3, 2
    mocked_platforms.add("GET", SUBS, status=503, body="")
    mocked_platforms.add("GET", SUBS, status=503, body="")
    mocked_platforms.add("GET", SUBS, json=READ_OK)
    facebook.get_page_subscriptions(page)
    assert len(mocked_platforms.calls) == 3
    assert ratelimit.remaining_budget(ratelimit.meta_user_key("fbuser-1")) == 0
    assert sum(ratelimit.get_call_counts(page.pk).values()) == 3
    mocked_platforms.add("GET", SUBS, status=503, body="")
    with pytest.raises(RateLimitedError):  # the budget is spent: nothing more goes out
        facebook.get_page_subscriptions(page)
    assert len(mocked_platforms.calls) == 3


def test_a_retry_stops_when_the_budget_runs_out_mid_way(page, mocked_platforms, backoff_sleeps, settings):
    settings.META_CALLS_PER_HOUR = 1
    mocked_platforms.add("GET", SUBS, status=503, body="")
    with pytest.raises(RateLimitedError) as caught:
        facebook.get_page_subscriptions(page)
    assert caught.value.scope == "budget"
    assert len(mocked_platforms.calls) == 1


def test_get_retries_on_timeouts_then_gives_up_as_transient(page, mocked_platforms, backoff_sleeps):
    mocked_platforms.add("GET", SUBS, body=requests.exceptions.ConnectTimeout("connect timed out"))
    with pytest.raises(TransientError) as caught:
        facebook.get_page_subscriptions(page)
    assert "did not answer in time" in caught.value.message
    assert len(mocked_platforms.calls) == 2 and backoff_sleeps == [0.25]


def test_post_is_never_retried_on_5xx_or_timeouts(page, mocked_platforms, backoff_sleeps):
    mocked_platforms.add("POST", SUBS, status=503, body="")
    with pytest.raises(TransientError):
        facebook.subscribe_page_webhooks(page, ["feed"])
    mocked_platforms.replace("POST", SUBS, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(TransientError):
        facebook.subscribe_page_webhooks(page, ["feed"])
    assert len(mocked_platforms.calls) == 2 and backoff_sleeps == []


def test_requests_go_out_with_connect_and_read_timeouts(page, mocked_platforms, settings, monkeypatch):
    seen = {}
    original = requests.Session.request

    def spy(self, method, url, **kwargs):
        seen["timeout"] = kwargs["timeout"]
        return original(self, method, url, **kwargs)

    monkeypatch.setattr(requests.Session, "request", spy)
    mocked_platforms.add("GET", SUBS, json=READ_OK)
    facebook.get_page_subscriptions(page)
    assert seen["timeout"] == (settings.PLATFORM_HTTP_CONNECT_TIMEOUT, settings.PLATFORM_HTTP_READ_TIMEOUT)


def test_tiktok_429_backs_off_exponentially_with_jitter_and_pauses_the_user(account_factory, mocked_platforms):
    account = account_factory("tiktok", external_id="-000OpenIdAlice")
    mocked_platforms.add("GET", f"{TIKTOK}/v2/user/info/", status=429,
                         json=load_fixture("tiktok/errors_rate_limit_exceeded.json"))
    with pytest.raises(RateLimitedError) as first:
        tiktok.get_user_info(account, ["open_id"])
    assert 48 <= first.value.retry_after <= 72
    with pytest.raises(RateLimitedError):  # paused: no HTTP
        tiktok.get_user_info(account, ["open_id"])
    assert len(mocked_platforms.calls) == 1
    second_wait = ratelimit.backoff_after_429(ratelimit.tiktok_user_key("-000OpenIdAlice"), None)
    assert 96 <= second_wait <= 144


def test_a_tiktok_429_on_a_user_call_reports_and_pauses_the_user_scope(account_factory, mocked_platforms):
    account = account_factory("tiktok", external_id="-000OpenIdCarol")
    mocked_platforms.add("GET", f"{TIKTOK}/v2/user/info/", status=429,
                         json=load_fixture("tiktok/errors_rate_limit_exceeded.json"))
    with pytest.raises(RateLimitedError) as caught:
        tiktok.get_user_info(account, ["open_id"])
    assert caught.value.scope == "user"
    store = ratelimit.get_store()
    assert store.get_pause(ratelimit.tiktok_user_key("-000OpenIdCarol")) is not None
    assert store.get_pause("tiktok:app") is None


def test_a_tiktok_rate_limit_on_an_app_call_reports_the_app_scope(mocked_platforms):
    # TikTok's OAuth endpoints sometimes answer in the API envelope; those calls are paused as the app.
    mocked_platforms.add("POST", f"{TIKTOK}/v2/oauth/token/", status=429,
                         json=load_fixture("tiktok/errors_rate_limit_exceeded.json"))
    with pytest.raises(RateLimitedError) as caught:
        tiktok.exchange_code("tt-code", "https://example.test/cb")
    assert caught.value.scope == "app"
    assert ratelimit.get_store().get_pause("tiktok:app") is not None
    with pytest.raises(RateLimitedError) as paused:  # paused as the app: no second request goes out
        tiktok.exchange_code("tt-code", "https://example.test/cb")
    assert paused.value.scope == "app" and len(mocked_platforms.calls) == 1


@pytest.mark.parametrize("status", [429, 200, 400])
def test_a_flat_tiktok_sign_in_rate_limit_pauses_the_app_and_honours_retry_after(mocked_platforms, status):
    # TikTok's OAuth endpoints usually answer flat: {"error": "rate_limit_exceeded", "error_description": ...}.
    mocked_platforms.add("POST", f"{TIKTOK}/v2/oauth/token/", status=status, headers={"Retry-After": "42"},
                         json={"error": "rate_limit_exceeded", "error_description": "Too many requests.",
                               "log_id": "20261201F1A2"})
    with pytest.raises(RateLimitedError) as caught:
        tiktok.exchange_code("tt-code", "https://example.test/cb")
    assert (caught.value.scope, caught.value.retry_after) == ("app", 42)
    assert caught.value.message == "TikTok's sign-in service is rate limiting us; retrying in 42 s."
    pause = ratelimit.get_store().get_pause("tiktok:app")
    assert pause is not None and 40 <= pause - time.time() <= 42
    with pytest.raises(RateLimitedError):  # paused as the app: no second request goes out
        tiktok.refresh_access_token("rft.FLAT-1")
    assert len(mocked_platforms.calls) == 1


def test_tiktok_429_honours_retry_after(account_factory, mocked_platforms):
    account = account_factory("tiktok", external_id="-000OpenIdBob")
    mocked_platforms.add("GET", f"{TIKTOK}/v2/user/info/", status=429, headers={"Retry-After": "17"},
                         json=load_fixture("tiktok/errors_rate_limit_exceeded.json"))
    with pytest.raises(RateLimitedError) as caught:
        tiktok.get_user_info(account, ["open_id"])
    assert caught.value.retry_after == 17


def test_every_call_is_counted_per_account_and_endpoint(page, mocked_platforms):
    mocked_platforms.add("GET", SUBS, json=READ_OK)
    mocked_platforms.add("POST", SUBS, json={"success": True})
    facebook.get_page_subscriptions(page)
    facebook.get_page_subscriptions(page)
    facebook.subscribe_page_webhooks(page, ["feed"])
    assert ratelimit.get_call_counts(page.pk) == {"meta:page.subscribed_apps": 2, "meta:page.subscribed_apps.create": 1}
    assert ratelimit.remaining_budget(ratelimit.meta_user_key("fbuser-1")) == 197
