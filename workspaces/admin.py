"""Staff admin for workspaces, members, invitations and the audit log (the last is read-only)."""

from django.contrib import admin

from .models import AuditEntry, Invitation, Membership, Workspace


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "approval_required", "created_at"]
    list_filter = ["approval_required"]
    search_fields = ["name", "slug", "memberships__user__username"]
    prepopulated_fields = {"slug": ["name"]}
    raw_id_fields = ["personal_for"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["role", "workspace"]
    search_fields = ["user__username", "user__email", "workspace__name"]
    list_select_related = ["user", "workspace"]
    raw_id_fields = ["user", "workspace"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations are made through the API (which e-mails the one-time link); here they are read or revoked."""

    list_display = ["email", "workspace", "role", "status", "invited_by", "created_at", "expires_at"]
    list_filter = ["role", "workspace"]
    search_fields = ["email", "workspace__name"]
    list_select_related = ["workspace", "invited_by"]
    readonly_fields = ["workspace", "email", "role", "invited_by", "created_at", "expires_at", "accepted_at",
                       "accepted_by", "revoked_at"]
    exclude = ["token_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Revoke (pending invitations)")
    def revoke(self, request, queryset):
        from django.utils import timezone

        count = queryset.filter(accepted_at__isnull=True, revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} invitation(s).")


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Append-only: no add, change or delete here."""

    list_display = ["created_at", "workspace", "actor", "action", "object_type", "object_id", "summary"]
    list_filter = ["action", "workspace"]
    search_fields = ["summary", "actor__username", "object_id"]
    list_select_related = ["workspace", "actor"]
    readonly_fields = list_display

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
