"""Analytics fixtures: accounts with real-looking ids, fixtures shifted to "now", Graph/TikTok URLs."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import dramatiq
import pytest
from django.utils import timezone

from tests.conftest import load_fixture

GRAPH = "https://graph.facebook.com/v25.0"
TIKTOK = "https://open.tiktokapis.com"
FIXTURE_NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # the fixtures' dates are relative to this moment


def mock_kind_only_insights(rsps) -> None:
    """Graph's multi-id lookup (GET /?ids=...) for the per-type insights: every media with no extra metric."""
    def answer(request):
        ids = parse_qs(urlparse(request.url).query)["ids"][0].split(",")
        return 200, {}, json.dumps({media_id: {"id": media_id, "insights": {"data": []}} for media_id in ids})

    rsps.add_callback("GET", f"{GRAPH}/", callback=answer)


def load_fresh(name: str):
    """A fixture with its post dates moved so that they keep their age relative to now."""
    body = copy.deepcopy(load_fixture(name))
    shift = timezone.now() - FIXTURE_NOW
    items = body.get("data") if isinstance(body.get("data"), list) else (body.get("data") or {}).get("videos", [])
    for item in items:
        for key in ("created_time", "timestamp"):
            if key in item:
                moment = datetime.strptime(item[key], "%Y-%m-%dT%H:%M:%S%z") + shift
                item[key] = moment.strftime("%Y-%m-%dT%H:%M:%S+0000")
        if "create_time" in item:
            item["create_time"] = int(item["create_time"] + shift.total_seconds())
    return body


def query(call) -> dict[str, str]:
    """The query string of a recorded request, one value per name."""
    return {k: v[0] for k, v in parse_qs(urlparse(call.request.url).query).items()}


def json_body(call) -> dict:
    return json.loads(call.request.body)


@pytest.fixture
def fb_account(account_factory):
    return account_factory("facebook", external_id="101", name="Bakery Page")


@pytest.fixture
def ig_account(account_factory):
    return account_factory("instagram", external_id="17841400000000001", username="bakery")


@pytest.fixture
def tt_account(account_factory):
    return account_factory("tiktok", external_id="open-3", username="bakery")


@pytest.fixture
def stub_broker():
    broker = dramatiq.get_broker()
    broker.flush_all()
    yield broker
    broker.flush_all()
