"""Every platform failure maps to one typed error, from real-shaped bodies; same failure, same class."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from social.clients import facebook, instagram, tiktok
from social.models import AccountStatus
from tests.conftest import load_fixture
from unipulse.platform_errors import (
    BlockedError,
    InvalidRequestError,
    PermissionMissingError,
    RateLimitedError,
    ReauthRequiredError,
    TransientError,
)

from ..conftest import GRAPH, TIKTOK, query_of

pytestmark = pytest.mark.django_db

PAGE_ID = "101000000000001"
IG_ID = "17841400000000001"
SUBS = f"{GRAPH}/{PAGE_ID}/subscribed_apps"
USER_INFO = f"{TIKTOK}/v2/user/info/"


@pytest.fixture
def page(account_factory):
    return account_factory("facebook", external_id=PAGE_ID, access_token="EAApage-ERRORS")


@pytest.fixture
def tt_account(account_factory):
    return account_factory("tiktok", external_id="-000OpenIdAlice", access_token="act.ERRORS")


GRAPH_CASES = [
    # fixture, HTTP status, class, (code, subcode)
    ("facebook/errors_190_463_token_expired.json", 400, ReauthRequiredError, (190, 463)),
    ("instagram/errors_190_467_invalid_token.json", 400, ReauthRequiredError, (190, 467)),
    ("facebook/errors_10_permission.json", 403, PermissionMissingError, (10, None)),
    ("facebook/errors_200_permission.json", 403, PermissionMissingError, (200, None)),
    ("facebook/errors_4_app_rate_limit.json", 400, RateLimitedError, (4, None)),
    ("facebook/errors_17_user_rate_limit.json", 400, RateLimitedError, (17, None)),
    ("facebook/errors_32_page_rate_limit.json", 400, RateLimitedError, (32, None)),
    ("facebook/errors_613_custom_rate_limit.json", 400, RateLimitedError, (613, None)),
    ("facebook/errors_80001_buc_pages.json", 400, RateLimitedError, (80001, None)),
    ("instagram/errors_80002_buc_instagram.json", 400, RateLimitedError, (80002, None)),
    ("facebook/errors_368_blocked.json", 400, BlockedError, (368, 1390008)),
    ("instagram/errors_2207042_publishing_limit.json", 400, BlockedError, (9, 2207042)),
    ("facebook/errors_is_transient.json", 400, TransientError, (1200, None)),
    ("facebook/errors_1_unknown.json", 500, TransientError, (1, None)),
    ("facebook/errors_2_service.json", 503, TransientError, (2, None)),
    ("facebook/errors_100_invalid_param.json", 400, InvalidRequestError, (100, None)),
]


@pytest.mark.parametrize(("fixture", "status", "error_class", "codes"), GRAPH_CASES, ids=[c[0] for c in GRAPH_CASES])
def test_graph_error_bodies_map_to_their_class(page, mocked_platforms, fixture, status, error_class, codes):
    body = load_fixture(fixture)
    mocked_platforms.add("GET", SUBS, status=status, json=body)
    with pytest.raises(error_class) as caught:
        facebook.get_page_subscriptions(page)
    error = caught.value
    assert type(error) is error_class
    assert (error.code, error.subcode) == codes
    assert error.trace_id == body["error"]["fbtrace_id"]
    assert error.platform == "meta" and error.status == status
    assert "EAApage-ERRORS" not in str(error)


def test_graph_permission_error_names_the_permission(page, mocked_platforms):
    mocked_platforms.add("GET", SUBS, status=403, json=load_fixture("facebook/errors_10_permission.json"))
    with pytest.raises(PermissionMissingError) as caught:
        facebook.get_page_subscriptions(page)
    assert caught.value.permission == "pages_read_engagement"


@pytest.mark.parametrize(("fixture", "scope", "wait"), [
    ("errors_4_app_rate_limit", "app", 3600), ("errors_17_user_rate_limit", "user", 3600),
    ("errors_613_custom_rate_limit", "user", 3600), ("errors_32_page_rate_limit", "account", 600),
])
def test_graph_rate_limit_codes_carry_scope_and_wait(page, mocked_platforms, fixture, scope, wait):
    mocked_platforms.add("GET", SUBS, status=400, json=load_fixture(f"facebook/{fixture}.json"))
    with pytest.raises(RateLimitedError) as caught:
        facebook.get_page_subscriptions(page)
    assert (caught.value.scope, caught.value.retry_after) == (scope, wait)
    with pytest.raises(RateLimitedError):  # the scope is paused: no second request goes out
        facebook.get_page_subscriptions(page)
    assert len(mocked_platforms.calls) == 1


def test_buc_80001_waits_for_the_regain_time_in_the_usage_header(page, mocked_platforms):
    usage = {PAGE_ID: [{"type": "pages", "call_count": 100, "total_cputime": 40, "total_time": 60,
                        "estimated_time_to_regain_access": 19}]}
    mocked_platforms.add("GET", SUBS, status=400, json=load_fixture("facebook/errors_80001_buc_pages.json"),
                         headers={"X-Business-Use-Case-Usage": json.dumps(usage)})
    with pytest.raises(RateLimitedError) as caught:
        facebook.get_page_subscriptions(page)
    assert caught.value.retry_after == 19 * 60
    assert caught.value.scope == "account"
    with pytest.raises(RateLimitedError):  # paused: the next call never leaves the process
        facebook.get_page_subscriptions(page)
    assert len(mocked_platforms.calls) == 1


def test_blocked_errors_say_until_when(page, mocked_platforms):
    mocked_platforms.add("GET", SUBS, status=400, json=load_fixture("instagram/errors_2207042_publishing_limit.json"))
    with pytest.raises(BlockedError) as caught:
        facebook.get_page_subscriptions(page)
    assert timezone.now() + timedelta(hours=23) < caught.value.until <= timezone.now() + timedelta(hours=24)
    assert "publishing limit" in caught.value.message


def test_a_bare_graph_368_without_a_subcode_blocks_the_account_for_a_day(page, mocked_platforms):
    mocked_platforms.add("GET", SUBS, status=400, json=load_fixture("facebook/errors_368_no_subcode.json"))
    with pytest.raises(BlockedError) as caught:
        facebook.get_page_subscriptions(page)
    error = caught.value
    assert (type(error), error.code, error.subcode, error.trace_id) == (BlockedError, 368, None, "AzQx9Lm2NpQ")
    assert error.message.startswith("Facebook temporarily blocked this account for a policy reason.")
    assert timezone.now() + timedelta(hours=23) < error.until <= timezone.now() + timedelta(hours=24)
    page.refresh_from_db()
    assert page.blocked_until == error.until and page.is_blocked()


def test_invalid_request_keeps_the_platforms_message_and_trace(page, mocked_platforms):
    mocked_platforms.add("GET", SUBS, status=400, json=load_fixture("facebook/errors_100_invalid_param.json"))
    with pytest.raises(InvalidRequestError) as caught:
        facebook.get_page_subscriptions(page)
    assert "Tried accessing nonexisting field (foo)" in caught.value.message
    assert str(caught.value).endswith("(trace A1b2C3d4E5f)")


def test_graph_5xx_without_a_body_is_transient(page, mocked_platforms):
    mocked_platforms.add("GET", SUBS, status=502, body="<html>Bad Gateway</html>")
    with pytest.raises(TransientError) as caught:
        facebook.get_page_subscriptions(page)
    assert type(caught.value) is TransientError and caught.value.status == 502


def test_graph_calls_carry_appsecret_proof_of_the_token(page, mocked_platforms):
    mocked_platforms.add("GET", SUBS, json=load_fixture("facebook/oauth_subscribed_apps_read.json"))
    facebook.get_page_subscriptions(page)
    query = query_of(mocked_platforms.calls[0].request.url)
    assert query["appsecret_proof"] == hmac.new(b"test-app-secret", b"EAApage-ERRORS", hashlib.sha256).hexdigest()
    assert mocked_platforms.calls[0].request.headers["User-Agent"].startswith("UniPulse/")


TIKTOK_CASES = [
    ("errors_access_token_invalid", 401, ReauthRequiredError),
    ("errors_scope_not_authorized", 401, PermissionMissingError),
    ("errors_rate_limit_exceeded", 200, RateLimitedError),  # TikTok can fail inside an HTTP 200
    ("errors_rate_limit_exceeded", 429, RateLimitedError),
    ("errors_spam_risk_too_many_posts", 403, BlockedError),
    ("errors_internal_error", 500, TransientError),
    ("errors_invalid_param", 400, InvalidRequestError),
]


@pytest.mark.parametrize(("fixture", "status", "error_class"), TIKTOK_CASES)
def test_tiktok_error_envelopes_map_to_their_class(tt_account, mocked_platforms, fixture, status, error_class):
    # No refresh token: nothing can renew a refused access token, so TikTok's own answer is raised.
    type(tt_account).objects.filter(pk=tt_account.pk).update(refresh_token="")
    tt_account.refresh_from_db()
    body = load_fixture(f"tiktok/{fixture}.json")
    mocked_platforms.add("GET", USER_INFO, status=status, json=body)
    with pytest.raises(error_class) as caught:
        tiktok.get_user_info(tt_account, ["open_id"])
    assert type(caught.value) is error_class
    assert caught.value.code == body["error"]["code"]
    assert caught.value.trace_id == body["error"]["log_id"]
    assert "act.ERRORS" not in str(caught.value)


def test_tiktok_unaudited_client_error_says_what_to_do_and_blocks_nothing(tt_account, mocked_platforms):
    # Waiting never lifts it (a 24 h block would retry forever): the creator or the app owner must act.
    body = load_fixture("tiktok/errors_unaudited_client.json")
    mocked_platforms.add("GET", USER_INFO, status=403, json=body)
    with pytest.raises(InvalidRequestError) as caught:
        tiktok.get_user_info(tt_account, ["open_id"])
    error = caught.value
    assert type(error) is InvalidRequestError
    assert (error.code, error.trace_id) == ("unaudited_client_can_only_post_to_private_accounts", body["error"]["log_id"])
    assert error.message == ("TikTok accepts posts from this app only on private TikTok accounts until TikTok has "
                             "audited the app: set the TikTok account to private (or complete TikTok's app audit), "
                             "then retry.")
    tt_account.refresh_from_db()
    assert not tt_account.is_blocked()


@pytest.mark.parametrize("code", ["spam_risk_too_many_pending_share", "spam_risk_user_banned_from_posting",
                                  "spam_risk_text", "spam_risk", "spam_risk_a_code_tiktok_adds_later"])
@pytest.mark.parametrize("status", [200, 403])  # TikTok can fail inside an HTTP 200
def test_every_tiktok_spam_risk_code_blocks_the_account(tt_account, mocked_platforms, code, status):
    body = load_fixture("tiktok/errors_spam_risk_too_many_posts.json")
    body["error"]["code"] = code
    mocked_platforms.add("GET", USER_INFO, status=status, json=body)
    with pytest.raises(BlockedError) as caught:
        tiktok.get_user_info(tt_account, ["open_id"])
    assert type(caught.value) is BlockedError and caught.value.code == code
    tt_account.refresh_from_db()
    assert tt_account.blocked_until == caught.value.until and tt_account.is_blocked()


def test_a_code_that_only_contains_spam_risk_is_not_a_block(tt_account, mocked_platforms):
    body = load_fixture("tiktok/errors_spam_risk_too_many_posts.json")
    body["error"]["code"] = "not_spam_risk"
    mocked_platforms.add("GET", USER_INFO, status=400, json=body)
    with pytest.raises(InvalidRequestError):
        tiktok.get_user_info(tt_account, ["open_id"])
    tt_account.refresh_from_db()
    assert tt_account.blocked_until is None


def test_tiktok_scope_error_names_the_scope(tt_account, mocked_platforms):
    mocked_platforms.add("GET", USER_INFO, status=401, json=load_fixture("tiktok/errors_scope_not_authorized.json"))
    with pytest.raises(PermissionMissingError) as caught:
        tiktok.get_user_info(tt_account, ["open_id"])
    assert caught.value.permission == "video.publish"


def test_tiktok_oauth_flat_invalid_grant_means_reconnect(mocked_platforms):
    mocked_platforms.add("POST", f"{TIKTOK}/v2/oauth/token/", status=400, json=load_fixture("tiktok/oauth_token_invalid_grant.json"))
    with pytest.raises(ReauthRequiredError) as caught:
        tiktok.refresh_access_token("rft.OLD")
    assert (caught.value.code, caught.value.trace_id) == ("invalid_grant", "20261125104455A1B2C3D4E5F6")


def test_graph_oauth_error_on_code_exchange_is_invalid_request(mocked_platforms):
    from social.clients import meta

    mocked_platforms.add("GET", f"{GRAPH}/oauth/access_token", status=400, json=load_fixture("facebook/oauth_code_error.json"))
    with pytest.raises(InvalidRequestError) as caught:
        meta.exchange_code("used-code", "https://example.test/cb")
    assert (caught.value.code, caught.value.subcode) == (100, 36009)
    assert "used-code" not in str(caught.value)


# ---- one contract for every client: same failure, same class -------------------------------------

def _graph_failure(kind):
    return {
        "reauth": (400, load_fixture("facebook/errors_190_463_token_expired.json")),
        "permission": (403, load_fixture("facebook/errors_200_permission.json")),
        "rate_limited": (429, load_fixture("facebook/errors_613_custom_rate_limit.json")),
        "blocked": (400, load_fixture("facebook/errors_368_blocked.json")),
        "server_error": (500, {"error": {"message": "An unexpected error has occurred.", "code": 2,
                                         "is_transient": True, "fbtrace_id": "T"}}),
        "invalid": (400, load_fixture("facebook/errors_100_invalid_param.json")),
    }[kind]


def _tiktok_failure(kind):
    name = {"reauth": "errors_access_token_invalid", "permission": "errors_scope_not_authorized",
            "rate_limited": "errors_rate_limit_exceeded", "blocked": "errors_spam_risk_too_many_posts",
            "server_error": "errors_internal_error", "invalid": "errors_invalid_param"}[kind]
    status = {"reauth": 401, "permission": 401, "rate_limited": 429, "blocked": 403, "server_error": 500,
              "invalid": 400}[kind]
    return status, load_fixture(f"tiktok/{name}.json")


def _refuse_tiktok_refresh(rsps, client, failure):
    """TikTok's access_token_invalid is first cured by a refresh; here TikTok refuses that too."""
    if client == "tiktok" and failure == "reauth":
        rsps.add("POST", f"{TIKTOK}/v2/oauth/token/", status=400,
                 json=load_fixture("tiktok/tokens_refresh_invalid_grant.json"))


CLIENTS = {
    "facebook": ("facebook", PAGE_ID, SUBS, facebook.get_page_subscriptions, _graph_failure),
    "instagram": ("instagram", IG_ID, f"{GRAPH}/{IG_ID}", instagram.get_account_profile, _graph_failure),
    "tiktok": ("tiktok", "-000OpenIdAlice", USER_INFO, lambda a: tiktok.get_user_info(a, ["open_id"]), _tiktok_failure),
}
CONTRACT = [
    ("reauth", ReauthRequiredError), ("permission", PermissionMissingError), ("rate_limited", RateLimitedError),
    ("blocked", BlockedError), ("server_error", TransientError), ("timeout", TransientError),
    ("invalid", InvalidRequestError),
]


@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize(("failure", "error_class"), CONTRACT)
def test_every_client_raises_the_same_class_for_the_same_failure(account_factory, mocked_platforms, client, failure,
                                                                  error_class):
    platform, external_id, url, call, failure_of = CLIENTS[client]
    account = account_factory(platform, external_id=external_id)
    if failure == "timeout":
        mocked_platforms.add("GET", url, body=requests.exceptions.ReadTimeout("read timed out"))
    else:
        status, body = failure_of(failure)
        mocked_platforms.add("GET", url, status=status, json=body)
    _refuse_tiktok_refresh(mocked_platforms, client, failure)
    with pytest.raises(error_class) as caught:
        call(account)
    assert type(caught.value) is error_class
    account.refresh_from_db()
    assert (account.status == AccountStatus.NEEDS_REAUTH) == (failure == "reauth")


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_a_reauth_error_marks_the_account_needs_reauth_once(account_factory, mocked_platforms, client):
    platform, external_id, url, call, failure_of = CLIENTS[client]
    account = account_factory(platform, external_id=external_id)
    status, body = failure_of("reauth")
    mocked_platforms.add("GET", url, status=status, json=body)
    _refuse_tiktok_refresh(mocked_platforms, client, "reauth")

    with pytest.raises(ReauthRequiredError):
        call(account)
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_REAUTH
    assert account.status_reason.startswith("Reconnect your ")
    first_update = account.updated_at

    type(account).objects.filter(pk=account.pk).update(status_reason="told the user already")
    with pytest.raises(ReauthRequiredError):
        call(account)
    account.refresh_from_db()
    assert account.status_reason == "told the user already"  # the second failure changes nothing
    assert account.updated_at == first_update


def test_a_blocked_error_records_blocked_until_on_the_account_and_never_shortens_it(page, mocked_platforms):
    mocked_platforms.add("GET", SUBS, status=400, json=load_fixture("facebook/errors_368_blocked.json"))
    with pytest.raises(BlockedError) as caught:
        facebook.get_page_subscriptions(page)
    page.refresh_from_db()
    assert page.blocked_until == caught.value.until and page.is_blocked()
    later = page.blocked_until + timedelta(days=2)
    type(page).objects.filter(pk=page.pk).update(blocked_until=later)
    page.refresh_from_db()
    with pytest.raises(BlockedError):
        facebook.get_page_subscriptions(page)
    page.refresh_from_db()
    assert page.blocked_until == later
