"""Failure injection: each kind produces the platform's own error shape, for the next N matching calls."""

import json

import pytest

from sandbox import failures
from sandbox.models import Failure
from tests.sandbox.conftest import Graph, connect_facebook, connect_tiktok

PAGE, IG = "104500000000001", "17841400000000101"


@pytest.fixture
def page_graph(client, sandbox):
    _, page_tokens = connect_facebook(client)
    return Graph(client, page_tokens[PAGE])


@pytest.mark.parametrize(("code", "subcode"), [(4, None), (17, None), (32, None), (190, 460), (368, 1390008)])
def test_graph_error_codes_come_in_metas_envelope(page_graph, code, subcode):
    failures.inject("graph_error", platform="meta", path="feed", code=code, subcode=subcode)
    response = page_graph.post(f"{PAGE}/feed", {"message": "x"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code and error["type"] == "OAuthException" and error["fbtrace_id"]
    assert error.get("error_subcode") == subcode
    assert page_graph.post(f"{PAGE}/feed", {"message": "y"}).status_code == 200  # only the next one


def test_a_failure_applies_to_the_next_n_matching_calls_only(page_graph):
    failures.inject("graph_error", platform="meta", path="published_posts", method="GET", count=2, code=2)
    assert page_graph.get(PAGE).status_code == 200  # does not match the path
    for _ in range(2):
        error = page_graph.get(f"{PAGE}/published_posts").json()["error"]
        assert error["code"] == 2 and error["is_transient"] is True
    assert page_graph.get(f"{PAGE}/published_posts").status_code == 200
    assert not Failure.objects.exists()


def test_meta_rate_limit_sends_usage_headers_at_one_hundred_percent(page_graph):
    failures.inject("rate_limit", platform="meta", code=80001)
    response = page_graph.get(f"{PAGE}/published_posts")
    assert response.json()["error"]["code"] == 80001
    assert json.loads(response["X-App-Usage"])["call_count"] == 100
    buc = json.loads(response["X-Business-Use-Case-Usage"])[PAGE][0]
    assert buc["type"] == "pages" and buc["call_count"] == 100 and buc["estimated_time_to_regain_access"] == 15


def test_meta_rate_limit_can_answer_http_429(page_graph):
    failures.inject("rate_limit", platform="meta", status=429)
    response = page_graph.get(PAGE)
    assert response.status_code == 429 and response.json()["error"]["code"] == 4


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors(page_graph, status):
    failures.inject("server_error", platform="meta", status=status)
    assert page_graph.get(PAGE).status_code == status


def test_a_slow_answer_waits_a_bounded_time_then_answers_normally(page_graph, frozen, settings):
    failures.inject("slow", platform="meta", delay=3600)
    assert page_graph.get(PAGE).status_code == 200
    assert frozen.slept == [settings.SANDBOX_MAX_DELAY_SECONDS]


def test_container_error_makes_the_next_container_end_in_error(page_graph, frozen):
    failures.inject("container_error", platform="meta", subcode=2207052)
    container = page_graph.post(f"{IG}/media", {"image_url": "https://e.x/a.jpg"}).json()["id"]
    frozen.advance(5)
    status = page_graph.get(container, {"fields": "status_code,status"}).json()
    assert status["status_code"] == "ERROR" and "2207052" in status["status"]
    error = page_graph.post(f"{IG}/media_publish", {"creation_id": container}).json()["error"]
    assert error["code"] == 9007
    other = page_graph.post(f"{IG}/media", {"image_url": "https://e.x/b.jpg"}).json()["id"]
    frozen.advance(5)
    assert page_graph.get(other, {"fields": "status_code"}).json()["status_code"] == "FINISHED"


def _tiktok_call(client, tokens, path, body):
    return client.post(f"/sandbox/tiktok-api/{path}", body, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")


def test_tiktok_rate_limit_is_http_429_with_the_envelope(client, sandbox):
    tokens = connect_tiktok(client)
    failures.inject("rate_limit", platform="tiktok", path="creator_info")
    response = _tiktok_call(client, tokens, "v2/post/publish/creator_info/query/", {})
    assert response.status_code == 429 and response["Retry-After"] == "60"
    assert response.json()["error"]["code"] == "rate_limit_exceeded" and response.json()["data"] == {}


def test_a_tiktok_rate_limit_sends_the_retry_after_it_was_given(client, sandbox):
    tokens = connect_tiktok(client)
    failures.inject("rate_limit", platform="tiktok", path="creator_info", delay=3)
    response = _tiktok_call(client, tokens, "v2/post/publish/creator_info/query/", {})
    assert response.status_code == 429 and response["Retry-After"] == "3"
    assert _tiktok_call(client, tokens, "v2/post/publish/creator_info/query/", {}).status_code == 200  # used up


@pytest.mark.parametrize(("code", "status"), [("access_token_invalid", 401), ("spam_risk_too_many_posts", 403),
                                              ("internal_error", 500)])
def test_tiktok_error_codes_with_their_http_status(client, sandbox, code, status):
    tokens = connect_tiktok(client)
    failures.inject("tiktok_error", platform="tiktok", code=code)
    response = _tiktok_call(client, tokens, "v2/post/publish/creator_info/query/", {})
    assert response.status_code == status and response.json()["error"]["code"] == code


def test_tiktok_publish_failed_with_a_fail_reason(client, sandbox, frozen):
    tokens = connect_tiktok(client)
    failures.inject("publish_failed", platform="tiktok", fail_reason="video_pull_failed")
    init = _tiktok_call(client, tokens, "v2/post/publish/video/init/", {
        "post_info": {"privacy_level": "SELF_ONLY"},
        "source_info": {"source": "PULL_FROM_URL", "video_url": "https://e.x/v.mp4"}}).json()["data"]
    frozen.advance(5)
    status = _tiktok_call(client, tokens, "v2/post/publish/status/fetch/", init).json()["data"]
    assert status["status"] == "FAILED" and status["fail_reason"] == "video_pull_failed"


def test_the_control_api_queues_lists_and_clears_failures(client, sandbox, staff):
    created = client.post("/sandbox/control/failures", {"kind": "graph_error", "platform": "meta", "code": 368,
                                                        "count": 2}, content_type="application/json")
    assert created.status_code == 201
    assert client.get("/sandbox/control/failures").json()["failures"][0]["remaining"] == 2
    bad = client.post("/sandbox/control/failures", {"kind": "explode", "platform": "meta"},
                      content_type="application/json")
    assert bad.status_code == 400
    assert client.delete("/sandbox/control/failures").json() == {"deleted": 1}


def test_the_control_api_refuses_a_signed_in_non_staff_user(client, sandbox, user):
    client.force_login(user)
    response = client.post("/sandbox/control/failures", {"kind": "slow", "platform": "meta"},
                           content_type="application/json")
    assert response.status_code == 403 and not Failure.objects.exists()


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_the_control_api_refuses_an_anonymous_caller(client, sandbox, method):
    failures.inject("slow", platform="meta")
    response = getattr(client, method)("/sandbox/control/failures", {"kind": "slow", "platform": "meta"},
                                       content_type="application/json")
    assert response.status_code == 401
    assert Failure.objects.count() == 1  # nothing added, nothing cleared


def test_the_control_api_takes_a_staff_users_api_token(sandbox, django_user_model):
    from django.test import Client
    from rest_framework.authtoken.models import Token

    admin = django_user_model.objects.create_user("ops", password="x", is_staff=True)
    plain = django_user_model.objects.create_user("plain", password="x")
    headers = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=admin).key}"}
    created = Client().post("/sandbox/control/failures", {"kind": "slow", "platform": "meta"},
                            content_type="application/json", **headers)
    assert created.status_code == 201
    refused = Client().delete("/sandbox/control/failures",
                              HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=plain).key}")
    assert refused.status_code == 403 and Failure.objects.count() == 1
    forged = Client().delete("/sandbox/control/failures", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert forged.status_code == 401 and Failure.objects.count() == 1


def test_a_chunk_upload_can_fail_with_a_server_error_and_be_sent_again(client, sandbox):
    tokens = connect_tiktok(client)
    init = _tiktok_call(client, tokens, "v2/post/publish/video/init/", {
        "post_info": {"privacy_level": "SELF_ONLY"},
        "source_info": {"source": "FILE_UPLOAD", "video_size": 4, "chunk_size": 4, "total_chunk_count": 1}}).json()
    path = init["data"]["upload_url"].replace("http://testserver", "")
    failures.inject("server_error", platform="tiktok", path="tiktok-upload", status=503)
    assert client.put(path, b"abcd", content_type="video/mp4", HTTP_CONTENT_RANGE="bytes 0-3/4").status_code == 503
    assert client.put(path, b"abcd", content_type="video/mp4", HTTP_CONTENT_RANGE="bytes 0-3/4").status_code == 201
