"""Facebook/Instagram callbacks: every granted Page and its Instagram account, upserted once."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from social.models import AccountStatus, OAuthState, SocialAccount
from tests.conftest import load_fixture

from .conftest import GRAPH, SUBSCRIBED_APPS, body_of, calls_to, query_of, start_oauth

pytestmark = pytest.mark.django_db

FB_USER = "10158000000000001"
TOKENS = ("EAAshort-USER-TOKEN-111", "EAAlong-USER-TOKEN-222", "EAApage-TOKEN-PAGE1", "EAApage-TOKEN-PAGE2",
          "EAApage-TOKEN-PAGE3", "good-code")


def callback(client, platform="facebook", **params):
    return client.get(f"/api/v1/auth/callback/{platform}", params)


def redirect_query(response, settings) -> dict:
    assert response.status_code == 302
    assert response["Location"].startswith(settings.FRONTEND_URL + "/?")
    return query_of(response["Location"])


def test_facebook_connect_upserts_every_page_across_pagination_and_the_linked_instagram_account(
        api_client, user, meta_connect, settings):
    state = start_oauth(api_client, "facebook")
    response = callback(api_client, code="good-code", state=state)

    query = redirect_query(response, settings)
    accounts = {a.external_id: a for a in SocialAccount.objects.all()}
    assert query == {"result": "connected", "platform": "facebook",
                     "accounts": ",".join(str(accounts[x].pk) for x in (
                         "101000000000001", "17841400000000001", "101000000000002", "101000000000003"))}
    page1, ig, page2, page3 = (accounts[x] for x in (
        "101000000000001", "17841400000000001", "101000000000002", "101000000000003"))
    assert (page1.platform, page1.name, page1.username, page1.connected_by) == ("facebook", "Bakery on Main", "bakeryonmain", user)
    assert page1.access_token == "EAApage-TOKEN-PAGE1" and page1.token_expires_at is None
    assert page1.platform_user_id == FB_USER and page1.status == AccountStatus.ACTIVE and page1.status_reason == ""
    assert page1.avatar_url == "https://scontent.xx.fbcdn.net/v/p1.jpg"
    assert "pages_manage_posts" in page1.scopes and "instagram_basic" in page1.scopes
    assert page1.data_access_expires_at is not None and page1.data_access_expires_at.year >= 2026
    assert (ig.platform, ig.username, ig.name, ig.parent_id, ig.platform_user_id) == (
        "instagram", "bakery.ig", "Bakery IG", page1.pk, FB_USER)
    assert ig.access_token == "EAApage-TOKEN-PAGE1"  # FB-Login path: Instagram calls use the Page token
    assert ig.status_reason == "" and "instagram_content_publish" in ig.scopes
    # The user granted pages_manage_posts for Pages 1 and 3 only (debug_token's granular_scopes).
    assert page2.access_token == "EAApage-TOKEN-PAGE2"
    assert page2.status_reason == "Missing permission: pages_manage_posts (publishing). Reconnect and allow it."
    assert "pages_manage_posts" not in page2.scopes and "pages_show_list" in page2.scopes
    # Page 3's role has neither CREATE_CONTENT nor MODERATE: connected, but says why it cannot post.
    assert "CREATE_CONTENT, MODERATE" in page3.status_reason
    for page in (page1, page2, page3):
        assert page.webhook_subscribed_at is not None
    assert ig.webhook_subscribed_at is not None


def test_facebook_connect_sends_the_expected_requests(api_client, meta_connect, settings):
    state = start_oauth(api_client, "facebook")
    callback(api_client, code="good-code", state=state)

    exchange, swap = calls_to(meta_connect, "/oauth/access_token")
    assert query_of(exchange.url) == {"client_id": "test-app-id", "client_secret": "test-app-secret",
                                      "redirect_uri": settings.FACEBOOK_CALLBACK_URL, "code": "good-code"}
    assert query_of(swap.url)["grant_type"] == "fb_exchange_token"
    assert query_of(swap.url)["fb_exchange_token"] == "EAAshort-USER-TOKEN-111"
    first, second = calls_to(meta_connect, "/me/accounts")
    for request in (first, second):
        q = query_of(request.url)
        assert q["access_token"] == "EAAlong-USER-TOKEN-222"
        assert len(q["appsecret_proof"]) == 64
        for needed in ("access_token", "tasks", "instagram_business_account"):
            assert needed in q["fields"]
    assert "after" not in query_of(first.url)
    assert query_of(second.url)["after"] == "QVFIUmAFTER1"  # rebuilt from the cursor, not paging.next
    posts = calls_to(meta_connect, "/subscribed_apps", "POST")
    assert [p.url.split("?")[0] for p in posts] == [f"{GRAPH}/{pid}/subscribed_apps" for pid in (
        "101000000000001", "101000000000002", "101000000000003")]
    sent = body_of(posts[0])
    assert sent["subscribed_fields"] == "feed,messages,message_echoes"
    assert sent["access_token"] == "EAApage-TOKEN-PAGE1"  # the Page token, in the body
    assert "access_token" not in posts[0].url
    assert len(calls_to(meta_connect, "/subscribed_apps", "GET")) == 3  # each read back


def test_instagram_callback_connects_through_the_instagram_redirect_uri(api_client, meta_connect, settings):
    state = start_oauth(api_client, "instagram")
    response = callback(api_client, "instagram", code="good-code", state=state)
    query = redirect_query(response, settings)
    assert query["result"] == "connected" and query["platform"] == "instagram"
    ig = SocialAccount.objects.get(platform="instagram")
    assert str(ig.pk) in query["accounts"].split(",")
    exchange = calls_to(meta_connect, "/oauth/access_token")[0]
    assert query_of(exchange.url)["redirect_uri"] == settings.INSTAGRAM_CALLBACK_URL


def test_reconnect_updates_the_existing_accounts_instead_of_duplicating(api_client, user, meta_connect, account_factory):
    old = account_factory("facebook", external_id="101000000000001", access_token="EAAold-revoked",
                          status=AccountStatus.NEEDS_REAUTH, status_reason="Reconnect your Facebook account.")
    callback(api_client, code="good-code", state=start_oauth(api_client, "facebook"))
    callback(api_client, code="good-code", state=start_oauth(api_client, "facebook"))

    assert SocialAccount.objects.count() == 4
    old.refresh_from_db()
    assert old.access_token == "EAApage-TOKEN-PAGE1"
    assert (old.status, old.status_reason) == (AccountStatus.ACTIVE, "")


def test_declined_permissions_are_named_in_the_status_reason(api_client, meta_connect, settings):
    meta_connect.replace("GET", f"{GRAPH}/me/permissions", json=load_fixture("facebook/oauth_permissions_declined.json"))
    response = callback(api_client, code="good-code", state=start_oauth(api_client, "facebook"))
    assert redirect_query(response, settings)["result"] == "connected"
    page = SocialAccount.objects.get(external_id="101000000000001")
    ig = SocialAccount.objects.get(platform="instagram")
    assert page.status_reason == "Missing permission: pages_manage_posts (publishing). Reconnect and allow it."
    assert "pages_manage_posts" not in page.scopes
    assert ig.status_reason == "Missing permission: instagram_content_publish (publishing). Reconnect and allow it."


def test_no_page_permission_ends_with_missing_permissions_and_no_account(api_client, meta_connect, settings):
    meta_connect.replace("GET", f"{GRAPH}/me/permissions", json=load_fixture("facebook/oauth_permissions_no_pages.json"))
    response = callback(api_client, code="good-code", state=start_oauth(api_client, "facebook"))
    assert redirect_query(response, settings) == {"error": "missing_permissions", "platform": "facebook"}
    assert SocialAccount.objects.count() == 0


def test_no_page_ticked_ends_with_missing_permissions(api_client, meta_connect, settings):
    meta_connect.replace("GET", f"{GRAPH}/me/accounts", json=load_fixture("facebook/oauth_accounts_empty.json"))
    response = callback(api_client, code="good-code", state=start_oauth(api_client, "facebook"))
    assert redirect_query(response, settings)["error"] == "missing_permissions"
    assert SocialAccount.objects.count() == 0


def test_failed_webhook_subscription_is_a_visible_status_reason(api_client, meta_connect):
    meta_connect.replace("POST", SUBSCRIBED_APPS, status=403, json=load_fixture("facebook/errors_200_permission.json"))
    callback(api_client, code="good-code", state=start_oauth(api_client, "facebook"))
    page = SocialAccount.objects.get(external_id="101000000000001")
    ig = SocialAccount.objects.get(platform="instagram")
    for account in (page, ig):
        assert account.webhook_subscribed_at is None
        assert "Webhook subscription failed" in account.status_reason
        assert "pages_manage_posts" in account.status_reason
    assert page.status == AccountStatus.ACTIVE


def test_subscription_not_confirmed_on_read_back_is_a_status_reason(api_client, meta_connect):
    meta_connect.replace("GET", SUBSCRIBED_APPS, json={"data": [{"id": "test-app-id", "subscribed_fields": ["feed"]}]})
    callback(api_client, code="good-code", state=start_oauth(api_client, "facebook"))
    page = SocialAccount.objects.get(external_id="101000000000001")
    assert page.webhook_subscribed_at is None
    assert page.status_reason == "Webhook subscription failed: Meta did not confirm messages, message_echoes."


def test_refused_code_ends_with_exchange_failed_and_no_account(api_client, meta_connect, settings):
    response = callback(api_client, code="used-code", state=start_oauth(api_client, "facebook"))
    assert redirect_query(response, settings) == {"error": "exchange_failed", "platform": "facebook"}
    assert SocialAccount.objects.count() == 0


def test_missing_code_with_a_good_state_is_exchange_failed(api_client, meta_connect, settings):
    response = callback(api_client, state=start_oauth(api_client, "facebook"))
    assert redirect_query(response, settings)["error"] == "exchange_failed"
    assert len(meta_connect.calls) == 0


@pytest.mark.parametrize("state", ["", "not-a-state-we-made"])
def test_missing_or_unknown_state_is_invalid_state(api_client, meta_connect, settings, state):
    response = callback(api_client, code="good-code", state=state)
    assert redirect_query(response, settings) == {"error": "invalid_state", "platform": "facebook"}
    assert SocialAccount.objects.count() == 0 and len(meta_connect.calls) == 0


def test_replayed_state_is_refused_and_changes_nothing(api_client, meta_connect, settings):
    state = start_oauth(api_client, "facebook")
    assert redirect_query(callback(api_client, code="good-code", state=state), settings)["result"] == "connected"
    before = {(a.pk, a.updated_at) for a in SocialAccount.objects.all()}
    calls = len(meta_connect.calls)
    response = callback(api_client, code="good-code", state=state)
    assert redirect_query(response, settings)["error"] == "invalid_state"
    assert {(a.pk, a.updated_at) for a in SocialAccount.objects.all()} == before
    assert len(meta_connect.calls) == calls


def test_expired_state_is_refused(api_client, meta_connect, settings):
    state = start_oauth(api_client, "facebook")
    OAuthState.objects.filter(state=state).update(created_at=timezone.now() - timedelta(minutes=11))
    response = callback(api_client, code="good-code", state=state)
    assert redirect_query(response, settings)["error"] == "invalid_state"
    assert SocialAccount.objects.count() == 0


def test_state_from_another_user_is_refused(api_client, other_client, meta_connect, settings):
    state = start_oauth(api_client, "facebook")
    response = callback(other_client, code="good-code", state=state)
    assert redirect_query(response, settings)["error"] == "invalid_state"
    assert SocialAccount.objects.count() == 0 and len(meta_connect.calls) == 0


def test_state_for_another_platform_is_refused(api_client, meta_connect, settings):
    state = start_oauth(api_client, "tiktok")
    response = callback(api_client, code="good-code", state=state)
    assert redirect_query(response, settings)["error"] == "invalid_state"
    assert SocialAccount.objects.count() == 0


def test_callback_without_a_session_is_bound_by_the_state_alone(api_client, user, meta_connect, settings):
    state = start_oauth(api_client, "facebook")
    response = callback(APIClient(), code="good-code", state=state)
    assert redirect_query(response, settings)["result"] == "connected"
    assert set(SocialAccount.objects.values_list("connected_by", flat=True)) == {user.pk}


def test_denied_consent_redirects_with_access_denied_and_burns_the_state(api_client, meta_connect, settings):
    state = start_oauth(api_client, "facebook")
    response = callback(api_client, error="access_denied", error_reason="user_denied",
                        error_description="Permissions error", state=state)
    assert redirect_query(response, settings) == {"error": "access_denied", "platform": "facebook"}
    assert SocialAccount.objects.count() == 0 and len(meta_connect.calls) == 0
    assert OAuthState.objects.get(state=state).used_at is not None


def test_unknown_platform_callback_is_a_404_and_creates_nothing(api_client):
    response = api_client.get("/api/v1/auth/callback/myspace", {"code": "x", "state": "y"})
    assert response.status_code == 404
    assert SocialAccount.objects.count() == 0


def test_no_token_in_redirects_logs_or_responses(api_client, meta_connect, settings, caplog):
    caplog.set_level(logging.DEBUG)
    meta_connect.replace("GET", SUBSCRIBED_APPS, status=500, json={"error": {"message": "boom access_token=EAApage-TOKEN-PAGE1",
                                                                              "code": 2, "is_transient": True}})
    ok = callback(api_client, code="good-code", state=start_oauth(api_client, "facebook"))
    failed = callback(api_client, code="used-code", state=start_oauth(api_client, "facebook"))
    listing = api_client.get("/api/v1/accounts/")
    for text in (ok["Location"], failed["Location"], caplog.text, listing.content.decode(),
                 *(a.status_reason for a in SocialAccount.objects.all())):
        for token in TOKENS:
            assert token not in text


def test_a_malformed_platform_answer_is_exchange_failed_not_a_500(api_client, meta_connect, settings):
    meta_connect.replace("GET", f"{GRAPH}/me", json={"name": "no id here"})
    response = callback(api_client, code="good-code", state=start_oauth(api_client, "facebook"))
    assert redirect_query(response, settings) == {"error": "exchange_failed", "platform": "facebook"}
    assert SocialAccount.objects.count() == 0


def test_debug_token_failure_does_not_fail_the_connect(api_client, meta_connect, settings):
    meta_connect.replace("GET", f"{GRAPH}/debug_token", status=500, json={"error": {"message": "x", "code": 2}})
    response = callback(api_client, code="good-code", state=start_oauth(api_client, "facebook"))
    assert redirect_query(response, settings)["result"] == "connected"
    page2 = SocialAccount.objects.get(external_id="101000000000002")
    assert page2.status_reason == "" and page2.data_access_expires_at is None


def test_reconnect_clears_needs_reauth_but_keeps_a_platform_block(api_client, meta_connect, account_factory):
    blocked = timezone.now() + timedelta(hours=20)
    page = account_factory("facebook", external_id="101000000000001", access_token="EAAold-revoked",
                           status=AccountStatus.NEEDS_REAUTH, status_reason="Reconnect your Facebook account.",
                           blocked_until=blocked)
    ig = account_factory("instagram", external_id="17841400000000001", blocked_until=blocked)
    past_block = account_factory("facebook", external_id="101000000000002", blocked_until=timezone.now() - timedelta(hours=1))

    callback(api_client, code="good-code", state=start_oauth(api_client, "facebook"))

    for account in (page, ig, past_block):
        account.refresh_from_db()
        assert account.status == AccountStatus.ACTIVE
    assert page.access_token == "EAApage-TOKEN-PAGE1" and page.status_reason == ""
    # Meta's spam/posting limits are about the account, not the token: a new token does not lift them.
    assert page.blocked_until == blocked and page.is_blocked()
    assert ig.blocked_until == blocked
    assert past_block.blocked_until is not None and not past_block.is_blocked()


def _permissions_without(*declined: str) -> dict:
    body = load_fixture("facebook/oauth_permissions.json")
    for entry in body["data"]:
        if entry["permission"] in declined:
            entry["status"] = "declined"
    return body


@pytest.mark.parametrize(("declined", "page_reason", "ig_reason"), [
    (["pages_messaging"], "pages_messaging (inbox DMs)", ""),
    (["read_insights"], "read_insights (analytics)", ""),
    (["pages_manage_engagement"], "pages_manage_engagement (comment replies and hiding)", ""),
    (["instagram_manage_messages"], "", "instagram_manage_messages (inbox DMs)"),
    (["instagram_manage_comments"], "", "instagram_manage_comments (comments)"),
    (["instagram_manage_insights"], "", "instagram_manage_insights (analytics)"),
    (["read_insights", "pages_messaging", "instagram_manage_insights"],
     "pages_messaging (inbox DMs), read_insights (analytics)", "instagram_manage_insights (analytics)"),
])
def test_a_missing_feature_scope_is_named_with_its_feature_and_the_account_still_connects(
        api_client, meta_connect, settings, declined, page_reason, ig_reason):
    meta_connect.replace("GET", f"{GRAPH}/me/permissions", json=_permissions_without(*declined))
    response = callback(api_client, code="good-code", state=start_oauth(api_client, "facebook"))
    assert redirect_query(response, settings)["result"] == "connected"
    page = SocialAccount.objects.get(external_id="101000000000001")
    ig = SocialAccount.objects.get(platform="instagram")
    for account, named in ((page, page_reason), (ig, ig_reason)):
        assert account.status == AccountStatus.ACTIVE
        assert account.status_reason == (f"Missing permission: {named}. Reconnect and allow it." if named else "")
        for scope in declined:
            assert scope not in account.scopes


def test_only_a_missing_publishing_scope_blocks_publishing_validation(api_client, meta_connect):
    from publishing.services.validation import account_errors

    meta_connect.replace("GET", f"{GRAPH}/me/permissions", json=_permissions_without(
        "pages_messaging", "read_insights", "pages_manage_engagement", "instagram_manage_messages",
        "instagram_manage_comments", "instagram_manage_insights"))
    callback(api_client, code="good-code", state=start_oauth(api_client, "facebook"))
    page = SocialAccount.objects.get(external_id="101000000000001")
    ig = SocialAccount.objects.get(platform="instagram")
    page2 = SocialAccount.objects.get(external_id="101000000000002")  # pages_manage_posts not granted for it
    assert page.status_reason and ig.status_reason
    assert account_errors([page, ig]) == []
    assert account_errors([page2]) == [f"{page2} did not grant the pages_manage_posts permission; reconnect it to publish."]


NO_PAGE_TOKEN = "Meta returned no Page token for this Page; reconnect and tick it in the Page picker."


@pytest.mark.parametrize("token", [None, "", "EAAlong-USER-TOKEN-222", "EAAshort-USER-TOKEN-111"])
def test_a_page_without_a_page_token_is_stored_without_one_and_asks_for_a_reconnect(
        api_client, meta_connect, account_factory, settings, token):
    old = account_factory("facebook", external_id="101000000000001", access_token="EAAold-page-token")
    accounts = load_fixture("facebook/oauth_accounts_page1.json")
    accounts.pop("paging")
    if token is None:
        del accounts["data"][0]["access_token"]
    else:  # Meta sent nothing, or what it sent is the user token, not a Page token
        accounts["data"][0]["access_token"] = token
    meta_connect.replace("GET", f"{GRAPH}/me/accounts", json=accounts)

    response = callback(api_client, code="good-code", state=start_oauth(api_client, "facebook"))

    assert redirect_query(response, settings)["result"] == "connected"
    old.refresh_from_db()
    ig = SocialAccount.objects.get(platform="instagram")
    for account in (old, ig):
        assert account.access_token == ""  # never the user token, and not the stale Page token either
        assert (account.status, account.status_reason) == (AccountStatus.NEEDS_REAUTH, NO_PAGE_TOKEN)
    other = SocialAccount.objects.get(external_id="101000000000002")
    assert other.access_token == "EAApage-TOKEN-PAGE2" and other.status == AccountStatus.ACTIVE
    # only the Page with a Page token is subscribed to webhooks (nothing to subscribe with otherwise)
    assert [c.url.split("?")[0] for c in calls_to(meta_connect, "/subscribed_apps", "POST")] == [
        f"{GRAPH}/101000000000002/subscribed_apps"]
    assert len(calls_to(meta_connect, "/debug_token")) == 1  # the user token only: no call per Page


def test_a_callback_refused_for_another_user_leaves_the_state_to_its_owner(api_client, other_client, meta_connect,
                                                                             settings):
    state = start_oauth(api_client, "facebook")
    refused = callback(other_client, code="good-code", state=state)
    assert redirect_query(refused, settings)["error"] == "invalid_state"
    assert OAuthState.objects.get(state=state).used_at is None
    response = callback(api_client, code="good-code", state=state)
    assert redirect_query(response, settings)["result"] == "connected"
    assert OAuthState.objects.get(state=state).used_at is not None


def test_a_callback_on_another_platforms_path_leaves_the_state_usable_on_its_own(api_client, meta_connect, settings):
    state = start_oauth(api_client, "facebook")
    assert redirect_query(callback(api_client, "instagram", code="good-code", state=state), settings)["error"] \
        == "invalid_state"
    assert redirect_query(callback(api_client, "tiktok", code="good-code", state=state), settings)["error"] \
        == "invalid_state"
    assert redirect_query(callback(api_client, code="good-code", state=state), settings)["result"] == "connected"


@pytest.mark.parametrize("state", ["%00", "abc%00def" * 4, "%ED%A0%80" * 20, "%C3%A9" * 20, "a" * 200])
def test_a_malformed_state_is_invalid_state_not_connect_failed(api_client, meta_connect, settings, state):
    # Raw query strings: a NUL, an encoded lone surrogate (decoded with replacement), non-ASCII, too long.
    response = api_client.get(f"/api/v1/auth/callback/facebook?code=good-code&state={state}")
    assert redirect_query(response, settings) == {"error": "invalid_state", "platform": "facebook"}
    assert len(meta_connect.calls) == 0
