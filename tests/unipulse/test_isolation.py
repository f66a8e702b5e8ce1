"""Isolation and roles, generated over the URL list: every /api/v1/ route that takes an object id ×
every method it allows × {non-member, viewer, editor, admin, owner} answers an exact status.

- a non-member gets 404 (`not_found`) and nothing changes, before any platform is called;
- a member whose role is below what workspaces/permissions.py asks gets 403 (`role_required`) and
  nothing changes, before any platform is called;
- a member allowed by the table gets the status in ALLOWED (the action run with an empty body).

A new object endpoint is covered automatically: one whose object type has no factory below, or whose
allowed status is not in ALLOWED, fails this test until it is added.
"""

from __future__ import annotations

import re

import pytest
import responses
from django.urls import get_resolver
from django.urls.resolvers import URLResolver

from workspaces.models import Membership, Role
from workspaces.permissions import PERMISSIONS, PUBLIC, SIGNED_IN, rule_for

pytestmark = pytest.mark.django_db

ID_PARAM = re.compile(r"<(?:int|id):(\w*(?:pk|id))>|\(\?P<(\w*(?:pk|id))>[^)]*\)")
ROLES = ["non-member", Role.VIEWER, Role.EDITOR, Role.ADMIN, Role.OWNER]


def api_routes():
    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern), p

    for route, pattern in walk(get_resolver().url_patterns):
        if route.startswith("api/v1/"):
            yield route, pattern


def object_routes():
    return [(route, pattern) for route, pattern in api_routes() if ID_PARAM.search(route)]


def allowed_methods(pattern) -> list[str]:
    actions = getattr(pattern.callback, "actions", None)
    if actions:
        # DRF adds "head" to a viewset's actions after its first GET; HEAD mirrors GET, skip it.
        return sorted(m.upper() for m in actions if m not in ("head", "options"))
    cls = getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)
    names = getattr(cls, "http_method_names", ["get"])
    return sorted(m.upper() for m in names if m not in ("options", "head", "trace") and hasattr(cls, m))


def concrete(route: str, workspace_id: int, object_id: int) -> str:
    def fill(match):
        name = match.group(1) or match.group(2)
        return str(workspace_id if name == "workspace_id" else object_id)

    path = ID_PARAM.sub(fill, route)
    return "/" + path.replace("^", "").replace("$", "").replace("\\", "")


# Which object each route is about, by the route's shape; the factory makes one in the team workspace.
FACTORIES: list[tuple[re.Pattern, str]] = [
    (re.compile(r"^api/v1/workspaces/<id:workspace_id>/members/<id:pk>"), "member"),
    (re.compile(r"^api/v1/workspaces/<id:workspace_id>/invitations/<id:pk>"), "invitation"),
    (re.compile(r"^api/v1/workspaces/<id:workspace_id>/"), "workspace"),
    (re.compile(r"^api/v1/\^?accounts/"), "account"),
    (re.compile(r"^api/v1/\^?posts/"), "post"),
    (re.compile(r"^api/v1/analytics/accounts/"), "account"),
    (re.compile(r"^api/v1/analytics/posts/"), "post"),
    (re.compile(r"^api/v1/analytics/tracked-posts/"), "tracked_post"),
    (re.compile(r"^api/v1/\^?conversations/"), "conversation"),
    (re.compile(r"^api/v1/\^?messages/"), "message"),
    (re.compile(r"^api/v1/webhook-endpoints/<id:pk>/deliveries/<id:delivery_id>/"), "webhook_delivery"),
    (re.compile(r"^api/v1/webhook-endpoints/"), "webhook_endpoint"),
]

# What a member allowed by the table gets, with an empty body, by URL name and method (a dict: by role).
# 502: the call reaches the platform, which is unreachable here (responses refuses unmocked calls).
# 409: the sample post's target failed (a started post cannot be edited; it is not waiting for approval).
ALLOWED = {
    ("workspace-detail", "GET"): 200, ("workspace-detail", "PATCH"): 200, ("workspace-detail", "DELETE"): 204,
    ("workspace-leave", "POST"): {Role.OWNER: 409, None: 204},  # the last owner cannot leave
    ("workspace-members", "GET"): 200,
    ("workspace-member-detail", "GET"): 200, ("workspace-member-detail", "PATCH"): 400,
    ("workspace-member-detail", "DELETE"): 204,
    ("workspace-invitations", "GET"): 200, ("workspace-invitations", "POST"): 400,
    ("workspace-invitation-detail", "GET"): 200, ("workspace-invitation-detail", "DELETE"): 200,
    ("workspace-audit", "GET"): 200,
    ("account-detail", "GET"): 200, ("account-detail", "DELETE"): 200,
    ("account-refresh", "POST"): 502,
    ("account-sync", "POST"): 202,
    ("account-publishing-options", "GET"): 200,  # the static rules; TikTok unreachable: live_error
    ("account-schedule", "GET"): 200, ("account-schedule", "PUT"): 400,  # no `times`
    ("account-schedule-from-best-times", "POST"): 409,  # the sample account has no analytics yet
    ("account-queue", "GET"): 200, ("account-queue-reorder", "POST"): 400, ("account-queue-shuffle", "POST"): 200,
    ("post-detail", "GET"): 200, ("post-detail", "PATCH"): 409, ("post-detail", "DELETE"): 200,
    ("post-retry", "POST"): 202, ("post-retry-noslash", "POST"): 202,
    ("post-approve", "POST"): 409, ("post-reject", "POST"): 400,
    ("analytics-account", "GET"): 200, ("analytics-account-best-times", "GET"): 200, ("analytics-post", "GET"): 200, ("analytics-tracked-post", "GET"): 200,
    ("conversation-detail", "GET"): 200, ("conversation-detail", "PATCH"): 200,
    ("conversation-messages", "GET"): 200, ("conversation-reply", "POST"): 400, ("conversation-read", "POST"): 200,
    ("message-hide", "POST"): 502, ("message-unhide", "POST"): 502,
    ("webhook-endpoint-detail", "GET"): 200, ("webhook-endpoint-detail", "PATCH"): 200,
    ("webhook-endpoint-detail", "DELETE"): 204, ("webhook-endpoint-roll", "POST"): 200,
    ("webhook-endpoint-ping", "POST"): 202, ("webhook-delivery-list", "GET"): 200,
    ("webhook-delivery-redeliver", "POST"): 202,
}


@pytest.fixture
def team(user, workspace, member_factory):
    """alice owns `workspace`; one member of each lower role; mallory belongs to another workspace."""
    clients = {role: member_factory(workspace, role)[1] for role in (Role.VIEWER, Role.EDITOR, Role.ADMIN)}
    from rest_framework.test import APIClient

    owner = APIClient()
    owner.force_authenticate(user)
    clients[Role.OWNER] = owner
    return clients


@pytest.fixture
def make_object(account_factory, workspace, member_factory, user):
    def make(kind: str):
        if kind == "workspace":
            return workspace
        if kind == "member":
            return Membership.objects.get(user=member_factory(workspace, Role.VIEWER)[0])
        if kind == "invitation":
            from workspaces.services import invite

            return invite(Membership.objects.get(user=user, workspace=workspace), "new@example.com", Role.EDITOR)[0]
        if kind == "account":
            return account_factory("tiktok")
        if kind == "post":
            from publishing.models import Post, PostTarget

            post = Post.objects.create(workspace=workspace, created_by=user, text="Ours only")
            PostTarget.objects.create(post=post, account=account_factory("facebook"), status="failed")
            return post
        if kind in ("conversation", "message"):
            from django.utils import timezone

            from conversations.models import Conversation, Message

            account = account_factory("facebook")
            conversation = Conversation.objects.create(account=account, kind="comment", thread_key="c:1_2",
                                                       platform_post_id="1", root_comment_id="1_2")
            message = Message.objects.create(conversation=conversation, account=account, external_id="1_2",
                                             direction="in", text="Ours only", created_at=timezone.now())
            return conversation if kind == "conversation" else message
        if kind == "tracked_post":
            from analytics.models import TrackedPost

            return TrackedPost.objects.create(account=account_factory("instagram"), platform="instagram",
                                              platform_post_id="1789")
        if kind in ("webhook_endpoint", "webhook_delivery"):
            from events.models import Delivery, Event, WebhookEndpoint

            endpoint = WebhookEndpoint.objects.create(workspace=workspace, url="https://hooks.example.com/in",
                                                      event_types=["*"], secret="whsec_test")
            if kind == "webhook_endpoint":
                return endpoint
            event = Event.objects.create(workspace=workspace, type="analytics.synced", data={"object": {}})
            # The route names the endpoint and the delivery with one id here: give both the same one.
            return Delivery.objects.create(pk=endpoint.pk, endpoint=endpoint, event=event)
        raise AssertionError(f"no factory for {kind}")

    return make


def test_every_object_route_is_known():
    routes = [route for route, _ in object_routes()]
    assert routes, "no object routes found"
    unknown = [r for r in routes if not any(rx.search(r) for rx, _ in FACTORIES)]
    assert unknown == [], f"add a factory for these routes: {unknown}"


def test_every_route_and_method_is_in_the_permission_table():
    missing = [(p.name, m) for _, p in api_routes() for m in allowed_methods(p) if rule_for(p.name, m) is None]
    assert missing == [], f"add these to workspaces/permissions.py PERMISSIONS: {missing}"
    names = {p.name for _, p in api_routes()}
    assert set(PERMISSIONS) - names == set(), "the table names routes that do not exist"


def test_every_allowed_cell_has_its_expected_status():
    cells = {(p.name, m) for _, p in object_routes() for m in allowed_methods(p)
             if rule_for(p.name, m) not in (PUBLIC, SIGNED_IN)}
    assert cells - set(ALLOWED) == set() and set(ALLOWED) - cells == set()


CELLS = [(route, pattern, method, role) for route, pattern in object_routes() for method in allowed_methods(pattern)
         for role in ROLES]


@pytest.mark.parametrize("route,pattern,method,role", CELLS,
                         ids=[f"{m} {r} as {role}" for r, _, m, role in CELLS])
def test_each_role_gets_the_exact_status(route, pattern, method, role, team, make_object, other_client, workspace):
    kind = next(k for rx, k in FACTORIES if rx.search(route))
    obj = make_object(kind)
    before = type(obj).objects.filter(pk=obj.pk).values().get()
    url = concrete(route, workspace.pk, obj.pk)
    needed = rule_for(pattern.name, method)
    client = other_client if role == "non-member" else team[role]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:  # unmocked platform calls fail
        response = getattr(client, method.lower())(url, data={}, format="json")
        if role == "non-member":
            expected, code = 404, "not_found"
        elif not Membership(role=role).allows(needed):
            expected, code = 403, "role_required"
        else:
            expected, code = ALLOWED[(pattern.name, method)], None
            if isinstance(expected, dict):
                expected = expected.get(role, expected[None])
        assert response.status_code == expected, f"{method} {url} as {role} -> {response.status_code}"
        if code:
            assert response.json()["error"]["code"] == code
            assert len(rsps.calls) == 0  # refused before any platform call
            assert type(obj).objects.filter(pk=obj.pk).values().get() == before  # untouched
