"""sync_account_inbox: incremental polling, cursor resume, webhook health, and the cron command."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import call_command
from django.utils import timezone

from conversations.actors import ice_process
from conversations.models import Conversation, InboxSyncState, Message
from conversations.services import sync_account_inbox
from conversations.services.polling import QUIET_REASON
from tests.conftest import keep_enqueued, load_fixture

from .conftest import PAGE_ID, PSID

pytestmark = pytest.mark.django_db
GRAPH = "https://graph.facebook.com/v25.0"


PROFILE_URL = re.compile(rf"{re.escape(GRAPH)}/\d+\?")  # GET /{psid}?fields=...: the User Profile API


def mock_facebook_poll(rsps, posts="facebook/conversations_published_posts.json"):
    rsps.get(f"{GRAPH}/{PAGE_ID}/published_posts", json=load_fixture(posts))
    rsps.get(f"{GRAPH}/{PAGE_ID}/conversations", json=load_fixture("facebook/conversations_conversations.json"))
    rsps.get(PROFILE_URL, json={"name": "Paul Martin", "profile_pic": "https://scontent.xx.fbcdn.net/v/paul.jpg",
                                "id": PSID})


def profile_calls(rsps) -> list:
    return [c for c in rsps.calls if PROFILE_URL.match(c.request.url)]


def query(call) -> dict:
    return parse_qs(urlparse(call.request.url).query)


def test_first_poll_stores_comments_and_dms_with_field_expansion(page, mocked_platforms):
    mock_facebook_poll(mocked_platforms)
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/conversations", json=load_fixture("facebook/conversations_conversations_page2.json"))
    ice_process(page.id)
    posts_call = query(mocked_platforms.calls[0])
    assert "comments.filter(stream)" in posts_call["fields"][0] and posts_call["limit"] == ["10"]
    assert query(mocked_platforms.calls[1])["platform"] == ["messenger"]
    assert "messages.limit(20)" in query(mocked_platforms.calls[1])["fields"][0]
    # published_posts + two pages of conversations + one profile lookup per new DM thread (two)
    assert len(mocked_platforms.calls) == 5
    assert len(profile_calls(mocked_platforms)) == 2
    comments = Conversation.objects.get(kind="comment")
    assert comments.messages.count() == 2 and comments.root_comment_id == "822334455667788_1234567890123456"
    dm = Conversation.objects.get(participant_id=PSID)
    assert dm.participant_name == "Paul Martin"
    assert [m.direction for m in dm.messages.order_by("created_at")] == ["in", "out"]
    assert set(Message.objects.values_list("origin", flat=True)) == {"poll"}
    state = InboxSyncState.objects.get(account=page)
    assert state.comments_since.isoformat() == "2026-09-15T09:19:50+00:00"
    assert state.messages_since.isoformat() == "2026-09-15T09:30:00+00:00"


def test_a_poll_resumes_from_the_stored_cursor_and_stops_paging_at_old_threads(page, mocked_platforms):
    mock_facebook_poll(mocked_platforms)
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/conversations", json=load_fixture("facebook/conversations_conversations_page2.json"))
    sync_account_inbox(page.id)
    before = Message.objects.count()
    mocked_platforms.reset()
    mock_facebook_poll(mocked_platforms, posts="facebook/conversations_published_posts_later.json")
    assert sync_account_inbox(page.id) == 1  # only the new comment
    assert len(mocked_platforms.calls) == 2  # the first conversations page is already older than the cursor
    assert Message.objects.count() == before + 1
    assert InboxSyncState.objects.get(account=page).comments_since.isoformat() == "2026-09-16T07:00:00+00:00"


def test_each_new_dm_participant_is_looked_up_once_for_a_name_and_a_picture(page, mocked_platforms):
    mock_facebook_poll(mocked_platforms)
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/conversations", json={"data": []})
    sync_account_inbox(page.id)
    (lookup,) = profile_calls(mocked_platforms)
    assert lookup.request.url.startswith(f"{GRAPH}/{PSID}?") and query(lookup)["fields"] == ["name,profile_pic"]
    dm = Conversation.objects.get(participant_id=PSID)
    assert dm.participant_avatar_url == "https://scontent.xx.fbcdn.net/v/paul.jpg"
    assert dm.participant_name == "Paul Martin" and dm.participant_looked_up_at is not None
    mocked_platforms.reset()
    mock_facebook_poll(mocked_platforms, posts="facebook/conversations_published_posts_later.json")
    sync_account_inbox(page.id)
    assert profile_calls(mocked_platforms) == []  # once per conversation, never per message or per poll


def test_a_webhook_dm_knows_only_the_sender_and_the_next_poll_fills_name_and_picture(deliver, page, mocked_platforms):
    deliver("facebook/webhook_messages.json")
    dm = Conversation.objects.get(participant_id=PSID)
    assert (dm.participant_name, dm.participant_avatar_url) == ("", "")
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/published_posts", json={"data": []})
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/conversations", json={"data": []})
    mocked_platforms.get(f"{GRAPH}/{PSID}", json={"id": PSID, "name": "Paul Martin", "profile_pic": "https://x.test/p.jpg"})
    sync_account_inbox(page.id)
    dm.refresh_from_db()
    assert (dm.participant_name, dm.participant_avatar_url) == ("Paul Martin", "https://x.test/p.jpg")


def test_a_thread_of_only_our_messages_takes_the_name_from_its_participants(page, mocked_platforms):
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/published_posts", json={"data": []})
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/conversations", json={"data": [{
        "id": "t_1", "updated_time": "2026-09-15T09:30:00+0000",
        "participants": {"data": [{"id": PSID, "name": "Paul Martin", "email": f"{PSID}@facebook.com"},
                                  {"id": PAGE_ID, "name": "Maison Lumière"}]},
        "messages": {"data": [{"id": "m_1", "message": "Your order shipped.", "created_time": "2026-09-15T09:30:00+0000",
                               "from": {"id": PAGE_ID, "name": "Maison Lumière"}, "to": {"data": [{"id": PSID}]}}]}}]})
    mocked_platforms.get(f"{GRAPH}/{PSID}", json={"id": PSID})  # no name nor picture shared
    sync_account_inbox(page.id)
    assert "participants" in query(mocked_platforms.calls[1])["fields"][0].split(",")
    dm = Conversation.objects.get(participant_id=PSID)
    assert (dm.participant_name, dm.participant_avatar_url) == ("Paul Martin", "")
    assert dm.participant_looked_up_at is not None


def test_profile_lookups_wait_while_the_meta_budget_is_at_the_reserve(page, mocked_platforms, monkeypatch, settings):
    monkeypatch.setattr("conversations.services.polling.get_call_budget", lambda account: settings.ANALYTICS_BUDGET_RESERVE)
    mock_facebook_poll(mocked_platforms)
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/conversations", json={"data": []})
    sync_account_inbox(page.id)
    assert profile_calls(mocked_platforms) == []
    assert Conversation.objects.get(participant_id=PSID).participant_looked_up_at is None  # the next poll tries


def test_a_refused_profile_lookup_is_not_repeated_and_a_temporary_failure_is(page, mocked_platforms):
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/published_posts", json={"data": []})
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/conversations", json=load_fixture("facebook/conversations_conversations.json"))
    mocked_platforms.get(f"{GRAPH}/{PSID}", status=500, json={"error": {"code": 2, "message": "Service unavailable"}})
    sync_account_inbox(page.id)
    assert Conversation.objects.get(participant_id=PSID).participant_looked_up_at is None
    mocked_platforms.reset()
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/published_posts", json={"data": []})
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/conversations", json={"data": []})
    mocked_platforms.get(f"{GRAPH}/{PSID}", status=400, json={"error": {
        "code": 100, "error_subcode": 2018218, "message": "User consent is required to access user profile"}})
    sync_account_inbox(page.id)
    dm = Conversation.objects.get(participant_id=PSID)
    assert dm.participant_looked_up_at is not None and dm.participant_avatar_url == ""


def comment(n: int, at: str, parent: str = "") -> dict:
    body = {"id": f"822334455667788_{n}", "message": f"#{n}", "created_time": at,
            "from": {"id": "8765432109876543", "name": "Jane Doe"}, "is_hidden": False}
    return {**body, "parent": {"id": parent}} if parent else body


def test_a_later_facebook_poll_asks_only_for_comments_since_the_cursor_and_pages_through_them(page, mocked_platforms):
    mock_facebook_poll(mocked_platforms)
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/conversations", json=load_fixture("facebook/conversations_conversations_page2.json"))
    sync_account_inbox(page.id)
    cursor = InboxSyncState.objects.get(account=page).comments_since
    assert "since" not in query(mocked_platforms.calls[0])["fields"][0]  # a first poll reads what is there
    mocked_platforms.reset()
    post_id = f"{PAGE_ID}_822334455667788"
    nested = [comment(2000 + i, f"2026-09-16T07:{59 - i:02d}:00+0000") for i in range(50)]
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/published_posts", json={"data": [{"id": post_id, "comments": {
        "data": nested, "paging": {"cursors": {"before": "B1", "after": "A1"},
                                   "next": f"{GRAPH}/{post_id}/comments?access_token=x&after=A1"}}}]})
    mocked_platforms.get(f"{GRAPH}/{post_id}/comments", json={"data": [comment(1999, "2026-09-16T06:30:00+0000")],
                                                             "paging": {"cursors": {"before": "B2", "after": "A2"}}})
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/conversations", json={"data": []})

    assert sync_account_inbox(page.id) == 51

    posts_call, more_call = mocked_platforms.calls[0], mocked_platforms.calls[1]
    since = int(cursor.timestamp())
    assert query(posts_call)["fields"][0].startswith(
        f"id,comments.filter(stream).order(reverse_chronological).since({since}).limit(50){{")
    assert more_call.request.url.split("?")[0] == f"{GRAPH}/{post_id}/comments"
    more = query(more_call)
    assert (more["filter"], more["order"], more["since"], more["after"], more["limit"]) == (
        ["stream"], ["reverse_chronological"], [str(since)], ["A1"], ["50"])
    assert "x" not in more.get("access_token", [])  # rebuilt from the cursor, not the `next` URL
    assert Message.objects.filter(external_id="822334455667788_1999").exists()
    assert InboxSyncState.objects.get(account=page).comments_since.isoformat() == "2026-09-16T07:59:00+00:00"


def test_a_later_instagram_poll_pages_through_a_full_page_of_new_comments_and_stops_at_old_ones(
        ig_account, mocked_platforms):
    from .conftest import IG_ID

    InboxSyncState.objects.create(account=ig_account, comments_since=timezone.now() - timedelta(hours=1),
                                  last_polled_at=timezone.now() - timedelta(minutes=15))
    fresh = (timezone.now() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    stale = (timezone.now() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S+0000")

    def ig_comment(n, at):
        return {"id": f"1786{n:011d}", "text": f"#{n}", "timestamp": at, "username": "u", "from": {"id": "3", "username": "u"}}

    mocked_platforms.get(f"{GRAPH}/{IG_ID}/media", json={"data": [
        {"id": "18023456789012345", "comments": {"data": [ig_comment(i, fresh) for i in range(50)], "paging": {
            "cursors": {"after": "C1"}, "next": f"{GRAPH}/18023456789012345/comments?after=C1"}}},
        {"id": "18023456789099999", "comments": {"data": [ig_comment(100, stale)], "paging": {
            "cursors": {"after": "D1"}, "next": f"{GRAPH}/18023456789099999/comments?after=D1"}}},
    ]})
    mocked_platforms.get(f"{GRAPH}/18023456789012345/comments", json={
        "data": [ig_comment(60, fresh), ig_comment(61, stale)],
        "paging": {"cursors": {"after": "C2"}, "next": f"{GRAPH}/18023456789012345/comments?after=C2"}})
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/conversations", json={"data": []})

    assert sync_account_inbox(ig_account.id) == 51

    paged = [c for c in mocked_platforms.calls if "/comments" in c.request.url]
    assert [c.request.url.split("?")[0] for c in paged] == [f"{GRAPH}/18023456789012345/comments"]  # once: C2 is old
    assert query(paged[0])["after"] == ["C1"] and query(paged[0])["limit"] == ["50"]
    assert "since" not in query(paged[0])  # not a documented filter on the IG comments edge


def test_a_poll_and_a_webhook_of_the_same_comment_make_one_row(deliver, page, mocked_platforms):
    deliver("facebook/webhook_feed_comment_add.json")
    mock_facebook_poll(mocked_platforms)
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/conversations", json=load_fixture("facebook/conversations_conversations_page2.json"))
    sync_account_inbox(page.id)
    assert Message.objects.filter(external_id="822334455667788_1234567890123456").get().origin == "webhook"
    assert Conversation.objects.filter(kind="comment").count() == 1


def test_instagram_poll_reads_comments_with_replies_and_dms_through_the_page(ig_account, mocked_platforms):
    from .conftest import IG_ID

    mocked_platforms.get(f"{GRAPH}/{IG_ID}/media", json=load_fixture("instagram/conversations_media_comments.json"))
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/conversations", json={"data": []})
    sync_account_inbox(ig_account.id)
    assert "replies{" in query(mocked_platforms.calls[0])["fields"][0]
    assert query(mocked_platforms.calls[1])["platform"] == ["instagram"]
    thread = Conversation.objects.get()
    assert [m.author_name for m in thread.messages.order_by("created_at")] == ["claire.voyage", "tom_b"]


def test_an_instagram_dm_participant_is_looked_up_by_igsid_through_the_page(ig_account, mocked_platforms):
    from .conftest import IG_ID, IGSID

    mocked_platforms.get(f"{GRAPH}/{IG_ID}/media", json={"data": []})
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/conversations", json={"data": [{
        "id": "aWdfZAG06", "updated_time": "2026-09-15T09:30:00+0000",
        "participants": {"data": [{"id": IGSID, "username": "claire.voyage"}, {"id": IG_ID, "username": "maison.lumiere"}]},
        "messages": {"data": [{"id": "aWdfZAG06m1", "message": "Hello", "created_time": "2026-09-15T09:30:00+0000",
                               "from": {"id": IGSID, "username": "claire.voyage"}, "to": {"data": [{"id": IG_ID}]}}]}}]})
    mocked_platforms.get(f"{GRAPH}/{IGSID}", json={"id": IGSID, "username": "claire.voyage",
                                                   "profile_pic": "https://scontent.cdninstagram.com/c.jpg"})
    sync_account_inbox(ig_account.id)
    lookup = mocked_platforms.calls[-1]
    assert lookup.request.url.startswith(f"{GRAPH}/{IGSID}?")
    assert query(lookup)["fields"] == ["name,username,profile_pic"]
    dm = Conversation.objects.get(kind="dm")
    assert (dm.participant_name, dm.participant_avatar_url) == ("claire.voyage", "https://scontent.cdninstagram.com/c.jpg")


def test_quiet_webhooks_while_polls_find_new_items_set_a_status_reason_and_resubscribe(page, mocked_platforms, monkeypatch):

    resubscribed = []
    monkeypatch.setattr("social.services.subscribe_account_webhooks", resubscribed.append)
    mock_facebook_poll(mocked_platforms)
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/conversations", json=load_fixture("facebook/conversations_conversations_page2.json"))
    sync_account_inbox(page.id)  # the first poll reads history: not a webhook problem
    page.refresh_from_db()
    assert page.status_reason == ""
    InboxSyncState.objects.filter(account=page).update(last_webhook_at=timezone.now() - timedelta(days=1))
    mocked_platforms.reset()
    mock_facebook_poll(mocked_platforms, posts="facebook/conversations_published_posts_later.json")
    sync_account_inbox(page.id)
    page.refresh_from_db()
    assert page.status_reason == QUIET_REASON and page.status == "active"
    assert [account.pk for account in resubscribed] == [page.pk]
    assert InboxSyncState.objects.get(account=page).missed_by_webhooks == 6  # 5 on the first poll, 1 now


def test_the_quiet_webhooks_reason_survives_a_successful_real_resubscribe(page, mocked_platforms, real_resubscribe):
    from social.services import WEBHOOK_REASON_PREFIX

    subscribed_apps = f"{GRAPH}/{PAGE_ID}/subscribed_apps"
    mocked_platforms.post(subscribed_apps, json=load_fixture("facebook/oauth_subscribed_apps_success.json"))
    mocked_platforms.get(subscribed_apps, json=load_fixture("facebook/oauth_subscribed_apps_read.json"))
    mock_facebook_poll(mocked_platforms)
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/conversations", json=load_fixture("facebook/conversations_conversations_page2.json"))
    sync_account_inbox(page.id)
    old_problem = f"{WEBHOOK_REASON_PREFIX}: Meta did not confirm messages."
    type(page).objects.filter(pk=page.pk).update(status_reason=old_problem)
    InboxSyncState.objects.filter(account=page).update(last_webhook_at=timezone.now() - timedelta(days=1))
    mocked_platforms.reset()
    mocked_platforms.post(subscribed_apps, json=load_fixture("facebook/oauth_subscribed_apps_success.json"))
    mocked_platforms.get(subscribed_apps, json=load_fixture("facebook/oauth_subscribed_apps_read.json"))
    mock_facebook_poll(mocked_platforms, posts="facebook/conversations_published_posts_later.json")

    sync_account_inbox(page.id)

    assert [(c.request.method, c.request.url.split("?")[0]) for c in mocked_platforms.calls
            if "subscribed_apps" in c.request.url] == [("POST", subscribed_apps), ("GET", subscribed_apps)]
    # the default fields, echoes included: the Page's own messages reach the inbox as outbound
    sent = parse_qs(next(c for c in mocked_platforms.calls if c.request.method == "POST").request.body)
    assert sent["subscribed_fields"] == ["feed,messages,message_echoes"]
    page.refresh_from_db()
    # the re-subscribe succeeded: its old failure is gone, the quiet-webhooks reason stays
    assert page.status_reason == QUIET_REASON
    assert page.webhook_subscribed_at is not None and page.status == "active"


def test_the_quiet_webhooks_reason_is_added_beside_other_reasons_once(page, mocked_platforms, monkeypatch):
    monkeypatch.setattr("social.services.subscribe_account_webhooks", lambda account: True)
    mock_facebook_poll(mocked_platforms)
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/conversations", json=load_fixture("facebook/conversations_conversations_page2.json"))
    sync_account_inbox(page.id)
    type(page).objects.filter(pk=page.pk).update(status_reason="Instagram account was unlinked.")
    InboxSyncState.objects.filter(account=page).update(last_webhook_at=timezone.now() - timedelta(days=1))
    cursor = InboxSyncState.objects.get(account=page).comments_since
    found = []
    for _ in range(2):
        mocked_platforms.reset()
        mock_facebook_poll(mocked_platforms, posts="facebook/conversations_published_posts_later.json")
        # so that each poll finds the new comment anew
        Message.objects.filter(external_id="822334455667788_1234567891777777").delete()
        InboxSyncState.objects.filter(account=page).update(comments_since=cursor)
        found.append(sync_account_inbox(page.id))

    assert found == [1, 1]  # both polls flagged the account

    page.refresh_from_db()
    assert page.status_reason == f"Instagram account was unlinked. | {QUIET_REASON}"


def test_recent_webhooks_mean_no_status_reason(page, mocked_platforms):
    mock_facebook_poll(mocked_platforms)
    mocked_platforms.get(f"{GRAPH}/{PAGE_ID}/conversations", json=load_fixture("facebook/conversations_conversations_page2.json"))
    sync_account_inbox(page.id)
    InboxSyncState.objects.filter(account=page).update(last_webhook_at=timezone.now())
    mocked_platforms.reset()
    mock_facebook_poll(mocked_platforms, posts="facebook/conversations_published_posts_later.json")
    sync_account_inbox(page.id)
    page.refresh_from_db()
    assert page.status_reason == ""


def test_tiktok_and_inactive_accounts_are_not_polled(account_factory, mocked_platforms):
    tiktok = account_factory("tiktok")
    gone = account_factory("facebook", status="disconnected")
    assert sync_account_inbox(tiktok.id) == 0
    assert sync_account_inbox(gone.id) == 0
    assert len(mocked_platforms.calls) == 0


def test_sync_conversations_enqueues_active_facebook_and_instagram_accounts(account_factory, monkeypatch, capsys,
                                                                           drained):
    sent = keep_enqueued(monkeypatch, "ice-process")
    facebook = account_factory("facebook")
    instagram = account_factory("instagram")
    account_factory("tiktok")
    account_factory("facebook", status="needs_reauth")
    call_command("sync_conversations")
    assert sent == [facebook.id, instagram.id]
    assert capsys.readouterr().out.strip() == "sync_conversations: 2 account(s) enqueued"
    assert drained == [True]  # embedded mode: the enqueued polls run before the command exits
