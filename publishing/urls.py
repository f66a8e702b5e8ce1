from django.urls import path
from rest_framework.routers import SimpleRouter

import unipulse.converters  # noqa: F401  (registers <id:...>)

from .api import MediaUploadView, PostRetryWithoutSlash, PostViewSet, publishing_options
from .calendar import calendar
from .import_api import PostImportView
from .queue_api import (
    AccountQueueReorderView,
    AccountQueueShuffleView,
    AccountQueueView,
    AccountScheduleFromBestTimesView,
    AccountScheduleView,
)

router = SimpleRouter()
router.register("posts", PostViewSet, basename="post")

urlpatterns = [
    path("media/", MediaUploadView.as_view(), name="media-upload"),
    path("calendar/", calendar, name="calendar"),
    path("posts/import/", PostImportView.as_view(), name="post-import"),
    path("accounts/<id:pk>/publishing-options/", publishing_options, name="account-publishing-options"),
    path("accounts/<id:pk>/schedule/", AccountScheduleView.as_view(), name="account-schedule"),
    path("accounts/<id:pk>/schedule/from-best-times/", AccountScheduleFromBestTimesView.as_view(),
         name="account-schedule-from-best-times"),
    path("accounts/<id:pk>/queue/", AccountQueueView.as_view(), name="account-queue"),
    path("accounts/<id:pk>/queue/reorder/", AccountQueueReorderView.as_view(), name="account-queue-reorder"),
    path("accounts/<id:pk>/queue/shuffle/", AccountQueueShuffleView.as_view(), name="account-queue-shuffle"),
    # The issue names the retry route without a trailing slash; both spellings work.
    path("posts/<id:pk>/retry", PostRetryWithoutSlash.as_view({"post": "retry"}), name="post-retry-noslash"),
    *router.urls,
]
