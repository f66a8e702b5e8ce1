import logging

import redis
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from unipulse.conventions import deprecated_alias

from . import services
from .clients import ratelimit
from .models import SocialAccount

logger = logging.getLogger(__name__)

# What reading the counters can raise while Redis is unreachable (redis-py's errors, a socket's).
REDIS_DOWN = (redis.RedisError, OSError)
UNKNOWN = object()  # the counters could not be read: the field says null ("unknown"), the answer goes on


def _read_counters(read, default=UNKNOWN):
    try:
        return read()
    except REDIS_DOWN as error:
        logger.warning("Call counters unavailable (%s); account fields shown as unknown", type(error).__name__)
        return default


class SocialAccountListSerializer(serializers.ListSerializer):
    """A page of accounts: their call counts and budgets are read from Redis in two round trips, not two per row."""

    def to_representation(self, data):
        accounts = list(data.all() if hasattr(data, "all") else data)
        self.context["_call_counts"] = _read_counters(lambda: ratelimit.get_call_counts_many([a.pk for a in accounts]))
        self.context["_budgets"] = _read_counters(lambda: services.get_call_budgets(accounts))
        return super().to_representation(accounts)


@extend_schema_serializer(deprecate_fields=["parent_id"])
class SocialAccountSerializer(serializers.ModelSerializer):
    """An account as the frontend sees it. Tokens are never serialised: only whether one is present."""

    has_access_token = serializers.BooleanField(read_only=True)
    has_refresh_token = serializers.BooleanField(read_only=True)
    parent = serializers.IntegerField(source="parent_id", read_only=True, allow_null=True, help_text=(
        "The account this one was connected through (an Instagram account's Facebook Page); null otherwise."))
    parent_id = deprecated_alias("parent", allow_null=True)
    login_path = serializers.CharField(read_only=True, help_text=(
        "Instagram only: how it was connected, `facebook` (through its Page) or `instagram` (Instagram Login, no "
        "Page: its own 60-day token, webhooks subscribed by itself); empty for Facebook Pages and TikTok."))
    remaining_call_budget = serializers.SerializerMethodField()
    call_counts = serializers.SerializerMethodField()

    class Meta:
        model = SocialAccount
        fields = [
            "id", "platform", "external_id", "name", "username", "avatar_url", "scopes", "status",
            "status_reason", "has_access_token", "has_refresh_token", "token_expires_at",
            "refresh_token_expires_at", "data_access_expires_at", "parent", "parent_id", "login_path", "blocked_until",
            "is_sandbox", "connected_at", "updated_at", "last_synced_at", "webhook_subscribed_at",
            "remaining_call_budget", "call_counts",
        ]
        read_only_fields = fields
        list_serializer_class = SocialAccountListSerializer

    @extend_schema_field(serializers.IntegerField(allow_null=True, help_text=(
        "Meta calls left in the rolling hour for the user behind this account. Null for TikTok (no such "
        "budget), and null (unknown) while the counters' store (Redis) is unreachable.")))
    def get_remaining_call_budget(self, account: SocialAccount) -> int | None:
        """Meta calls left in the rolling hour for the user behind this account (None for TikTok)."""
        budgets = self.context.get("_budgets")
        if budgets is UNKNOWN:
            return None
        if budgets is not None and account.pk in budgets:
            return budgets[account.pk]
        return _read_counters(lambda: services.get_call_budget(account), default=None)

    @extend_schema_field(serializers.DictField(child=serializers.IntegerField(), allow_null=True, help_text=(
        "Platform calls made for this account, per endpoint ('meta:page.feed': 12); null (unknown) while "
        "the counters' store (Redis) is unreachable.")))
    def get_call_counts(self, account: SocialAccount) -> dict[str, int] | None:
        """Platform calls made for this account, per endpoint ('meta:page.feed': 12)."""
        counts = self.context.get("_call_counts")
        if counts is UNKNOWN:
            return None
        if counts is not None and account.pk in counts:
            return counts[account.pk]
        return _read_counters(lambda: ratelimit.get_call_counts(account.pk), default=None)


class AccountEventSerializer(SocialAccountSerializer):
    """The account in an event: the API's fields but the live call counters (no token either way)."""

    class Meta(SocialAccountSerializer.Meta):
        fields = [f for f in SocialAccountSerializer.Meta.fields if f not in ("remaining_call_budget", "call_counts")]
        read_only_fields = fields
        list_serializer_class = serializers.ListSerializer
