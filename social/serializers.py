from rest_framework import serializers

from .clients import ratelimit
from .models import Platform, SocialAccount


class SocialAccountSerializer(serializers.ModelSerializer):
    """An account as the frontend sees it. Tokens are never serialised: only whether one is present."""

    has_access_token = serializers.BooleanField(read_only=True)
    has_refresh_token = serializers.BooleanField(read_only=True)
    parent_id = serializers.IntegerField(read_only=True, allow_null=True)
    remaining_call_budget = serializers.SerializerMethodField()

    class Meta:
        model = SocialAccount
        fields = [
            "id", "platform", "external_id", "name", "username", "avatar_url", "scopes", "status",
            "status_reason", "has_access_token", "has_refresh_token", "token_expires_at",
            "refresh_token_expires_at", "data_access_expires_at", "parent_id", "blocked_until",
            "is_sandbox", "connected_at", "updated_at", "last_synced_at", "webhook_subscribed_at",
            "remaining_call_budget",
        ]
        read_only_fields = fields

    def get_remaining_call_budget(self, account: SocialAccount) -> int | None:
        """Meta calls left in the rolling hour for the user behind this account (None for TikTok)."""
        if account.platform == Platform.TIKTOK:
            return None
        return ratelimit.remaining_budget(ratelimit.meta_user_key(account.platform_user_id or f"account-{account.pk}"))
