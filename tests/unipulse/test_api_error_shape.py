"""Errors under /api/ are JSON in the API's shape, also when Django (not DRF) answers them."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("url", ["/api/v1/no-such-thing/", "/api/v2/posts/", "/api/v1/posts/abc/", "/api/"])
def test_an_unknown_api_url_is_a_json_404(api_client, settings, url, debug):
    settings.DEBUG = debug
    response = api_client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


@pytest.mark.parametrize("debug", [True, False])
def test_a_rejected_host_under_api_is_a_json_400(client, settings, debug):
    settings.DEBUG = debug
    response = client.get("/api/v1/posts/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "invalid_host", "message": "This server does not answer for that Host.",
                                         "fields": {}}}


def test_a_plain_views_405_under_api_is_json_and_keeps_allow(client):
    response = client.put("/api/v1/webhooks/meta")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response["Allow"] == "GET, POST"


def test_outside_api_django_still_answers_html(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")
