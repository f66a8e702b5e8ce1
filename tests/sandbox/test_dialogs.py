"""The consent dialogs list the test assets and redirect back with a code and state, or a denial."""

from urllib.parse import parse_qs, urlsplit

from sandbox.models import AuthCode
from tests.sandbox.conftest import APP_ID, CLIENT_KEY, REDIRECT, SCOPES, TIKTOK_REDIRECT

FB_QUERY = {"client_id": APP_ID, "redirect_uri": REDIRECT, "state": "abc123", "response_type": "code", "scope": SCOPES}
TT_QUERY = {"client_key": CLIENT_KEY, "redirect_uri": TIKTOK_REDIRECT, "state": "tt-state", "response_type": "code",
            "scope": "user.info.basic,video.publish"}


def _query(response) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}


def test_facebook_dialog_lists_the_test_pages_with_their_instagram_accounts(client, sandbox):
    response = client.get("/sandbox/facebook/v25.0/dialog/oauth", FB_QUERY)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sandbox Coffee" in html and "@sandbox.coffee" in html
    assert "Sandbox Bookshop" in html and "no Instagram account" in html
    assert 'name="action" value="approve"' in html and 'name="action" value="cancel"' in html


def test_facebook_approve_redirects_with_a_code_bound_to_the_ticked_pages(client, sandbox):
    response = client.post("/sandbox/facebook/v25.0/dialog/oauth",
                           {**FB_QUERY, "pages": ["104500000000002"], "action": "approve"})
    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT + "?")
    query = _query(response)
    assert set(query) == {"code", "state"} and query["state"] == "abc123"
    code = AuthCode.objects.get(code=query["code"])
    assert [p.page_id for p in code.pages.all()] == ["104500000000002"]
    assert code.scopes == SCOPES.split(",")


def test_facebook_cancel_redirects_with_access_denied(client, sandbox):
    response = client.post("/sandbox/facebook/v25.0/dialog/oauth", {**FB_QUERY, "action": "cancel"})
    assert response.status_code == 302
    query = _query(response)
    assert query["error"] == "access_denied" and query["error_reason"] == "user_denied"
    assert query["state"] == "abc123" and "code" not in query
    assert not AuthCode.objects.exists()


def test_facebook_dialog_refuses_an_unknown_app_id(client, sandbox):
    response = client.get("/sandbox/facebook/v25.0/dialog/oauth", {**FB_QUERY, "client_id": "nope"})
    assert response.status_code == 400
    assert "Invalid App ID" in response.content.decode()


def test_tiktok_dialog_shows_the_test_creator_and_approve_returns_code_scopes_and_state(client, sandbox):
    page = client.get("/sandbox/tiktok/v2/auth/authorize/", TT_QUERY)
    assert page.status_code == 200 and "@sandbox.creator" in page.content.decode()
    response = client.post("/sandbox/tiktok/v2/auth/authorize/", {**TT_QUERY, "action": "approve"})
    query = _query(response)
    assert response["Location"].startswith(TIKTOK_REDIRECT + "?")
    assert query["state"] == "tt-state" and query["scopes"] == "user.info.basic,video.publish"
    assert AuthCode.objects.get(code=query["code"]).creator.username == "sandbox.creator"


def test_tiktok_cancel_redirects_with_access_denied(client, sandbox):
    response = client.post("/sandbox/tiktok/v2/auth/authorize/", {**TT_QUERY, "action": "cancel"})
    query = _query(response)
    assert query["error"] == "access_denied" and query["state"] == "tt-state" and "code" not in query


def test_dialog_urls_do_not_exist_when_the_sandbox_is_off(client, db):
    assert client.get("/sandbox/facebook/v25.0/dialog/oauth", FB_QUERY).status_code == 404
