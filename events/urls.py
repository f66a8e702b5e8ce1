from django.urls import path

import unipulse.converters  # noqa: F401  (registers <id:...>)

from . import api

urlpatterns = [
    path("webhook-endpoints/", api.EndpointList.as_view(), name="webhook-endpoint-list"),
    path("webhook-endpoints/<id:pk>/", api.EndpointDetail.as_view(), name="webhook-endpoint-detail"),
    path("webhook-endpoints/<id:pk>/roll-secret/", api.EndpointRollSecret.as_view(), name="webhook-endpoint-roll"),
    path("webhook-endpoints/<id:pk>/ping/", api.EndpointPing.as_view(), name="webhook-endpoint-ping"),
    path("webhook-endpoints/<id:pk>/deliveries/", api.DeliveryList.as_view(), name="webhook-delivery-list"),
    path("webhook-endpoints/<id:pk>/deliveries/<id:delivery_id>/redeliver/", api.DeliveryRedeliver.as_view(),
         name="webhook-delivery-redeliver"),
    path("events/", api.EventFeed.as_view(), name="event-feed"),
]
