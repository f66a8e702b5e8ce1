"""`make demo`: a demo login with sandbox Facebook, Instagram and TikTok accounts, one post of each content
type published, an analytics sync, and a comment and a DM in the inbox — through the public API over HTTP,
exactly as a frontend would. Idempotent: a second run finds the same accounts and posts and adds nothing.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlparse

import requests
from django.conf import settings

SAMPLES = Path(settings.BASE_DIR) / "docs" / "samples"
FINISHED = ("published", "failed", "unconfirmed")


class DemoError(Exception):
    """A step of the demo did not work; its message says which and what the server answered."""


class _ConsentForm(HTMLParser):
    """The sandbox consent page's form: hidden inputs and ticked boxes, as a browser posts them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") and (a.get("type") != "checkbox" or "checked" in a):
            self.fields.append((a["name"], a.get("value") or ""))


@dataclass
class Api:
    base: str
    token: str
    calls: list[str] = field(default_factory=list)

    def __call__(self, method: str, path: str, expect: tuple[int, ...] = (200, 201, 202), **kwargs) -> requests.Response:
        response = requests.request(method, self.base + path, headers={"Authorization": f"Token {self.token}",
                                                                        **kwargs.pop("headers", {})},
                                    timeout=30, **kwargs)
        if response.status_code not in expect:
            raise DemoError(f"{method} {path} answered {response.status_code}: {response.text[:300]}")
        return response


def connect(api: Api, platform: str) -> list[int]:
    """OAuth through the API and the sandbox's consent page; returns the connected account ids."""
    start = api("GET", f"/api/v1/auth/oauth/{platform}", headers={"Accept": "application/json"})
    browser = requests.Session()
    dialog = start.json()["authorization_url"]
    page = browser.get(dialog, timeout=30)
    form = _ConsentForm()
    form.feed(page.text)
    approved = browser.post(dialog, data=[*form.fields, ("action", "approve")], allow_redirects=False,
                            headers={"Referer": dialog}, timeout=30)
    if approved.status_code != 302:
        raise DemoError(f"the sandbox {platform} dialog answered {approved.status_code}")
    callback = browser.get(urljoin(dialog, approved.headers["Location"]), allow_redirects=False, timeout=60)
    query = parse_qs(urlparse(callback.headers.get("Location", "")).query)
    if query.get("result") != ["connected"]:
        raise DemoError(f"connecting {platform} ended with {query.get('error', ['no answer'])[0]}")
    return [int(i) for i in query["accounts"][0].split(",")]


def upload(api: Api, name: str) -> str:
    with (SAMPLES / name).open("rb") as f:
        return api("POST", "/api/v1/media/", files={"file": (name, f)}).json()["url"]


def demo_posts(accounts: dict[str, int], photo: str, clip: str) -> list[tuple[str, dict]]:
    """(idempotency key, body) of one post of each content type."""
    image, video = {"url": photo, "type": "image"}, {"url": clip, "type": "video"}
    fb, ig, tt = accounts["facebook"], accounts["instagram"], accounts["tiktok"]
    posts = [
        ("facebook-text", {"text": "Hello from the UniPulse demo", "accounts": [fb]}),
        ("facebook-link", {"text": "Our story", "link": "https://example.com/about", "accounts": [fb]}),
        ("facebook-photo", {"text": "A photo", "media": [image], "accounts": [fb]}),
        ("facebook-photos", {"text": "Two photos", "media": [image, image], "accounts": [fb]}),
        ("facebook-video", {"text": "A video", "media": [video], "accounts": [fb]}),
        ("instagram-image", {"text": "Fresh today #demo", "media": [image], "accounts": [ig],
                             "first_comment": "First!"}),
        ("instagram-carousel", {"text": "Swipe", "media": [image, image], "accounts": [ig],
                                "options": {"instagram": {"kind": "carousel"}}}),
        ("instagram-reel", {"text": "A reel", "media": [video], "accounts": [ig], "options": {"instagram": {"kind": "reel"}}}),
        ("instagram-story", {"media": [image], "accounts": [ig], "options": {"instagram": {"kind": "story"}}}),
        ("tiktok-video", {"text": "A TikTok", "media": [video], "accounts": [tt],
                          "options": {"tiktok": {"privacy_level": "PUBLIC_TO_EVERYONE"}}}),
        ("tiktok-photos", {"text": "TikTok photos", "media": [image, image], "accounts": [tt],
                           "options": {"tiktok": {"privacy_level": "SELF_ONLY"}}}),
    ]
    return [(f"demo-{key}", body) for key, body in posts]


def wait_published(api: Api, post_ids: list[int], timeout: float) -> dict[int, list[str]]:
    deadline = time.monotonic() + timeout
    while True:
        statuses = {pk: [t["status"] for t in api("GET", f"/api/v1/posts/{pk}/").json()["targets"]] for pk in post_ids}
        if all(s in FINISHED for targets in statuses.values() for s in targets) or time.monotonic() > deadline:
            return statuses
        time.sleep(1)


def server_answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def sandbox_served(base: str) -> bool:
    """A server started with the sandbox off answers 404 under /sandbox/; with it on, this asks for a login."""
    try:
        return requests.get(f"{base}/sandbox/control/failures", timeout=5).status_code != 404
    except requests.RequestException:
        return False


def start_server(port: int):
    """This process serves the app on 127.0.0.1:port in a thread (when `make run` is not running)."""
    from django.core.servers.basehttp import (
        ThreadedWSGIServer,
        WSGIRequestHandler,
        get_internal_wsgi_application,
    )

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", port), Quiet, allow_reuse_address=True)
    server.set_app(get_internal_wsgi_application())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def wait_for(check, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(1)
    return True
