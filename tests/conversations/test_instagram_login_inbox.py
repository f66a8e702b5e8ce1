"""The inbox of an Instagram Login account: polled, answered and hidden on graph.instagram.com, the DM threads
being the account's own (no Page)."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
import responses
from django.utils import timezone

from conversations.platforms import instagram as platform
from social.models import LoginPath
from tests.conftest import load_fixture

pytestmark = pytest.mark.django_db

IG_ID = "17841400000000009"
HOST = "https://graph.instagram.com/v25.0"
IGSID = "7012345678901234"


@pytest.fixture
def account(account_factory):
    return account_factory("instagram", external_id=IG_ID, platform_user_id=IG_ID, login_path=LoginPath.INSTAGRAM,
                           access_token="IGAAlong-INBOX-555", token_expires_at=timezone.now() + timedelta(days=50))


def test_a_poll_reads_comments_and_the_accounts_own_dm_threads(account):
    with responses.RequestsMock() as rsps:
        rsps.add("GET", f"{HOST}/{IG_ID}/media", json=load_fixture("instagram/conversations_media_comments.json"))
        rsps.add("GET", f"{HOST}/{IG_ID}/conversations", json=load_fixture("instagram/login_conversations.json"))
        result = platform.poll(account, None, None)
        assert [c.request.url.split("?")[0] for c in rsps.calls] == [f"{HOST}/{IG_ID}/media",
                                                                      f"{HOST}/{IG_ID}/conversations"]
    assert [(c.external_id, c.author_name, c.direction) for c in result.comments] == [
        ("17865432109876543", "claire.voyage", "in"), ("17865432109876999", "tom_b", "in")]
    assert [(m.direction, m.participant_id, m.participant_name, m.text) for m in result.messages] == [
        ("in", IGSID, "claire.voyage", "Is the blue one still available?"),
        ("out", IGSID, "claire.voyage", "Hello! How can we help?")]
    assert result.messages_since.isoformat() == "2026-11-25T10:03:00+00:00"


def test_a_dm_reply_a_comment_reply_and_a_hide_go_to_the_instagram_host(account):
    conversation = SimpleNamespace(participant_id=IGSID, root_comment_id="17865432109876543")
    with responses.RequestsMock() as rsps:
        rsps.add("POST", f"{HOST}/{IG_ID}/messages", json=load_fixture("instagram/conversations_send_message.json"))
        rsps.add("POST", f"{HOST}/17865432109876543/replies",
                 json=load_fixture("instagram/conversations_comment_reply.json"))
        rsps.add("POST", f"{HOST}/17865432109876543", json=load_fixture("instagram/login_hide_comment.json"))
        assert platform.send_direct_message(account, conversation, "In M, yes", None).startswith("aWdfZAG1")
        assert platform.reply_to_comment(account, conversation, "Étretat") == "17865432109877777"
        platform.set_comment_hidden(account, "17865432109876543", True)
        assert len(rsps.calls) == 3
