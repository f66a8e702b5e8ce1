"""Staff admin for accounts: token presence and expiry shown apart, never the token."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123"))
    return client


def cell(html: str, field: str, username: str) -> str:
    """The text of one list cell in the row of the account shown as `... · username`."""
    row = next(r for r in re.findall(r"<tr>.*?</tr>", html, re.S) if f"· {username}<" in r)
    match = re.search(rf'<td class="field-{field}[^"]*">(.*?)</td>', row, re.S)
    assert match, f"no {field} cell in {username}'s row"
    return match.group(1).strip()


def test_the_list_shows_token_presence_and_expiry_apart_and_no_token(staff_client, account_factory):
    now = timezone.now()
    account_factory("tiktok", username="valid", access_token="act.ADMIN-valid-111", refresh_token="rft.ADMIN-valid-r",
                    token_expires_at=now + timedelta(hours=2), refresh_token_expires_at=now + timedelta(days=100))
    account_factory("tiktok", username="expired", access_token="act.ADMIN-expired-222",
                    refresh_token="rft.ADMIN-expired-refresh", token_expires_at=now - timedelta(minutes=5),
                    refresh_token_expires_at=now - timedelta(days=1))
    account_factory("tiktok", username="wiped", access_token="", refresh_token="",
                    token_expires_at=now - timedelta(days=3), status="disconnected")
    account_factory("facebook", username="forever", access_token="EAA-ADMIN-page-333", token_expires_at=None)

    html = staff_client.get("/admin/social/socialaccount/").content.decode()

    expected = {"valid": ("present", "present"), "expired": ("present, expired", "present, expired"),
                # an old expiry does not make a wiped token look present
                "wiped": ("absent", "absent"),
                # no expiry: a Page token that does not expire; Meta Pages have no refresh token
                "forever": ("present", "absent")}
    for username, (access, refresh) in expected.items():
        assert (cell(html, "has_token", username), cell(html, "has_refresh", username)) == (access, refresh), username
    assert 'class="column-has_token"' in html and 'class="column-has_refresh"' in html
    assert "ADMIN-" not in html


def test_the_change_page_shows_both_tokens_states_and_no_token(staff_client, account_factory):
    now = timezone.now()
    account = account_factory("tiktok", access_token="act.ADMIN-change-444", refresh_token="rft.ADMIN-change-555",
                              token_expires_at=now - timedelta(minutes=1), refresh_token_expires_at=now + timedelta(days=90))
    html = staff_client.get(f"/admin/social/socialaccount/{account.pk}/change/").content.decode()
    states = dict(re.findall(r'<div class="form-row field-(has_token|has_refresh)">.*?<div class="readonly">(.*?)</div>',
                             html, re.S))
    assert states == {"has_token": "present, expired", "has_refresh": "present"}
    assert "ADMIN-change" not in html


def test_an_instagram_login_accounts_page_shows_its_path_and_its_webhook_subscription(staff_client, account_factory):
    from social.models import LoginPath
    from social.services import WEBHOOK_REASON_PREFIX

    account = account_factory("instagram", login_path=LoginPath.INSTAGRAM, access_token="IGAA-ADMIN-666",
                              status_reason=f"{WEBHOOK_REASON_PREFIX}: Meta did not confirm messages.")
    html = staff_client.get(f"/admin/social/socialaccount/{account.pk}/change/").content.decode()
    shown = dict(re.findall(r'<div class="form-row field-(login_path|webhook_subscribed_at)">.*?'
                            r'<div class="readonly">(.*?)</div>', html, re.S))
    assert shown == {"login_path": "Instagram Login", "webhook_subscribed_at": "-"}
    assert "Webhook subscription failed: Meta did not confirm messages." in html
    assert "IGAA-ADMIN" not in html
