"""Webhook endpoints (the customer's receivers), their delivery logs, and the event feed."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from unipulse.pagination import DefaultPagination
from unipulse.throttles import WriteRateLimitMixin
from workspaces.access import workspace_of

from . import services
from .models import Delivery, WebhookEndpoint
from .serializers import (
    DeliverySerializer,
    EndpointSerializer,
    EndpointWithSecretSerializer,
    FeedFilterSerializer,
    FeedSerializer,
)


def endpoint_of(request, pk: int) -> WebhookEndpoint:
    return WebhookEndpoint.objects.get(workspace=workspace_of(request), pk=pk)


@extend_schema(tags=["webhooks"])
class EndpointList(WriteRateLimitMixin, generics.ListCreateAPIView):
    """The workspace's webhook endpoints. Creating one answers its signing secret, once."""

    serializer_class = EndpointSerializer
    pagination_class = DefaultPagination

    def get_queryset(self):
        return WebhookEndpoint.objects.filter(workspace=workspace_of(self.request)).order_by("id")

    @extend_schema(request=EndpointSerializer, responses={201: EndpointWithSecretSerializer}, examples=[OpenApiExample(
        "All publishing outcomes", request_only=True, value={
            "url": "https://crm.example.com/unipulse", "event_types": ["target.published", "target.failed"],
            "description": "CRM"})])
    def post(self, request, *args, **kwargs):
        serializer = EndpointSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = services.create_endpoint(workspace_of(request), request.user, **serializer.validated_data)
        return Response(EndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["webhooks"])
class EndpointDetail(WriteRateLimitMixin, generics.RetrieveUpdateDestroyAPIView):
    serializer_class = EndpointSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_object(self):
        return endpoint_of(self.request, self.kwargs["pk"])

    def perform_update(self, serializer):
        services.update_endpoint(serializer.instance, **serializer.validated_data)


@extend_schema(tags=["webhooks"], request=None, responses=EndpointWithSecretSerializer)
class EndpointRollSecret(WriteRateLimitMixin, APIView):
    """A new signing secret, answered once; the old one still signs (a second `v1=`) for
    WEBHOOK_SECRET_GRACE_HOURS so receivers can switch without losing a delivery."""

    def post(self, request, pk: int):
        endpoint = services.roll_secret(endpoint_of(request, pk))
        return Response(EndpointWithSecretSerializer(endpoint).data)


@extend_schema(tags=["webhooks"], request=None, responses={202: DeliverySerializer})
class EndpointPing(WriteRateLimitMixin, APIView):
    """Send a `ping` event to this endpoint only (it is not in the feed); see its delivery in the log."""

    def post(self, request, pk: int):
        delivery = services.record_ping(endpoint_of(request, pk))
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["webhooks"])
class DeliveryList(generics.ListAPIView):
    """The endpoint's deliveries, newest first, each with its attempts (status, duration, answer excerpt)."""

    serializer_class = DeliverySerializer
    pagination_class = DefaultPagination

    def get_queryset(self):
        endpoint = endpoint_of(self.request, self.kwargs["pk"])
        return (Delivery.objects.filter(endpoint=endpoint).select_related("event")
                .prefetch_related("attempt_log").order_by("-id"))


@extend_schema(tags=["webhooks"], request=None, responses={202: DeliverySerializer})
class DeliveryRedeliver(WriteRateLimitMixin, APIView):
    """Send the delivery again now (delivered or failed ones too: the receiver gets the same delivery id)."""

    def post(self, request, pk: int, delivery_id: int):
        delivery = Delivery.objects.get(endpoint=endpoint_of(request, pk), pk=delivery_id)
        delivery = services.redeliver(delivery)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["events"], parameters=[FeedFilterSerializer], responses=FeedSerializer)
class EventFeed(APIView):
    """The workspace's events in order, for catching up after being offline: pass the answer's `cursor` as
    `after` next time. Kept EVENT_RETENTION_DAYS; one indexed query per call."""

    def get(self, request):
        query = FeedFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        after = query.validated_data["after"]
        events, more = services.feed(workspace_of(request).pk, after=after, types=query.validated_data["types"],
                                     limit=query.validated_data["limit"])
        return Response({"results": [event.envelope() for event in events],
                         "cursor": str(events[-1].seq if events else after), "has_more": more})
