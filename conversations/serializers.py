from rest_framework import serializers

from .models import Conversation, Message


class ConversationSerializer(serializers.ModelSerializer):
    platform = serializers.CharField(source="account.platform", read_only=True)
    unread = serializers.BooleanField(source="is_unread", read_only=True)

    class Meta:
        model = Conversation
        fields = ["id", "account", "platform", "kind", "platform_post_id", "root_comment_id", "participant_id",
                  "participant_name", "snippet", "unread", "unread_count", "last_message_at", "last_inbound_at"]
        read_only_fields = fields


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["id", "conversation", "external_id", "parent_external_id", "direction", "author_id", "author_name",
                  "text", "attachments", "created_at", "is_hidden", "is_deleted", "status", "error", "origin"]
        read_only_fields = fields


class ReplySerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000, trim_whitespace=True)
    idempotency_key = serializers.CharField(max_length=100)


class VideoCommentCountSerializer(serializers.Serializer):
    """A TikTok video with the comment count analytics last synced for it."""

    tracked_post_id = serializers.IntegerField()
    account_id = serializers.IntegerField()
    platform_post_id = serializers.CharField()
    caption = serializers.CharField(allow_blank=True)
    permalink = serializers.CharField(allow_blank=True)
    published_at = serializers.DateTimeField(allow_null=True)
    comments = serializers.IntegerField(allow_null=True)
    last_synced_at = serializers.DateTimeField(allow_null=True)
