from rest_framework.routers import SimpleRouter

from .api import SocialAccountViewSet

router = SimpleRouter()
router.register("accounts", SocialAccountViewSet, basename="account")

urlpatterns = [*router.urls]
