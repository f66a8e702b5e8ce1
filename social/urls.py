from django.urls import re_path
from rest_framework.routers import SimpleRouter

from .api import SocialAccountViewSet
from .models import INSTAGRAM_LOGIN_FLOW
from .views import OAuthCallbackView, OAuthStartView

router = SimpleRouter()
router.register("accounts", SocialAccountViewSet, basename="account")

# Only the three platforms match; anything else is the JSON 404.
PLATFORM = r"(?P<platform>facebook|instagram|tiktok)"

urlpatterns = [
    re_path(rf"^auth/oauth/{PLATFORM}/?$", OAuthStartView.as_view(), name="oauth-start"),
    re_path(rf"^auth/callback/{PLATFORM}/?$", OAuthCallbackView.as_view(), name="oauth-callback"),
    # Instagram through Instagram's own login (no Facebook Page): its own dialog, app and states.
    re_path(r"^auth/oauth/instagram_login/?$", OAuthStartView.as_view(), {"platform": INSTAGRAM_LOGIN_FLOW},
            name="oauth-start-instagram-login"),
    re_path(r"^auth/callback/instagram_login/?$", OAuthCallbackView.as_view(), {"platform": INSTAGRAM_LOGIN_FLOW},
            name="oauth-callback-instagram-login"),
    *router.urls,
]
