"""Instagram Login accounts are called on graph.instagram.com with their own token and budget; Facebook-path ones are unchanged."""

from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
from django.utils import timezone

from social.clients import instagram, ratelimit
from social.models import LoginPath
from tests.conftest import load_fixture
from unipulse.platform_errors import ReauthRequiredError

pytestmark = pytest.mark.django_db

IG_ID = "17841400000000009"


def form(request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.body if isinstance(request.body, str) else request.body.decode()).items()}


@pytest.fixture
def ig_login_account(account_factory):
    return account_factory("instagram", external_id=IG_ID, platform_user_id=IG_ID, login_path=LoginPath.INSTAGRAM,
                           access_token="IGAAlong-LOGIN-TOKEN-222", token_expires_at=timezone.now() + timedelta(days=50))


def test_publishing_a_container_of_an_instagram_login_account_goes_to_graph_instagram_com(ig_login_account):
    with responses.RequestsMock() as rsps:
        rsps.add("POST", f"https://graph.instagram.com/v25.0/{IG_ID}/media_publish",
                 json=load_fixture("instagram/publishing_media_publish.json"))
        media_id = instagram.publish_container(ig_login_account, "17889455560051444")
        (call,) = rsps.calls
    assert media_id == "17920238422030506"
    sent = form(call.request)
    assert sent == {"creation_id": "17889455560051444", "access_token": "IGAAlong-LOGIN-TOKEN-222"}
    assert "access_token" not in call.request.url  # the token travels in the body only
    assert "appsecret_proof" not in sent
    # The call was spent from the Instagram user's own budget, not a Facebook user's.
    assert ratelimit.remaining_budget(ratelimit.instagram_user_key(IG_ID)) == ratelimit.remaining_budget("unused") - 1
    assert ratelimit.remaining_budget(ratelimit.meta_user_key(IG_ID)) == ratelimit.remaining_budget("unused")


def test_a_refused_token_on_graph_instagram_com_asks_for_a_reconnect(ig_login_account):
    with responses.RequestsMock() as rsps:
        rsps.add("POST", f"https://graph.instagram.com/v25.0/{IG_ID}/media_publish", status=400,
                 json=load_fixture("instagram/errors_190_467_invalid_token.json"))
        with pytest.raises(ReauthRequiredError):
            instagram.publish_container(ig_login_account, "17889455560051444")
    ig_login_account.refresh_from_db()
    assert ig_login_account.status == "needs_reauth"


def test_a_facebook_path_account_still_publishes_through_graph_facebook_com_with_appsecret_proof(account_factory):
    account = account_factory("instagram", external_id=IG_ID, login_path=LoginPath.FACEBOOK)
    with responses.RequestsMock() as rsps:
        rsps.add("POST", f"https://graph.facebook.com/v25.0/{IG_ID}/media_publish",
                 json=load_fixture("instagram/publishing_media_publish.json"))
        instagram.publish_container(account, "17889455560051444")
        (call,) = rsps.calls
    assert len(form(call.request)["appsecret_proof"]) == 64
