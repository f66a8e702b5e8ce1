"""Aspect and duration rules checked on media we host (uploaded through /api/v1/media/)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.media import jpeg
from tests.media import video as mp4

pytestmark = pytest.mark.django_db


def upload(api_client, name: str, data: bytes) -> dict:
    response = api_client.post("/api/v1/media/", {"file": SimpleUploadedFile(name, data)}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()


def test_upload_reports_image_size_and_video_duration(api_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    image = upload(api_client, "a.jpg", jpeg(1080, 1350))
    assert (image["width"], image["height"], image["duration"], image["frame_rate"]) == (1080, 1350, None, None)
    assert (image["video_codec"], image["audio_codec"]) == ("", "")
    video = upload(api_client, "v.mp4", mp4(12, width=64, height=48, fps=2))
    assert video["duration"] == pytest.approx(12, abs=0.01)
    assert (video["width"], video["height"], video["frame_rate"], video["video_codec"]) == (64, 48, 2.0, "mpeg4")


def test_instagram_feed_rejects_a_hosted_image_outside_4_5_to_1_91(api_client, account_factory, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ig = account_factory("instagram")
    wide = upload(api_client, "wide.jpg", jpeg(1000, 400))  # 2.5:1
    response = api_client.post("/api/v1/posts/", {"text": "x", "accounts": [ig.pk],
                                                  "media": [{"url": wide["url"], "type": "image"}]}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["media.0.url"] == [
        "Instagram feed images must be between 4:5 and 1.91:1; this one is 1000x400."]
    square = upload(api_client, "square.jpg", jpeg(800, 800))
    ok = api_client.post("/api/v1/posts/", {"text": "x", "accounts": [ig.pk], "scheduled_at": "2099-01-01T00:00:00Z",
                                            "media": [{"url": square["url"], "type": "image"}]}, format="json")
    assert ok.status_code == 201, ok.content


def test_instagram_reel_and_story_durations(api_client, account_factory, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ig = account_factory("instagram")
    long_video = upload(api_client, "long.mp4", mp4(75))
    story = api_client.post("/api/v1/posts/", {"accounts": [ig.pk], "options": {"instagram": {"kind": "story"}},
                                               "media": [{"url": long_video["url"], "type": "video"}]}, format="json")
    assert story.status_code == 400
    assert story.json()["error"]["fields"]["media.0.url"] == ["This Instagram video must last 3 to 60 seconds; it lasts 75."]
    reel = api_client.post("/api/v1/posts/", {"accounts": [ig.pk], "options": {"instagram": {"kind": "reel"}},
                                              "scheduled_at": "2099-01-01T00:00:00Z",
                                              "media": [{"url": long_video["url"], "type": "video"}]}, format="json")
    assert reel.status_code == 201, reel.content


def test_tiktok_rejects_a_hosted_video_longer_than_the_creator_may_post(api_client, account_factory, settings, tmp_path,
                                                                         mocked_platforms):
    from tests.conftest import load_fixture

    settings.MEDIA_ROOT = tmp_path
    tt = account_factory("tiktok")
    info = load_fixture("tiktok/publishing_creator_info.json")
    limit = info["data"]["max_video_post_duration_sec"]
    mocked_platforms.post("https://open.tiktokapis.com/v2/post/publish/creator_info/query/", json=info)
    video = upload(api_client, "long.mp4", mp4(limit + 30))
    response = api_client.post("/api/v1/posts/", {"text": "x", "accounts": [tt.pk],
                                                  "options": {"tiktok": {"privacy_level": "SELF_ONLY"}},
                                                  "media": [{"url": video["url"], "type": "video"}]}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["media.0.url"] == [
        f"{tt} may post videos up to {limit} seconds; this one lasts {limit + 30}."]


def test_a_single_feed_video_is_checked_as_the_reel_it_is_published_as(api_client, account_factory, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ig = account_factory("instagram")
    minutes = upload(api_client, "ten_minutes.mp4", mp4(600))  # too long for a story or carousel, fine for a reel
    for options in ({}, {"instagram": {"kind": "feed"}}):
        ok = api_client.post("/api/v1/posts/", {"accounts": [ig.pk], "options": options,
                                                "scheduled_at": "2099-01-01T00:00:00Z",
                                                "media": [{"url": minutes["url"], "type": "video"}]}, format="json")
        assert ok.status_code == 201, ok.content
    too_long = upload(api_client, "long.mp4", mp4(16 * 60))
    too_short = upload(api_client, "short.mp4", mp4(2))
    for video, seconds in ((too_long, 960), (too_short, 2)):
        response = api_client.post("/api/v1/posts/", {"accounts": [ig.pk],
                                                      "media": [{"url": video["url"], "type": "video"}]}, format="json")
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {
            "media.0.url": [f"This Instagram video must last 3 to 900 seconds; it lasts {seconds}."]}


def test_a_video_in_a_feed_carousel_keeps_the_60_second_limit(api_client, account_factory, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ig = account_factory("instagram")
    minutes = upload(api_client, "ten_minutes.mp4", mp4(600))
    square = upload(api_client, "square.jpg", jpeg(800, 800))
    response = api_client.post("/api/v1/posts/", {"accounts": [ig.pk], "media": [
        {"url": square["url"], "type": "image"}, {"url": minutes["url"], "type": "video"}]}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "media.1.url": ["This Instagram video must last 3 to 60 seconds; it lasts 600."]}


def test_the_publisher_and_the_validator_agree_on_what_a_feed_post_is():
    from publishing.platforms.instagram import published_kind

    assert published_kind("feed", ["video"]) == "reel"
    assert published_kind("feed", ["image"]) == "image"
    assert published_kind("feed", ["image", "video"]) == "carousel"
    assert published_kind("story", ["video"]) == "story"
    assert published_kind("reel", ["video"]) == "reel"
