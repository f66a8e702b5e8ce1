"""Admin: read-only views of what analytics synced (snapshots are append-only history)."""

from django.contrib import admin

from unipulse.sandbox_admin import SandboxColumnMixin, sandbox_filter

from .models import (
    AccountMetrics,
    AccountMetricSnapshot,
    PostMetricSnapshot,
    RejectedMetric,
    SyncRun,
    TrackedPost,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TrackedPost)
class TrackedPostAdmin(SandboxColumnMixin, ReadOnlyAdmin):
    list_display = ("platform_post_id", "account", "product_type", "source", "published_at", "views", "likes",
                    "comments", "last_synced_at", "next_sync_at", "is_sandbox")
    list_filter = ("platform", "source", "product_type", sandbox_filter("account__is_sandbox"))
    search_fields = ("platform_post_id", "caption")
    list_select_related = ("account",)
    date_hierarchy = "published_at"


@admin.register(PostMetricSnapshot)
class PostMetricSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("tracked_post", "sync_run", "captured_at")
    list_filter = ("tracked_post__platform", sandbox_filter("tracked_post__account__is_sandbox"))
    list_select_related = ("tracked_post",)
    raw_id_fields = ("tracked_post", "sync_run")
    date_hierarchy = "captured_at"


@admin.register(AccountMetricSnapshot)
class AccountMetricSnapshotAdmin(SandboxColumnMixin, ReadOnlyAdmin):
    list_display = ("account", "followers", "captured_at", "is_sandbox")
    list_filter = ("account__platform", sandbox_filter("account__is_sandbox"))
    list_select_related = ("account",)
    date_hierarchy = "captured_at"


@admin.register(AccountMetrics)
class AccountMetricsAdmin(SandboxColumnMixin, ReadOnlyAdmin):
    list_display = ("account", "followers", "last_synced_at", "is_sandbox")
    list_filter = ("account__platform", sandbox_filter("account__is_sandbox"))
    list_select_related = ("account",)


@admin.register(SyncRun)
class SyncRunAdmin(SandboxColumnMixin, ReadOnlyAdmin):
    list_display = ("id", "account", "status", "posts_synced", "started_at", "finished_at", "error_code", "is_sandbox")
    list_filter = ("status", "account__platform", sandbox_filter("account__is_sandbox"))
    list_select_related = ("account",)


@admin.register(RejectedMetric)
class RejectedMetricAdmin(ReadOnlyAdmin):
    list_display = ("metric", "platform", "graph_version", "kind", "times", "last_seen")
    list_filter = ("platform", "graph_version", "kind")


# ---- the account page: follower chart and "sync now" (social.admin's extension points) -------------

from django.contrib import messages  # noqa: E402

from social.admin import ACCOUNT_PANELS, SocialAccountAdmin  # noqa: E402

from .charts import account_follower_panel  # noqa: E402


@admin.action(description="Sync analytics now")
def sync_now(modeladmin, request, queryset):
    from .actors import analytics_sync

    ids = list(queryset.filter(status="active").values_list("pk", flat=True))
    for account_id in ids:
        analytics_sync.send(account_id)
    modeladmin.message_user(request, f"Queued an analytics sync for {len(ids)} account(s).", messages.SUCCESS)


SocialAccountAdmin.actions = [*SocialAccountAdmin.actions, sync_now]
ACCOUNT_PANELS.append(account_follower_panel)
