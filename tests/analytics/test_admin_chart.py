from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.charts import follower_chart_svg
from analytics.models import AccountMetricSnapshot, SyncRun

pytestmark = pytest.mark.django_db


def test_chart_draws_one_point_per_snapshot_and_labels_the_range():
    now = timezone.now()
    svg = str(follower_chart_svg([(now - timedelta(days=2), 100), (now - timedelta(days=1), 150), (now, 120)]))
    assert svg.count("<circle") == 3
    assert "<polyline" in svg and ">150</text>" in svg and ">100</text>" in svg
    assert "http" not in svg.replace("http://www.w3.org", "")  # nothing loaded from elsewhere


def test_chart_explains_an_empty_history():
    assert "No follower history yet" in str(follower_chart_svg([]))


def test_account_admin_page_shows_the_follower_chart_and_offers_sync_now(client, django_user_model, account_factory):
    staff = django_user_model.objects.create_superuser("chart", "chart@example.com", "pw-chart-123")
    client.force_login(staff)
    account = account_factory("facebook")
    for days, followers in ((3, 10), (2, 12), (1, 15)):
        run = SyncRun.objects.create(account=account)
        AccountMetricSnapshot.objects.create(account=account, sync_run=run, followers=followers,
                                             captured_at=timezone.now() - timedelta(days=days))
    page = client.get(f"/admin/social/socialaccount/{account.pk}/change/").content.decode()
    assert "Follower history" in page and page.count("<circle") == 3
    listing = client.get("/admin/social/socialaccount/").content.decode()
    assert 'value="sync_now"' in listing
