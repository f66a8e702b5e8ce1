"""Staff admin for connected accounts.

Other apps extend the account page without `social` importing them (arrows point down): their
admin modules append to `SocialAccountAdmin.actions`, `.list_filter` or `ACCOUNT_PANELS`
(callables returning safe HTML shown under the form, e.g. analytics' follower chart).
"""

from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from unipulse.admin_mixins import FromPlatformsMixin
from unipulse.platform_errors import PlatformError

from . import services
from .clients import ratelimit
from .models import AccountStatus, SocialAccount

ACCOUNT_PANELS: list[Callable[[SocialAccount], SafeString]] = []

STATUS_COLOURS = {AccountStatus.ACTIVE: "#1b7f3b", AccountStatus.NEEDS_REAUTH: "#b35c00", AccountStatus.DISCONNECTED: "#777"}


@admin.action(description="Disconnect (revoke where possible, wipe tokens)")
def disconnect(modeladmin, request, queryset):
    done = 0
    for account in queryset.exclude(status=AccountStatus.DISCONNECTED):
        try:
            services.disconnect_account(account)
            done += 1
        except PlatformError as error:
            modeladmin.message_user(request, f"{account}: {error}", messages.WARNING)
    modeladmin.message_user(request, f"Disconnected {done} account(s).", messages.SUCCESS)


def _token_state(present: bool, expires_at) -> str:
    if not present:
        return "absent"
    if expires_at is not None and expires_at <= timezone.now():
        return "present, expired"
    return "present"


TOKEN_FIELDS = ("access_token", "refresh_token")


class AccountChangeList(ChangeList):
    """The account list: never loads a token, and reads a page's Meta call budgets in one Redis round trip
    instead of one per row."""

    def get_queryset(self, request, exclude_parameters=None):
        # Token presence read as IS NOT NULL (an empty token is stored as NULL); the change page decrypts
        # its one row and reads presence from the decrypted value.
        return super().get_queryset(request, exclude_parameters).defer(*TOKEN_FIELDS).annotate(**{
            f"listed_has_{field}": ExpressionWrapper(Q(**{f"{field}__isnull": False}), output_field=BooleanField())
            for field in TOKEN_FIELDS})

    def get_results(self, request):
        super().get_results(request)
        budgets = services.get_call_budgets(list(self.result_list))
        for account in self.result_list:
            account.listed_call_budget = budgets[account.pk]


@admin.register(SocialAccount)
class SocialAccountAdmin(FromPlatformsMixin, admin.ModelAdmin):
    """Staff view of connected accounts. Token text never appears: only presence and expiry."""

    list_display = ["__str__", "platform", "status_badge", "status_reason", "workspace", "token_expires_at",
                    "remaining_call_budget", "last_synced_at", "has_token", "has_refresh"]
    list_filter = ["workspace", "platform", "status", "is_sandbox"]
    actions = [disconnect]
    change_form_template = "admin/social/socialaccount/change_form.html"
    search_fields = ["name", "username", "external_id", "workspace__name", "connected_by__username"]
    list_select_related = ["workspace"]
    raw_id_fields = ["workspace", "connected_by", "parent"]
    readonly_fields = [
        "platform", "external_id", "platform_user_id", "login_path", "scopes", "has_token", "has_refresh",
        "token_expires_at", "refresh_token_expires_at", "data_access_expires_at", "token_refresh_due_at",
        "token_checked_at", "connected_at", "updated_at", "last_synced_at", "webhook_subscribed_at", "is_sandbox",
        "remaining_call_budget", "call_counts",
    ]
    fields = [
        "workspace", "connected_by", "platform", "external_id", "platform_user_id", "name", "username", "avatar_url", "parent",
        "login_path", "status", "status_reason", "scopes", "has_token", "has_refresh", "token_expires_at",
        "refresh_token_expires_at", "data_access_expires_at", "token_refresh_due_at", "token_checked_at",
        "blocked_until", "is_sandbox", "connected_at", "updated_at", "last_synced_at", "webhook_subscribed_at",
        "remaining_call_budget", "call_counts",
    ]

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: SocialAccount) -> str:
        colour = STATUS_COLOURS.get(obj.status, "#777")
        label = obj.get_status_display() + (" · sandbox" if obj.is_sandbox else "")
        return format_html('<span style="background:{};color:#fff;padding:2px 8px;border-radius:9px;white-space:nowrap">{}</span>',
                           colour, label)

    def get_changelist(self, request, **kwargs):
        return AccountChangeList

    def change_view(self, request, object_id, form_url="", extra_context=None):
        account = self.get_object(request, object_id)
        panels = [panel(account) for panel in ACCOUNT_PANELS] if account else []
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "account_panels": panels})

    # Presence and expiry apart: "absent" (never connected, or wiped) asks for a different fix than
    # "present, expired" (refresh or reconnect). Never the token itself.
    @admin.display(description="Access token")
    def has_token(self, obj: SocialAccount) -> str:
        present = getattr(obj, "listed_has_access_token", None)
        return _token_state(obj.has_access_token if present is None else present, obj.token_expires_at)

    @admin.display(description="Refresh token")
    def has_refresh(self, obj: SocialAccount) -> str:
        present = getattr(obj, "listed_has_refresh_token", None)
        return _token_state(obj.has_refresh_token if present is None else present, obj.refresh_token_expires_at)

    @admin.display(description="Meta calls left this hour")
    def remaining_call_budget(self, obj: SocialAccount) -> str:
        budget = obj.listed_call_budget if hasattr(obj, "listed_call_budget") else services.get_call_budget(obj)
        return "—" if budget is None else str(budget)

    @admin.display(description="Platform calls (per endpoint)")
    def call_counts(self, obj: SocialAccount) -> str:
        counts = ratelimit.get_call_counts(obj.pk) if obj.pk else {}
        return ", ".join(f"{endpoint}: {n}" for endpoint, n in sorted(counts.items())) or "none yet"

