"""Isolation, generated over the URL list: every /api/v1/ route that takes an object id answers 404
to a second user for each method it allows, before any platform is called, and changes nothing.

A new object endpoint is covered automatically; one whose object type has no factory below fails
this test until a factory is added.
"""

from __future__ import annotations

import re

import pytest
import responses
from django.urls import get_resolver
from django.urls.resolvers import URLResolver

pytestmark = pytest.mark.django_db

ID_PARAM = re.compile(r"<(?:int|id):(\w*(?:pk|id))>|\(\?P<(\w*(?:pk|id))>[^)]*\)")


def object_routes():
    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern), p

    for route, pattern in walk(get_resolver().url_patterns):
        if route.startswith("api/v1/") and ID_PARAM.search(route):
            yield route, pattern


def allowed_methods(pattern) -> list[str]:
    actions = getattr(pattern.callback, "actions", None)
    if actions:
        # DRF adds "head" to a viewset's actions after its first GET; HEAD mirrors GET, skip it.
        return sorted(m.upper() for m in actions if m not in ("head", "options"))
    cls = getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)
    names = getattr(cls, "http_method_names", ["get"])
    return sorted(m.upper() for m in names if m not in ("options", "head", "trace") and hasattr(cls, m))


def concrete(route: str, object_id: int) -> str:
    path = ID_PARAM.sub(str(object_id), route)
    return "/" + path.replace("^", "").replace("$", "").replace("\\", "")


# Which object each route is about, by the route's shape; the factory makes one owned by `user`.
FACTORIES: list[tuple[re.Pattern, str]] = [
    (re.compile(r"^api/v1/\^?accounts/"), "account"),
    (re.compile(r"^api/v1/\^?posts/"), "post"),
    (re.compile(r"^api/v1/analytics/accounts/"), "account"),
    (re.compile(r"^api/v1/analytics/posts/"), "post"),
    (re.compile(r"^api/v1/analytics/tracked-posts/"), "tracked_post"),
    (re.compile(r"^api/v1/\^?conversations/"), "conversation"),
    (re.compile(r"^api/v1/\^?messages/"), "message"),
]


@pytest.fixture
def make_object(account_factory):
    def make(kind: str):
        if kind == "account":
            return account_factory("tiktok")
        if kind == "post":
            from publishing.models import Post, PostTarget

            post = Post.objects.create(owner=account_factory("facebook").owner, text="Mine only")
            PostTarget.objects.create(post=post, account=account_factory("facebook"), status="failed")
            return post
        if kind in ("conversation", "message"):
            from django.utils import timezone

            from conversations.models import Conversation, Message

            account = account_factory("facebook")
            conversation = Conversation.objects.create(account=account, kind="comment", thread_key="c:1_2",
                                                       platform_post_id="1", root_comment_id="1_2")
            message = Message.objects.create(conversation=conversation, account=account, external_id="1_2",
                                             direction="in", text="Mine only", created_at=timezone.now())
            return conversation if kind == "conversation" else message
        if kind == "tracked_post":
            from analytics.models import TrackedPost

            account = account_factory("instagram")
            return TrackedPost.objects.create(account=account, platform="instagram", platform_post_id="1789")
        raise AssertionError(f"no factory for {kind}")

    return make


def test_every_object_route_is_known():
    routes = [route for route, _ in object_routes()]
    assert routes, "no object routes found"
    unknown = [r for r in routes if not any(rx.search(r) for rx, _ in FACTORIES)]
    assert unknown == [], f"add a factory for these routes: {unknown}"


@pytest.mark.parametrize("route,pattern", list(object_routes()), ids=lambda v: v if isinstance(v, str) else "")
def test_a_second_user_gets_404_on_every_method(route, pattern, make_object, other_client):
    kind = next(k for rx, k in FACTORIES if rx.search(route))
    obj = make_object(kind)
    before = type(obj).objects.filter(pk=obj.pk).values().get()
    url = concrete(route, obj.pk)
    methods = allowed_methods(pattern)
    assert methods, route
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:  # no platform call may go out
        for method in methods:
            response = getattr(other_client, method.lower())(url, data={}, format="json")
            assert response.status_code == 404, f"{method} {url} -> {response.status_code}"
            assert response.json()["error"]["code"] == "not_found"
        assert len(rsps.calls) == 0
    assert type(obj).objects.filter(pk=obj.pk).values().get() == before  # still there, every column untouched
