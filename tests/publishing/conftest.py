"""Publishing fixtures: posts with one target, a recorded `publish` queue and a worker that drains it."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest

from publishing.models import Post, PostMedia, PostTarget
from tests.conftest import keep_enqueued, load_fixture, workspace_of_user

GRAPH = "https://graph.facebook.com/v25.0"
TIKTOK = "https://open.tiktokapis.com/v2/post/publish"
PAGE_ID = "104512345678901"
IG_ID = "17841400000000001"


def fixture(name: str):
    return load_fixture(name)


def form(call) -> dict[str, str]:
    """The form body of a recorded request, one value per field."""
    return {k: v[0] for k, v in parse_qs(call.request.body or "").items()}


def body(call) -> dict:
    return json.loads(call.request.body)


def calls_to(rsps, method: str, url: str) -> list:
    return [c for c in rsps.calls if c.request.method == method and c.request.url.split("?")[0] == url]


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch):
    import social.clients.http as http

    class _Time:
        @staticmethod
        def sleep(seconds):
            return None

    monkeypatch.setattr(http, "time", _Time)


@pytest.fixture
def sent(monkeypatch):
    """Messages sent to the publish queue, as (target_id, delay_ms), kept instead of reaching the broker.

    One send and a batch (unipulse.broker.enqueue_many) alike."""
    return keep_enqueued(monkeypatch, "publish", lambda message, delay: (message.args[0], delay or 0))


@pytest.fixture
def worker(sent):
    """Run the queued publish messages in order, skipping their delays, as a worker would."""
    from publishing.actors import publish

    def run(limit: int = 50) -> int:
        ran = 0
        while sent and ran < limit:
            target_id, _ = sent.pop(0)
            publish(target_id)
            ran += 1
        return ran

    return run


@pytest.fixture
def make_target(db, user, account_factory):
    ids = {"facebook": PAGE_ID, "instagram": IG_ID, "tiktok": "open-tiktok-1"}

    def make(platform: str = "facebook", *, text: str = "Hello from UniPulse", media=(), options=None, link: str = "",
             first_comment: str = "", status: str = "queued", account=None) -> PostTarget:
        if account is None:
            account = account_factory(platform, external_id=ids[platform], username=f"{platform}_1")
        post = Post.objects.create(workspace=workspace_of_user(user), created_by=user, text=text, link=link, first_comment=first_comment)
        for position, (url, kind) in enumerate(media):
            PostMedia.objects.create(post=post, url=url, type=kind, position=position)
        return PostTarget.objects.create(post=post, account=account, status=status, options=options or {},
                                         first_comment=first_comment)

    return make


@pytest.fixture
def retry(django_capture_on_commit_callbacks):
    """services.retry_post, its messages sent as after a real commit. Returns the retried target ids."""
    from publishing import services

    def run(post) -> list[int]:
        with django_capture_on_commit_callbacks(execute=True):
            return services.retry_post(post)

    return run
