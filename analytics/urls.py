from django.urls import path

import unipulse.converters  # noqa: F401  (registers <id:...>)

from . import api

urlpatterns: list = [
    path("analytics/accounts/<id:account_id>/", api.account_report, name="analytics-account"),
    path("analytics/accounts/<id:account_id>/best-times/", api.best_times, name="analytics-account-best-times"),
    path("analytics/posts/<id:post_id>/", api.post_report, name="analytics-post"),
    path("analytics/tracked-posts/", api.TrackedPostList.as_view(), name="analytics-tracked-posts"),
    path("analytics/tracked-posts/<id:tracked_post_id>/", api.tracked_post_report, name="analytics-tracked-post"),
    path("analytics/summary/", api.summary, name="analytics-summary"),
    path("accounts/<id:pk>/sync/", api.sync_account_now, name="account-sync"),
]
