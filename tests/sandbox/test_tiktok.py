"""TikTok double: OAuth grants with rotation, envelope, user info scopes, posting flows and status over time."""

import pytest

from sandbox.models import PublishJob
from tests.sandbox.conftest import CLIENT_KEY, CLIENT_SECRET, TIKTOK_REDIRECT, connect_tiktok

API = "/sandbox/tiktok-api"
POST_INFO = {"title": "Sandbox clip #demo", "privacy_level": "PUBLIC_TO_EVERYONE", "disable_duet": False,
             "disable_comment": False, "disable_stitch": False}


@pytest.fixture
def tokens(client, sandbox):
    return connect_tiktok(client)


def call(client, tokens, path, body=None, method="post", **params):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {tokens['access_token']}"}
    query = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
    if method == "get":
        return client.get(f"{API}/{path}{query}", **headers)
    return client.post(f"{API}/{path}{query}", body or {}, content_type="application/json; charset=UTF-8", **headers)


def refresh(client, refresh_token):
    return client.post(f"{API}/v2/oauth/token/", {"client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET,
                                                  "grant_type": "refresh_token", "refresh_token": refresh_token})


def test_code_exchange_answers_the_documented_flat_fields(tokens):
    assert set(tokens) == {"access_token", "expires_in", "open_id", "refresh_expires_in", "refresh_token", "scope",
                           "token_type"}
    assert tokens["access_token"].startswith("act.") and tokens["refresh_token"].startswith("rft.")
    assert (tokens["expires_in"], tokens["refresh_expires_in"], tokens["token_type"]) == (7200, 15552000, "Bearer")
    assert tokens["scope"].split(",")[0] == "user.info.basic"


def test_a_used_code_is_invalid_grant_in_the_flat_error_shape(client, sandbox):
    from urllib.parse import parse_qs, urlsplit

    response = client.post("/sandbox/tiktok/v2/auth/authorize/", {
        "client_key": CLIENT_KEY, "redirect_uri": TIKTOK_REDIRECT, "state": "s", "scope": "user.info.basic",
        "action": "approve"})
    code = parse_qs(urlsplit(response["Location"]).query)["code"][0]
    form = {"client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET, "code": code,
            "grant_type": "authorization_code", "redirect_uri": TIKTOK_REDIRECT}
    assert client.post(f"{API}/v2/oauth/token/", form).status_code == 200
    again = client.post(f"{API}/v2/oauth/token/", form)
    assert again.status_code == 400
    body = again.json()
    assert set(body) == {"error", "error_description", "log_id"} and body["error"] == "invalid_grant"


def test_refresh_rotates_the_refresh_token_and_the_old_one_stops_working(client, tokens):
    renewed = refresh(client, tokens["refresh_token"]).json()
    assert renewed["refresh_token"] != tokens["refresh_token"] and renewed["access_token"] != tokens["access_token"]
    reused = refresh(client, tokens["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert refresh(client, renewed["refresh_token"]).status_code == 200


def test_revoke_answers_an_empty_object_and_kills_the_tokens(client, tokens):
    response = client.post(f"{API}/v2/oauth/revoke/", {"client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET,
                                                       "token": tokens["access_token"]})
    assert response.json() == {}
    dead = call(client, tokens, "v2/user/info/", method="get", fields="open_id")
    assert dead.status_code == 401 and dead.json()["error"]["code"] == "access_token_invalid"


def test_user_info_returns_only_the_requested_fields_in_the_envelope(client, tokens):
    body = call(client, tokens, "v2/user/info/", method="get",
                fields="open_id,display_name,username,follower_count").json()
    assert body["error"]["code"] == "ok" and body["error"]["message"] == "" and body["error"]["log_id"]
    assert body["data"]["user"] == {"open_id": tokens["open_id"], "display_name": "Sandbox Creator",
                                    "username": "sandbox.creator", "follower_count": body["data"]["user"]["follower_count"]}


def test_a_field_without_its_scope_is_scope_not_authorized(client, sandbox):
    tokens = connect_tiktok(client, scope="user.info.basic")
    response = call(client, tokens, "v2/user/info/", method="get", fields="open_id,follower_count")
    assert response.status_code == 401 and response.json()["error"]["code"] == "scope_not_authorized"


def test_creator_info_lists_privacy_levels(client, tokens):
    data = call(client, tokens, "v2/post/publish/creator_info/query/").json()["data"]
    assert data["privacy_level_options"] == ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR",
                                             "SELF_ONLY"]
    assert data["creator_username"] == "sandbox.creator" and data["max_video_post_duration_sec"] == 600


def test_file_upload_direct_post_progresses_to_public_with_the_misspelt_id_field(client, tokens, frozen):
    init = call(client, tokens, "v2/post/publish/video/init/", {"post_info": POST_INFO, "source_info": {
        "source": "FILE_UPLOAD", "video_size": 10, "chunk_size": 10, "total_chunk_count": 1}}).json()["data"]
    assert init["publish_id"].startswith("v_pub_file~v2")
    assert init["upload_url"].startswith("http://testserver/sandbox/tiktok-upload/video/?upload_id=")
    status = call(client, tokens, "v2/post/publish/status/fetch/", {"publish_id": init["publish_id"]}).json()["data"]
    assert status == {"status": "PROCESSING_UPLOAD", "fail_reason": "", "publicaly_available_post_id": [],
                      "uploaded_bytes": 0, "downloaded_bytes": 0}
    upload_path = init["upload_url"].replace("http://testserver", "")
    put = client.put(upload_path, b"0123456789", content_type="video/mp4", HTTP_CONTENT_RANGE="bytes 0-9/10")
    assert put.status_code == 201 and put.content == b""
    frozen.advance(5)
    done = call(client, tokens, "v2/post/publish/status/fetch/", {"publish_id": init["publish_id"]}).json()["data"]
    assert done["status"] == "PUBLISH_COMPLETE" and done["publicaly_available_post_id"] == []
    frozen.advance(5)
    public = call(client, tokens, "v2/post/publish/status/fetch/", {"publish_id": init["publish_id"]}).json()["data"]
    video_id = public["publicaly_available_post_id"][0]
    assert isinstance(video_id, int) and public["uploaded_bytes"] == 10
    videos = call(client, tokens, "v2/video/query/", {"filters": {"video_ids": [str(video_id)]}},
                  fields="id,title,view_count,like_count,share_url").json()["data"]["videos"]
    assert videos[0]["id"] == str(video_id) and videos[0]["title"] == "Sandbox clip #demo"
    # share_url opens the sandbox's page of the video (TikTok answers https://www.tiktok.com/@user/video/id)
    assert videos[0]["share_url"] == f"http://testserver/sandbox/posts/{video_id}/"
    page = client.get(f"/sandbox/posts/{video_id}/")
    assert page.status_code == 200 and b"TikTok" in page.content and b"Sandbox clip #demo" in page.content


def test_chunks_must_arrive_in_order_with_206_until_the_last(client, tokens):
    init = call(client, tokens, "v2/post/publish/video/init/", {"post_info": POST_INFO, "source_info": {
        "source": "FILE_UPLOAD", "video_size": 20, "chunk_size": 10, "total_chunk_count": 2}}).json()["data"]
    path = init["upload_url"].replace("http://testserver", "")
    assert client.put(path, b"x" * 10, content_type="video/mp4", HTTP_CONTENT_RANGE="bytes 10-19/20").status_code == 416
    assert client.put(path, b"x" * 10, content_type="video/mp4", HTTP_CONTENT_RANGE="bytes 0-9/20").status_code == 206
    assert client.put(path, b"x" * 10, content_type="video/mp4", HTTP_CONTENT_RANGE="bytes 10-19/20").status_code == 201


def test_inbox_upload_ends_in_send_to_user_inbox(client, tokens, frozen):
    init = call(client, tokens, "v2/post/publish/inbox/video/init/", {"source_info": {
        "source": "PULL_FROM_URL", "video_url": "https://example.com/v.mp4"}}).json()["data"]
    assert set(init) == {"publish_id"}
    fetch = {"publish_id": init["publish_id"]}
    assert call(client, tokens, "v2/post/publish/status/fetch/", fetch).json()["data"]["status"] == "PROCESSING_DOWNLOAD"
    frozen.advance(10)
    assert call(client, tokens, "v2/post/publish/status/fetch/", fetch).json()["data"]["status"] == "SEND_TO_USER_INBOX"


def test_photo_post_needs_pull_from_url_and_lists_as_a_video_when_public(client, tokens, frozen):
    bad = call(client, tokens, "v2/post/publish/content/init/", {"media_type": "PHOTO", "post_mode": "DIRECT_POST",
                                                                 "post_info": POST_INFO, "source_info": {
                                                                     "source": "FILE_UPLOAD"}})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_param"
    ok = call(client, tokens, "v2/post/publish/content/init/", {"media_type": "PHOTO", "post_mode": "DIRECT_POST",
                                                                "post_info": POST_INFO, "source_info": {
                                                                    "source": "PULL_FROM_URL", "photo_cover_index": 0,
                                                                    "photo_images": ["https://example.com/1.jpg"]}})
    assert ok.json()["data"]["publish_id"].startswith("p_pub_url~v2")
    frozen.advance(15)
    listing = call(client, tokens, "v2/video/list/", {"max_count": 1}, fields="id,title,create_time").json()["data"]
    assert listing["videos"][0]["title"] == "Sandbox clip #demo" and listing["has_more"] is True
    older = call(client, tokens, "v2/video/list/", {"max_count": 20, "cursor": listing["cursor"]},
                 fields="id,title").json()["data"]
    assert [v["title"] for v in older["videos"]] == ["Hello from the sandbox #demo"] and older["has_more"] is False


def test_privacy_outside_the_options_is_privacy_level_option_mismatch(client, tokens):
    response = call(client, tokens, "v2/post/publish/video/init/", {"post_info": {"privacy_level": "EVERYONE"},
                                                                    "source_info": {"source": "PULL_FROM_URL",
                                                                                    "video_url": "https://e.x/v.mp4"}})
    assert response.status_code == 400 and response.json()["error"]["code"] == "privacy_level_option_mismatch"


def test_status_of_someone_elses_publish_is_refused(client, tokens):
    PublishJob.objects.all().delete()
    response = call(client, tokens, "v2/post/publish/status/fetch/", {"publish_id": "v_pub_url~v2-1.1"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_publish_id"


def test_video_query_takes_at_most_twenty_ids(client, tokens):
    response = call(client, tokens, "v2/video/query/", {"filters": {"video_ids": [str(i) for i in range(21)]}},
                    fields="id")
    assert response.json()["error"]["code"] == "invalid_param"
