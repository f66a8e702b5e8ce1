from django.urls import path
from rest_framework.routers import SimpleRouter

from . import webhooks
from .api import ConversationViewSet, MessageViewSet

router = SimpleRouter()
router.register("conversations", ConversationViewSet, basename="conversation")
router.register("messages", MessageViewSet, basename="message")

urlpatterns = [
    path("webhooks/meta", webhooks.meta_webhook, name="webhook-meta"),
    path("webhooks/meta/deauthorize", webhooks.meta_deauthorize, name="webhook-meta-deauthorize"),
    path("webhooks/tiktok", webhooks.tiktok_webhook, name="webhook-tiktok"),
    *router.urls,
]
