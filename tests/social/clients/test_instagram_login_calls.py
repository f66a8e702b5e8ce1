"""Every call an Instagram Login account makes, on graph.instagram.com with its own token and budget.

Each case: the Instagram client function, the edge Meta documents for this path, a real-shaped answer
(tests/fixtures/instagram/), what we parsed from it, and what we sent.
"""

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.utils import timezone

from social.clients import instagram, ratelimit
from social.models import LoginPath
from tests.conftest import load_fixture

pytestmark = pytest.mark.django_db

IG_ID = "17841400000000009"
TOKEN = "IGAAlong-LOGIN-TOKEN-333"
HOST = "https://graph.instagram.com/v25.0"
IGSID = "7012345678901234"


@pytest.fixture
def account(account_factory):
    return account_factory("instagram", external_id=IG_ID, platform_user_id=IG_ID, login_path=LoginPath.INSTAGRAM,
                           username="maison.lumiere", access_token=TOKEN,
                           token_expires_at=timezone.now() + timedelta(days=50))


def sent(request) -> dict:
    """Query and form fields of a request (a JSON body is returned as parsed JSON under "json")."""
    fields = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
    body = request.body.decode() if isinstance(request.body, bytes) else (request.body or "")
    if request.headers.get("Content-Type", "").startswith("application/json"):
        fields["json"] = json.loads(body)
    elif body:
        fields.update({k: v[0] for k, v in parse_qs(body).items()})
    return fields


def one_call(method: str, path: str, fixture: str, call):
    with responses.RequestsMock() as rsps:
        rsps.add(method, f"{HOST}/{path}", json=load_fixture(f"instagram/{fixture}.json"))
        result = call()
        (made,) = rsps.calls
    fields = sent(made.request)
    assert fields.pop("access_token") == TOKEN  # the Instagram user's own token (query, or form body on a POST)
    assert "appsecret_proof" not in fields  # documented for graph.facebook.com only
    assert ratelimit.remaining_budget(ratelimit.instagram_user_key(IG_ID)) == ratelimit.remaining_budget("unused") - 1
    return result, fields, made.request


# ---- content publishing ---------------------------------------------------------------------------
# Ref: https://developers.facebook.com/docs/instagram-platform/content-publishing/

@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"image_url": "https://cdn.example.com/p.jpg", "caption": "Hi", "alt_text": "A cup"},
     {"image_url": "https://cdn.example.com/p.jpg", "caption": "Hi", "alt_text": "A cup"}),
    ({"video_url": "https://cdn.example.com/c.mp4", "media_type": "REELS", "caption": "Clip", "share_to_feed": True},
     {"video_url": "https://cdn.example.com/c.mp4", "media_type": "REELS", "caption": "Clip", "share_to_feed": "true"}),
    ({"image_url": "https://cdn.example.com/s.jpg", "media_type": "STORIES"},
     {"image_url": "https://cdn.example.com/s.jpg", "media_type": "STORIES"}),
    ({"image_url": "https://cdn.example.com/1.jpg", "is_carousel_item": True},
     {"image_url": "https://cdn.example.com/1.jpg", "is_carousel_item": "true"}),
    ({"media_type": "CAROUSEL", "children": ["1789", "1790"], "caption": "Two"},
     {"media_type": "CAROUSEL", "children": "1789,1790", "caption": "Two"}),
], ids=["image", "reel", "story", "carousel-item", "carousel"])
def test_a_container_is_created_on_the_ig_users_media_edge(account, kwargs, expected):
    container, fields, request = one_call("POST", f"{IG_ID}/media", "publishing_container",
                                          lambda: instagram.create_container(account, **kwargs))
    assert container == "17889455560051444"
    assert fields == expected
    assert "access_token" not in request.url  # in the body, never in the URL


def test_container_status_quota_publish_and_permalink(account):
    status, fields, _ = one_call("GET", "17889455560051444", "publishing_status_finished",
                                 lambda: instagram.get_container_status(account, "17889455560051444"))
    assert (status.status_code, fields) == ("FINISHED", {"fields": "status_code,status"})
    ratelimit.get_store().clear()
    limit, fields, _ = one_call("GET", f"{IG_ID}/content_publishing_limit", "publishing_limit",
                                lambda: instagram.get_publishing_limit(account))
    assert (limit.quota_usage, limit.quota_total, fields) == (3, 100, {"fields": "quota_usage,config"})
    ratelimit.get_store().clear()
    media_id, fields, _ = one_call("POST", f"{IG_ID}/media_publish", "publishing_media_publish",
                                   lambda: instagram.publish_container(account, "17889455560051444"))
    assert (media_id, fields) == ("17920238422030506", {"creation_id": "17889455560051444"})
    ratelimit.get_store().clear()
    link, _, _ = one_call("GET", "17920238422030506", "publishing_permalink",
                          lambda: instagram.get_media_permalink(account, "17920238422030506"))
    assert link == "https://www.instagram.com/p/C7xYzAbCdEf/"


def test_the_first_comment_is_posted_and_found_again_on_the_media_comments_edge(account):
    comment_id, fields, _ = one_call("POST", "17920238422030506/comments", "publishing_comment",
                                     lambda: instagram.comment_on_media(account, "17920238422030506", "Link in bio!"))
    assert (comment_id, fields) == ("17858893269000001", {"message": "Link in bio!"})
    ratelimit.get_store().clear()
    comments, _, _ = one_call("GET", "17920238422030506/comments", "publishing_comments",
                              lambda: instagram.list_media_comments(account, "17920238422030506"))
    assert [(c.id, c.text, c.username) for c in comments] == [("17858893269000001", "Link in bio!", "instagram_1")]


# ---- insights ---------------------------------------------------------------------------------------
# Ref: https://developers.facebook.com/docs/instagram-platform/reference/instagram-media/insights

def test_media_listing_asks_for_insights_without_the_facebook_login_only_totals(account):
    page, fields, _ = one_call("GET", f"{IG_ID}/media", "analytics_media_page1", lambda: instagram.list_media(
        account, metrics=["views", "reach", "total_likes", "saved", "total_views"], limit=25))
    assert fields["fields"].endswith(",insights.metric(views,reach,saved)")
    reel = next(m for m in page.items if m.id == "17900000000000003")
    assert (reel.media_product_type, reel.like_count, reel.insights["views"]) == ("REELS", 311, 10450)


def test_a_facebook_login_account_still_asks_for_the_totals(account_factory):
    fb_path = account_factory("instagram", external_id=IG_ID, login_path=LoginPath.FACEBOOK)
    with responses.RequestsMock() as rsps:
        rsps.add("GET", f"https://graph.facebook.com/v25.0/{IG_ID}/media",
                 json=load_fixture("instagram/analytics_media_page1.json"))
        instagram.list_media(fb_path, metrics=["views", "total_likes"], limit=25)
        assert sent(rsps.calls[0].request)["fields"].endswith(",insights.metric(views,total_likes)")


def test_per_type_insights_of_several_media_in_one_call(account):
    found, fields, _ = one_call("GET", "", "analytics_media_insights_reels", lambda: instagram.get_media_insights(
        account, ["17900000000000003"], ["ig_reels_avg_watch_time", "ig_reels_video_view_total_time"]))
    assert fields == {"ids": "17900000000000003",
                      "fields": "insights.metric(ig_reels_avg_watch_time,ig_reels_video_view_total_time)"}
    assert found["17900000000000003"]["ig_reels_avg_watch_time"] == 8450


def test_only_facebook_login_totals_asked_means_no_call_at_all(account):
    with responses.RequestsMock():  # any request would fail: none is registered
        assert instagram.get_media_insights(account, ["17900000000000003"], ["total_likes"]) == {}


def test_stories_and_profile(account):
    stories, fields, _ = one_call("GET", f"{IG_ID}/stories", "analytics_stories",
                                  lambda: instagram.list_stories(account, metrics=["views", "reach"]))
    assert fields["limit"] == "100" and fields["fields"].endswith("insights.metric(views,reach)")
    assert stories.items and all(s.media_product_type == "STORY" for s in stories.items)
    ratelimit.get_store().clear()
    profile, fields, _ = one_call("GET", IG_ID, "analytics_profile", lambda: instagram.get_profile(account))
    assert (profile.followers_count, profile.follows_count, profile.media_count) == (8421, 310, 212)
    assert fields == {"fields": "followers_count,follows_count,media_count"}


# ---- comments ---------------------------------------------------------------------------------------
# Ref: https://developers.facebook.com/docs/instagram-platform/comment-moderation

def test_comments_are_listed_by_field_expansion_on_the_media_edge(account):
    comments, fields, _ = one_call("GET", f"{IG_ID}/media", "conversations_media_comments",
                                   lambda: instagram.list_recent_media_comments(account, media=10))
    assert fields["fields"].startswith("id,comments.limit(50){id,text,timestamp")
    assert [(c.id, c.parent_id, c.username) for c in comments] == [
        ("17865432109876543", "", "claire.voyage"), ("17865432109876999", "17865432109876543", "tom_b")]


def test_a_comment_is_answered_on_its_replies_edge_and_hidden_on_its_node(account):
    reply, fields, _ = one_call("POST", "17865432109876543/replies", "conversations_comment_reply",
                                lambda: instagram.reply_to_comment(account, "17865432109876543", "Étretat!"))
    assert (reply.id, fields) == ("17865432109877777", {"message": "Étretat!"})
    ratelimit.get_store().clear()
    hidden, fields, _ = one_call("POST", "17865432109876543", "login_hide_comment",
                                 lambda: instagram.set_comment_hidden(account, "17865432109876543", True))
    assert (hidden, fields) == (True, {"hide": "true"})


# ---- messaging --------------------------------------------------------------------------------------
# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/conversations-api
# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/messaging-api

def test_dm_threads_are_read_from_the_ig_users_own_conversations_edge(account):
    threads, fields, _ = one_call("GET", f"{IG_ID}/conversations", "login_conversations",
                                  lambda: list(instagram.iter_conversations(account)))
    assert fields["platform"] == "instagram" and fields["limit"] == "25"
    (thread,) = threads
    assert [p.name for p in thread.participants] == ["maison.lumiere", "claire.voyage"]
    assert [(m.from_id, m.text) for m in thread.messages] == [
        (IGSID, "Is the blue one still available?"), (IG_ID, "Hello! How can we help?")]


def test_a_dm_is_sent_from_the_ig_users_own_messages_edge_as_json(account):
    sent_message, fields, request = one_call("POST", f"{IG_ID}/messages", "conversations_send_message",
                                             lambda: instagram.send_message(account, IGSID, "Yes, in M and L."))
    assert sent_message.id.startswith("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3")
    assert fields["json"] == {"recipient": {"id": IGSID}, "message": {"text": "Yes, in M and L."},
                              "messaging_type": "RESPONSE"}


def test_a_human_agent_dm_carries_the_tag(account):
    _, fields, _ = one_call("POST", f"{IG_ID}/messages", "conversations_send_message",
                            lambda: instagram.send_message(account, IGSID, "Sorry for the wait", tag="HUMAN_AGENT"))
    assert fields["json"]["messaging_type"] == "MESSAGE_TAG" and fields["json"]["tag"] == "HUMAN_AGENT"


def test_a_facebook_login_account_sends_its_dms_through_its_page(account_factory):
    page = account_factory("facebook", external_id="104500000000001")
    fb_path = account_factory("instagram", external_id=IG_ID, parent=page, login_path=LoginPath.FACEBOOK)
    with responses.RequestsMock() as rsps:
        rsps.add("POST", "https://graph.facebook.com/v25.0/104500000000001/messages",
                 json=load_fixture("instagram/conversations_send_message.json"))
        instagram.send_message(fb_path, IGSID, "Hi")
        assert json.loads(rsps.calls[0].request.body)["recipient"] == {"id": IGSID}


def test_a_dm_participants_profile(account):
    profile, fields, _ = one_call("GET", IGSID, "login_user_profile",
                                  lambda: instagram.get_messaging_profile(account, IGSID))
    assert (profile.name, fields) == ("Claire Voyage", {"fields": "name,username,profile_pic"})


# ---- webhooks ---------------------------------------------------------------------------------------
# Ref: https://developers.facebook.com/docs/instagram-platform/webhooks

def test_the_account_is_subscribed_to_webhooks_on_its_own_subscribed_apps_edge(account):
    ok, fields, request = one_call("POST", f"{IG_ID}/subscribed_apps", "login_subscribed_apps",
                                   lambda: instagram.subscribe_webhooks(account, ["comments", "messages"]))
    assert (ok, fields) == (True, {"subscribed_fields": "comments,messages"})
    ratelimit.get_store().clear()
    got, _, _ = one_call("GET", f"{IG_ID}/subscribed_apps", "login_subscribed_apps_read",
                         lambda: instagram.get_webhook_fields(account))
    assert got == ["comments", "messages"]


def test_a_facebook_login_account_is_never_subscribed_by_itself(account_factory):
    fb_path = account_factory("instagram", external_id=IG_ID, login_path=LoginPath.FACEBOOK)
    with responses.RequestsMock(), pytest.raises(ValueError, match="through its Page"):
        instagram.subscribe_webhooks(fb_path, ["comments"])
