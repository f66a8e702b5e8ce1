from django.contrib import admin
from django.utils import timezone

from tokens.admin import TokenHealthFilter, refresh_now

from . import services
from .clients import ratelimit
from .models import SocialAccount


@admin.register(SocialAccount)
class SocialAccountAdmin(admin.ModelAdmin):
    """Staff view of connected accounts. Token text never appears: only presence and expiry."""

    list_display = ["__str__", "platform", "status", "status_reason", "owner", "token_expires_at", "last_synced_at", "has_token"]
    list_filter = ["platform", "status", TokenHealthFilter, "is_sandbox"]
    actions = [refresh_now]
    search_fields = ["name", "username", "external_id", "owner__username", "owner__email"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner", "parent"]
    readonly_fields = [
        "platform", "external_id", "platform_user_id", "scopes", "has_token", "has_refresh",
        "token_expires_at", "refresh_token_expires_at", "data_access_expires_at", "token_refresh_due_at",
        "token_checked_at", "connected_at", "updated_at", "last_synced_at", "webhook_subscribed_at", "is_sandbox",
        "remaining_call_budget", "call_counts",
    ]
    fields = [
        "owner", "platform", "external_id", "platform_user_id", "name", "username", "avatar_url", "parent",
        "status", "status_reason", "scopes", "has_token", "has_refresh", "token_expires_at",
        "refresh_token_expires_at", "data_access_expires_at", "token_refresh_due_at", "token_checked_at",
        "blocked_until", "is_sandbox", "connected_at", "updated_at", "last_synced_at", "webhook_subscribed_at",
        "remaining_call_budget", "call_counts",
    ]

    @admin.display(boolean=True, description="Access token")
    def has_token(self, obj: SocialAccount) -> bool:
        return obj.has_access_token and not obj.is_token_expired()

    @admin.display(boolean=True, description="Refresh token")
    def has_refresh(self, obj: SocialAccount) -> bool:
        return obj.has_refresh_token and (obj.refresh_token_expires_at is None or obj.refresh_token_expires_at > timezone.now())

    @admin.display(description="Meta calls left this hour")
    def remaining_call_budget(self, obj: SocialAccount) -> str:
        budget = services.get_call_budget(obj)
        return "—" if budget is None else str(budget)

    @admin.display(description="Platform calls (per endpoint)")
    def call_counts(self, obj: SocialAccount) -> str:
        counts = ratelimit.get_call_counts(obj.pk) if obj.pk else {}
        return ", ".join(f"{endpoint}: {n}" for endpoint, n in sorted(counts.items())) or "none yet"

