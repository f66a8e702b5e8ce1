"""Shared fixtures: users, an authenticated API client, account factories, platform fixtures."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import dramatiq
import pytest
import responses as responses_lib
from django.utils import timezone
from rest_framework.test import APIClient

from social.clients import ratelimit

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str):
    """A real-shaped platform payload from tests/fixtures/<platform>/<name>.json."""
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(autouse=True)
def _clean_rate_limits():
    ratelimit.get_store().clear()
    yield
    ratelimit.get_store().clear()


@pytest.fixture(autouse=True)
def _clean_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="alice", email="alice@example.com", password="pw-alice-123")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="mallory", email="mallory@example.com", password="pw-mallory-123")


@pytest.fixture
def workspace(user):
    """alice's personal workspace (she is its owner): where account_factory puts accounts by default."""
    from workspaces.services import personal_workspace

    return personal_workspace(user)


def workspace_of_user(user):
    from workspaces.services import personal_workspace

    return personal_workspace(user)


@pytest.fixture
def member_factory(db, django_user_model):
    """A new user with `role` in `workspace`; returns (user, APIClient signed in as them)."""
    from workspaces.models import Membership

    counter = {"n": 0}

    def make(workspace, role: str):
        counter["n"] += 1
        member = django_user_model.objects.create_user(username=f"{role}-{counter['n']}",
                                                       email=f"{role}-{counter['n']}@example.com", password="pw-123-xyz")
        Membership.objects.create(user=member, workspace=workspace, role=role)
        client = APIClient()
        client.force_authenticate(member)
        return member, client

    return make


@pytest.fixture
def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def other_client(other_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(other_user)
    return client


@pytest.fixture
def account_factory(db, user):
    from social.models import SocialAccount

    counter = {"n": 0}
    defaults = {
        "facebook": {"scopes": ["pages_show_list", "pages_manage_posts", "pages_read_engagement", "pages_manage_metadata",
                                 "read_insights", "pages_manage_engagement", "pages_messaging"]},
        "instagram": {"scopes": ["instagram_basic", "instagram_content_publish", "instagram_manage_comments",
                                  "instagram_manage_insights", "instagram_manage_messages", "pages_show_list"]},
        "tiktok": {"scopes": ["user.info.basic", "user.info.profile", "user.info.stats", "video.list",
                               "video.publish", "video.upload"]},
    }

    def make(platform: str = "facebook", owner=None, workspace=None, **fields) -> SocialAccount:
        counter["n"] += 1
        n = counter["n"]
        values = {
            "workspace": workspace or workspace_of_user(owner or user),
            "connected_by": owner or user,
            "platform": platform,
            "external_id": f"{platform}-{n}",
            "platform_user_id": "fbuser-1" if platform != "tiktok" else f"open-{n}",
            "name": f"{platform.title()} account {n}",
            "username": f"{platform}_{n}",
            "access_token": f"secret-access-{platform}-{n}-XYZ",
            "refresh_token": f"secret-refresh-{platform}-{n}-XYZ" if platform == "tiktok" else "",
            "token_expires_at": timezone.now() + timedelta(hours=2) if platform == "tiktok" else None,
            "refresh_token_expires_at": timezone.now() + timedelta(days=180) if platform == "tiktok" else None,
            **defaults[platform],
        }
        values.update(fields)
        return SocialAccount.objects.create(**values)

    return make


@pytest.fixture
def mocked_platforms():
    """Platform HTTP mocked with `responses`; any unmocked call fails the test (no internet)."""
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def staff(client, django_user_model):
    """The test client, signed in as a superuser (admin pages and actions)."""
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123"))
    return client


@pytest.fixture
def broker():
    """The configured (stub) broker, emptied before and after the test, for reading what was enqueued."""
    broker = dramatiq.get_broker()
    broker.flush_all()
    yield broker
    broker.flush_all()


def keep_enqueued(monkeypatch, queue: str, keep=lambda message, delay: message.args[0]) -> list:
    """Messages sent to `queue` are kept in the returned list (as `keep(message, delay)`) instead of reaching
    the broker; other queues are untouched. Taken at the broker's enqueue, so one `actor.send` and a batch
    (unipulse.broker.enqueue_many, the enqueue commands) are both seen."""
    kept: list = []
    broker = dramatiq.get_broker()
    enqueue = broker.enqueue

    def enqueue_or_keep(message, *, delay=None):
        if message.queue_name != queue:
            return enqueue(message, delay=delay)
        kept.append(keep(message, delay))
        return message

    monkeypatch.setattr(broker, "enqueue", enqueue_or_keep)
    return kept


@pytest.fixture
def no_drain(monkeypatch):
    """The enqueueing commands leave their messages on the stub broker (no embedded worker runs them)."""
    for module in ("publishing.management.commands.publish_due", "tokens.management.commands.refresh_tokens",
                   "analytics.management.commands.sync_analytics",
                   "conversations.management.commands.sync_conversations",
                   "conversations.management.commands.process_webhooks"):
        monkeypatch.setattr(f"{module}.drain_embedded", lambda: None)


def side_by_side(call) -> tuple[list[Exception], list]:
    """Run `call` in two threads released together, each on its own database connection; returns
    (errors, results). For the tests of what two workers or requests do at the same moment."""
    barrier = threading.Barrier(2)
    errors, results = [], []

    def worker():
        from django.db import connections

        try:
            barrier.wait()
            results.append(call())
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return errors, results


def recorded_events(event_type: str | None = None) -> list:
    """The outbox's events (events.models.Event), oldest first, optionally of one type."""
    from events.models import Event

    events = Event.objects.order_by("seq")
    return list(events.filter(type=event_type) if event_type else events)


@contextmanager
def own_redis_broker(**options) -> Iterator[tuple]:
    """(a RedisBroker on REDIS_URL under a namespace of its own, that namespace); its keys deleted after."""
    from dramatiq.brokers.redis import RedisBroker

    namespace = f"unipulse-test-{uuid.uuid4().hex[:8]}"
    broker = RedisBroker(url=os.environ["REDIS_URL"], namespace=namespace, **options)
    try:
        yield broker, namespace
    finally:
        for key in broker.client.scan_iter(match=f"{namespace}*"):
            broker.client.delete(key)
        broker.close()
