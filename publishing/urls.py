from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import MediaUploadView, PostViewSet

router = SimpleRouter(trailing_slash="/?")
router.register("posts", PostViewSet, basename="post")

urlpatterns = [
    path("media/", MediaUploadView.as_view(), name="media-upload"),
    *router.urls,
]
