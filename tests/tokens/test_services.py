"""Token refresh: scheduling, TikTok rotation, Meta validation, concurrency, outcomes, no leaks."""

import json
import logging
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
import responses
from django.db import connection
from django.utils import timezone

from social.clients import tiktok
from social.models import AccountStatus, SocialAccount
from tests.conftest import load_fixture, recorded_events, side_by_side, workspace_of_user
from tokens import services
from tokens.actors import token_refresh
from unipulse.platform_errors import ReauthRequiredError, TransientError

pytestmark = pytest.mark.django_db

TOKEN_URL = "https://open.tiktokapis.com/v2/oauth/token/"
DEBUG_URL = "https://graph.facebook.com/v25.0/debug_token"


def make_tiktok(account_factory, **fields):
    defaults = {"access_token": "act.OLD-ACCESS-1a", "refresh_token": "rft.OLD-REFRESH-2b",
                "token_expires_at": timezone.now() + timedelta(minutes=10)}
    defaults.update(fields)
    return account_factory("tiktok", **defaults)


def test_storing_a_tiktok_token_schedules_refresh_with_a_fifth_of_its_lifetime_left(account_factory):
    before = timezone.now()
    account = make_tiktok(account_factory, token_expires_at=before + timedelta(hours=2))
    due = account.token_refresh_due_at
    assert before + timedelta(minutes=95) <= due <= timezone.now() + timedelta(minutes=97)  # 2 h * 0.8 = 96 min


def test_meta_accounts_are_checked_daily_and_before_data_access_ends(account_factory):
    now = timezone.now()
    page = account_factory("facebook")
    assert now + timedelta(hours=23) < page.token_refresh_due_at <= timezone.now() + timedelta(hours=24)
    ending = account_factory("instagram", data_access_expires_at=now + timedelta(days=3))
    assert ending.token_refresh_due_at <= timezone.now() + timedelta(seconds=1)  # never looked at inside the window


NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("data_access_in", "checked_ago", "due_in"), [
    (timedelta(days=30), timedelta(minutes=1), timedelta(hours=24)),               # far away: daily
    (timedelta(days=7, hours=3), timedelta(minutes=1), timedelta(hours=3)),        # when the window opens
    (timedelta(days=3), None, timedelta(0)),                                       # in it, never looked: now
    (timedelta(days=3), timedelta(minutes=1), timedelta(hours=6, minutes=-1)),     # in it: every 6 hours
    (timedelta(days=3), timedelta(days=5), timedelta(0)),                          # last look before it opened
    (timedelta(hours=2), timedelta(minutes=1), timedelta(hours=2)),                # and once when it passes
    (-timedelta(hours=1), timedelta(minutes=1), timedelta(hours=24)),              # passed (marked): daily, no loop
], ids=["far", "window-opens", "in-window-unchecked", "in-window", "checked-before-window", "at-expiry", "passed"])
def test_meta_checks_near_an_expiry_are_bounded(account_factory, data_access_in, checked_ago, due_in):
    account = account_factory("instagram")
    account.data_access_expires_at = NOW + data_access_in
    account.token_checked_at = NOW - checked_ago if checked_ago is not None else None
    assert services.compute_refresh_due_at(account, now=NOW) == NOW + due_in


def test_meta_token_expiry_is_scheduled_like_data_access(account_factory):
    account = account_factory("facebook")
    account.token_checked_at = NOW - timedelta(minutes=1)
    account.token_expires_at = NOW + timedelta(days=8)
    account.data_access_expires_at = NOW + timedelta(days=60)
    assert services.compute_refresh_due_at(account, now=NOW) == NOW + timedelta(days=1)
    account.token_expires_at = NOW + timedelta(days=2)
    assert services.compute_refresh_due_at(account, now=NOW) == NOW + timedelta(hours=6, minutes=-1)


def test_selection_picks_exactly_the_accounts_due_now(account_factory, django_assert_num_queries):
    now = timezone.now()
    due_tiktok = make_tiktok(account_factory)
    SocialAccount.objects.filter(pk=due_tiktok.pk).update(token_refresh_due_at=now - timedelta(minutes=1))
    fresh_tiktok = make_tiktok(account_factory, token_expires_at=now + timedelta(hours=2))
    due_meta = account_factory("facebook")
    SocialAccount.objects.filter(pk=due_meta.pk).update(token_refresh_due_at=now - timedelta(hours=1))
    later_meta = account_factory("facebook")
    needs_reauth = make_tiktok(account_factory)
    SocialAccount.objects.filter(pk=needs_reauth.pk).update(status=AccountStatus.NEEDS_REAUTH, token_refresh_due_at=now - timedelta(hours=1))
    with django_assert_num_queries(1):
        ids = services.select_due_account_ids()
    assert sorted(ids) == sorted([due_tiktok.pk, due_meta.pk])
    assert fresh_tiktok.pk not in ids and later_meta.pk not in ids


def test_accounts_never_scheduled_are_selected_and_scheduled_by_their_first_look(account_factory, user):
    """Rows from before the schedule existed, or written by .update()/bulk_create, have no due time."""
    legacy = account_factory("facebook")
    SocialAccount.objects.filter(pk=legacy.pk).update(token_refresh_due_at=None)
    bulk = SocialAccount.objects.bulk_create([SocialAccount(
        workspace=workspace_of_user(user), connected_by=user, platform="tiktok", external_id="bulk-1", access_token="act.BULK-1", refresh_token="rft.BULK-1",
        token_expires_at=timezone.now() + timedelta(hours=2))])[0]
    assert SocialAccount.objects.get(pk=bulk.pk).token_refresh_due_at is None
    parked = account_factory("facebook")
    SocialAccount.objects.filter(pk=parked.pk).update(token_refresh_due_at=None, status=AccountStatus.NEEDS_REAUTH)
    account_factory("facebook")  # scheduled for tomorrow

    assert sorted(services.select_due_account_ids()) == sorted([legacy.pk, bulk.pk])

    body = load_fixture("facebook/tokens_debug_token_page_valid.json")
    body["data"]["data_access_expires_at"] = int((timezone.now() + timedelta(days=60)).timestamp())
    with responses.RequestsMock() as rsps:
        rsps.get(DEBUG_URL, json=body)
        services.refresh_account_token(legacy.pk)  # the actor's call: not forced
        assert len(rsps.calls) == 1
    assert SocialAccount.objects.get(pk=legacy.pk).token_refresh_due_at > timezone.now() + timedelta(hours=1)
    assert services.select_due_account_ids() == [bulk.pk]


def test_selection_uses_the_status_and_due_index():
    if connection.vendor != "postgresql":
        pytest.skip("EXPLAIN plans are checked on PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        plan = services.due_accounts().explain()  # the query refresh_tokens really runs
        cursor.execute("SET enable_seqscan = on")
    # One indexed query: the planner may pick the status+due index or another status-led one (on an
    # almost empty table both cost the same), never a scan of the whole table.
    assert "Seq Scan" not in plan, plan
    assert re.search(r"(Index (Only )?Scan using|Bitmap Index Scan on) account_status_\w+", plan), plan


@responses.activate
def test_tiktok_refresh_stores_the_rotated_pair_and_both_expiries(account_factory):
    account = make_tiktok(account_factory)
    responses.post(TOKEN_URL, json=load_fixture("tiktok/tokens_refresh_ok.json"))
    services.refresh_account_token(account.pk, force=True)
    sent = responses.calls[0].request.body
    assert "grant_type=refresh_token" in sent and "refresh_token=rft.OLD-REFRESH-2b" in sent
    assert "client_key=test-client-key" in sent
    fresh = SocialAccount.objects.get(pk=account.pk)
    assert fresh.access_token == "act.NEW-ROTATED-ACCESS-9f2"
    assert fresh.refresh_token == "rft.NEW-ROTATED-REFRESH-4c1"
    assert timezone.now() + timedelta(seconds=7100) < fresh.token_expires_at <= timezone.now() + timedelta(seconds=7200)
    assert timezone.now() + timedelta(days=179) < fresh.refresh_token_expires_at <= timezone.now() + timedelta(days=180)
    assert fresh.token_checked_at is not None
    assert fresh.token_refresh_due_at > timezone.now() + timedelta(minutes=90)


@responses.activate
def test_a_failed_save_leaves_the_old_pair_intact(account_factory, monkeypatch):
    """Both tokens and expiries are written in one transaction: all or nothing."""
    account = make_tiktok(account_factory)
    responses.post(TOKEN_URL, json=load_fixture("tiktok/tokens_refresh_ok.json"))
    original_save = SocialAccount.save

    def exploding_save(self, *args, **kwargs):
        original_save(self, *args, **kwargs)
        raise RuntimeError("database went away after the write")

    monkeypatch.setattr(SocialAccount, "save", exploding_save)
    with pytest.raises(RuntimeError):
        services.refresh_account_token(account.pk, force=True)
    monkeypatch.undo()
    fresh = SocialAccount.objects.get(pk=account.pk)
    assert (fresh.access_token, fresh.refresh_token) == ("act.OLD-ACCESS-1a", "rft.OLD-REFRESH-2b")


@responses.activate
def test_an_answer_without_a_refresh_token_keeps_the_stored_one(account_factory):
    account = make_tiktok(account_factory)
    body = load_fixture("tiktok/tokens_refresh_ok.json") | {"refresh_token": "", "refresh_expires_in": 0}
    responses.post(TOKEN_URL, json=body)
    services.refresh_account_token(account.pk, force=True)
    fresh = SocialAccount.objects.get(pk=account.pk)
    assert fresh.refresh_token == "rft.OLD-REFRESH-2b"
    assert fresh.access_token == "act.NEW-ROTATED-ACCESS-9f2"


@responses.activate
def test_invalid_grant_sets_needs_reauth_once_with_a_reason(account_factory):
    account = make_tiktok(account_factory)
    responses.post(TOKEN_URL, json=load_fixture("tiktok/tokens_refresh_invalid_grant.json"), status=400)
    with pytest.raises(ReauthRequiredError):
        services.refresh_account_token(account.pk, force=True)
    fresh = SocialAccount.objects.get(pk=account.pk)
    assert fresh.status == AccountStatus.NEEDS_REAUTH
    assert fresh.status_reason == "Reconnect your TikTok account: TikTok no longer accepts its authorisation."
    assert fresh.access_token == "act.OLD-ACCESS-1a"
    assert services.select_due_account_ids() == []  # not picked again


@responses.activate
def test_transient_errors_retry_and_never_disconnect(account_factory):
    account = make_tiktok(account_factory)
    SocialAccount.objects.filter(pk=account.pk).update(token_refresh_due_at=timezone.now() - timedelta(minutes=1))
    responses.post(TOKEN_URL, json={"error": "server_error"}, status=503)
    with pytest.raises(TransientError):
        token_refresh(account.pk)  # the actor re-raises, so Dramatiq's Retries middleware backs off
    fresh = SocialAccount.objects.get(pk=account.pk)
    assert fresh.status == AccountStatus.ACTIVE and fresh.status_reason == ""
    assert fresh.access_token == "act.OLD-ACCESS-1a"
    assert len(responses.calls) == 1  # a POST is never repeated by the HTTP layer


def test_the_actor_skips_an_account_that_is_not_due(account_factory):
    account = make_tiktok(account_factory, token_expires_at=timezone.now() + timedelta(hours=2))
    with responses.RequestsMock() as rsps:  # any platform call would fail this test
        token_refresh(account.pk)
        assert len(rsps.calls) == 0


def test_token_refresh_actor_has_bounded_retries_with_backoff():
    assert token_refresh.options["max_retries"] == 6
    assert token_refresh.options["min_backoff"] >= 10_000


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_refreshes_make_one_platform_call(account_factory):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite's in-memory test database is not shared across threads")
    account = make_tiktok(account_factory)
    SocialAccount.objects.filter(pk=account.pk).update(token_refresh_due_at=timezone.now() - timedelta(minutes=1))
    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN_URL, json=load_fixture("tiktok/tokens_refresh_ok.json"))
        assert side_by_side(lambda: services.refresh_account_token(account.pk).pk) == ([], [account.pk] * 2)
        assert len(rsps.calls) == 1
    assert SocialAccount.objects.get(pk=account.pk).refresh_token == "rft.NEW-ROTATED-REFRESH-4c1"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_forced_refreshes_make_one_platform_call(account_factory):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite's in-memory test database is not shared across threads")
    account = make_tiktok(account_factory, token_expires_at=timezone.now() + timedelta(hours=2))  # not due

    def slow_token_answer(request):
        time.sleep(0.5)  # the other worker is surely waiting for the lock by now
        return 200, {}, json.dumps(load_fixture("tiktok/tokens_refresh_ok.json"))

    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.POST, TOKEN_URL, callback=slow_token_answer)
        errors, tokens = side_by_side(lambda: services.refresh_account_token(account.pk, force=True).access_token)
        assert errors == []
        assert len(rsps.calls) == 1
    assert tokens == ["act.NEW-ROTATED-ACCESS-9f2"] * 2  # the loser returns the winner's token
    assert SocialAccount.objects.get(pk=account.pk).refresh_token == "rft.NEW-ROTATED-REFRESH-4c1"


class _LockWonByAnotherWorker:
    """Stands in for _single_flight: the first time, another worker refreshes before we get the lock."""

    real = services._single_flight
    pending = True

    def __init__(self, account_id):
        self.account_id, self.inner = account_id, self.real(account_id)

    def __enter__(self):
        if _LockWonByAnotherWorker.pending:
            _LockWonByAnotherWorker.pending = False
            services.refresh_account_token(self.account_id, force=True)
        return self.inner.__enter__()

    def __exit__(self, *exc):
        self.inner.__exit__(*exc)


@responses.activate
def test_a_forced_refresh_that_waited_for_the_lock_uses_the_winners_token(account_factory, monkeypatch):
    account = make_tiktok(account_factory, token_expires_at=timezone.now() + timedelta(hours=2))
    responses.post(TOKEN_URL, json=load_fixture("tiktok/tokens_refresh_ok.json"))
    monkeypatch.setattr(_LockWonByAnotherWorker, "pending", True)
    monkeypatch.setattr(services, "_single_flight", _LockWonByAnotherWorker)
    fresh = services.refresh_account_token(account.pk, force=True)
    assert len(responses.calls) == 1
    assert responses.calls[0].request.body.count("rft.OLD-REFRESH-2b") == 1
    assert fresh.access_token == "act.NEW-ROTATED-ACCESS-9f2"


@responses.activate
def test_a_precall_refresh_that_waited_for_the_lock_uses_the_winners_token(account_factory, monkeypatch):
    """ensure_fresh makes one locked call; the winner's fresh token is used, the refresh token not spent again."""
    account = make_tiktok(account_factory, token_expires_at=timezone.now() - timedelta(minutes=1))
    SocialAccount.objects.filter(pk=account.pk).update(token_refresh_due_at=timezone.now() + timedelta(hours=1))
    account.refresh_from_db()
    responses.post(TOKEN_URL, json=load_fixture("tiktok/tokens_refresh_ok.json"))
    monkeypatch.setattr(_LockWonByAnotherWorker, "pending", True)
    monkeypatch.setattr(services, "_single_flight", _LockWonByAnotherWorker)
    services.ensure_fresh(account)
    assert len(responses.calls) == 1
    assert account.access_token == "act.NEW-ROTATED-ACCESS-9f2"
    assert not account.is_token_expired()


@responses.activate
def test_a_precall_refresh_renews_an_expired_token_even_when_the_schedule_says_later(account_factory):
    account = make_tiktok(account_factory, token_expires_at=timezone.now() - timedelta(minutes=1))
    SocialAccount.objects.filter(pk=account.pk).update(token_refresh_due_at=timezone.now() + timedelta(hours=1))
    account.refresh_from_db()
    responses.post(TOKEN_URL, json=load_fixture("tiktok/tokens_refresh_ok.json"))
    services.ensure_fresh(account)
    assert len(responses.calls) == 1
    assert account.access_token == "act.NEW-ROTATED-ACCESS-9f2"


def test_a_refresh_that_finds_the_winner_lost_the_grant_raises_reauth(account_factory, monkeypatch):
    account = make_tiktok(account_factory)
    seen = services.token_version(account)
    SocialAccount.objects.filter(pk=account.pk).update(
        status=AccountStatus.NEEDS_REAUTH, status_reason="Reconnect your TikTok account: test.",
        token_checked_at=timezone.now())
    with responses.RequestsMock() as rsps, pytest.raises(ReauthRequiredError, match="Reconnect your TikTok account: test."):
        services.refresh_account_token(account.pk, force=True, seen=seen)
    assert len(rsps.calls) == 0


@responses.activate
def test_a_call_with_an_expired_token_refreshes_first_then_uses_the_new_token(account_factory):
    account = make_tiktok(account_factory, token_expires_at=timezone.now() - timedelta(minutes=1))
    responses.post(TOKEN_URL, json=load_fixture("tiktok/tokens_refresh_ok.json"))
    responses.get("https://open.tiktokapis.com/v2/user/info/",
                  json={"data": {"user": {"open_id": "open-1"}}, "error": {"code": "ok", "message": "", "log_id": "x"}})
    data = tiktok.call(account, "GET", "v2/user/info/", endpoint="user.info", params={"fields": "open_id"})
    assert data == {"user": {"open_id": "open-1"}}
    assert [c.request.url.split("?")[0] for c in responses.calls] == [TOKEN_URL, "https://open.tiktokapis.com/v2/user/info/"]
    assert responses.calls[1].request.headers["Authorization"] == "Bearer act.NEW-ROTATED-ACCESS-9f2"
    assert account.access_token == "act.NEW-ROTATED-ACCESS-9f2"


@responses.activate
def test_meta_check_records_data_access_expiry_and_keeps_a_never_expiring_page_token(account_factory):
    account = account_factory("facebook", external_id="facebook-1")
    body = load_fixture("facebook/tokens_debug_token_page_valid.json")
    data_access_ends = int((timezone.now() + timedelta(days=80)).timestamp())
    body["data"]["data_access_expires_at"] = data_access_ends
    responses.get(DEBUG_URL, json=body)
    services.refresh_account_token(account.pk, force=True)
    request = responses.calls[0].request
    assert "input_token=" in request.url and "access_token=test-app-id%7Ctest-app-secret" in request.url
    fresh = SocialAccount.objects.get(pk=account.pk)
    assert fresh.token_expires_at is None
    assert int(fresh.data_access_expires_at.timestamp()) == data_access_ends
    assert fresh.status == AccountStatus.ACTIVE
    assert timezone.now() + timedelta(hours=23) < fresh.token_refresh_due_at <= timezone.now() + timedelta(hours=24)


@responses.activate
def test_meta_check_after_data_access_ended_marks_needs_reauth_and_checks_stop(account_factory):
    account = account_factory("instagram", data_access_expires_at=timezone.now() + timedelta(hours=1))
    body = load_fixture("facebook/tokens_debug_token_page_valid.json")
    body["data"]["data_access_expires_at"] = int((timezone.now() - timedelta(minutes=5)).timestamp())
    responses.get(DEBUG_URL, json=body)
    with pytest.raises(ReauthRequiredError):
        services.refresh_account_token(account.pk, force=True)
    fresh = SocialAccount.objects.get(pk=account.pk)
    assert fresh.status == AccountStatus.NEEDS_REAUTH
    assert fresh.status_reason.startswith("Reconnect your Instagram account: Meta's data access for it ended ")
    assert fresh.data_access_expires_at < timezone.now()
    assert fresh.token_refresh_due_at > timezone.now() + timedelta(hours=23)  # no "now" loop after expiry
    assert account.pk not in services.select_due_account_ids(now=timezone.now() + timedelta(days=30))


@responses.activate
def test_meta_check_finds_a_revoked_token_early(account_factory):
    account = account_factory("facebook")
    responses.get(DEBUG_URL, json=load_fixture("facebook/tokens_debug_token_invalid.json"))
    with pytest.raises(ReauthRequiredError):
        services.refresh_account_token(account.pk, force=True)
    fresh = SocialAccount.objects.get(pk=account.pk)
    assert fresh.status == AccountStatus.NEEDS_REAUTH
    assert "revoked or expired" in fresh.status_reason
    [event] = recorded_events()
    assert event.type == "account.needs_reauth" and event.data["object"]["status_reason"] == fresh.status_reason


@responses.activate
def test_meta_data_access_ending_soon_sets_a_warning(account_factory):
    account = account_factory("facebook")
    body = load_fixture("facebook/tokens_debug_token_page_valid.json")
    body["data"]["data_access_expires_at"] = int((timezone.now() + timedelta(days=2)).timestamp())
    responses.get(DEBUG_URL, json=body)
    services.refresh_account_token(account.pk, force=True)
    fresh = SocialAccount.objects.get(pk=account.pk)
    assert fresh.status == AccountStatus.ACTIVE
    assert fresh.status_reason.startswith("Expiring: Meta needs the user to log in again before")
    services.refresh_account_token(account.pk, force=True)  # still warned: no second event
    assert [(e.type, e.data["object"]["status_reason"]) for e in recorded_events()] == [
        ("account.expiring", fresh.status_reason)]
    now = timezone.now()  # the next cron runs leave it alone for a few hours, not every 15 minutes
    assert account.pk not in services.select_due_account_ids(now=now + timedelta(minutes=15))
    assert account.pk not in services.select_due_account_ids(now=now + timedelta(hours=5, minutes=55))
    assert account.pk in services.select_due_account_ids(now=now + timedelta(hours=6, minutes=1))


def _debug_answer(scopes, granular=None):
    body = load_fixture("facebook/tokens_debug_token_page_valid.json")
    body["data"]["data_access_expires_at"] = int((timezone.now() + timedelta(days=80)).timestamp())
    body["data"]["scopes"] = scopes
    body["data"]["granular_scopes"] = [{"scope": s, "target_ids": ids} for s, ids in (granular or {}).items()]
    return body


PAGE_SCOPES = ["pages_show_list", "pages_manage_posts", "pages_read_engagement", "pages_manage_metadata",
               "read_insights", "pages_manage_engagement", "pages_messaging"]


def test_a_removed_permission_stays_warned_about_until_it_is_granted_again(account_factory):
    account = account_factory("facebook", external_id="104512345678901")
    narrowed = [s for s in PAGE_SCOPES if s != "pages_manage_posts"]
    for day in (1, 2):
        with responses.RequestsMock() as rsps:
            rsps.get(DEBUG_URL, json=_debug_answer(narrowed))
            services.refresh_account_token(account.pk, force=True)
        fresh = SocialAccount.objects.get(pk=account.pk)
        assert fresh.status_reason == ("Expiring: Permissions missing on Meta (pages_manage_posts): "
                                       "reconnect and allow them."), f"day {day}"
        assert fresh.scopes == narrowed  # what publishing checks
        assert fresh.status == AccountStatus.ACTIVE
    with responses.RequestsMock() as rsps:
        rsps.get(DEBUG_URL, json=_debug_answer(PAGE_SCOPES))
        services.refresh_account_token(account.pk, force=True)
    fresh = SocialAccount.objects.get(pk=account.pk)
    assert fresh.status_reason == "" and fresh.scopes == PAGE_SCOPES


def test_an_optional_permission_removed_is_named_when_it_goes(account_factory):
    account = account_factory("facebook", external_id="104512345678901")
    with responses.RequestsMock() as rsps:
        rsps.get(DEBUG_URL, json=_debug_answer([s for s in PAGE_SCOPES if s != "pages_messaging"]))
        services.refresh_account_token(account.pk, force=True)
    assert "(pages_messaging)" in SocialAccount.objects.get(pk=account.pk).status_reason


def test_a_page_left_out_of_a_granular_grant_is_warned_and_the_others_are_not(account_factory):
    kept = account_factory("facebook", external_id="104512345678901")
    dropped = account_factory("facebook", external_id="104599999999999")
    for account in (kept, dropped):
        with responses.RequestsMock() as rsps:
            rsps.get(DEBUG_URL, json=_debug_answer(PAGE_SCOPES, {"pages_manage_posts": ["104512345678901"]}))
            services.refresh_account_token(account.pk, force=True)
    kept, dropped = (SocialAccount.objects.get(pk=a.pk) for a in (kept, dropped))
    assert kept.status_reason == "" and "pages_manage_posts" in kept.scopes
    assert dropped.status_reason == "Expiring: Permissions missing on Meta (pages_manage_posts): reconnect and allow them."
    assert "pages_manage_posts" not in dropped.scopes


def test_an_instagram_account_is_checked_against_its_own_id_and_its_pages(account_factory):
    page = account_factory("facebook", external_id="104512345678901")
    ig = account_factory("instagram", external_id="17841400000000001", parent=page)
    other = account_factory("instagram", external_id="17841400000000002", parent=page)
    scopes = ["pages_show_list", "instagram_basic", "instagram_content_publish", "instagram_manage_comments",
              "instagram_manage_insights", "instagram_manage_messages"]
    granular = {"pages_show_list": ["104512345678901"], "instagram_content_publish": ["17841400000000001"]}
    for account in (ig, other):
        with responses.RequestsMock() as rsps:
            rsps.get(DEBUG_URL, json=_debug_answer(scopes, granular))
            services.refresh_account_token(account.pk, force=True)
    ig, other = (SocialAccount.objects.get(pk=a.pk) for a in (ig, other))
    assert ig.status_reason == "" and ig.scopes == scopes
    assert other.status_reason == ("Expiring: Permissions missing on Meta (instagram_content_publish): "
                                   "reconnect and allow them.")


def test_a_permission_warning_and_an_expiry_warning_are_both_shown(account_factory):
    account = account_factory("facebook", external_id="104512345678901")
    body = _debug_answer([s for s in PAGE_SCOPES if s != "pages_manage_posts"])
    body["data"]["data_access_expires_at"] = int((timezone.now() + timedelta(days=2)).timestamp())
    with responses.RequestsMock() as rsps:
        rsps.get(DEBUG_URL, json=body)
        services.refresh_account_token(account.pk, force=True)
    reason = SocialAccount.objects.get(pk=account.pk).status_reason
    assert reason.startswith("Expiring: Permissions missing on Meta (pages_manage_posts)")
    assert "Meta needs the user to log in again before" in reason


def test_a_page_token_that_expires_is_recorded_and_warned_about_never_re_exchanged(account_factory):
    """A Page token made from a short-lived user token ends within hours; nothing stored can renew it."""
    account = account_factory("facebook", external_id="104512345678901")
    ends = int((timezone.now() + timedelta(hours=12)).timestamp())
    body = _debug_answer(PAGE_SCOPES)
    body["data"]["expires_at"] = ends
    with responses.RequestsMock() as rsps:  # an exchange call would be unmocked and fail the test
        rsps.get(DEBUG_URL, json=body)
        services.refresh_account_token(account.pk, force=True)
        assert len(rsps.calls) == 1
    fresh = SocialAccount.objects.get(pk=account.pk)
    assert int(fresh.token_expires_at.timestamp()) == ends
    assert fresh.status_reason.startswith("Expiring: the token ends ")
    assert fresh.access_token == account.access_token


@responses.activate
def test_refresh_token_ending_within_a_day_warns(account_factory):
    account = make_tiktok(account_factory)
    body = load_fixture("tiktok/tokens_refresh_ok.json") | {"refresh_expires_in": 3600}
    responses.post(TOKEN_URL, json=body)
    services.refresh_account_token(account.pk, force=True)
    assert SocialAccount.objects.get(pk=account.pk).status_reason.startswith("Expiring: TikTok's authorisation ends")


@responses.activate
def test_no_token_appears_in_any_log_line(account_factory, caplog):
    account = make_tiktok(account_factory)
    responses.post(TOKEN_URL, json=load_fixture("tiktok/tokens_refresh_ok.json"))
    with caplog.at_level(logging.DEBUG):
        services.refresh_account_token(account.pk, force=True)
        responses.replace(responses.POST, TOKEN_URL, json=load_fixture("tiktok/tokens_refresh_invalid_grant.json"), status=400)
        with pytest.raises(ReauthRequiredError):
            services.refresh_account_token(account.pk, force=True)
    for secret in ("OLD-ACCESS", "OLD-REFRESH", "NEW-ROTATED"):
        assert secret not in caplog.text
    assert "Refreshed TikTok token for account" in caplog.text


def test_reconnect_email_is_sent_once_when_enabled(account_factory, settings, mailoutbox):
    settings.NOTIFY_REAUTH_BY_EMAIL = True
    account = make_tiktok(account_factory)
    assert account.mark_needs_reauth("Reconnect your TikTok account: test.") is True
    assert account.mark_needs_reauth("Reconnect your TikTok account: test.") is False
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["alice@example.com"]
    assert "Reconnect your TikTok account: test." in mailoutbox[0].body


def test_reconnect_email_goes_to_the_workspaces_owners_and_admins_only(account_factory, settings, mailoutbox,
                                                                        workspace, member_factory):
    settings.NOTIFY_REAUTH_BY_EMAIL = True
    admin, _ = member_factory(workspace, "admin")
    member_factory(workspace, "editor")
    member_factory(workspace, "viewer")
    account = make_tiktok(account_factory)
    account.mark_needs_reauth("Reconnect your TikTok account: test.")
    assert len(mailoutbox) == 1 and sorted(mailoutbox[0].to) == sorted(["alice@example.com", admin.email])
