from rest_framework.routers import SimpleRouter

from .api import ConversationViewSet, MessageViewSet

router = SimpleRouter()
router.register("conversations", ConversationViewSet, basename="conversation")
router.register("messages", MessageViewSet, basename="message")

urlpatterns = router.urls  # the webhook endpoints are in webhook_urls.py, mounted first
