"""Graph OAuth: code exchange, long-lived exchange, debug_token, me, permissions, Page tokens, errors."""

import json

from sandbox.seed import FB_USER_ID
from tests.sandbox.conftest import (
    APP_ID,
    APP_SECRET,
    REDIRECT,
    SCOPES,
    Graph,
    approve_facebook,
    connect_facebook,
    proof,
)


def exchange(client, code, redirect=REDIRECT):
    return Graph(client).get("oauth/access_token", {"client_id": APP_ID, "client_secret": APP_SECRET,
                                                    "redirect_uri": redirect, "code": code})


def test_code_exchange_returns_a_short_lived_bearer_token(client, sandbox):
    response = exchange(client, approve_facebook(client))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 5400


def test_a_code_works_once_then_answers_graph_error_36009(client, sandbox):
    code = approve_facebook(client)
    exchange(client, code)
    response = exchange(client, code)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 100 and error["error_subcode"] == 36009 and error["type"] == "OAuthException"
    assert error["message"] == "This authorization code has been used." and error["fbtrace_id"]


def test_a_code_expires_after_ten_minutes(client, sandbox, frozen):
    code = approve_facebook(client)
    frozen.advance(601)
    assert exchange(client, code).json()["error"]["error_subcode"] == 36007


def test_redirect_uri_must_match_the_dialog_byte_for_byte(client, sandbox):
    response = exchange(client, approve_facebook(client), redirect=REDIRECT + "/")
    assert response.json()["error"]["error_subcode"] == 36008


def test_wrong_client_secret_is_refused(client, sandbox):
    response = Graph(client).get("oauth/access_token", {"client_id": APP_ID, "client_secret": "x",
                                                        "redirect_uri": REDIRECT, "code": "c"})
    assert response.status_code == 400 and response.json()["error"]["code"] == 1


def test_fb_exchange_token_gives_a_sixty_day_token_and_me_accounts_gives_page_tokens(client, sandbox):
    user_token, page_tokens = connect_facebook(client)
    assert set(page_tokens) == {"104500000000001", "104500000000002", "104500000000003"}
    graph = Graph(client, user_token)
    me = graph.get("me", {"fields": "id,name"}).json()
    assert me == {"id": FB_USER_ID, "name": "Sandbox Tester"}
    permissions = graph.get("me/permissions").json()["data"]
    assert {"permission": "pages_manage_posts", "status": "granted"} in permissions


def test_me_accounts_pages_with_cursors_and_expands_instagram_and_picture(client, sandbox):
    user_token, _ = connect_facebook(client)
    graph = Graph(client, user_token)
    fields = ("id,name,username,access_token,tasks,picture.type(large){url},"
              "instagram_business_account{id,username,name,profile_picture_url}")
    first = graph.get("me/accounts", {"fields": fields, "limit": 2}).json()
    assert [p["id"] for p in first["data"]] == ["104500000000001", "104500000000002"]
    page = first["data"][0]
    assert page["tasks"] == ["ANALYZE", "ADVERTISE", "MESSAGING", "MODERATE", "CREATE_CONTENT", "MANAGE"]
    assert page["picture"] == {"data": {"url": "https://picsum.photos/seed/104500000000001/200"}}
    assert page["instagram_business_account"]["id"] == "17841400000000101"
    assert page["instagram_business_account"]["username"] == "sandbox.coffee"
    assert "access_token=" in first["paging"]["next"]  # like Graph: clients must rebuild from the cursor
    second = graph.get("me/accounts", {"fields": fields, "limit": 2, "after": first["paging"]["cursors"]["after"]})
    body = second.json()
    assert [p["id"] for p in body["data"]] == ["104500000000003"]
    assert "instagram_business_account" not in body["data"][0]
    assert "next" not in body["paging"]


def test_only_the_pages_ticked_in_the_dialog_are_listed_and_reachable(client, sandbox):
    user_token, page_tokens = connect_facebook(client, pages=["104500000000001"])
    assert list(page_tokens) == ["104500000000001"]
    response = Graph(client, user_token).get("104500000000002")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100 and response.json()["error"]["error_subcode"] == 33


def test_debug_token_describes_a_never_expiring_page_token(client, sandbox):
    user_token, page_tokens = connect_facebook(client)
    token = page_tokens["104500000000001"]
    data = Graph(client).get("debug_token", {"input_token": token,
                                             "access_token": f"{APP_ID}|{APP_SECRET}"}).json()["data"]
    assert data["is_valid"] is True and data["type"] == "PAGE" and data["expires_at"] == 0
    assert data["profile_id"] == "104500000000001" and data["user_id"] == FB_USER_ID
    assert data["app_id"] == APP_ID and data["scopes"] == [*SCOPES.split(","), "public_profile"]
    assert data["data_access_expires_at"] > data["issued_at"]
    publish = next(g for g in data["granular_scopes"] if g["scope"] == "instagram_content_publish")
    assert publish["target_ids"] == ["17841400000000101"]


def test_graph_calls_carry_usage_headers_as_json_percentages(client, sandbox):
    _, page_tokens = connect_facebook(client)
    response = Graph(client, page_tokens["104500000000001"]).get("104500000000001", {"fields": "followers_count"})
    assert set(json.loads(response["X-App-Usage"])) == {"call_count", "total_time", "total_cputime"}
    buc = json.loads(response["X-Business-Use-Case-Usage"])
    assert buc["104500000000001"][0]["type"] == "pages"
    assert buc["104500000000001"][0]["estimated_time_to_regain_access"] == 0


def test_a_missing_or_wrong_appsecret_proof_is_refused(client, sandbox):
    _, page_tokens = connect_facebook(client)
    token = page_tokens["104500000000001"]
    missing = client.get("/sandbox/graph/v25.0/104500000000001", {"access_token": token})
    assert missing.json()["error"]["message"] == "API calls from the server require an appsecret_proof argument"
    wrong = client.get("/sandbox/graph/v25.0/104500000000001", {"access_token": token, "appsecret_proof": proof("x")})
    assert wrong.json()["error"]["message"] == "Invalid appsecret_proof provided in the API argument"


def test_an_unknown_token_answers_190(client, sandbox):
    response = Graph(client, "EAAnot-a-token").get("me")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 190 and error["type"] == "OAuthException"
    assert response["WWW-Authenticate"].startswith('OAuth "Facebook Platform" "invalid_token"')


def test_an_expired_user_token_answers_190_463(client, sandbox, frozen):
    user_token, _ = connect_facebook(client)
    frozen.advance(5183944 + 1)
    assert Graph(client, user_token).get("me").json()["error"]["error_subcode"] == 463


def test_revoking_permissions_with_the_app_token_kills_every_token(client, sandbox):
    user_token, page_tokens = connect_facebook(client)
    response = Graph(client).delete(f"{FB_USER_ID}/permissions", {"access_token": f"{APP_ID}|{APP_SECRET}"})
    assert response.json() == {"success": True}
    error = Graph(client, page_tokens["104500000000001"]).get("me").json()["error"]
    assert error["code"] == 190 and error["error_subcode"] == 458


def test_subscribed_apps_can_be_installed_and_read_back(client, sandbox):
    _, page_tokens = connect_facebook(client)
    graph = Graph(client, page_tokens["104500000000001"])
    assert graph.get("104500000000001/subscribed_apps").json() == {"data": []}
    assert graph.post("104500000000001/subscribed_apps", {"subscribed_fields": "feed,messages"}).json() == {
        "success": True}
    installed = graph.get("104500000000001/subscribed_apps").json()["data"]
    assert installed[0]["id"] == APP_ID and installed[0]["subscribed_fields"] == ["feed", "messages"]
