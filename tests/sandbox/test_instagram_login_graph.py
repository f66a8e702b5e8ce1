"""The sandbox as graph.instagram.com: the production Instagram client, for an Instagram Login account,
publishes, reads insights, answers comments and DMs and subscribes to webhooks, reaching only its own account."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from sandbox.activity import emit_activity
from sandbox.models import Comment, InstagramAccount, Page
from social.clients import instagram
from social.models import LoginPath
from tests.sandbox.conftest import IG_APP_SECRET, Graph, connect_facebook
from tests.sandbox.test_instagram_login import IG_ID, approve_instagram, exchange
from tests.sandbox.test_production_clients import through_sandbox  # noqa: F401  (the fixture)
from unipulse.platform_errors import InvalidRequestError, ReauthRequiredError

pytestmark = pytest.mark.usefixtures("through_sandbox")


@pytest.fixture
def account(client, account_factory):
    short = exchange(client, approve_instagram(client)).json()["data"][0]["access_token"]
    long = client.get("/sandbox/instagram-graph/access_token", {"grant_type": "ig_exchange_token",
                                                                "client_secret": IG_APP_SECRET, "access_token": short})
    return account_factory("instagram", external_id=IG_ID, platform_user_id=IG_ID, login_path=LoginPath.INSTAGRAM,
                           username="sandbox.coffee", access_token=long.json()["access_token"],
                           token_expires_at=timezone.now() + timedelta(days=59))


def test_an_image_and_a_reel_are_published_through_graph_instagram_com(account, settings):
    settings.SANDBOX_CONTAINER_SECONDS = 0
    image = instagram.create_container(account, image_url="https://picsum.photos/id/1/1080", caption="Hello",
                                       alt_text="A cup")
    reel = instagram.create_container(account, video_url="https://example.com/clip.mp4", media_type="REELS",
                                      caption="Our clip", share_to_feed=True)
    for container in (image, reel):
        assert instagram.get_container_status(account, container).status_code == "FINISHED"
    limit = instagram.get_publishing_limit(account)
    assert limit.quota_total == 100
    published = [instagram.publish_container(account, c) for c in (image, reel)]
    assert instagram.get_publishing_limit(account).quota_usage == limit.quota_usage + 2
    assert instagram.get_media_permalink(account, published[0]).startswith("http")
    recent = instagram.list_recent_media(account)
    assert {m.id for m in recent} >= set(published)
    page = instagram.list_media(account, metrics=["views", "reach", "total_likes"], limit=25)
    kinds = {m.id: m.media_product_type for m in page.items}
    assert (kinds[published[0]], kinds[published[1]]) == ("FEED", "REELS")
    assert set(next(m for m in page.items if m.id == published[1]).insights) == {"views", "reach"}
    assert instagram.get_profile(account).followers_count is not None


def test_comments_are_listed_answered_and_hidden(account, settings):
    settings.SANDBOX_CONTAINER_SECONDS = 0
    media = instagram.publish_container(account, instagram.create_container(account, image_url="https://x/y.jpg"))
    first = instagram.comment_on_media(account, media, "First!")
    assert [c.text for c in instagram.list_media_comments(account, media)] == ["First!"]
    reply = instagram.reply_to_comment(account, first, "Thanks")
    assert instagram.set_comment_hidden(account, first, True)
    found = {c.id: c for c in instagram.list_recent_media_comments(account, media=5)}
    assert found[reply.id].parent_id == first and found[first].hidden is True
    assert Comment.objects.get(comment_id=first).is_hidden


def test_webhooks_are_subscribed_per_account_and_its_events_are_signed_by_the_instagram_app(account):
    assert instagram.get_webhook_fields(account) == []
    assert instagram.subscribe_webhooks(account, ["comments", "messages"])
    assert instagram.get_webhook_fields(account) == ["comments", "messages"]
    with pytest.raises(InvalidRequestError):
        instagram.subscribe_webhooks(account, ["feed"])  # a Page field
    sent = []
    emit_activity(comments=1, dms=1, send=lambda url, body, headers: sent.append((body, headers)) or 200)
    objects = [json.loads(body)["object"] for body, _ in sent]
    assert objects == ["instagram", "instagram"]  # the Page itself is not subscribed: no Page events
    for body, headers in sent:
        expected = "sha256=" + hmac.new(IG_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Hub-Signature-256"] == expected


def test_a_fans_dm_is_read_from_the_accounts_own_threads_and_answered(account):
    instagram.subscribe_webhooks(account, ["messages"])
    emit_activity(comments=0, dms=1, send=lambda *args: 200)
    (thread,) = list(instagram.iter_conversations(account))
    fan = next(m.from_id for m in thread.messages if m.from_id != IG_ID)
    sent = instagram.send_message(account, fan, "Hello, how can we help?")
    (thread,) = list(instagram.iter_conversations(account))
    assert thread.messages[0].id == sent.id and thread.messages[0].from_id == IG_ID
    assert instagram.get_messaging_profile(account, fan).name


def test_an_instagram_token_reaches_only_its_own_account(account, client):
    _, page_tokens = connect_facebook(client)
    other = InstagramAccount.objects.exclude(ig_id=IG_ID).first()
    page = Page.objects.get(instagram__ig_id=IG_ID)
    for node in (other.ig_id, page.page_id):
        answer = client.get(f"/sandbox/instagram-graph/v25.0/{node}", {"access_token": account.access_token})
        assert answer.status_code == 400 and answer.json()["error"]["code"] == 100
    # A Facebook Page token cannot be parsed by graph.instagram.com, and an IG token not by graph.facebook.com.
    fb = client.get(f"/sandbox/instagram-graph/v25.0/{IG_ID}", {"access_token": page_tokens[page.page_id]})
    assert fb.json()["error"]["code"] == 190
    assert Graph(client, account.access_token).get(IG_ID).json()["error"]["code"] == 190


def test_an_expired_instagram_token_asks_for_a_reconnect(account):
    from sandbox.models import Token

    Token.objects.filter(token=account.access_token).update(expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ReauthRequiredError):
        instagram.get_profile(account)
