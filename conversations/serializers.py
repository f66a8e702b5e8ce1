from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from social.models import Platform
from unipulse.conventions import AccountFilterSerializer, deprecated_alias
from unipulse.converters import id_field

from .models import Conversation, Message


class VideoFilterSerializer(AccountFilterSerializer):
    account = id_field(required=False, help_text="Only this TikTok account's videos.")


class ConversationFilterSerializer(VideoFilterSerializer):
    account = id_field(required=False, help_text="Only this account's conversations.")
    platform = serializers.ChoiceField(choices=Platform.choices, required=False)
    kind = serializers.ChoiceField(choices=Conversation.Kind.choices, required=False)
    unread = serializers.BooleanField(required=False, allow_null=True, default=None,
                                      help_text="true: with unread messages only; false: read ones only.")
    search = serializers.CharField(required=False, max_length=200,
                                   help_text="In the participant's name and the messages' text.")
    status = serializers.ChoiceField(choices=Conversation._meta.get_field("status").choices, required=False)
    assigned = serializers.RegexField(r"^(me|none|[0-9]{1,18})$", required=False, help_text=(
        "`me`: assigned to the caller; `none`: unassigned; a user id: assigned to that member."))


class ConversationSerializer(serializers.ModelSerializer):
    platform = serializers.CharField(source="account.platform", read_only=True)
    is_sandbox = serializers.BooleanField(source="account.is_sandbox", read_only=True,
                                          help_text="The account is on the built-in sandbox platforms.")
    unread = serializers.BooleanField(source="is_unread", read_only=True)
    assigned_to = serializers.IntegerField(source="assigned_to_id", read_only=True, allow_null=True,
                                           help_text="The member (user id) handling it; empty: unassigned.")

    class Meta:
        model = Conversation
        fields = ["id", "account", "platform", "is_sandbox", "kind", "platform_post_id", "root_comment_id", "participant_id",
                  "participant_name", "participant_avatar_url", "snippet", "unread", "unread_count", "status", "assigned_to", "last_message_at",
                  "last_inbound_at"]
        read_only_fields = fields


class ConversationUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Conversation._meta.get_field("status").choices, required=False,
                                     help_text="`done` when handled; a new inbound message reopens it.")
    assigned_to = id_field(required=False, allow_null=True, help_text="A member's user id, or null to unassign.")


class MessageSerializer(serializers.ModelSerializer):
    is_sandbox = serializers.BooleanField(source="account.is_sandbox", read_only=True,
                                          help_text="The account is on the built-in sandbox platforms.")
    sent_by = serializers.IntegerField(source="sent_by_id", read_only=True, allow_null=True,
                                       help_text="Replies: the member (user id) who sent it.")

    class Meta:
        model = Message
        fields = ["id", "conversation", "external_id", "parent_external_id", "direction", "author_id", "author_name",
                  "text", "attachments", "created_at", "is_hidden", "is_deleted", "status", "error", "origin", "is_sandbox",
                  "sent_by"]
        read_only_fields = fields


class ReplySerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000, trim_whitespace=True)
    idempotency_key = serializers.CharField(max_length=100)


@extend_schema_serializer(deprecate_fields=["tracked_post_id", "account_id"])
class VideoCommentCountSerializer(serializers.Serializer):
    """A TikTok video with the comment count analytics last synced for it."""

    tracked_post = serializers.IntegerField(source="id", help_text="/api/v1/analytics/tracked-posts/{id}/")
    tracked_post_id = deprecated_alias("tracked_post", source="id")
    account = serializers.IntegerField(source="account_id")
    account_id = deprecated_alias("account")
    platform_post_id = serializers.CharField()
    caption = serializers.CharField(allow_blank=True)
    permalink = serializers.CharField(allow_blank=True)
    published_at = serializers.DateTimeField(allow_null=True)
    comments = serializers.IntegerField(allow_null=True)
    last_synced_at = serializers.DateTimeField(allow_null=True)
    is_sandbox = serializers.BooleanField(help_text="The account is on the built-in sandbox platforms.")
