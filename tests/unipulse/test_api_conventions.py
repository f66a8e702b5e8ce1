"""The API's conventions (docs/api.md), checked over the URL list, the OpenAPI schema and real answers.

- Pagination: every GET route of /api/v1/ is classified below, a list with its envelope or one object.
  A list answers its envelope and documents it in the schema; an object is never a bare array. A new
  GET route fails here until it is classified, so a new list cannot drift to another shape.
- Dates: every datetime in a sample of answers (every GET route, with data, and the events of a real
  analytics sync) is ISO 8601 in UTC with a Z; dates are YYYY-MM-DD; only the documented local fields
  carry an offset.
- Names: an integer reference is named after its object (`account`, `post`); an integer `*_id` is only
  ever a deprecated alias, answered and accepted next to the new name until DEPRECATED_UNTIL.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from analytics.models import TrackedPost
from analytics.services import sync_account
from tests.analytics.test_history import mock_facebook
from tests.unipulse.test_isolation import (
    FACTORIES,
    allowed_methods,
    api_routes,
    concrete,
    make_object,  # noqa: F401  (a fixture: one object of each kind)
)
from unipulse.conventions import DEPRECATED_UNTIL
from workspaces.models import AuditEntry

pytestmark = pytest.mark.django_db

PAGE = ("count", "next", "previous", "results")  # unipulse.pagination.DefaultPagination
CURSOR = ("next", "previous", "results")  # DRF's CursorPagination: the audit log, a feed
FEED = ("results", "cursor", "has_more")  # the event feed's own cursor (?after=)
OBJECT = "object"

# Every GET route of the API by URL name: what it answers. docs/api.md says the same in words.
SHAPES = {
    "workspace-list": PAGE, "workspace-members": PAGE, "workspace-invitations": PAGE, "workspace-audit": CURSOR,
    "account-list": PAGE, "post-list": PAGE, "analytics-tracked-posts": PAGE, "conversation-list": PAGE,
    "conversation-messages": PAGE, "conversation-tiktok-videos": PAGE, "webhook-endpoint-list": PAGE,
    "webhook-delivery-list": PAGE, "event-feed": FEED,
    **dict.fromkeys([
        "workspace-detail", "workspace-member-detail", "workspace-invitation-detail", "account-detail",
        "account-publishing-options", "account-schedule", "account-queue", "post-detail", "calendar",
        "analytics-account", "analytics-account-best-times", "analytics-post", "analytics-tracked-post",
        "analytics-summary", "conversation-detail", "webhook-endpoint-detail", "oauth-start",
        "oauth-start-instagram-login"], OBJECT),
}
# GET routes that answer no JSON of the API: the schema and its UI, the OAuth callbacks (redirects). (The
# platforms' webhook routes are plain Django views, outside the API's conventions and this list.)
NOT_JSON = {"schema", "swagger-ui", "oauth-callback", "oauth-callback-instagram-login"}

ZONE = "Asia/Kathmandu"  # +05:45: a local field cannot pass for UTC by accident
UTC_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z")
LOCAL_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?[+-]\d{2}:\d{2}")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
LOCAL_FIELDS = {"local"}  # the queue's slots: documented as the workspace's local time with its offset
CALENDAR_QUERY = "from={day}&to={day}"


def get_routes():
    return [(route, pattern) for route, pattern in api_routes() if "GET" in allowed_methods(pattern)]


def schema_path(route: str) -> str:
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path)
    path = "/" + path.replace("^", "").replace("$", "").replace("/?", "/").replace("\\", "")
    return path.replace("{pk}", "{id}")  # drf-spectacular names a primary key `id`


@pytest.fixture
def sample(user, workspace, account_factory, make_object, mocked_platforms):  # noqa: F811
    """One of everything in a workspace on Kathmandu time: a synced Facebook Page (tracked posts, snapshots,
    its analytics.synced event), a queue with slots, a published target (its event), a TikTok video, the
    inbox, a webhook endpoint with a delivery, a member, an invitation, audit entries."""
    from events.models import WebhookEndpoint
    from publishing.events import target_changed
    from publishing.models import PostTarget
    from publishing.services import slots

    workspace.timezone = ZONE
    workspace.save(update_fields=["timezone"])
    WebhookEndpoint.objects.create(workspace=workspace, url="https://hooks.example.com/in", event_types=["*"],
                                   secret="whsec_test")  # every event below gets a delivery
    page = account_factory("facebook", external_id="101", name="Bakery Page")
    mock_facebook(mocked_platforms, 1520)
    sync_account(page.pk)
    objects = {kind: make_object(kind) for kind in ("member", "invitation", "account", "post", "conversation",
                                                    "message", "tracked_post", "webhook_endpoint")}
    objects["workspace"] = workspace
    objects["account"] = page
    slots.replace_schedule(page, False, [(day, time(9, 30)) for day in range(7)], user)
    target = PostTarget.objects.create(post=objects["post"], account=page, status="published",
                                       platform_post_id="101_9", published_at=timezone.now())
    target_changed(target, "publishing")
    account_factory("instagram", parent=page, name="Bakery on Instagram")  # connected through the Page
    tiktok = account_factory("tiktok")
    TrackedPost.objects.create(account=tiktok, platform="tiktok", platform_post_id="7301", comments=3,
                               published_at=timezone.now() - timedelta(days=1), last_synced_at=timezone.now())
    assert AuditEntry.objects.filter(workspace=workspace).exists()
    return objects


def answers(api_client, sample) -> dict[str, object]:
    """Every JSON GET route's answer (200), by URL name."""
    found = {}
    for route, pattern in get_routes():
        if pattern.name in NOT_JSON:
            continue
        kind = next((k for rx, k in FACTORIES if rx.search(route)), None)
        url = concrete(re.sub(r"\(\?P<platform>[^)]*\)", "facebook", route), sample["workspace"].pk,
                       sample[kind].pk if kind else 0)
        if pattern.name == "calendar":
            url += "?" + CALENDAR_QUERY.format(day=timezone.now().date())
        response = api_client.get(url, HTTP_ACCEPT="application/json")
        assert response.status_code == 200, f"GET {url} -> {response.status_code} {response.content[:200]}"
        found[pattern.name] = response.json()
    return found


def test_every_get_route_is_classified_as_a_list_with_its_envelope_or_an_object():
    names = {pattern.name for _, pattern in get_routes()}
    assert names - set(SHAPES) - NOT_JSON == set(), "classify these GET routes in SHAPES (list envelope or OBJECT)"
    assert set(SHAPES) | NOT_JSON <= names, "SHAPES/NOT_JSON name routes that do not exist"


def test_every_list_answers_its_envelope_and_nothing_is_a_bare_array(api_client, sample):
    for name, body in answers(api_client, sample).items():
        assert isinstance(body, dict), f"{name} answers a bare {type(body).__name__}"
        if SHAPES[name] == OBJECT:
            assert "results" not in body, f"{name} is classified as an object but answers a list envelope"
            continue
        assert tuple(sorted(body)) == tuple(sorted(SHAPES[name])), f"{name} answers {sorted(body)}"
        assert isinstance(body["results"], list) and body["results"], f"{name}: the sample should list something"
        if SHAPES[name] == PAGE:
            assert body["count"] == len(body["results"]) and body["next"] is None and body["previous"] is None


def test_the_schema_documents_each_list_envelope_and_no_bare_array(api_client):
    document = api_client.get("/api/v1/schema/?format=json").json()
    components = document["components"]["schemas"]
    for route, pattern in get_routes():
        if pattern.name in NOT_JSON:
            continue
        path = schema_path(route)
        assert path in document["paths"], f"{pattern.name}: {path} not in the schema"
        schema = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert "$ref" in schema, f"{pattern.name} documents an inline (or array) answer: {schema}"
        component = components[schema["$ref"].rsplit("/", 1)[1]]
        assert component.get("type", "object") == "object", f"{pattern.name} documents a {component.get('type')}"
        if SHAPES[pattern.name] == OBJECT:
            assert "results" not in component.get("properties", {}), pattern.name
        else:
            assert set(component["properties"]) == set(SHAPES[pattern.name]), pattern.name
            assert component["properties"]["results"]["type"] == "array"


def _strings(value, key=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)
    elif isinstance(value, str):
        yield key, value


def test_every_datetime_in_the_answers_and_events_is_iso_8601_utc_with_a_z(api_client, sample):
    seen = {"utc": 0, "date": 0, "local": 0}
    bodies = answers(api_client, sample)
    types = {event["type"] for event in bodies["event-feed"]["results"]}
    assert {"analytics.synced", "target.published"} <= types  # events from the real code paths
    for name, body in bodies.items():
        for key, value in _strings(body):
            if not re.match(r"\d{4}-\d{2}-\d{2}", value):
                continue
            if key in LOCAL_FIELDS:
                assert LOCAL_DATETIME.fullmatch(value), f"{name}.{key}: {value!r}"
                assert datetime.fromisoformat(value).utcoffset() == timedelta(hours=5, minutes=45)
                seen["local"] += 1
            elif DATE.fullmatch(value):
                seen["date"] += 1
            else:
                assert UTC_DATETIME.fullmatch(value), f"{name}.{key}: {value!r} is not ISO 8601 UTC with a Z"
                assert datetime.fromisoformat(value).utcoffset() == timedelta(0)
                seen["utc"] += 1
    assert seen["utc"] > 50 and seen["date"] >= 1 and seen["local"] >= 1, seen
    synced = next(e for e in bodies["event-feed"]["results"] if e["type"] == "analytics.synced")["data"]["object"]
    assert UTC_DATETIME.fullmatch(synced["started_at"]) and UTC_DATETIME.fullmatch(synced["finished_at"])


def test_the_schema_names_integer_references_after_their_object_and_deprecates_every_old_id_name(api_client):
    document = api_client.get("/api/v1/schema/?format=json").json()
    aliases = []
    for name, component in document["components"]["schemas"].items():
        properties = component.get("properties", {})
        for field, schema in properties.items():
            if field.endswith("_id") and schema.get("type") == "integer":
                new = properties.get(field.removesuffix("_id"))
                assert schema.get("deprecated") is True, f"{name}.{field}: name it `{field.removesuffix('_id')}`"
                assert new is not None and not new.get("deprecated") and new["type"] == "integer", f"{name}.{field}"
                assert DEPRECATED_UNTIL in schema["description"]
                aliases.append(f"{name}.{field}")
            elif schema.get("deprecated"):
                pytest.fail(f"{name}.{field} is deprecated but is no old *_id name")
    assert sorted(aliases) == [
        "PostReport.post_id", "PostReportTarget.account_id", "PostReportTarget.target_id", "SocialAccount.parent_id",
        "TrackedPost.account_id", "TrackedPostReport.account_id", "VideoCommentCount.account_id",
        "VideoCommentCount.tracked_post_id"]
    filters = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            query = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}
            for name, parameter in query.items():
                if name.endswith("_id"):
                    assert parameter.get("deprecated") is True and name.removesuffix("_id") in query, (path, name)
                    assert DEPRECATED_UNTIL in parameter["description"]
                    filters.append(path)
    assert sorted(filters) == ["/api/v1/analytics/tracked-posts/", "/api/v1/conversations/",
                               "/api/v1/conversations/tiktok-videos/", "/api/v1/posts/"]


def test_old_names_are_answered_next_to_the_new_ones_with_the_same_ids(api_client, sample):
    page, post = sample["account"], sample["post"]
    bodies = answers(api_client, sample)
    tracked = bodies["analytics-tracked-posts"]["results"]
    assert {(row["account"], row["account_id"]) for row in tracked} == {
        (p.account_id, p.account_id) for p in TrackedPost.objects.all()}
    report = bodies["analytics-tracked-post"]
    assert report["account"] == report["account_id"] == sample["tracked_post"].account_id
    by_post = api_client.get(f"/api/v1/analytics/posts/{post.pk}/").json()
    assert by_post["post"] == by_post["post_id"] == post.pk
    assert [(t["target"], t["account"]) for t in by_post["targets"]] == [
        (t["target_id"], t["account_id"]) for t in by_post["targets"]] == list(
        post.targets.order_by("pk").values_list("pk", "account_id"))
    [video] = bodies["conversation-tiktok-videos"]["results"]
    tiktok = TrackedPost.objects.get(platform="tiktok")
    assert (video["tracked_post"], video["tracked_post_id"], video["account"], video["account_id"]) == (
        tiktok.pk, tiktok.pk, tiktok.account_id, tiktok.account_id)
    accounts = {a["name"]: (a["parent"], a["parent_id"]) for a in bodies["account-list"]["results"]}
    assert accounts["Bakery on Instagram"] == (page.pk, page.pk) and accounts["Bakery Page"] == (None, None)


LISTS_BY_ACCOUNT = ["/api/v1/posts/", "/api/v1/analytics/tracked-posts/", "/api/v1/conversations/",
                    "/api/v1/conversations/tiktok-videos/"]


@pytest.mark.parametrize("path", LISTS_BY_ACCOUNT)
def test_the_deprecated_account_id_filter_is_the_account_filter(api_client, account_factory, path):
    from conversations.models import Conversation
    from publishing.models import Post, PostTarget

    accounts = [account_factory("tiktok"), account_factory("tiktok")]
    for n, account in enumerate(accounts):
        post = Post.objects.create(workspace=account.workspace, text=f"post {n}")
        PostTarget.objects.create(post=post, account=account, status="queued")
        TrackedPost.objects.create(account=account, platform="tiktok", platform_post_id=f"73{n}")
        Conversation.objects.create(account=account, kind="comment", thread_key=f"c:{n}", platform_post_id=f"73{n}")

    def ids(query: str) -> list[int]:
        response = api_client.get(f"{path}?{query}")
        assert response.status_code == 200, response.content
        return [row.get("id", row.get("tracked_post")) for row in response.json()["results"]]

    everything = ids("")
    assert len(everything) == 2
    for account in accounts:
        new = ids(f"account={account.pk}")
        assert len(new) == 1 and ids(f"account_id={account.pk}") == new == ids(f"account={account.pk}&account_id={account.pk}")
    conflict = api_client.get(f"{path}?account={accounts[0].pk}&account_id={accounts[1].pk}")
    assert conflict.status_code == 400
    assert conflict.json()["error"]["code"] == "invalid" and list(conflict.json()["error"]["fields"]) == ["account_id"]
    assert "account_id" in conflict.json()["error"]["fields"]["account_id"][0]
    assert api_client.get(f"{path}?account_id=abc").status_code == 400


def test_the_guide_states_the_rules_and_the_end_of_the_deprecation_period():
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    changes = guide[guide.index("## API changes"):]
    assert DEPRECATED_UNTIL in changes and "*Breaking:*" in changes
    for path in ("/api/v1/workspaces/", "/api/v1/workspaces/{workspace_id}/members/",
                 "/api/v1/workspaces/{workspace_id}/invitations/", "/api/v1/conversations/tiktok-videos/"):
        assert f"`GET {path}`" in changes, f"the break for {path} is not in docs/api.md's API changes"
    for rule in ('{"count", "next", "previous", "results"}', '{"results", "cursor", "has_more"}',
                 '{"next", "previous", "results"}', "`2026-12-03T09:30:00Z`", "`YYYY-MM-DD`"):
        assert rule in guide


def test_hand_built_datetimes_are_written_like_drf_writes_them():
    from zoneinfo import ZoneInfo

    from rest_framework import serializers

    from unipulse.conventions import api_datetime, local_datetime

    kathmandu = datetime(2026, 12, 3, 15, 15, tzinfo=ZoneInfo(ZONE))
    assert api_datetime(kathmandu) == "2026-12-03T09:30:00Z"  # converted to UTC, never left at +05:45
    assert api_datetime(kathmandu.replace(microsecond=120)) == "2026-12-03T09:30:00.000120Z"
    assert api_datetime(kathmandu) == serializers.DateTimeField().to_representation(kathmandu)
    assert local_datetime(datetime.fromisoformat("2026-12-03T09:30:00Z"), ZoneInfo(ZONE)) == "2026-12-03T15:15:00+05:45"


@pytest.mark.parametrize("path", LISTS_BY_ACCOUNT)
def test_a_request_with_the_deprecated_filter_is_told_so_in_headers(api_client, account_factory, path):
    account = account_factory("tiktok")
    old = api_client.get(f"{path}?account_id={account.pk}")
    assert old.status_code == 200
    assert old.headers["Deprecation"] == "@1796342400"  # RFC 9745: deprecated since 2026-12-04 00:00 UTC
    assert old.headers["Sunset"] == "Tue, 01 Jun 2027 00:00:00 GMT"  # RFC 8594: accepted until DEPRECATED_UNTIL
    assert old.headers["Link"] == '</api/v1/docs/>; rel="deprecation"'
    current = api_client.get(f"{path}?account={account.pk}")
    assert "Deprecation" not in current.headers and "Sunset" not in current.headers
