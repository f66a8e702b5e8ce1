"""Admin pieces for token health, used by social.admin.SocialAccountAdmin."""

from datetime import timedelta

from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone

from social.models import AccountStatus
from unipulse.platform_errors import PlatformError

from .services import refresh_account_token


class TokenHealthFilter(admin.SimpleListFilter):
    title = "token health"
    parameter_name = "token"

    def lookups(self, request, model_admin):
        return [("expiring", "Expiring within 7 days"), ("needs_reauth", "Needs reconnect"), ("warning", "Has a warning")]

    def queryset(self, request, queryset):
        soon = timezone.now() + timedelta(days=7)
        if self.value() == "expiring":
            return queryset.filter(
                Q(token_expires_at__lte=soon) | Q(data_access_expires_at__lte=soon) | Q(refresh_token_expires_at__lte=soon)
            ).exclude(status=AccountStatus.DISCONNECTED)
        if self.value() == "needs_reauth":
            return queryset.filter(status=AccountStatus.NEEDS_REAUTH)
        if self.value() == "warning":
            return queryset.filter(status_reason__startswith="Expiring:")
        return queryset


@admin.action(description="Refresh tokens now")
def refresh_now(modeladmin, request, queryset):
    done, failed = 0, []
    for account in queryset.exclude(status=AccountStatus.DISCONNECTED):
        try:
            refresh_account_token(account.pk, force=True)
            done += 1
        except PlatformError as error:
            failed.append(f"{account}: {error}")
    if done:
        modeladmin.message_user(request, f"Refreshed {done} account(s).", messages.SUCCESS)
    for line in failed:
        modeladmin.message_user(request, line, messages.WARNING)


# Extend the account admin from here, so `social` never imports `tokens` (see social.admin).
from social.admin import SocialAccountAdmin  # noqa: E402

SocialAccountAdmin.list_filter = [*SocialAccountAdmin.list_filter, TokenHealthFilter]
SocialAccountAdmin.actions = [*SocialAccountAdmin.actions, refresh_now]
