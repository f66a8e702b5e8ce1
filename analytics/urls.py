from django.urls import path

from . import api

urlpatterns: list = [
    path("analytics/accounts/<int:account_id>/", api.account_report, name="analytics-account"),
    path("analytics/posts/<int:post_id>/", api.post_report, name="analytics-post"),
    path("analytics/tracked-posts/<int:tracked_post_id>/", api.tracked_post_report, name="analytics-tracked-post"),
    path("analytics/summary/", api.summary, name="analytics-summary"),
]
