from django.contrib import admin, messages

from . import services
from .models import Post, PostMedia, PostTarget, TargetStatus


class PostMediaInline(admin.TabularInline):
    model = PostMedia
    extra = 0


class PostTargetInline(admin.TabularInline):
    model = PostTarget
    extra = 0
    fields = ["account", "status", "step", "platform_post_id", "permalink", "attempts", "last_error_code",
              "last_error_message", "published_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "short_text", "scheduled_at", "created_at"]
    search_fields = ["text", "owner__username", "idempotency_key"]
    readonly_fields = ["idempotency_key"]
    inlines = [PostMediaInline, PostTargetInline]
    actions = ["retry_failed", "cancel_not_started"]

    @admin.display(description="Text")
    def short_text(self, post: Post) -> str:
        return post.text[:60]

    @admin.action(description="Retry failed targets (and resume TikTok ones whose publish_id is known)")
    def retry_failed(self, request, queryset):
        count = sum(len(services.retry_post(post)) for post in queryset)
        self.message_user(request, f"Queued {count} target(s) again.", messages.SUCCESS)

    @admin.action(description="Cancel targets that have not started")
    def cancel_not_started(self, request, queryset):
        count = sum(services.cancel_post(post) for post in queryset)
        self.message_user(request, f"Cancelled {count} target(s).", messages.SUCCESS)


@admin.register(PostTarget)
class PostTargetAdmin(admin.ModelAdmin):
    list_display = ["id", "post", "account", "status", "step", "attempts", "last_error_code", "published_at"]
    list_filter = ["status", "account__platform"]
    search_fields = ["platform_post_id", "publish_id", "last_error_message"]
    list_select_related = ["post", "account"]
    readonly_fields = ["remote_handles", "publish_id", "platform_post_id", "commit_started_at", "lease_until",
                       "first_comment_id"]
    exclude = ["container_ids"]
    actions = ["retry_failed", "cancel"]

    @admin.display(description="Remote handles")
    def remote_handles(self, target: PostTarget) -> dict:
        # TikTok's upload_url carries an upload token: never shown.
        return {k: v for k, v in (target.container_ids or {}).items() if k != "upload_url"}

    @admin.action(description="Retry (failed targets; unconfirmed TikTok ones resume polling)")
    def retry_failed(self, request, queryset):
        posts = {t.post for t in queryset.filter(status__in=[TargetStatus.FAILED, TargetStatus.UNCONFIRMED])}
        count = sum(len(services.retry_post(post)) for post in posts)
        self.message_user(request, f"Queued {count} target(s) again.", messages.SUCCESS)

    @admin.action(description="Cancel (targets not started)")
    def cancel(self, request, queryset):
        count = services.cancel_targets(queryset)
        self.message_user(request, f"Cancelled {count} target(s).", messages.SUCCESS)
