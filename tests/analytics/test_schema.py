"""The analytics report views in the OpenAPI schema: their parameters, and real responses (with
nulls, unpublished targets and non-numeric metrics) that match the documented shapes exactly."""

from datetime import timedelta

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.utils import timezone
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from analytics.models import AccountMetrics, AccountMetricSnapshot, PostMetricSnapshot, SyncRun, TrackedPost
from tests.conftest import workspace_of_user

ACCOUNT = "/api/v1/analytics/accounts/{account_id}/"
POST = "/api/v1/analytics/posts/{post_id}/"
TRACKED_POST = "/api/v1/analytics/tracked-posts/{tracked_post_id}/"
SUMMARY = "/api/v1/analytics/summary/"


@pytest.fixture
def openapi(transactional_db):
    # Through WSGI, like tests/api: Django's request signals close the connection a plain `db` test runs in.
    return schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())


@pytest.fixture
def document(api_client) -> dict:
    response = api_client.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def auth(user) -> dict:
    return {"Authorization": f"Token {Token.objects.create(user=user).key}"}


@pytest.mark.parametrize("path, path_parameter, has_period, component, errors", [
    (ACCOUNT, "account_id", True, "AccountReport", {"400", "404"}),
    (POST, "post_id", False, "PostReport", {"404"}),
    (TRACKED_POST, "tracked_post_id", False, "TrackedPostReport", {"404"}),
    (SUMMARY, None, True, "Summary", {"400"}),
])
def test_each_report_is_in_the_schema_with_its_parameters_and_responses(document, path, path_parameter, has_period,
                                                                        component, errors):
    operation = document["paths"][path]["get"]

    parameters = {(p["in"], p["name"]): p for p in operation.get("parameters", [])}
    expected = ({("path", path_parameter)} if path_parameter else set()) | (
        {("query", "from"), ("query", "to")} if has_period else set()) | {("header", "X-Workspace")}
    assert set(parameters) == expected
    assert not parameters["header", "X-Workspace"].get("required")  # optional for a one-workspace user
    if path_parameter:
        assert parameters["path", path_parameter]["required"] is True
        assert parameters["path", path_parameter]["schema"]["type"] == "integer"
    for bound in ("from", "to") if has_period else ():
        assert parameters["query", bound]["schema"]["anyOf"] == [{"format": "date"}, {"format": "date-time"}]
        assert not parameters["query", bound].get("required")
    responses = operation["responses"]
    assert set(responses) == {"200"} | errors
    assert responses["200"]["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{component}"}
    for code in errors:
        assert responses[code]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_the_period_bounds_are_documented_as_properties_named_from_and_to(document):
    schemas = document["components"]["schemas"]
    for name in ("AccountReport", "Summary"):
        assert {"from", "to"} <= set(schemas[name]["required"])
        assert schemas[name]["properties"]["from"]["format"] == "date-time"


def make_data(user, account_factory):
    """An account with every kind of value the reports can hold: nulls, blanks, non-numeric metrics."""
    from publishing.models import Post, PostTarget

    now = timezone.now()
    account = account_factory("facebook", username="")
    instagram = account_factory("instagram")  # no metrics yet: null followers in the summary
    run = SyncRun.objects.create(account=account, status=SyncRun.Status.DONE)
    AccountMetricSnapshot.objects.create(account=account, sync_run=run, captured_at=now - timedelta(hours=2))
    later = SyncRun.objects.create(account=account, status=SyncRun.Status.DONE)
    AccountMetricSnapshot.objects.create(account=account, sync_run=later, captured_at=now - timedelta(hours=1),
                                         followers=1200)
    AccountMetrics.objects.create(account=account, followers=1200, last_synced_at=now)
    tracked = TrackedPost.objects.create(
        account=account, platform="facebook", platform_post_id="101_1", published_at=now - timedelta(days=1),
        views=50, likes=3, latest_metrics={"views": 50, "clicks": 4, "reactions_by_type": {"like": 3, "love": 1}},
        last_synced_at=now,
    )
    PostMetricSnapshot.objects.create(tracked_post=tracked, sync_run=later, captured_at=now - timedelta(hours=1),
                                      metrics={"views": 50, "reactions_by_type": {"like": 3}})
    never_synced = TrackedPost.objects.create(account=account, platform="facebook", platform_post_id="101_2")
    post = Post.objects.create(workspace=workspace_of_user(user), created_by=user, text="Winter menu")
    PostTarget.objects.create(post=post, account=account, status="published", platform_post_id="101_1")
    PostTarget.objects.create(post=post, account=instagram, status="scheduled", platform_post_id="")
    return account, tracked, never_synced, post


def assert_exact(document: dict, schema: dict, value) -> None:
    """`value` has exactly the keys the schema lists (no undocumented ones), at every level."""
    while "$ref" in schema or "allOf" in schema:
        if "$ref" in schema:
            schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        else:
            (schema,) = schema["allOf"]
    if value is None:
        return  # that null is allowed is schemathesis' check
    if schema.get("type") == "array":
        for item in value:
            assert_exact(document, schema["items"], item)
    elif "properties" in schema:
        if schema.get("additionalProperties"):
            assert set(schema["required"]) <= set(value)
        else:
            assert set(value) == set(schema["properties"]) == set(schema.get("required", ()))
        for key, inner in schema["properties"].items():
            assert_exact(document, inner, value[key])


def call(openapi, auth, path: str, path_parameters: dict | None = None, query: dict | None = None):
    case = openapi[path]["GET"].Case(path_parameters=path_parameters or {}, query=query or {})
    response = case.call(headers=auth)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
    return response


def test_real_reports_match_their_documented_shapes_exactly(openapi, document, auth, user, account_factory):
    account, tracked, never_synced, post = make_data(user, account_factory)
    calls = [
        (ACCOUNT, {"account_id": account.id}, {"from": str(timezone.now().date() - timedelta(days=7))}),
        (POST, {"post_id": post.id}, None),
        (TRACKED_POST, {"tracked_post_id": tracked.id}, None),
        (TRACKED_POST, {"tracked_post_id": never_synced.id}, None),
        (SUMMARY, None, {"to": timezone.now().isoformat()}),
    ]
    bodies = []
    for path, path_parameters, query in calls:
        response = call(openapi, auth, path, path_parameters, query)
        assert response.status_code == 200
        bodies.append(response.json())
        schema = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert_exact(document, schema, bodies[-1])

    # The data did reach the tricky branches the schema has to allow.
    account_report, post_report, tracked_report, never_synced_report, summary = bodies
    assert account_report["followers"]["series"][0]["followers"] is None
    assert account_report["account"]["username"] == ""
    assert [t["tracked"] is None for t in post_report["targets"]] == [False, True]
    assert tracked_report["latest"]["reactions_by_type"] == {"like": 3, "love": 1}
    assert tracked_report["latest"]["reach"] is None
    assert never_synced_report["published_at"] is None and never_synced_report["last_synced_at"] is None
    assert never_synced_report["series"] == [] and never_synced_report["permalink"] == ""
    assert sorted(a["followers"] is None for a in summary["accounts"]) == [False, True]


def test_report_errors_match_the_documented_error_shape(openapi, auth, user, account_factory):
    account, *_ = make_data(user, account_factory)
    cases = [
        (ACCOUNT, {"account_id": account.id}, {"from": "yesterday"}, 400, "invalid_period"),
        (SUMMARY, None, {"from": "2026-11-10", "to": "2026-11-01"}, 400, "invalid_period"),
        (ACCOUNT, {"account_id": account.id + 1000}, None, 404, "not_found"),
        (POST, {"post_id": 999999}, None, 404, "not_found"),
        (TRACKED_POST, {"tracked_post_id": 999999}, None, 404, "not_found"),
    ]
    for path, path_parameters, query, status, code in cases:
        response = call(openapi, auth, path, path_parameters, query)
        assert response.status_code == status
        assert response.json()["error"]["code"] == code
