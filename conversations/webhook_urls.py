"""The platforms' webhook endpoints, mounted first under /api/v1/: a delivery is resolved against three
patterns, not every API route (the resolver walk was a seventh of a delivery's time in the profile)."""

from django.urls import path

from . import webhooks

urlpatterns = [
    path("webhooks/meta", webhooks.meta_webhook, name="webhook-meta"),
    path("webhooks/meta/deauthorize", webhooks.meta_deauthorize, name="webhook-meta-deauthorize"),
    path("webhooks/tiktok", webhooks.tiktok_webhook, name="webhook-tiktok"),
]
