"""Graph reads: field expansion with summaries and insights, metrics growing with time, comments, DMs."""

import pytest

from sandbox.models import Conversation, DirectMessage
from tests.sandbox.conftest import Graph, connect_facebook

PAGE, IG = "104500000000001", "17841400000000101"
POST_FIELDS = ("id,created_time,message,permalink_url,status_type,shares,reactions.summary(total_count).limit(0),"
               "comments.summary(total_count).limit(0),insights.metric(post_media_view,post_total_media_view_unique,"
               "post_clicks)")


@pytest.fixture
def page_graph(client, sandbox):
    _, page_tokens = connect_facebook(client)
    return Graph(client, page_tokens[PAGE])


def _views(post: dict) -> int:
    return next(i for i in post["insights"]["data"] if i["name"] == "post_media_view")["values"][0]["value"]


def test_published_posts_expand_summaries_and_insights_and_metrics_grow_with_time(page_graph, frozen):
    page_graph.post(f"{PAGE}/feed", {"message": "Fresh"})
    first = page_graph.get(f"{PAGE}/published_posts", {"fields": POST_FIELDS, "limit": 25}).json()
    fresh = first["data"][0]
    assert fresh["message"] == "Fresh" and fresh["status_type"] == "mobile_status_update"
    assert fresh["reactions"] == {"data": [], "summary": {"total_count": 0, "viewer_reaction": "NONE"}}
    assert fresh["comments"]["summary"] == {"order": "ranked", "total_count": 0, "can_comment": True}
    assert "shares" not in fresh  # Graph leaves the key out when nobody shared
    insight = fresh["insights"]["data"][0]
    assert set(insight) == {"name", "period", "values", "title", "description", "id"}
    assert insight["period"] == "lifetime" and _views(fresh) == 0
    frozen.advance(6 * 3600)
    later = page_graph.get(f"{PAGE}/published_posts", {"fields": POST_FIELDS}).json()["data"][0]
    assert _views(later) > 0 and later["reactions"]["summary"]["total_count"] > 0
    frozen.advance(6 * 3600)
    assert _views(page_graph.get(f"{PAGE}/published_posts", {"fields": POST_FIELDS}).json()["data"][0]) > _views(later)


def test_metrics_are_deterministic_for_the_same_moment(page_graph, frozen):
    one = page_graph.get(f"{PAGE}/published_posts", {"fields": POST_FIELDS}).json()
    two = page_graph.get(f"{PAGE}/published_posts", {"fields": POST_FIELDS}).json()
    assert [_views(p) for p in one["data"]] == [_views(p) for p in two["data"]]


def test_a_removed_insights_metric_fails_the_whole_call_with_code_100(page_graph):
    response = page_graph.get(f"{PAGE}/published_posts", {"fields": "id,insights.metric(post_impressions)"})
    assert response.status_code == 400 and response.json()["error"]["code"] == 100


def test_an_unknown_field_is_graph_error_100(page_graph):
    error = page_graph.get(PAGE, {"fields": "id,page_fans"}).json()["error"]
    assert error["message"] == "(#100) Tried accessing nonexisting field (page_fans) on node type (Page)"


def test_page_and_instagram_follower_fields(page_graph, frozen):
    page = page_graph.get(PAGE, {"fields": "followers_count,fan_count"}).json()
    assert set(page) == {"followers_count", "fan_count", "id"} and page["followers_count"] >= 1200
    ig = page_graph.get(IG, {"fields": "followers_count,follows_count,media_count"}).json()
    assert ig["media_count"] == 1
    frozen.advance(10 * 3600)
    assert page_graph.get(IG, {"fields": "followers_count"}).json()["followers_count"] == ig["followers_count"] + 30


def test_instagram_media_listing_with_insights_by_product_type(page_graph):
    fields = ("id,caption,media_type,media_product_type,timestamp,permalink,like_count,comments_count,"
              "insights.metric(reach,views,saved,shares,total_interactions)")
    body = page_graph.get(f"{IG}/media", {"fields": fields, "limit": 25}).json()
    media = body["data"][0]
    assert media["media_product_type"] == "FEED" and media["comments_count"] == 1
    assert [i["name"] for i in media["insights"]["data"]] == ["reach", "views", "saved", "shares", "total_interactions"]
    wrong = page_graph.get(f"{IG}/media", {"fields": "id,insights.metric(replies)"}).json()["error"]
    assert wrong["code"] == 100


def test_several_media_in_one_call_with_metrics_of_their_product_type(page_graph):
    from sandbox.models import InstagramAccount, Post

    feed = Post.objects.filter(network="instagram", product_type="FEED", instagram__ig_id=IG).first()
    reel = Post.objects.create(post_id="17900000000000555", network="instagram", media_type="VIDEO", product_type="REELS",
                               instagram=InstagramAccount.objects.get(ig_id=IG), message="A reel", seed=5)
    reels = page_graph.get("", {"ids": reel.post_id, "fields": "insights.metric(ig_reels_avg_watch_time)"}).json()
    assert set(reels) == {reel.post_id}
    assert [i["name"] for i in reels[reel.post_id]["insights"]["data"]] == ["ig_reels_avg_watch_time"]
    both = page_graph.get("", {"ids": f"{feed.post_id},{reel.post_id}", "fields": "id,media_product_type"}).json()
    assert both == {feed.post_id: {"id": feed.post_id, "media_product_type": "FEED"},
                    reel.post_id: {"id": reel.post_id, "media_product_type": "REELS"}}
    # a metric one of them does not support fails the whole call, as Graph does
    wrong = page_graph.get("", {"ids": f"{feed.post_id},{reel.post_id}",
                                "fields": "insights.metric(ig_reels_avg_watch_time)"}).json()["error"]
    assert wrong["code"] == 100 and "ig_reels_avg_watch_time" in wrong["message"]
    assert page_graph.get("", {"ids": "17900000000009999", "fields": "id"}).json()["error"]["code"] == 100
    too_many = ",".join(str(17900000000001000 + i) for i in range(51))
    assert page_graph.get("", {"ids": too_many, "fields": "id"}).json()["error"]["message"] == "(#100) Too many IDs. Maximum: 50."


def test_comments_with_stream_filter_replies_and_hiding(page_graph):
    post_id = page_graph.get(f"{PAGE}/published_posts", {"fields": "id"}).json()["data"][0]["id"]
    comment_id = page_graph.get(f"{post_id}/comments", {"fields": "id,message,from{id,name}"}).json()["data"][0]["id"]
    reply = page_graph.post(f"{comment_id}/comments", {"message": "Thanks!"}).json()
    fields = ("id,comments.filter(stream).order(reverse_chronological).limit(50)"
              "{id,message,created_time,from{id,name},parent{id},is_hidden,attachment}")
    comments = page_graph.get(f"{PAGE}/published_posts", {"fields": fields, "limit": 10}).json()["data"][0]["comments"]
    newest = comments["data"][0]
    assert newest["id"] == reply["id"] and newest["parent"] == {"id": comment_id}
    assert newest["from"] == {"id": PAGE, "name": "Sandbox Coffee"} and newest["is_hidden"] is False
    assert page_graph.post(comment_id, {"is_hidden": "true"}).json() == {"success": True}
    assert page_graph.get(comment_id, {"fields": "is_hidden"}).json()["is_hidden"] is True


def test_instagram_comments_expand_replies_and_reply_goes_one_level_deep(page_graph):
    media_id = page_graph.get(f"{IG}/media", {"fields": "id"}).json()["data"][0]["id"]
    comment = page_graph.get(f"{media_id}/comments", {"fields": "id,text,username"}).json()["data"][0]
    assert comment["username"] == "claire.voyage"
    reply = page_graph.post(f"{comment['id']}/replies", {"message": "Merci!"}).json()
    nested = page_graph.post(f"{reply['id']}/replies", {"message": "Again"}).json()
    fields = "id,comments.limit(50){id,text,timestamp,username,from{id,username},hidden,replies{id,text}}"
    item = page_graph.get(f"{IG}/media", {"fields": fields, "limit": 10}).json()["data"][0]
    replies = item["comments"]["data"][0]["replies"]["data"]
    assert [r["id"] for r in replies] == [reply["id"], nested["id"]]
    assert page_graph.post(comment["id"], {"hide": "true"}).json() == {"success": True}


def _inbound(page, platform="messenger"):
    from sandbox.activity import create_dm

    return create_dm(page, platform=platform)


def test_conversations_list_threads_and_the_send_api_answers_within_the_window(page_graph, frozen):
    from sandbox.models import Page

    message = _inbound(Page.objects.get(page_id=PAGE))
    fields = "id,updated_time,participants,messages.limit(20){id,message,created_time,from,to,attachments}"
    threads = page_graph.get(f"{PAGE}/conversations", {"platform": "messenger", "fields": fields}).json()["data"]
    assert threads[0]["messages"]["data"][0]["id"] == message.mid
    sender = message.from_id
    sent = page_graph.post_json(f"{PAGE}/messages", {"recipient": {"id": sender}, "messaging_type": "RESPONSE",
                                                     "message": {"text": "Hello!"}}).json()
    assert sent["recipient_id"] == sender and sent["message_id"].startswith("m_")
    frozen.advance(25 * 3600)
    late = page_graph.post_json(f"{PAGE}/messages", {"recipient": {"id": sender}, "message": {"text": "Late"}})
    assert late.json()["error"]["code"] == 10 and late.json()["error"]["error_subcode"] == 2018278
    tagged = page_graph.post_json(f"{PAGE}/messages", {"recipient": {"id": sender}, "messaging_type": "MESSAGE_TAG",
                                                       "tag": "HUMAN_AGENT", "message": {"text": "Human"}})
    assert tagged.status_code == 200


def test_instagram_dms_are_threads_with_platform_instagram(page_graph):
    from sandbox.models import Page

    message = _inbound(Page.objects.get(page_id=PAGE), platform="instagram")
    threads = page_graph.get(f"{PAGE}/conversations", {"platform": "instagram",
                                                       "fields": "id,messages{id,message,from}"}).json()["data"]
    assert threads[0]["messages"]["data"][0]["from"] == {"id": message.from_id,
                                                         "username": Conversation.objects.get().participant_name}
    sent = page_graph.post_json(f"{PAGE}/messages", {"recipient": {"id": message.from_id}, "message": {"text": "Hi"}})
    assert DirectMessage.objects.get(mid=sent.json()["message_id"]).from_id == IG


def test_the_user_profile_api_names_a_dm_participant_with_a_picture(page_graph):
    from sandbox.models import Page

    page = Page.objects.get(page_id=PAGE)
    fan = _inbound(page).conversation
    profile = page_graph.get(fan.participant_id, {"fields": "name,profile_pic"}).json()
    assert profile["name"] == fan.participant_name and profile["profile_pic"].startswith("https://")
    ig_fan = _inbound(page, platform="instagram").conversation
    ig_profile = page_graph.get(ig_fan.participant_id, {"fields": "name,username,profile_pic"}).json()
    assert ig_profile["username"] == ig_fan.participant_name and "name" not in ig_profile  # the fans set no name
    assert ig_profile["profile_pic"].startswith("https://")
    threads = page_graph.get(f"{PAGE}/conversations", {"platform": "messenger", "fields": "participants"}).json()["data"]
    assert {"id": fan.participant_id, "name": fan.participant_name} in threads[0]["participants"]["data"]


def test_a_fan_who_wrote_to_two_pages_is_looked_up_through_either(client, sandbox):
    from sandbox.models import Page

    _, page_tokens = connect_facebook(client)
    for n, page in enumerate(Page.objects.order_by("page_id")[:2]):
        Conversation.objects.create(thread_id=f"t_shared{n}", page=page, platform="messenger",
                                    participant_id="6782349999999999", participant_name="Shared Fan")
    for page in Page.objects.order_by("page_id")[:2]:
        profile = Graph(client, page_tokens[page.page_id]).get("6782349999999999", {"fields": "name"})
        assert profile.status_code == 200 and profile.json() == {"name": "Shared Fan", "id": "6782349999999999"}
