"""Input checks and output shapes for posts and media. Never calls a platform."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from social.models import Platform, SocialAccount
from unipulse.conventions import AccountFilterSerializer
from unipulse.converters import id_field
from workspaces.access import workspace_of

from .models import Approval, MediaType, Post, PostMedia, PostTarget, TargetStatus
from .services import recurrence, slots, validation
from .services.posts import hosted_media_errors, media_url_errors


class MediaItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = PostMedia
        fields = ["url", "type", "alt_text"]

    def validate_url(self, value: str) -> str:
        request = self.context.get("request")
        problem = media_url_errors(value, workspace_of(request) if request is not None else None)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate(self, attrs: dict) -> dict:
        problem = hosted_media_errors(attrs["url"], attrs["type"]) if "url" in attrs and "type" in attrs else ""
        if problem:
            raise serializers.ValidationError({"url": [problem]})
        return attrs


class TargetSerializer(serializers.ModelSerializer):
    account = serializers.IntegerField(source="account_id")
    platform = serializers.CharField(source="account.platform")
    account_name = serializers.CharField(source="account.__str__")
    is_sandbox = serializers.BooleanField(source="account.is_sandbox", read_only=True,
                                          help_text="The account is on the built-in sandbox platforms, not the real one.")

    class Meta:
        model = PostTarget
        fields = ["id", "account", "platform", "account_name", "is_sandbox", "status", "step", "scheduled_at", "slot_at",
                  "options", "platform_post_id",
                  "permalink", "attempts", "last_error_code", "last_error_message", "published_at",
                  "first_comment_status", "first_comment_id"]


class PostSerializer(serializers.ModelSerializer):
    media = MediaItemSerializer(many=True)
    targets = TargetSerializer(many=True)
    is_sandbox = serializers.SerializerMethodField(help_text="At least one target is a sandbox account.")
    approval = serializers.ChoiceField(choices=Approval.choices, read_only=True, help_text=(
        "'' when no approval was needed; `pending` (no target queued), `approved`, `rejected` (back to draft, see "
        "`review_comment`), `expired` (its time passed while pending: edit `scheduled_at` to submit it again)."))
    created_by = serializers.IntegerField(source="created_by_id", read_only=True, allow_null=True,
                                          help_text="The member who wrote it.")
    reviewed_by = serializers.IntegerField(source="reviewed_by_id", read_only=True, allow_null=True)
    series = serializers.IntegerField(source="series_id", read_only=True, allow_null=True,
                                      help_text="The recurring series this post is an occurrence of.")
    recurrence = serializers.CharField(source="series.rule", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Post
        fields = ["id", "text", "link", "first_comment", "scheduled_at", "series", "series_at", "recurrence", "media",
                  "targets", "is_sandbox", "approval",
                  "created_by", "reviewed_by", "reviewed_at", "review_comment", "created_at", "updated_at"]

    def get_is_sandbox(self, post: Post) -> bool:
        return any(target.account.is_sandbox for target in post.targets.all())  # the prefetched targets


class PostInputSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False, max_length=63206)
    link = serializers.URLField(required=False, allow_blank=True, default="", max_length=2048)
    media = MediaItemSerializer(many=True, required=False, default=list)
    accounts = serializers.ListField(child=id_field(), allow_empty=False)
    scheduled_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    next_free_slot = serializers.BooleanField(required=False, default=False, help_text=(
        "Instead of `scheduled_at`: each target takes the next free slot of its account's posting schedule "
        "(GET /api/v1/accounts/{id}/queue/). The post's `scheduled_at` is then its earliest slot."))
    options = serializers.DictField(child=serializers.DictField(), required=False, default=dict)
    first_comment = serializers.CharField(required=False, allow_blank=True, default="")
    recurrence = serializers.CharField(required=False, allow_blank=True, default="", max_length=500, help_text=(
        "Repeat the post: an RFC 5545 RRULE subset, e.g. FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10 (FREQ=DAILY|WEEKLY|MONTHLY, "
        "INTERVAL, BYDAY for weekly, UNTIL or COUNT). `scheduled_at` is the first occurrence; its local time in the "
        "workspace's timezone repeats. Each occurrence is a post of its own, created ahead."))

    def validate_scheduled_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("Choose a time in the future, or leave it empty to publish now.")
        return value

    def validate_accounts(self, ids: list[int]) -> list[SocialAccount]:
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError("Each account can be chosen once.")
        owned = {a.pk: a for a in SocialAccount.objects.in_workspace(workspace_of(self.context["request"])).filter(pk__in=ids)}
        missing = [str(i) for i in ids if i not in owned]
        if missing:
            raise serializers.ValidationError(f"Unknown account: {', '.join(missing)}.")
        accounts = [owned[i] for i in ids]
        problems = validation.account_errors(accounts)
        if problems:
            raise serializers.ValidationError(problems)
        return accounts

    def validate_recurrence(self, value: str) -> str:
        problems = recurrence.rule_errors(value) if value else []
        if problems:
            raise serializers.ValidationError(problems)
        return value

    def validate(self, data: dict) -> dict:
        if data.get("recurrence") and (not data.get("scheduled_at") or data.get("next_free_slot")):
            raise serializers.ValidationError({"recurrence": ["A recurring post needs scheduled_at (its first occurrence)."]})
        if data.get("next_free_slot"):
            if data.get("scheduled_at"):
                raise serializers.ValidationError({"next_free_slot": ["Give either scheduled_at or next_free_slot."]})
            problems = slots.queue_errors(data["accounts"])
            if problems:
                raise serializers.ValidationError({"next_free_slot": problems})
        errors = validation.content_errors(data, data["accounts"])
        if errors:
            raise serializers.ValidationError(errors)
        return data


class PostRejectSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=2000, help_text="What the author should change; kept on the post.")


class MediaUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class StoredMediaSerializer(serializers.Serializer):
    url = serializers.URLField()
    type = serializers.ChoiceField(choices=MediaType.choices)
    size = serializers.IntegerField()
    content_type = serializers.CharField()
    width = serializers.IntegerField(help_text="Pixels, read by decoding the file (checked against platform aspect rules).")
    height = serializers.IntegerField(help_text="Pixels, read by decoding the file.")
    duration = serializers.FloatField(allow_null=True, help_text="Videos: seconds. Null for images.")
    frame_rate = serializers.FloatField(allow_null=True, help_text="Videos: average frames per second. Null for images.")
    video_codec = serializers.CharField(help_text="Videos: the first video stream's codec (e.g. h264); '' for images.")
    audio_codec = serializers.CharField(help_text="Videos: the first audio stream's codec (e.g. aac); '' without one.")


class PostFilterSerializer(AccountFilterSerializer):
    status = serializers.ChoiceField(choices=TargetStatus.choices, required=False)
    account = id_field(required=False, help_text="Only posts with a target on this account.")
    platform = serializers.ChoiceField(choices=Platform.choices, required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
