"""Accounts API: own accounts only, call counts and budget, DELETE revokes and wipes."""

import logging

import pytest
from django.core.management import call_command

from social.clients import ratelimit
from social.models import AccountStatus, SocialAccount
from tests.conftest import load_fixture, recorded_events

from .conftest import GRAPH, SUBSCRIBED_APPS, TIKTOK, body_of, query_of

pytestmark = pytest.mark.django_db


def test_list_shows_own_accounts_with_call_counts_and_remaining_budget(api_client, account_factory, user, other_user, settings):
    settings.META_CALLS_PER_HOUR = 10
    page = account_factory("facebook", platform_user_id="fbuser-9")
    tiktok = account_factory("tiktok")
    account_factory("facebook", owner=other_user)
    for _ in range(3):
        ratelimit.take_budget(ratelimit.meta_user_key("fbuser-9"), "Facebook")
        ratelimit.count_call("meta", "page.feed", page.pk)
    ratelimit.count_call("tiktok", "user.info", tiktok.pk)

    results = api_client.get("/api/v1/accounts/").json()["results"]
    by_id = {r["id"]: r for r in results}
    assert set(by_id) == {page.pk, tiktok.pk}
    assert by_id[page.pk]["remaining_call_budget"] == 7
    assert by_id[page.pk]["call_counts"] == {"meta:page.feed": 3}
    assert by_id[tiktok.pk]["remaining_call_budget"] is None
    assert by_id[tiktok.pk]["call_counts"] == {"tiktok:user.info": 1}
    for key in ("platform", "name", "username", "avatar_url", "status", "status_reason", "token_expires_at",
                "last_synced_at"):
        assert key in by_id[page.pk]


def test_another_users_account_cannot_be_deleted(other_client, account_factory, mocked_platforms):
    account = account_factory("tiktok")
    response = other_client.delete(f"/api/v1/accounts/{account.pk}/")
    assert response.status_code == 404
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE and account.has_access_token
    assert len(mocked_platforms.calls) == 0


def test_deleting_a_tiktok_account_revokes_it_and_wipes_its_tokens(api_client, account_factory, mocked_platforms):
    mocked_platforms.add("POST", f"{TIKTOK}/v2/oauth/revoke/", json=load_fixture("tiktok/oauth_revoke.json"))
    account = account_factory("tiktok", access_token="act.REVOKE-ME")
    response = api_client.delete(f"/api/v1/accounts/{account.pk}/")

    assert response.status_code == 200
    assert response.json()["status"] == "disconnected"
    assert response.json()["has_access_token"] is False and response.json()["has_refresh_token"] is False
    assert body_of(mocked_platforms.calls[0].request) == {
        "client_key": "test-client-key", "client_secret": "test-client-secret", "token": "act.REVOKE-ME"}
    account.refresh_from_db()
    assert (account.access_token, account.refresh_token, account.status) == ("", "", AccountStatus.DISCONNECTED)
    assert account.token_expires_at is None and account.refresh_token_expires_at is None
    assert "REVOKE-ME" not in response.content.decode()
    [event] = recorded_events()
    assert event.type == "account.disconnected" and event.data["object"]["status"] == "disconnected"
    assert "REVOKE-ME" not in str(event.data)


def test_deleting_the_last_meta_account_of_a_facebook_user_revokes_the_apps_permissions(
        api_client, account_factory, mocked_platforms):
    mocked_platforms.add("DELETE", f"{GRAPH}/fbuser-1/permissions", json=load_fixture("facebook/oauth_revoke_permissions.json"))
    page = account_factory("facebook", platform_user_id="fbuser-1")
    api_client.delete(f"/api/v1/accounts/{page.pk}/")

    request = mocked_platforms.calls[0].request
    assert request.method == "DELETE"
    assert query_of(request.url)["access_token"] == "test-app-id|test-app-secret"
    page.refresh_from_db()
    assert page.status == AccountStatus.DISCONNECTED and page.access_token == ""


def test_deleting_one_page_keeps_the_grant_when_another_account_of_that_facebook_user_is_active(
        api_client, account_factory, mocked_platforms):
    page = account_factory("facebook", platform_user_id="fbuser-1")
    ig = account_factory("instagram", platform_user_id="fbuser-1", parent=page)
    response = api_client.delete(f"/api/v1/accounts/{page.pk}/")
    assert response.status_code == 200
    assert len(mocked_platforms.calls) == 0  # revoking would break the Instagram account
    ig.refresh_from_db()
    assert ig.status == AccountStatus.ACTIVE and ig.access_token


def test_a_failed_revoke_still_disconnects(api_client, account_factory, mocked_platforms, caplog):
    mocked_platforms.add("POST", f"{TIKTOK}/v2/oauth/revoke/", status=500, json={"error": "server_error"})
    account = account_factory("tiktok")
    with caplog.at_level(logging.WARNING):
        assert api_client.delete(f"/api/v1/accounts/{account.pk}/").status_code == 200
    account.refresh_from_db()
    assert account.status == AccountStatus.DISCONNECTED and not account.has_access_token
    assert "Revoking account" in caplog.text


def test_admin_shows_call_counts_and_budget_without_tokens(client, django_user_model, account_factory):
    page = account_factory("facebook", access_token="EAA-ADMIN-LEAK-CHECK")
    ratelimit.count_call("meta", "page.feed", page.pk)
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123"))
    html = client.get(f"/admin/social/socialaccount/{page.pk}/change/").content.decode()
    assert "meta:page.feed: 1" in html
    assert "Meta calls left this hour" in html
    assert "EAA-ADMIN-LEAK-CHECK" not in html


def test_subscribe_webhooks_command_resubscribes_active_pages(account_factory, mocked_platforms, capsys):
    mocked_platforms.add("POST", SUBSCRIBED_APPS, json=load_fixture("facebook/oauth_subscribed_apps_success.json"))
    mocked_platforms.add("GET", SUBSCRIBED_APPS, json=load_fixture("facebook/oauth_subscribed_apps_read.json"))
    page = account_factory("facebook", external_id="101000000000001", status_reason="Webhook subscription failed: old")
    ig = account_factory("instagram", parent=page)
    account_factory("facebook", external_id="101000000000009", status=AccountStatus.DISCONNECTED)
    account_factory("tiktok")

    call_command("subscribe_webhooks")

    assert [c.request.url.split("?")[0] for c in mocked_platforms.calls] == [
        f"{GRAPH}/101000000000001/subscribed_apps", f"{GRAPH}/101000000000001/subscribed_apps"]
    page.refresh_from_db()
    ig.refresh_from_db()
    assert page.webhook_subscribed_at is not None and ig.webhook_subscribed_at is not None
    assert page.status_reason == ""
    assert capsys.readouterr().out.strip() == "subscribe_webhooks: subscribed 1 Page(s) and 0 Instagram Login account(s); 0 failed."


def test_subscribe_webhooks_dry_run_calls_nothing(account_factory, mocked_platforms, capsys):
    account_factory("facebook")
    call_command("subscribe_webhooks", "--dry-run")
    assert len(mocked_platforms.calls) == 0
    assert capsys.readouterr().out.strip() == "subscribe_webhooks: would subscribe 1 Page(s) and 0 Instagram Login account(s); 0 failed."


def test_disconnected_accounts_stay_listed_for_the_owner(api_client, account_factory):
    account = account_factory("facebook", status=AccountStatus.DISCONNECTED, access_token="")
    assert [r["id"] for r in api_client.get("/api/v1/accounts/").json()["results"]] == [account.pk]
    assert SocialAccount.objects.count() == 1


def test_admin_account_page_shows_a_status_badge_and_offers_refresh_and_disconnect(client, django_user_model, account_factory):
    staff = django_user_model.objects.create_superuser("root2", "root2@example.com", "pw-root-123")
    client.force_login(staff)
    account = account_factory("facebook")
    listing = client.get("/admin/social/socialaccount/").content.decode()
    assert "border-radius:9px" in listing and ">Active<" in listing
    assert 'value="disconnect"' in listing and 'value="refresh_now"' in listing
    assert client.get(f"/admin/social/socialaccount/{account.pk}/change/").status_code == 200


def test_the_list_reads_call_counts_and_budgets_in_one_batch_not_per_row(api_client, account_factory, settings, monkeypatch):
    """Found by `make bench` (API reads): two Redis round trips per listed account. Now two per page."""
    settings.META_CALLS_PER_HOUR = 10
    pages = [account_factory("facebook", platform_user_id=f"fbuser-{i}") for i in range(4)]
    tiktok = account_factory("tiktok")
    ratelimit.take_budget(ratelimit.meta_user_key("fbuser-2"), "Facebook")
    ratelimit.count_call("meta", "page.feed", pages[1].pk)
    store = ratelimit.get_store()
    batches = []
    for name in ("calls", "used"):  # the per-row reads must not be used by the list
        monkeypatch.setattr(store, name, lambda *a, _n=name, **k: pytest.fail(f"per-row {_n}() while listing"))
    for name in ("calls_many", "used_many"):
        real = getattr(type(store), name).__get__(store)
        monkeypatch.setattr(store, name, lambda *a, _real=real, _n=name, **k: (batches.append(_n), _real(*a, **k))[1])

    by_id = {r["id"]: r for r in api_client.get("/api/v1/accounts/").json()["results"]}

    assert sorted(batches) == ["calls_many", "used_many"]
    assert by_id[pages[1].pk]["call_counts"] == {"meta:page.feed": 1} and by_id[pages[0].pk]["call_counts"] == {}
    assert by_id[pages[2].pk]["remaining_call_budget"] == 9 and by_id[pages[3].pk]["remaining_call_budget"] == 10
    assert by_id[tiktok.pk]["remaining_call_budget"] is None


def test_one_account_still_reads_its_own_counts(api_client, account_factory):
    page = account_factory("facebook", platform_user_id="fbuser-1")
    ratelimit.count_call("meta", "page.feed", page.pk)
    body = api_client.get(f"/api/v1/accounts/{page.pk}/").json()
    assert body["call_counts"] == {"meta:page.feed": 1}
    assert body["remaining_call_budget"] == ratelimit.remaining_budget(ratelimit.meta_user_key("fbuser-1"))


@pytest.mark.parametrize("platform,user_id", [("facebook", "fbuser-1"), ("tiktok", "open-shared")])
def test_disconnecting_keeps_the_grant_while_another_workspace_still_uses_it(
        api_client, account_factory, other_user, mocked_platforms, platform, user_id):
    from tests.conftest import workspace_of_user

    mine = account_factory(platform, platform_user_id=user_id, external_id="same-page")
    theirs = account_factory(platform, owner=other_user, platform_user_id=user_id, external_id="same-page")
    assert theirs.workspace == workspace_of_user(other_user) != mine.workspace  # the same Page, two workspaces
    assert api_client.delete(f"/api/v1/accounts/{mine.pk}/").status_code == 200
    assert len(mocked_platforms.calls) == 0  # revoking would cut the other workspace off
    theirs.refresh_from_db()
    assert theirs.status == AccountStatus.ACTIVE and theirs.access_token
    mine.refresh_from_db()
    assert mine.status == AccountStatus.DISCONNECTED and mine.access_token == ""


def test_an_instagram_login_account_shows_its_path_and_its_instagram_users_budget(api_client, account_factory, settings):
    from social.models import LoginPath

    settings.META_CALLS_PER_HOUR = 10
    ig = account_factory("instagram", external_id="17841400000000009", platform_user_id="17841400000000009",
                         login_path=LoginPath.INSTAGRAM)
    page = account_factory("facebook", platform_user_id="17841400000000009")
    for _ in range(4):
        ratelimit.take_budget(ratelimit.instagram_user_key("17841400000000009"), "Instagram")
    by_id = {r["id"]: r for r in api_client.get("/api/v1/accounts/").json()["results"]}
    assert (by_id[ig.pk]["login_path"], by_id[ig.pk]["remaining_call_budget"]) == ("instagram", 6)
    assert (by_id[page.pk]["login_path"], by_id[page.pk]["remaining_call_budget"]) == ("", 10)
    assert api_client.get(f"/api/v1/accounts/{ig.pk}/").json()["remaining_call_budget"] == 6
