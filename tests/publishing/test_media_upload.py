"""POST /api/v1/media/: images and videos into storage, public absolute URLs, type and size checks."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from tests.conftest import workspace_of_user

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64


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


def test_uploaded_media_url_is_accepted_in_a_post(api_client, account_factory, sent):
    url = upload(api_client, "photo.jpg", JPEG).json()["url"]
    fb = account_factory("facebook")
    response = api_client.post("/api/v1/posts/", {"accounts": [fb.pk], "media": [{"url": url, "type": "image"}]},
                               format="json")
    assert response.status_code == 201
