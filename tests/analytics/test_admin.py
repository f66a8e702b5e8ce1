"""Admin: the analytics lists open, with their filters, and are read-only."""

import pytest

from analytics.models import TrackedPost

from .test_api import make_history

MODELS = ["trackedpost", "postmetricsnapshot", "accountmetricsnapshot", "accountmetrics", "syncrun", "rejectedmetric"]


@pytest.mark.parametrize("model", MODELS)
def test_analytics_admin_lists_open_for_staff(admin_client, account_factory, model):
    make_history(account_factory("instagram"), 3, syncs=2)
    response = admin_client.get(f"/admin/analytics/{model}/")
    assert response.status_code == 200
    assert admin_client.get(f"/admin/analytics/{model}/add/").status_code == 403


def test_tracked_posts_filter_by_source(admin_client, account_factory):
    make_history(account_factory("facebook"), 2, syncs=1)
    response = admin_client.get("/admin/analytics/trackedpost/?source=external")
    assert response.status_code == 200
    assert response.context["cl"].result_count == TrackedPost.objects.count() == 2
