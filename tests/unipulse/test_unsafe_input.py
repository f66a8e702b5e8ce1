"""NUL characters, lone surrogates and deep nesting in API input: a 400 naming the field, never a 500,
the same on SQLite and PostgreSQL (PostgreSQL refuses NUL in text; no driver encodes a lone surrogate)."""

from __future__ import annotations

import json

import pytest

from publishing.models import Post
from unipulse.text import UNSAFE_MESSAGE, clean_json, json_depth, unsafe_text_paths

pytestmark = pytest.mark.django_db


def post_json(client, url: str, body: str):
    return client.generic("POST", url, body.encode(), content_type="application/json")


@pytest.mark.parametrize(("body", "field"), [
    ({"text": "hi\u0000", "accounts": [1]}, "text"),
    ({"text": "hi", "accounts": [1], "options": {"tiktok": {"title": "a\ud800b"}}}, "options.tiktok.title"),
    ({"text": "hi", "accounts": [1], "options": {"face\u0000book": {}}}, "options.facebook"),
    ({"text": "hi", "accounts": [1], "media": [{"url": "https://x.test/a\u0000.jpg", "type": "image"}]}, "media.0.url"),
])
def test_a_nul_or_lone_surrogate_in_a_post_body_is_a_400_naming_the_field(api_client, account_factory, body, field):
    body["accounts"] = [account_factory("facebook").pk]
    response = post_json(api_client, "/api/v1/posts/", json.dumps(body))  # ensure_ascii: sent as \u escapes
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "invalid", "message": f"{field}: {UNSAFE_MESSAGE}",
                                         "fields": {field: [UNSAFE_MESSAGE]}}}
    assert Post.objects.count() == 0


def test_the_same_post_without_the_nul_is_created(api_client, account_factory):
    body = {"text": "hi", "accounts": [account_factory("facebook").pk], "options": {"facebook": {}}}
    assert post_json(api_client, "/api/v1/posts/", json.dumps(body)).status_code == 201


@pytest.mark.parametrize("url", ["/api/v1/posts/", "/api/v1/auth/token/"])
def test_json_nested_tens_of_thousands_deep_is_a_400_not_a_recursion_error(api_client, url):
    response = post_json(api_client, url, "[" * 50_000 + "]" * 50_000)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert "deeper than 32 levels" in response.json()["error"]["message"]


def test_the_api_depth_limit_is_the_json_max_depth_setting(api_client, settings):
    settings.JSON_MAX_DEPTH = 3
    deep = post_json(api_client, "/api/v1/posts/", json.dumps({"options": {"tiktok": {"x": []}}}))
    assert deep.status_code == 400 and "deeper than 3 levels" in deep.json()["error"]["message"]
    shallow = post_json(api_client, "/api/v1/posts/", json.dumps({"options": {"tiktok": {}}}))
    assert shallow.status_code == 400 and shallow.json()["error"]["code"] == "invalid"  # the serializer's turn


def test_a_nul_in_a_form_field_is_a_400_naming_it(client, user):
    response = client.post("/api/v1/auth/token/", {"username": "ann\x00", "password": "x"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"username": [UNSAFE_MESSAGE]}


@pytest.mark.parametrize(("url", "name"), [
    ("/api/v1/conversations/?search=a%00b", "search"),
    ("/api/v1/posts/?platform=%00", "platform"),
    ("/api/v1/conversations/?se%00arch=x", "search"),
])
def test_a_nul_in_a_query_parameter_is_a_400_naming_it(api_client, url, name):
    response = api_client.get(url)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {name: [UNSAFE_MESSAGE]}


def test_a_nul_in_a_media_path_is_a_400_not_a_500(client):
    response = client.get("/media/uploads/a%00.jpg")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"path": [UNSAFE_MESSAGE]}


def test_unsafe_text_paths_and_clean_json_agree():
    value = {"a": ["ok", "x\x00"], "k\ud800": {"n": 1}, "b": {"c": "\udfff"}}
    assert unsafe_text_paths(value) == ["a.1", "b.c", "k\ufffd"]
    assert clean_json(value) == {"a": ["ok", "x"], "k\ufffd": {"n": 1}, "b": {"c": "\ufffd"}}
    assert unsafe_text_paths(clean_json(value)) == []
    assert (json_depth(1), json_depth([]), json_depth({"a": [[{}]]})) == (0, 1, 4)


@pytest.mark.parametrize("as_bytes", [False, True])
def test_loads_limited_refuses_one_level_too_deep_and_is_not_fooled_by_brackets_in_strings(as_bytes):
    from unipulse.text import JsonTooDeepError, loads_limited

    def text(value: str):
        return value.encode() if as_bytes else value

    assert loads_limited(text("[" * 4 + "]" * 4), max_depth=4) == [[[[]]]]
    with pytest.raises(JsonTooDeepError, match="deeper than 4 levels"):
        loads_limited(text("[" * 5 + "]" * 5), max_depth=4)
    shallow = '{"message": "' + "[{" * 50 + '", "entry": [{}]}'  # 102 brackets, nesting 3
    assert loads_limited(text(shallow), max_depth=4)["entry"] == [{}]
    deep_beside_strings = '{"m": "[[[[", "a": [[[[[]]]]]}'  # the walk still runs when the count allows a deep one
    with pytest.raises(JsonTooDeepError):
        loads_limited(text(deep_beside_strings), max_depth=4)
