"""Input filters and output shapes for the analytics API (no platform calls here)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from social.models import Platform
from unipulse.conventions import AccountFilterSerializer, deprecated_alias
from unipulse.converters import id_field

from .models import COUNTERS, TrackedPost


class TrackedPostFilterSerializer(AccountFilterSerializer):
    account = id_field(required=False, help_text="Only this account's posts.")
    platform = serializers.ChoiceField(choices=Platform.choices, required=False)
    source = serializers.ChoiceField(choices=TrackedPost.Source.choices, required=False,
                                     help_text="unipulse: published with UniPulse; external: published elsewhere.")


@extend_schema_serializer(deprecate_fields=["account_id"])
class TrackedPostSerializer(serializers.ModelSerializer):
    """A tracked post with its latest numbers; its metric series is at /analytics/tracked-posts/{id}/."""

    account = serializers.IntegerField(source="account_id", read_only=True)
    account_id = deprecated_alias("account")
    is_sandbox = serializers.BooleanField(read_only=True, help_text="The account is on the built-in sandbox platforms.")
    latest = serializers.DictField(source="latest_metrics", read_only=True,
                                   help_text="Every metric of the latest reading, by our metric name.")

    class Meta:
        model = TrackedPost
        fields = ["id", "account", "account_id", "platform", "platform_post_id", "source", "media_type", "product_type",
                  "caption", "permalink", "published_at", "views", "reach", "likes", "comments", "shares", "saves",
                  "latest", "last_synced_at", "next_sync_at", "is_sandbox"]
        read_only_fields = fields


# Output shapes of the report views, for the OpenAPI schema only: the views return the dicts of
# analytics.services.reports as they are, and tests/analytics/test_schema.py checks real responses
# against these.

METRICS_HELP = "Every metric of the reading, by our metric name (numbers, or objects such as reactions_by_type)."


@extend_schema_field({
    "type": "object",
    "properties": {name: {"type": "integer", "format": "int64", "nullable": True} for name in COUNTERS},
    "required": list(COUNTERS),
    "additionalProperties": True,
    "description": f"The latest reading: always the counters {', '.join(COUNTERS)} (null until read), "
                   "plus every other metric the platform gave, by our metric name.",
})
class LatestMetricsField(serializers.DictField):
    pass


class TotalsSerializer(serializers.Serializer):
    """Sums over the posts published in the period; a metric no post reported counts as 0."""

    posts = serializers.IntegerField(help_text="Posts published in the period.")
    views = serializers.IntegerField()
    reach = serializers.IntegerField()
    likes = serializers.IntegerField()
    comments = serializers.IntegerField()
    shares = serializers.IntegerField()
    saves = serializers.IntegerField()


class ReportAccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    platform = serializers.ChoiceField(choices=Platform.choices)
    name = serializers.CharField(allow_blank=True)
    username = serializers.CharField(allow_blank=True)
    is_sandbox = serializers.BooleanField(help_text="The account is on the built-in sandbox platforms.")


class FollowerPointSerializer(serializers.Serializer):
    captured_at = serializers.DateTimeField()
    followers = serializers.IntegerField(allow_null=True, help_text="Null: the platform did not say.")


class FollowersSerializer(serializers.Serializer):
    latest = serializers.IntegerField(allow_null=True, help_text="The last reading in the period; null without one.")
    series = FollowerPointSerializer(many=True, help_text="Oldest first.")


class _PeriodSerializer(serializers.Serializer):
    # "from" is a Python keyword, so both bounds go in through the class namespace.
    locals().update({
        "from": serializers.DateTimeField(help_text="Start of the period (?from=, default: 30 days before `to`)."),
        "to": serializers.DateTimeField(help_text="End of the period (?to=, a bare date is its last moment; default: now)."),
    })


class AccountReportSerializer(_PeriodSerializer):
    account = ReportAccountSerializer()
    followers = FollowersSerializer()
    posts = TotalsSerializer(help_text="Totals of the account's posts published in the period.")


class MetricPointSerializer(serializers.Serializer):
    captured_at = serializers.DateTimeField()
    metrics = serializers.DictField(help_text=METRICS_HELP)


@extend_schema_serializer(deprecate_fields=["account_id"])
class TrackedPostReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    account = serializers.IntegerField()
    account_id = deprecated_alias("account", source="account")
    platform = serializers.ChoiceField(choices=Platform.choices)
    platform_post_id = serializers.CharField()
    media_type = serializers.CharField(allow_blank=True)
    product_type = serializers.CharField(allow_blank=True)
    permalink = serializers.CharField(allow_blank=True, help_text="Empty when the platform gave none.")
    published_at = serializers.DateTimeField(allow_null=True)
    source = serializers.ChoiceField(choices=TrackedPost.Source.choices)
    last_synced_at = serializers.DateTimeField(allow_null=True, help_text="Null: not synced yet.")
    is_sandbox = serializers.BooleanField(help_text="The account is on the built-in sandbox platforms.")
    latest = LatestMetricsField()
    series = MetricPointSerializer(many=True, help_text="Every reading, oldest first.")


@extend_schema_serializer(deprecate_fields=["target_id", "account_id"])
class PostReportTargetSerializer(serializers.Serializer):
    target = serializers.IntegerField(help_text="The post's target (`targets[].id` of /api/v1/posts/{id}/).")
    target_id = deprecated_alias("target", source="target")
    account = serializers.IntegerField()
    account_id = deprecated_alias("account", source="account")
    platform_post_id = serializers.CharField(allow_blank=True, help_text="Empty until the target is published.")
    tracked = TrackedPostReportSerializer(allow_null=True, help_text="Null until analytics has tracked the post.")


@extend_schema_serializer(deprecate_fields=["post_id"])
class PostReportSerializer(serializers.Serializer):
    post = serializers.IntegerField()
    post_id = deprecated_alias("post", source="post")
    targets = PostReportTargetSerializer(many=True, help_text="In the order the targets were created.")


class SummaryPlatformSerializer(serializers.Serializer):
    platform = serializers.ChoiceField(choices=Platform.choices)
    accounts = serializers.IntegerField(help_text="The caller's accounts on this platform.")
    followers = serializers.IntegerField(help_text="Sum of their latest follower counts (unknown counts as 0).")
    totals = TotalsSerializer()


class SummaryAccountSerializer(ReportAccountSerializer):
    followers = serializers.IntegerField(allow_null=True, help_text="The latest count; null before the first sync.")
    totals = TotalsSerializer()


class SummarySerializer(_PeriodSerializer):
    platforms = SummaryPlatformSerializer(many=True, help_text="Only platforms the caller has accounts on.")
    accounts = SummaryAccountSerializer(many=True)
