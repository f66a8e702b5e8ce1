"""The production clients (social.clients) run unchanged against the sandbox.

A requests transport adapter hands each outgoing call to Django's test client, so the real
`social.clients.http.request` path (timeouts, error mapping, usage headers) is exercised in-process.
"""

from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client

from social.clients import http, meta, tiktok
from tests.sandbox.conftest import REDIRECT, approve_facebook, connect_tiktok
from unipulse.platform_errors import InvalidRequestError, ReauthRequiredError


class DjangoAdapter(requests.adapters.BaseAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.client = Client()

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        content_type = request.headers.get("Content-Type", "application/octet-stream")
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in request.headers.items()
                 if k.lower() not in ("content-type", "content-length")}
        answer = self.client.generic(request.method, path, request.body or b"", content_type=content_type, **extra)
        response = requests.Response()
        response.status_code, response._content, response.url = answer.status_code, answer.content, request.url
        response.headers.update({k: v for k, v in answer.items()})
        response.request = request
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def through_sandbox(sandbox, monkeypatch):
    session = requests.Session()
    session.mount("http://testserver/", DjangoAdapter())
    monkeypatch.setattr(http, "_session", session)


def test_meta_code_exchange_long_lived_exchange_and_debug_token(client, through_sandbox):
    code = approve_facebook(client)
    short = meta.exchange_code(code, REDIRECT)
    long = meta.exchange_long_lived_token(short.access_token)
    assert long.expires_at > short.expires_at
    info = meta.debug_token(long.access_token)
    assert info.is_valid and info.type == "USER" and info.user_id == "10150000000000001"
    assert "pages_manage_posts" in info.scopes and info.data_access_expires_at is not None


def test_meta_code_reuse_raises_a_typed_error(client, through_sandbox):
    code = approve_facebook(client)
    meta.exchange_code(code, REDIRECT)
    with pytest.raises(InvalidRequestError) as caught:
        meta.exchange_code(code, REDIRECT)
    assert caught.value.subcode == 36009


def test_tiktok_refresh_rotates_through_the_production_client(client, through_sandbox):
    tokens = connect_tiktok(client)
    grant = tiktok.refresh_access_token(tokens["refresh_token"])
    assert grant.open_id == tokens["open_id"] and grant.expires_in == 7200
    assert grant.refresh_token != tokens["refresh_token"]
    with pytest.raises(ReauthRequiredError):
        tiktok.refresh_access_token(tokens["refresh_token"])
