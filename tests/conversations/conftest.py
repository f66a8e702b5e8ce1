"""Fixtures for the conversations tests: accounts matching the webhook fixtures, signed deliveries."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from tests.conftest import FIXTURES, keep_enqueued

PAGE_ID = "104523678912345"
IG_ID = "17841405822304914"
TIKTOK_OPEN_ID = "-000Abc-1234-5678-9abc-def012345678"
PSID = "6782341987654321"
IGSID = "7012345678901234"


def raw_fixture(name: str) -> bytes:
    """The fixture's bytes exactly as stored: signatures are computed over raw bytes."""
    return (FIXTURES / name).read_bytes()


def meta_signature(body: bytes, secret: str = "test-app-secret") -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def tiktok_signature(body: bytes, stamp: int | None = None, secret: str = "test-client-secret") -> str:
    stamp = int(time.time()) if stamp is None else stamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},s={digest}"


@pytest.fixture
def page(account_factory):
    return account_factory("facebook", external_id=PAGE_ID, name="Maison Lumière")


@pytest.fixture
def ig_account(account_factory, page):
    return account_factory("instagram", external_id=IG_ID, parent=page, name="maison.lumiere")


@pytest.fixture
def tiktok_account(account_factory):
    return account_factory("tiktok", external_id=TIKTOK_OPEN_ID)


@pytest.fixture
def sent_events(monkeypatch):
    """webhook_process messages (the view's send, process_webhooks' batches) recorded instead of reaching a broker."""
    return keep_enqueued(monkeypatch, "webhook-process")


@pytest.fixture
def post_meta(client, django_capture_on_commit_callbacks):
    def post(body: bytes | dict, signature: str | None = "auto", **extra):
        if isinstance(body, dict):
            body = json.dumps(body).encode()
        headers = {} if signature is None else {
            "HTTP_X_HUB_SIGNATURE_256": meta_signature(body) if signature == "auto" else signature}
        with django_capture_on_commit_callbacks(execute=True):
            return client.generic("POST", "/api/v1/webhooks/meta", body, content_type="application/json",
                                  **headers, **extra)
    return post


@pytest.fixture
def post_tiktok(client, django_capture_on_commit_callbacks):
    def post(body: bytes | dict, signature: str | None = "auto"):
        if isinstance(body, dict):
            body = json.dumps(body).encode()
        headers = {} if signature is None else {
            "HTTP_TIKTOK_SIGNATURE": tiktok_signature(body) if signature == "auto" else signature}
        with django_capture_on_commit_callbacks(execute=True):
            return client.generic("POST", "/api/v1/webhooks/tiktok", body, content_type="application/json", **headers)
    return post


@pytest.fixture
def deliver(sent_events, post_meta, post_tiktok):
    """POST a fixture as a signed delivery, then run the job it enqueued (as the worker would)."""
    from conversations.services import process_webhook_event

    def run(name: str) -> int:
        poster = post_tiktok if name.startswith("tiktok/") else post_meta
        response = poster(raw_fixture(name))
        assert response.status_code == 200
        for event_id in list(sent_events):
            process_webhook_event(event_id)
        sent_events.clear()
        return response.status_code
    return run


@pytest.fixture(autouse=True)
def drained(monkeypatch):
    """Commands call drain_embedded(); record it instead of starting worker threads inside a test."""
    calls: list[bool] = []
    for module in ("process_webhooks", "sync_conversations"):
        monkeypatch.setattr(f"conversations.management.commands.{module}.drain_embedded", lambda: calls.append(True))
    return calls


@pytest.fixture(autouse=True)
def _no_real_resubscribe(request, monkeypatch):
    """Polls that find webhooks quiet re-subscribe the Page; tests that care replace this themselves,
    or ask for `real_resubscribe` to run the real one (then mock Graph's subscribed_apps)."""
    if "real_resubscribe" not in request.fixturenames:
        monkeypatch.setattr("social.services.subscribe_account_webhooks", lambda account: True)


@pytest.fixture
def real_resubscribe():
    """Keep social.services.subscribe_account_webhooks real in this test."""
