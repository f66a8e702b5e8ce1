"""Shapes of webhook endpoints, deliveries and the event feed."""

from __future__ import annotations

from rest_framework import serializers

from .catalogue import EVENT_TYPES
from .models import Delivery, DeliveryAttempt, DeliveryStatus, WebhookEndpoint
from .urlsafety import UnsafeURL, check


class EndpointSerializer(serializers.ModelSerializer):
    url = serializers.CharField(max_length=500, help_text=(
        "Where events are POSTed: https, on a public address (checked now and at every delivery)."))
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=40), min_length=1, max_length=len(EVENT_TYPES),
        help_text='The types to send here (see the event catalogue), or ["*"] for every type.')
    secret_previous_valid_until = serializers.DateTimeField(source="previous_secret_expires_at", read_only=True,
                                                            help_text="Until then deliveries carry a second v1 "
                                                                      "signature made with the secret before the roll.")

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "event_types", "enabled", "description", "disabled_reason", "failing_since",
                  "secret_previous_valid_until", "created_at", "updated_at"]
        read_only_fields = ["disabled_reason", "failing_since", "created_at", "updated_at"]

    def validate_url(self, value: str) -> str:
        try:
            check(value)
        except UnsafeURL as error:
            raise serializers.ValidationError(f"The URL {error}.") from None
        return value

    def validate_event_types(self, value: list[str]) -> list[str]:
        unknown = sorted({t for t in value if t != "*" and t not in EVENT_TYPES})
        if unknown:
            raise serializers.ValidationError(f"Unknown event types: {', '.join(unknown)}. Known: "
                                              f"{', '.join(EVENT_TYPES)}, or * for all.")
        return ["*"] if "*" in value else sorted(set(value))


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text=(
        "The signing secret. Shown only in this answer (creation or roll): store it now."))

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["secret"] = str(instance.secret)
        return data


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "started_at", "duration_ms", "status_code", "error", "response_excerpt"]


class DeliverySerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(read_only=True)
    delivery_id = serializers.UUIDField(source="uid", read_only=True, help_text="The UniPulse-Delivery header.")
    event_id = serializers.CharField(source="event.public_id", read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, read_only=True)
    attempts = AttemptSerializer(source="attempt_log", many=True, read_only=True)
    attempt_count = serializers.IntegerField(source="attempts", read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "delivery_id", "event_id", "event_type", "status", "attempt_count", "next_attempt_at",
                  "last_status_code", "last_error", "delivered_at", "created_at", "attempts"]


class EventSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="evt_…, the same id receivers get.")
    type = serializers.CharField()
    workspace = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    data = serializers.DictField(help_text="{object: the object as the REST API shows it}.")


class FeedSerializer(serializers.Serializer):
    results = EventSerializer(many=True)
    cursor = serializers.CharField(help_text="Pass as `after` next time (the last event's, or yours when none came).")
    has_more = serializers.BooleanField(help_text="More events follow: ask again at once with the new cursor.")


class FeedFilterSerializer(serializers.Serializer):
    after = serializers.IntegerField(required=False, default=0, min_value=0, max_value=2**63 - 1,
                                     help_text="The cursor from the last answer; 0 or absent: the oldest kept event.")
    types = serializers.CharField(required=False, default="", help_text="Comma-separated event types; all if absent.")
    limit = serializers.IntegerField(required=False, default=100, min_value=1, max_value=500)

    def validate_types(self, value: str) -> list[str]:
        types = [t.strip() for t in value.split(",") if t.strip()]
        unknown = sorted(set(types) - set(EVENT_TYPES))
        if unknown:
            raise serializers.ValidationError(f"Unknown event types: {', '.join(unknown)}.")
        return types
