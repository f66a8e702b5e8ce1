"""The sandbox's state in the admin, read mostly: what the fake platforms hold, and queued failures."""

from django.contrib import admin

from . import models


@admin.register(models.Page)
class PageAdmin(admin.ModelAdmin):
    list_display = ["name", "page_id", "owner", "subscribed_fields"]


@admin.register(models.InstagramAccount)
class InstagramAccountAdmin(admin.ModelAdmin):
    list_display = ["username", "ig_id", "page"]


@admin.register(models.TikTokCreator)
class TikTokCreatorAdmin(admin.ModelAdmin):
    list_display = ["username", "open_id", "display_name"]


@admin.register(models.Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["post_id", "network", "media_type", "product_type", "is_published", "created_at"]
    list_filter = ["network", "media_type"]
    search_fields = ["post_id", "message"]


@admin.register(models.MediaContainer)
class MediaContainerAdmin(admin.ModelAdmin):
    list_display = ["container_id", "instagram", "media_type", "created_at", "ready_at", "error_subcode"]


@admin.register(models.Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["comment_id", "author_name", "message", "is_hidden", "created_at"]
    search_fields = ["message", "comment_id"]


@admin.register(models.Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["thread_id", "page", "platform", "participant_name", "updated_at"]


@admin.register(models.DirectMessage)
class DirectMessageAdmin(admin.ModelAdmin):
    list_display = ["mid", "conversation", "from_id", "text", "created_at"]


@admin.register(models.PublishJob)
class PublishJobAdmin(admin.ModelAdmin):
    list_display = ["publish_id", "creator", "mode", "source", "uploaded_bytes", "fail_reason", "created_at"]
    exclude = ["upload_token"]


@admin.register(models.Failure)
class FailureAdmin(admin.ModelAdmin):
    list_display = ["kind", "platform", "path_contains", "method", "remaining", "code", "subcode", "status"]


@admin.register(models.Token)
class TokenAdmin(admin.ModelAdmin):
    # Fake tokens, but still not shown: a habit worth keeping even in the sandbox.
    list_display = ["kind", "fb_user", "page", "creator", "issued_at", "expires_at", "revoked_at"]
    exclude = ["token"]
