from django.contrib import admin, messages
from django.db.models import F, Prefetch
from django.utils.html import format_html, format_html_join

from unipulse.api_errors import ApiError
from unipulse.sandbox_admin import SandboxColumnMixin, sandbox_filter

from . import services
from .models import Post, PostingSchedule, PostMedia, PostTarget, ScheduleTime, TargetStatus

STATUS_COLOURS = {TargetStatus.PUBLISHED: "#1b7f3b", TargetStatus.FAILED: "#b3261e", TargetStatus.UNCONFIRMED: "#b35c00",
                  TargetStatus.PUBLISHING: "#1f5fa8", TargetStatus.QUEUED: "#1f5fa8"}


class PublishedPostReadOnly:
    """A published post is what the platforms show: editing it here would change nothing there, only
    make the two disagree. Its page (and its inlines, given the post) becomes view-only."""

    def _is_published(self, obj) -> bool:
        if isinstance(obj, PostTarget):
            return obj.status == TargetStatus.PUBLISHED
        return obj is not None and obj.is_published_anywhere()

    def has_change_permission(self, request, obj=None) -> bool:
        return not self._is_published(obj) and super().has_change_permission(request, obj)


class PostMediaInline(PublishedPostReadOnly, admin.TabularInline):
    model = PostMedia
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return not self._is_published(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not self._is_published(obj) and super().has_delete_permission(request, obj)


class PostTargetInline(PublishedPostReadOnly, admin.TabularInline):
    model = PostTarget
    extra = 0
    fields = ["account", "status", "step", "platform_post_id", "permalink", "attempts", "last_error_code",
              "last_error_message", "published_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return not self._is_published(obj) and super().has_add_permission(request, obj)


@admin.register(Post)
class PostAdmin(PublishedPostReadOnly, admin.ModelAdmin):
    list_display = ["id", "workspace", "created_by", "short_text", "targets_status", "approval", "is_sandbox",
                    "scheduled_at", "created_at"]
    list_filter = ["workspace", "approval", "targets__status", sandbox_filter("targets__account__is_sandbox")]
    search_fields = ["text", "created_by__username", "workspace__name", "idempotency_key"]
    readonly_fields = ["idempotency_key", "approval", "reviewed_by", "reviewed_at"]
    list_select_related = ["workspace", "created_by"]
    raw_id_fields = ["workspace", "created_by", "reviewed_by"]
    inlines = [PostMediaInline, PostTargetInline]
    actions = ["approve", "reject", "retry_failed", "cancel_not_started"]

    def get_queryset(self, request):
        # One query for every listed post's targets (status and sandbox columns), not one per row.
        # The account's mark as an annotation: no SocialAccount rows built (their post_init reads more).
        targets = (PostTarget.objects.only("id", "post_id", "status").annotate(account_is_sandbox=F("account__is_sandbox"))
                   .order_by("id"))
        return super().get_queryset(request).prefetch_related(Prefetch("targets", queryset=targets))

    @admin.display(description="Text")
    def short_text(self, post: Post) -> str:
        return post.text[:60]

    @admin.display(description="Sandbox", boolean=True)
    def is_sandbox(self, post: Post) -> bool:
        return any(target.account_is_sandbox for target in post.targets.all())

    @admin.display(description="Targets")
    def targets_status(self, post: Post) -> str:
        """How many targets are in each status, in the lifecycle's order: "2 published · 1 failed"."""
        counts: dict[str, int] = {}
        for target in post.targets.all():
            counts[target.status] = counts.get(target.status, 0) + 1
        if not counts:
            return "no targets"
        return format_html_join(" · ", '<span style="color:{}">{} {}</span>', (
            (STATUS_COLOURS.get(status, "#555"), counts[status], TargetStatus(status).label.lower())
            for status in TargetStatus.values if status in counts))

    @admin.action(description="Approve (posts waiting for approval)")
    def approve(self, request, queryset):
        self._review(request, queryset, lambda post: services.approve_post(post, request.user), "Approved")

    @admin.action(description="Reject (back to draft; the author sees \"Rejected in the admin\")")
    def reject(self, request, queryset):
        self._review(request, queryset, lambda post: services.reject_post(post, request.user, "Rejected in the admin."),
                     "Rejected")

    def _review(self, request, queryset, review, verb: str) -> None:
        done, refused = 0, []
        for post in queryset:
            try:
                review(post)
                done += 1
            except ApiError as error:
                refused.append(f"post {post.pk}: {error.detail}")
        self.message_user(request, f"{verb} {done} post(s).", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not changed: " + "; ".join(refused), messages.WARNING)

    @admin.action(description="Retry failed targets (and resume TikTok ones whose publish_id is known)")
    def retry_failed(self, request, queryset):
        count = sum(len(services.retry_post(post, request.user)) for post in queryset)
        self.message_user(request, f"Queued {count} target(s) again.", messages.SUCCESS)

    @admin.action(description="Cancel targets that have not started")
    def cancel_not_started(self, request, queryset):
        count = sum(services.cancel_post(post, request.user) for post in queryset)
        self.message_user(request, f"Cancelled {count} target(s).", messages.SUCCESS)


@admin.register(PostTarget)
class PostTargetAdmin(PublishedPostReadOnly, SandboxColumnMixin, admin.ModelAdmin):
    list_display = ["id", "post", "account", "status", "step", "attempts", "last_error_code", "error", "is_sandbox",
                    "published_at"]
    list_filter = ["status", "account__platform", sandbox_filter("account__is_sandbox")]
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

    @admin.display(description="Error")
    def error(self, target: PostTarget) -> str:
        return format_html('<span title="{}">{}</span>', target.last_error_message, target.last_error_message[:80])

    @admin.action(description="Retry (failed targets; unconfirmed TikTok ones resume polling)")
    def retry_failed(self, request, queryset):
        # Only the selected ones: a sibling target of the same post that failed stays as it is.
        count = len(services.retry_targets(queryset))
        self.message_user(request, f"Queued {count} target(s) again.", messages.SUCCESS)

    @admin.action(description="Cancel (targets not started)")
    def cancel(self, request, queryset):
        count = services.cancel_targets(queryset)
        self.message_user(request, f"Cancelled {count} target(s).", messages.SUCCESS)


class ScheduleTimeInline(admin.TabularInline):
    model = ScheduleTime
    extra = 1


@admin.register(PostingSchedule)
class PostingScheduleAdmin(admin.ModelAdmin):
    """An account's posting queue: weekly local times (the workspace's timezone), and a pause switch."""

    list_display = ["account", "workspace", "paused", "slots_per_week", "updated_at"]
    list_filter = ["paused", "account__platform"]
    list_editable = ["paused"]
    search_fields = ["account__name", "account__username", "account__workspace__name"]
    list_select_related = ["account__workspace"]
    raw_id_fields = ["account"]
    inlines = [ScheduleTimeInline]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(n_times=Count("times"))

    @admin.display(description="Workspace", ordering="account__workspace__name")
    def workspace(self, obj):
        return obj.account.workspace

    @admin.display(description="Slots a week", ordering="n_times")
    def slots_per_week(self, obj):
        return obj.n_times
