"""Staff pages for endpoints (no secret shown), deliveries (redeliver) and the outbox."""

from __future__ import annotations

import pytest

from events.models import Delivery, DeliveryStatus
from events.services import record

pytestmark = pytest.mark.django_db


def test_the_admin_lists_endpoints_and_deliveries_without_secrets_and_redelivers(
        staff, workspace, endpoint_factory, monkeypatch, django_capture_on_commit_callbacks):
    from tests.conftest import keep_enqueued

    endpoint = endpoint_factory(secret="whsec_never_shown")
    record(workspace.pk, "target.failed", {"object": {"id": 5}})
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)

    for url in ("/admin/events/webhookendpoint/", f"/admin/events/webhookendpoint/{endpoint.pk}/change/",
                "/admin/events/delivery/", f"/admin/events/delivery/{delivery.pk}/change/", "/admin/events/event/"):
        page = staff.get(url)
        assert page.status_code == 200, url
        assert "whsec_never_shown" not in page.content.decode()
    assert "target.failed" in staff.get("/admin/events/delivery/").content.decode()

    kept = keep_enqueued(monkeypatch, "webhook-deliver")
    with django_capture_on_commit_callbacks(execute=True):
        staff.post("/admin/events/delivery/", {"action": "redeliver", "_selected_action": [delivery.pk]})
    assert kept == [delivery.pk] and Delivery.objects.get().status == DeliveryStatus.PENDING
    assert staff.get("/admin/events/webhookendpoint/add/").status_code == 403  # created through the API only
