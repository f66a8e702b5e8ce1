from django.urls import re_path
from rest_framework.routers import SimpleRouter

from .api import SocialAccountViewSet
from .views import OAuthCallbackView, OAuthStartView

router = SimpleRouter()
router.register("accounts", SocialAccountViewSet, basename="account")

# Only the three platforms match; anything else is the JSON 404.
PLATFORM = r"(?P<platform>facebook|instagram|tiktok)"

urlpatterns = [
    re_path(rf"^auth/oauth/{PLATFORM}/?$", OAuthStartView.as_view(), name="oauth-start"),
    re_path(rf"^auth/callback/{PLATFORM}/?$", OAuthCallbackView.as_view(), name="oauth-callback"),
    *router.urls,
]
