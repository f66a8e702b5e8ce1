"""Staff views of webhook endpoints (never their secrets), deliveries (redeliver) and the outbox."""

from django.contrib import admin, messages

from . import services
from .models import Delivery, DeliveryAttempt, Event, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "workspace", "enabled", "event_types", "failing_since", "disabled_reason", "created_at"]
    list_filter = ["enabled"]
    search_fields = ["url", "description", "workspace__name"]
    fields = ["workspace", "url", "event_types", "enabled", "description", "disabled_reason", "failing_since",
              "previous_secret_expires_at", "created_by", "created_at"]
    readonly_fields = ["workspace", "disabled_reason", "failing_since", "previous_secret_expires_at", "created_by",
                       "created_at"]
    actions = ["ping", "disable"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # created through the API, which shows the signing secret once

    @admin.action(description="Send a ping event")
    def ping(self, request, queryset):
        for endpoint in queryset:
            services.record_ping(endpoint)
        self.message_user(request, f"Ping sent to {queryset.count()} endpoint(s).", messages.SUCCESS)

    @admin.action(description="Disable (stop sending)")
    def disable(self, request, queryset):
        count = queryset.filter(enabled=True).update(enabled=False, disabled_reason="disabled by staff")
        self.message_user(request, f"{count} endpoint(s) disabled.", messages.SUCCESS)


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ["number", "started_at", "duration_ms", "status_code", "error", "response_excerpt"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["event_type", "endpoint", "status", "attempts", "last_status_code", "next_attempt_at",
                    "delivered_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["endpoint__url", "event__type"]
    list_select_related = ["event", "endpoint"]
    readonly_fields = ["uid", "endpoint", "event", "status", "attempts", "next_attempt_at", "lease_until",
                       "last_status_code", "last_error", "delivered_at", "created_at"]
    inlines = [DeliveryAttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="event")
    def event_type(self, delivery: Delivery) -> str:
        return delivery.event.type

    @admin.action(description="Redeliver now")
    def redeliver(self, request, queryset):
        for delivery in queryset:
            services.redeliver(delivery)
        self.message_user(request, f"{queryset.count()} deliver(ies) sent again.", messages.SUCCESS)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["type", "workspace", "occurred_at", "seq"]
    list_filter = ["type"]
    search_fields = ["type"]
    readonly_fields = ["seq", "uid", "workspace", "type", "occurred_at", "data"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
