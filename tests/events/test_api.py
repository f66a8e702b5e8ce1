"""The API: endpoints (the secret shown once), delivery logs, redeliver, ping, and the event feed."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import Delivery, DeliveryStatus, Event, WebhookEndpoint
from events.services import record

pytestmark = pytest.mark.django_db

BASE = "/api/v1/webhook-endpoints/"


@pytest.fixture
def public_dns(monkeypatch):
    monkeypatch.setattr("events.urlsafety.resolve", lambda host, port: ["93.184.215.14"])


def test_creating_an_endpoint_answers_its_secret_once(api_client, workspace, public_dns):
    created = api_client.post(BASE, {"url": "https://crm.example.com/in", "event_types": ["target.published",
                                                                                         "target.failed"],
                                     "description": "CRM"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["event_types"] == ["target.failed", "target.published"] and body["enabled"] is True
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert str(endpoint.secret) == body["secret"] and endpoint.workspace == workspace

    shown = api_client.get(f"{BASE}{body['id']}/").json()
    assert "secret" not in shown and body["secret"] not in str(api_client.get(BASE).content)


@pytest.mark.parametrize(("payload", "field", "message"), [
    ({"url": "http://crm.example.com/in", "event_types": ["*"]}, "url",
     "The URL must use https (plain http is allowed only with WEBHOOK_ALLOW_HTTP, for development)."),
    ({"url": "https://169.254.169.254/", "event_types": ["*"]}, "url",
     "The URL resolves to a link-local address (cloud metadata lives there) (169.254.169.254); webhooks go to "
     "public addresses only."),
    ({"url": "https://crm.example.com/in", "event_types": ["post.exploded"]}, "event_types", None),
    ({"url": "https://crm.example.com/in", "event_types": []}, "event_types", None),
])
def test_a_bad_endpoint_is_refused_with_the_field_and_a_reason(api_client, public_dns, payload, field, message):
    refused = api_client.post(BASE, payload, format="json")
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert list(error["fields"]) == [field]
    if message:
        assert error["fields"][field] == [message]
    assert WebhookEndpoint.objects.count() == 0


def test_roll_answers_a_new_secret_and_keeps_the_old_one_valid_for_the_grace_period(api_client, workspace,
                                                                                    endpoint_factory, settings):
    endpoint = endpoint_factory()
    rolled = api_client.post(f"{BASE}{endpoint.pk}/roll-secret/")
    assert rolled.status_code == 200
    endpoint.refresh_from_db()
    assert rolled.json()["secret"] == str(endpoint.secret) != "whsec_first"
    assert endpoint.signing_secrets() == [str(endpoint.secret), "whsec_first"]
    assert rolled.json()["secret_previous_valid_until"] is not None


def test_disabling_and_enabling_again_clears_the_failure_state(api_client, endpoint_factory):
    from django.utils import timezone

    endpoint = endpoint_factory(enabled=False, disabled_reason="failing since …", failing_since=timezone.now())
    answer = api_client.patch(f"{BASE}{endpoint.pk}/", {"enabled": True}, format="json")
    assert answer.status_code == 200
    assert (answer.json()["enabled"], answer.json()["disabled_reason"], answer.json()["failing_since"]) == (
        True, "", None)


def test_ping_sends_a_test_event_to_that_endpoint_only(api_client, workspace, endpoint_factory, monkeypatch,
                                                       django_capture_on_commit_callbacks):
    from tests.conftest import keep_enqueued

    kept = keep_enqueued(monkeypatch, "webhook-deliver")
    endpoint, other = endpoint_factory(), endpoint_factory()
    with django_capture_on_commit_callbacks(execute=True):
        answer = api_client.post(f"{BASE}{endpoint.pk}/ping/")
    assert answer.status_code == 202 and answer.json()["event_type"] == "ping"
    assert kept == [answer.json()["id"]]
    assert not Delivery.objects.filter(endpoint=other).exists()
    assert api_client.get("/api/v1/events/").json()["results"] == []  # pings are not in the feed


def test_the_delivery_log_lists_attempts_and_redeliver_sends_again(api_client, workspace, endpoint_factory, receiver,
                                                                   monkeypatch, django_capture_on_commit_callbacks):
    from events import delivery as deliveries
    from tests.conftest import keep_enqueued

    endpoint = endpoint_factory(url=receiver.url)
    record(workspace.pk, "analytics.synced", {"object": {"account": 3}})
    delivery = Delivery.objects.get()
    receiver.status, receiver.body = 410, b"gone"
    deliveries.attempt(delivery.pk)

    log = api_client.get(f"{BASE}{endpoint.pk}/deliveries/")
    assert log.status_code == 200
    [row] = log.json()["results"]
    assert (row["event_type"], row["status"], row["attempt_count"], row["last_status_code"]) == (
        "analytics.synced", "pending", 1, 410)
    assert [(a["number"], a["status_code"], a["response_excerpt"]) for a in row["attempts"]] == [(1, 410, "gone")]

    kept = keep_enqueued(monkeypatch, "webhook-deliver")
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        again = api_client.post(f"{BASE}{endpoint.pk}/deliveries/{delivery.pk}/redeliver/")
    assert again.status_code == 202 and again.json()["status"] == "pending"
    assert kept == [delivery.pk]
    receiver.status = 200
    assert deliveries.attempt(delivery.pk).status == DeliveryStatus.DELIVERED
    assert [r["headers"]["UniPulse-Delivery"] for r in receiver.requests] == [str(delivery.uid)] * 2


def test_the_feed_pages_with_a_cursor_filters_by_type_and_shows_only_the_workspace(api_client, workspace, other_user):
    from workspaces.services import personal_workspace

    mine = [record(workspace.pk, t, {"object": {"n": n}}) for n, t in
            enumerate(["target.published", "analytics.synced", "target.failed", "target.published"])]
    record(personal_workspace(other_user).pk, "target.published", {"object": {"n": "theirs"}})

    first = api_client.get("/api/v1/events/", {"limit": 3}).json()
    assert [e["id"] for e in first["results"]] == [e.public_id for e in mine[:3]] and first["has_more"] is True
    rest = api_client.get("/api/v1/events/", {"after": first["cursor"], "limit": 3}).json()
    assert [e["id"] for e in rest["results"]] == [mine[3].public_id] and rest["has_more"] is False
    empty = api_client.get("/api/v1/events/", {"after": rest["cursor"]}).json()
    assert empty == {"results": [], "cursor": rest["cursor"], "has_more": False}

    typed = api_client.get("/api/v1/events/", {"types": "target.failed,analytics.synced"}).json()
    assert [e["type"] for e in typed["results"]] == ["analytics.synced", "target.failed"]
    assert typed["results"][0]["data"] == {"object": {"n": 1}}


def test_the_feed_is_one_query_whatever_it_holds(api_client, workspace):
    for n in range(30):
        record(workspace.pk, "analytics.synced", {"object": {"n": n}})
    api_client.get("/api/v1/events/")  # the session and workspace lookups warm up
    with CaptureQueriesContext(connection) as queries:
        answer = api_client.get("/api/v1/events/", {"limit": 20})
    assert len(answer.json()["results"]) == 20
    feed = [q["sql"] for q in queries.captured_queries if "events_event" in q["sql"]]
    assert len(feed) == 1


def test_a_bad_feed_query_is_a_400_naming_the_parameter(api_client):
    answer = api_client.get("/api/v1/events/", {"types": "target.published,nope"})
    assert answer.status_code == 400 and answer.json()["error"]["fields"] == {"types": ["Unknown event types: nope."]}
    answer = api_client.get("/api/v1/events/", {"after": "yesterday"})
    assert answer.status_code == 400 and "after" in answer.json()["error"]["fields"]


def test_send_webhooks_enqueues_what_is_due_and_nothing_else(workspace, endpoint_factory, monkeypatch):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from tests.conftest import keep_enqueued

    kept = keep_enqueued(monkeypatch, "webhook-deliver")
    monkeypatch.setattr("events.management.commands.send_webhooks.drain_embedded", lambda: None)
    endpoint_factory()
    rows = [Delivery.objects.get(event=record(workspace.pk, "analytics.synced", {"object": {}})) for _ in range(5)]
    now = timezone.now()
    Delivery.objects.filter(pk=rows[1].pk).update(next_attempt_at=now + timedelta(hours=1))  # a retry not due yet
    Delivery.objects.filter(pk=rows[2].pk).update(status=DeliveryStatus.DELIVERED)
    Delivery.objects.filter(pk=rows[3].pk).update(status=DeliveryStatus.SENDING, lease_until=now - timedelta(seconds=1))
    Delivery.objects.filter(pk=rows[4].pk).update(status=DeliveryStatus.SENDING, lease_until=now + timedelta(minutes=1))
    call_command("send_webhooks")
    assert sorted(kept) == sorted([rows[0].pk, rows[3].pk])


def test_prune_events_deletes_what_is_older_than_the_retention(workspace, settings):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    old = record(workspace.pk, "analytics.synced", {"object": {}},
                 occurred_at=timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS, minutes=1))
    kept = record(workspace.pk, "analytics.synced", {"object": {}})
    call_command("prune_events")
    assert list(Event.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not Event.objects.filter(pk=old.pk).exists()
