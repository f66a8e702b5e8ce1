"""POST /api/v1/media/: images and videos into storage, public absolute URLs, type and size checks."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from tests.conftest import workspace_of_user
from tests.media import image, jpeg, video

pytestmark = pytest.mark.django_db

JPEG = jpeg(40, 30)
MP4 = video(4)


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    settings.PUBLIC_BASE_URL = "https://app.example.com"


def upload(client, name, content, content_type="application/octet-stream"):
    return client.post("/api/v1/media/", {"file": SimpleUploadedFile(name, content, content_type)}, format="multipart")


def test_an_image_is_stored_and_gets_a_public_url(api_client, user, tmp_path):
    response = upload(api_client, "photo.jpeg", JPEG, "image/jpeg")

    assert response.status_code == 201
    data = response.json()
    assert data["type"] == "image" and data["content_type"] == "image/jpeg" and data["size"] == len(JPEG)
    assert (data["width"], data["height"], data["duration"]) == (40, 30, None)
    assert data["url"].startswith(f"https://app.example.com/media/uploads/w{workspace_of_user(user).pk}/") and data["url"].endswith(".jpg")
    stored = tmp_path / data["url"].split("/media/", 1)[1]
    assert stored.read_bytes() == JPEG


def test_a_video_is_recognised_by_its_content_not_its_name(api_client):
    response = upload(api_client, "clip.jpg", MP4)
    assert response.status_code == 201
    assert (response.json()["type"], response.json()["url"][-4:]) == ("video", ".mp4")


def test_other_files_are_refused(api_client):
    response = upload(api_client, "evil.jpg", b"<?php echo 1; ?>")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "file": ["Upload a JPEG, PNG or WebP image, or an MP4, MOV or WebM video."]}


@override_settings(MEDIA_MAX_IMAGE_BYTES=50)
def test_too_large_images_are_refused(api_client):
    response = upload(api_client, "big.jpg", JPEG)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"file": ["This image is larger than 50\xa0bytes."]}


def _png_bomb(width: int, height: int) -> bytes:
    """A valid PNG of width x height black pixels that compresses to a few KB (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + b"\x00" * ((width + 7) // 8)  # 1-bit greyscale, filter byte 0
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


@pytest.mark.parametrize(("name", "content", "message"), [
    ("junk.png", b"\x89PNG\r\n\x1a\n" + b"junk" * 100, "This file is not a readable image."),
    ("junk.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"junk" * 100, "This file is not a readable image."),
    ("cut.jpg", JPEG[: len(JPEG) // 2], "This file is not a readable image."),
    ("cut.png", image(300, 300, "PNG")[:-200], "This file is not a readable image."),
    ("junk.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, "This file is not a readable video."),
    ("cut.mp4", MP4[: len(MP4) // 3], "This file is not a readable video."),
    ("junk.webm", b"\x1a\x45\xdf\xa3" + b"junk" * 100, "This file is not a readable video."),
    ("junk.mov", b"\x00\x00\x00\x14ftypqt  " + b"\x00" * 64, "This file is not a readable video."),
])
def test_a_file_that_does_not_decode_is_refused_and_not_stored(api_client, tmp_path, name, content, message):
    response = upload(api_client, name, content)
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "invalid", "message": f"file: {message}",
                                         "fields": {"file": [message]}}}
    assert not list(tmp_path.rglob("*.*"))


def test_a_20000_pixel_square_png_of_a_few_kb_is_refused_by_the_pixel_limit(api_client, tmp_path):
    bomb = _png_bomb(20_000, 20_000)
    assert len(bomb) < 100_000
    response = upload(api_client, "bomb.png", bomb)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"file": ["This image has more than 50,000,000 pixels."]}
    assert not list(tmp_path.rglob("*.png"))


def test_the_pixel_limit_is_the_media_max_image_pixels_setting(api_client, settings):
    settings.MEDIA_MAX_IMAGE_PIXELS = 1000
    assert upload(api_client, "ok.png", image(40, 25, "PNG")).status_code == 201
    refused = upload(api_client, "big.png", image(40, 26, "PNG"))
    assert refused.json()["error"]["fields"] == {"file": ["This image has more than 1,000 pixels."]}


@pytest.mark.parametrize(("fmt", "codec", "extension"), [("mp4", "libx264", ".mp4"), ("webm", "libvpx", ".webm"),
                                                         ("mov", "mpeg4", ".mov")])
def test_real_videos_of_each_container_report_duration_resolution_rate_and_codecs(api_client, fmt, codec, extension):
    response = upload(api_client, "clip", video(3, width=64, height=36, fps=10, codec=codec, fmt=fmt,
                                               audio=fmt != "webm"))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["url"].endswith(extension)
    assert (data["width"], data["height"], data["frame_rate"]) == (64, 36, 10.0)
    assert data["duration"] == pytest.approx(3, abs=0.2)
    assert data["video_codec"] == {"libx264": "h264", "libvpx": "vp8", "mpeg4": "mpeg4"}[codec]
    assert data["audio_codec"] == ("" if fmt == "webm" else "aac")


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_real_png_and_webp_images_report_their_size(api_client, fmt):
    data = upload(api_client, "img", image(120, 90, fmt)).json()
    assert (data["type"], data["width"], data["height"]) == ("image", 120, 90)


def test_uploaded_media_url_is_accepted_in_a_post(api_client, account_factory, sent):
    url = upload(api_client, "photo.jpg", JPEG).json()["url"]
    fb = account_factory("facebook")
    response = api_client.post("/api/v1/posts/", {"accounts": [fb.pk], "media": [{"url": url, "type": "image"}]},
                               format="json")
    assert response.status_code == 201


@pytest.mark.parametrize("platform", ["facebook", "instagram", "tiktok"])
@pytest.mark.parametrize("url", [
    "https://app.example.com/media/../../etc/passwd",
    "https://app.example.com/media/uploads/%2e%2e/%2E%2E/etc/passwd",
    "https://app.example.com/media/uploads/..%5C..%5Cetc/passwd",
    "https://cdn.example.org/a/./b.jpg",
])
def test_a_media_url_with_dot_segments_is_a_json_400_on_every_platform(api_client, account_factory, platform, url):
    account = account_factory(platform)
    response = api_client.post("/api/v1/posts/", {"text": "x", "accounts": [account.pk],
                                                  "media": [{"url": url, "type": "image"}],
                                                  "options": {"tiktok": {"privacy_level": "SELF_ONLY"}}}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["fields"] == {
        "media": {"0": {"url": ["Use the media URL as it is, without '.' or '..' segments in its path."]}}}


@pytest.mark.parametrize("platform", ["facebook", "instagram"])
def test_an_own_media_url_without_an_upload_behind_it_is_refused(api_client, account_factory, platform, workspace):
    account = account_factory(platform)
    response = api_client.post("/api/v1/posts/", {"text": "x", "accounts": [account.pk], "media": [
        {"url": f"https://app.example.com/media/uploads/w{workspace.pk}/nothing-here.jpg", "type": "image"}]},
        format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "media": {"0": {"url": ["No uploaded file at this URL; upload it through /api/v1/media/ first."]}}}


@pytest.mark.parametrize("platform", ["facebook", "instagram", "tiktok"])
def test_another_workspaces_upload_cannot_be_posted_by_its_url(api_client, other_client, account_factory, other_user,
                                                             platform):
    theirs = upload(other_client, "photo.jpg", JPEG).json()["url"]
    account = account_factory(platform)
    response = api_client.post("/api/v1/posts/", {"text": "x", "accounts": [account.pk],
                                                  "media": [{"url": theirs, "type": "image"}],
                                                  "options": {"tiktok": {"privacy_level": "SELF_ONLY"}}}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"media": {"0": {"url": [
        "This upload is not one of this workspace's: upload the file here (POST /api/v1/media/)."]}}}
    mine = upload(api_client, "photo.jpg", JPEG).json()["url"]
    assert mine.split("/uploads/")[1].split("/")[0] != theirs.split("/uploads/")[1].split("/")[0]


def test_an_uploaded_video_posted_as_an_image_is_refused(api_client, account_factory):
    url = upload(api_client, "clip.mp4", MP4).json()["url"]
    fb = account_factory("facebook")
    response = api_client.post("/api/v1/posts/", {"accounts": [fb.pk], "media": [{"url": url, "type": "image"}]},
                               format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"media": {"0": {"url": ["This file is not a readable image."]}}}
