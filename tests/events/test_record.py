"""The outbox: an event and its deliveries are written with the change, or not at all."""

from __future__ import annotations

import pytest
from django.db import transaction

from events.models import Delivery, Event
from events.services import record
from unipulse import hooks

pytestmark = pytest.mark.django_db


def test_an_event_gets_a_delivery_for_each_enabled_endpoint_that_wants_it(workspace, endpoint_factory, other_user):
    from workspaces.services import personal_workspace

    every = endpoint_factory(event_types=["*"])
    published_only = endpoint_factory(event_types=["target.published"])
    endpoint_factory(event_types=["target.failed"])
    endpoint_factory(event_types=["*"], enabled=False)
    endpoint_factory(event_types=["*"], ws=personal_workspace(other_user))

    event = hooks.record_event(workspace.pk, "target.published", {"object": {"id": 7}})

    assert Event.objects.get() == event
    assert sorted(Delivery.objects.values_list("endpoint_id", flat=True)) == sorted([every.pk, published_only.pk])
    assert event.envelope() == {"id": f"evt_{event.uid.hex}", "type": "target.published", "workspace": workspace.pk,
                                "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
                                "data": {"object": {"id": 7}}}


def test_a_rolled_back_change_leaves_no_event_and_no_delivery(workspace, endpoint_factory):
    endpoint_factory()
    with pytest.raises(RuntimeError), transaction.atomic():
        record(workspace.pk, "analytics.synced", {"object": {}})
        raise RuntimeError("the change failed")
    assert Event.objects.count() == 0 and Delivery.objects.count() == 0


def test_an_unknown_type_is_a_programming_error(workspace):
    with pytest.raises(ValueError, match="unknown event type 'post.exploded'"):
        record(workspace.pk, "post.exploded", {"object": {}})


def test_deliveries_are_enqueued_only_once_the_transaction_commits(workspace, endpoint_factory, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    from tests.conftest import keep_enqueued

    kept = keep_enqueued(monkeypatch, "webhook-deliver")
    endpoint_factory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        record(workspace.pk, "analytics.synced", {"object": {}})
    assert kept == []  # nothing sent before the commit
    for callback in callbacks:
        callback()
    assert kept == [Delivery.objects.get().pk]


def test_a_broker_outage_after_commit_leaves_the_delivery_for_send_webhooks(workspace, endpoint_factory, monkeypatch,
                                                                            django_capture_on_commit_callbacks):
    import dramatiq

    from events.services import due_delivery_ids

    def refuse(message, *, delay=None):
        raise ConnectionError("redis down")

    monkeypatch.setattr(dramatiq.get_broker(), "enqueue", refuse)
    endpoint_factory()
    with django_capture_on_commit_callbacks(execute=True):
        event = record(workspace.pk, "analytics.synced", {"object": {}})
    assert Event.objects.filter(pk=event.pk).exists()
    assert due_delivery_ids() == [Delivery.objects.get().pk]
