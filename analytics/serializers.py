"""Input filters and output shapes for the analytics API (no platform calls here)."""

from __future__ import annotations

from rest_framework import serializers

from social.models import Platform
from unipulse.converters import id_field

from .models import TrackedPost


class TrackedPostFilterSerializer(serializers.Serializer):
    account = id_field(required=False, help_text="Only this account's posts.")
    platform = serializers.ChoiceField(choices=Platform.choices, required=False)
    source = serializers.ChoiceField(choices=TrackedPost.Source.choices, required=False,
                                     help_text="unipulse: published with UniPulse; external: published elsewhere.")


class TrackedPostSerializer(serializers.ModelSerializer):
    """A tracked post with its latest numbers; its metric series is at /analytics/tracked-posts/{id}/."""

    account_id = serializers.IntegerField(read_only=True)
    latest = serializers.DictField(source="latest_metrics", read_only=True,
                                   help_text="Every metric of the latest reading, by our metric name.")

    class Meta:
        model = TrackedPost
        fields = ["id", "account_id", "platform", "platform_post_id", "source", "media_type", "product_type",
                  "caption", "permalink", "published_at", "views", "reach", "likes", "comments", "shares", "saves",
                  "latest", "last_synced_at", "next_sync_at"]
        read_only_fields = fields
