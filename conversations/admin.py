from django.contrib import admin, messages

from unipulse.admin_mixins import FromPlatformsMixin
from unipulse.sandbox_admin import AccountWithoutTokensMixin, SandboxColumnMixin, sandbox_filter

from . import services
from .models import Conversation, InboxSyncState, Message, WebhookEvent


@admin.register(WebhookEvent)
class WebhookEventAdmin(FromPlatformsMixin, admin.ModelAdmin):
    list_display = ["id", "platform", "topic", "status", "attempts", "received_at", "processed_at", "error", "sandbox"]
    list_filter = ["status", "platform", "topic", "received_at", sandbox_filter("is_sandbox")]
    search_fields = ["dedupe_key", "topic", "error"]
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]
    actions = ["process_again"]
    date_hierarchy = "received_at"

    @admin.display(description="Sandbox", boolean=True, ordering="is_sandbox")
    def sandbox(self, event: WebhookEvent) -> bool:
        return event.is_sandbox

    @admin.action(description="Process again")
    def process_again(self, request, queryset):
        sent = services.reprocess_webhook_events(list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"{sent} webhook event(s) sent for processing.", messages.SUCCESS)


class MessageInline(FromPlatformsMixin, admin.TabularInline):
    model = Message
    extra = 0
    fields = ["created_at", "direction", "author_name", "text", "status", "is_hidden", "is_deleted", "origin"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True


@admin.register(Conversation)
class ConversationAdmin(FromPlatformsMixin, SandboxColumnMixin, admin.ModelAdmin):
    list_display = ["id", "account", "kind", "participant_name", "snippet", "status", "assigned_to", "unread_count",
                    "last_message_at", "is_sandbox"]
    list_filter = ["account__workspace", "status", "kind", "account__platform", sandbox_filter("account__is_sandbox")]
    search_fields = ["participant_name", "snippet", "thread_key"]
    list_select_related = ["account", "assigned_to"]
    raw_id_fields = ["account"]
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(FromPlatformsMixin, SandboxColumnMixin, admin.ModelAdmin):
    list_display = ["id", "conversation", "direction", "author_name", "status", "origin", "created_at", "is_hidden",
                    "is_sandbox"]
    list_filter = ["direction", "status", "origin", "is_hidden", "is_deleted", sandbox_filter("account__is_sandbox")]
    list_select_related = ["conversation", "account"]
    search_fields = ["external_id", "text", "author_name"]
    raw_id_fields = ["conversation", "account", "sent_by"]


@admin.register(InboxSyncState)
class InboxSyncStateAdmin(FromPlatformsMixin, AccountWithoutTokensMixin, admin.ModelAdmin):
    list_display = ["account", "last_polled_at", "last_webhook_at", "missed_by_webhooks"]
    raw_id_fields = ["account"]
