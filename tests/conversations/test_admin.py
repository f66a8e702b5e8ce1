"""Admin: webhook events list with filters and the "process again" action."""

from __future__ import annotations

import pytest

from conversations.models import WebhookEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123")
    client.force_login(admin)
    return client


def make_event(n: int, status: str) -> WebhookEvent:
    return WebhookEvent.objects.create(platform="meta", topic="page", body="{}", dedupe_key=f"{n:064d}", status=status)


def test_the_webhook_events_list_filters_by_status(admin_client):
    make_event(1, "failed")
    make_event(2, "processed")
    response = admin_client.get("/admin/conversations/webhookevent/", {"status__exact": "failed"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_process_again_puts_events_back_to_received_and_enqueues_them(admin_client, sent_events):
    failed = make_event(1, "failed")
    WebhookEvent.objects.filter(pk=failed.pk).update(error="RuntimeError: boom")
    response = admin_client.post("/admin/conversations/webhookevent/", {
        "action": "process_again", "_selected_action": [failed.pk]}, follow=True)
    assert response.status_code == 200
    failed.refresh_from_db()
    assert (failed.status, failed.error) == ("received", "")
    assert sent_events == [failed.pk]


@pytest.mark.parametrize("path", ["/admin/conversations/conversation/", "/admin/conversations/message/",
                                  "/admin/conversations/inboxsyncstate/"])
def test_inbox_admin_pages_open(admin_client, path, page):
    assert admin_client.get(path).status_code == 200


def test_process_again_sends_each_selected_event_to_the_webhook_process_queue(admin_client):
    import dramatiq

    broker = dramatiq.get_broker()
    broker.flush_all()
    failed, ignored, untouched = make_event(1, "failed"), make_event(2, "ignored"), make_event(3, "failed")
    response = admin_client.post("/admin/conversations/webhookevent/", {
        "action": "process_again", "_selected_action": [failed.pk, ignored.pk]}, follow=True)
    assert "2 webhook event(s) sent for processing." in response.content.decode()
    queue = broker.queues["webhook-process"]
    assert sorted(dramatiq.Message.decode(raw).args[0] for raw in queue.queue) == sorted([failed.pk, ignored.pk])
    assert dict(WebhookEvent.objects.values_list("pk", "status")) == {
        failed.pk: "received", ignored.pk: "received", untouched.pk: "failed"}
    broker.flush_all()
