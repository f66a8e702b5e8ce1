"""GET /api/v1/accounts/{id}/publishing-options/: what the composer needs before a post is written."""

from __future__ import annotations

import pytest

from publishing.services import validation
from tests.conftest import load_fixture

pytestmark = pytest.mark.django_db
TIKTOK = "https://open.tiktokapis.com/v2/post/publish"
GRAPH = "https://graph.facebook.com/v25.0"


def test_tiktok_answers_the_creators_choices_and_reuses_them_briefly(api_client, account_factory, mocked_platforms):
    tt = account_factory("tiktok")
    mocked_platforms.post(f"{TIKTOK}/creator_info/query/", json=load_fixture("tiktok/publishing_creator_info.json"))
    first = api_client.get(f"/api/v1/accounts/{tt.pk}/publishing-options/")
    assert first.status_code == 200
    body = first.json()
    info = load_fixture("tiktok/publishing_creator_info.json")["data"]
    assert body["platform"] == "tiktok" and body["content_kinds"] == ["video", "photos"]
    assert body["live"]["privacy_level_options"] == info["privacy_level_options"]
    assert body["live"]["max_video_post_duration_sec"] == info["max_video_post_duration_sec"]
    assert body["limits"]["photos_max"] == validation.TIKTOK_PHOTOS_MAX and body["live_error"] is None
    assert api_client.get(f"/api/v1/accounts/{tt.pk}/publishing-options/").json() == body
    assert len(mocked_platforms.calls) == 1  # the second answer came from the cache


def test_instagram_answers_the_quota_left_today(api_client, account_factory, mocked_platforms):
    ig = account_factory("instagram")
    mocked_platforms.get(f"{GRAPH}/{ig.external_id}/content_publishing_limit",
                         json=load_fixture("instagram/publishing_limit.json"))
    body = api_client.get(f"/api/v1/accounts/{ig.pk}/publishing-options/").json()
    row = load_fixture("instagram/publishing_limit.json")["data"][0]
    assert body["live"] == {"quota_total": row["config"]["quota_total"], "quota_usage": row["quota_usage"],
                            "quota_left": row["config"]["quota_total"] - row["quota_usage"]}
    assert body["content_kinds"] == ["feed", "reel", "story", "carousel"]
    assert body["limits"]["carousel_items"] == [validation.IG_CAROUSEL_MIN, validation.IG_CAROUSEL_MAX]


def test_facebook_has_only_static_rules(api_client, account_factory, mocked_platforms):
    fb = account_factory("facebook")
    body = api_client.get(f"/api/v1/accounts/{fb.pk}/publishing-options/").json()
    assert body["live"] is None and body["live_error"] is None and "video" in body["content_kinds"]
    assert len(mocked_platforms.calls) == 0


def test_a_platform_failure_still_answers_the_static_rules_and_says_why(api_client, account_factory, mocked_platforms):
    tt = account_factory("tiktok")
    mocked_platforms.post(f"{TIKTOK}/creator_info/query/", status=503,
                          json={"data": {}, "error": {"code": "internal_error", "message": "busy", "log_id": "x"}})
    response = api_client.get(f"/api/v1/accounts/{tt.pk}/publishing-options/")
    assert response.status_code == 200
    body = response.json()
    assert body["live"] is None and body["live_error"]["code"] == "platform_unavailable"
    assert tt.access_token not in response.content.decode()


def test_another_workspaces_account_is_a_404(other_client, account_factory, mocked_platforms):
    assert other_client.get(f"/api/v1/accounts/{account_factory('tiktok').pk}/publishing-options/").status_code == 404
