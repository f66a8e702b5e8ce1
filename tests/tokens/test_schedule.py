"""refresh_tokens' selection at the real window edges, scheduled by the real code (no hand-set due times)."""

from datetime import timedelta

import pytest
import responses
from django.conf import settings
from django.utils import timezone

from social.models import SocialAccount
from tests.conftest import load_fixture
from tokens import services

pytestmark = pytest.mark.django_db

TOKEN_URL = "https://open.tiktokapis.com/v2/oauth/token/"
DEBUG_URL = "https://graph.facebook.com/v25.0/debug_token"
EDGE = timedelta(minutes=1)


def is_selected(account, at) -> bool:
    return account.pk in services.select_due_account_ids(now=at)


@pytest.mark.parametrize("lifetime", [timedelta(hours=2), timedelta(hours=24)], ids=["2h", "24h"])
def test_a_tiktok_token_is_selected_once_a_fifth_of_its_granted_lifetime_remains(account_factory, lifetime):
    expires_at = timezone.now() + lifetime  # as stored by the OAuth callback from expires_in
    account = account_factory("tiktok", token_expires_at=expires_at)
    fifth = lifetime * settings.TIKTOK_REFRESH_REMAINING_FRACTION
    assert not is_selected(account, expires_at - fifth - EDGE)  # just above a fifth left
    assert is_selected(account, expires_at - fifth + EDGE)      # just below


@responses.activate
def test_after_a_refresh_the_next_one_is_due_with_a_fifth_of_the_new_lifetime_left(account_factory):
    account = account_factory("tiktok", token_expires_at=timezone.now() - timedelta(minutes=1))
    assert is_selected(account, timezone.now())
    responses.post(TOKEN_URL, json=load_fixture("tiktok/tokens_refresh_ok.json"))  # expires_in 7200
    services.refresh_account_token(account.pk)
    expires_at = SocialAccount.objects.get(pk=account.pk).token_expires_at
    assert not is_selected(account, timezone.now())
    assert not is_selected(account, expires_at - timedelta(minutes=24) - EDGE)
    assert is_selected(account, expires_at - timedelta(minutes=24) + EDGE)


@pytest.mark.parametrize("field", ["token_expires_at", "data_access_expires_at"])
def test_a_meta_expiry_is_selected_when_it_comes_within_the_renew_window(account_factory, field):
    now = timezone.now()
    outside = account_factory("facebook", **{field: now + settings.META_RENEW_BEFORE + timedelta(hours=2)})
    inside = account_factory("facebook", **{field: now + settings.META_RENEW_BEFORE - timedelta(hours=2)})
    assert not is_selected(outside, now + timedelta(hours=2) - EDGE)  # the window has not opened yet
    assert is_selected(outside, now + timedelta(hours=2) + EDGE)      # it just has
    assert is_selected(inside, now + EDGE)                            # already inside: looked at now


@responses.activate
def test_a_meta_account_inside_the_window_is_not_selected_again_at_every_cron_run(account_factory):
    account = account_factory("facebook", external_id="104512345678901",
                              data_access_expires_at=timezone.now() + timedelta(days=3))
    body = load_fixture("facebook/tokens_debug_token_page_valid.json")
    body["data"]["data_access_expires_at"] = int(account.data_access_expires_at.timestamp())
    responses.get(DEBUG_URL, json=body)
    services.refresh_account_token(account.pk)
    checked = timezone.now()
    assert not is_selected(account, checked + timedelta(minutes=15))
    assert not is_selected(account, checked + settings.META_TOKEN_CHECK_NEAR_EXPIRY - EDGE)
    assert is_selected(account, checked + settings.META_TOKEN_CHECK_NEAR_EXPIRY + EDGE)


def test_a_meta_account_far_from_any_expiry_is_selected_daily(account_factory):
    account = account_factory("instagram", data_access_expires_at=timezone.now() + timedelta(days=80))
    now = timezone.now()
    assert not is_selected(account, now + settings.META_TOKEN_CHECK_INTERVAL - EDGE)
    assert is_selected(account, now + settings.META_TOKEN_CHECK_INTERVAL + EDGE)
