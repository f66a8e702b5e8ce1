"""A token never shows in admin HTML, API JSON or captured logs."""

import logging

import pytest

pytestmark = pytest.mark.django_db

SECRET = "act.LEAKCHECK-7f3a9"


@pytest.fixture
def leaky_account(account_factory):
    return account_factory("tiktok", access_token=SECRET, refresh_token="rft.LEAKCHECK-refresh")


def test_api_json_has_no_token(api_client, leaky_account):
    for url in ("/api/v1/accounts/", f"/api/v1/accounts/{leaky_account.pk}/"):
        response = api_client.get(url)
        assert response.status_code == 200
        assert "LEAKCHECK" not in response.content.decode()
    body = api_client.get(f"/api/v1/accounts/{leaky_account.pk}/").json()
    assert body["has_access_token"] is True and body["has_refresh_token"] is True
    assert "access_token" not in body and "refresh_token" not in body


def test_admin_pages_have_no_token(client, django_user_model, leaky_account):
    staff = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123")
    client.force_login(staff)
    for url in ("/admin/social/socialaccount/", f"/admin/social/socialaccount/{leaky_account.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 200
        assert "LEAKCHECK" not in response.content.decode()


def test_log_filter_scrubs_tokens_that_slip_into_messages(caplog):
    from unipulse.logging_filters import RedactSecretsFilter

    logger = logging.getLogger("unipulse.test")
    handler_filter = RedactSecretsFilter()
    record = logger.makeRecord("unipulse.test", logging.INFO, __file__, 1,
                               "next page https://graph.facebook.com/v25.0/1/feed?access_token=%s&after=x and Bearer %s",
                               (SECRET, SECRET), None)
    handler_filter.filter(record)
    assert SECRET not in record.getMessage()
    assert "access_token=[REDACTED]" in record.getMessage()


def test_log_filter_scrubs_an_oauth_code_in_a_url_but_keeps_platform_error_codes():
    from unipulse.logging_filters import redact

    line = redact("GET /api/v1/auth/callback/facebook?state=s1&code=AQB-secret-code 302; "
                  "POST /feed failed: InvalidRequestError code=190 trace=AbC")
    assert "AQB-secret-code" not in line and "&code=[REDACTED]" in line
    assert "code=190 trace=AbC" in line  # readable: the log's reason for being


def test_another_users_account_is_404(other_client, leaky_account):
    response = other_client.get(f"/api/v1/accounts/{leaky_account.pk}/")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}
    assert other_client.get("/api/v1/accounts/").json()["results"] == []
