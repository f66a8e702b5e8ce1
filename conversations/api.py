from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from unipulse import hooks
from unipulse.conventions import ACCOUNT_ID_PARAMETER
from unipulse.converters import ID_REGEX
from unipulse.throttles import WriteRateLimitMixin
from workspaces.access import workspace_of

from . import services
from .models import Conversation, Message
from .serializers import (
    ConversationFilterSerializer,
    ConversationSerializer,
    ConversationUpdateSerializer,
    MessageSerializer,
    ReplySerializer,
    VideoCommentCountSerializer,
    VideoFilterSerializer,
)


class ConversationViewSet(WriteRateLimitMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The workspace's inbox. Filters: account, platform, kind (comment|dm), unread, search, status, assigned.
    Another workspace's conversation is a 404."""

    lookup_value_regex = ID_REGEX

    serializer_class = ConversationSerializer
    queryset = Conversation.objects.none()

    def get_queryset(self):
        qs = Conversation.objects.filter(account__workspace=workspace_of(self.request)).select_related("account")
        if self.action == "list":  # a list shows no tokens: decrypting one per row cost ~15 % of the request
            qs = qs.defer("account__access_token", "account__refresh_token")
        return qs

    @extend_schema(parameters=[ConversationFilterSerializer, ACCOUNT_ID_PARAMETER])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def filter_queryset(self, qs):
        if self.action != "list":
            return qs
        filters = ConversationFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)  # a bad filter is a 400 naming it, not a silently wider list
        return services.filter_conversations(qs, **filters.validated_data, me=self.request.user)

    @extend_schema(request=ConversationUpdateSerializer, responses=ConversationSerializer)
    def partial_update(self, request, pk=None):
        """Assign the conversation to a member (or nobody) and/or mark it open or done."""
        conversation = self.get_object()
        body = ConversationUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(ConversationSerializer(services.update_conversation(conversation, request.user,
                                                                            body.validated_data)).data)

    @extend_schema(parameters=[VideoFilterSerializer, ACCOUNT_ID_PARAMETER], responses=VideoCommentCountSerializer(many=True))
    @action(detail=False, methods=["get"], url_path="tiktok-videos", serializer_class=VideoCommentCountSerializer)
    def tiktok_videos(self, request):
        """TikTok's part of the inbox: comment counts per video, newest first, paginated (its APIs cannot read
        the comments)."""
        filters = VideoFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = hooks.video_comment_counts(workspace_of(request), "tiktok", filters.validated_data.get("account"))
        return self.get_paginated_response(VideoCommentCountSerializer(self.paginate_queryset(rows), many=True).data)

    @extend_schema(responses=MessageSerializer(many=True))  # the schema said one Conversation: a page of messages
    @action(detail=True, methods=["get"])
    def messages(self, request, pk=None):
        """The conversation's messages, oldest first, paginated."""
        messages = (Message.objects.filter(conversation=self.get_object()).order_by("created_at", "id")
                    .select_related("account").defer("account__access_token", "account__refresh_token"))
        page = self.paginate_queryset(messages)
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        conversation = self.get_object()  # ownership first: another user's conversation is a 404, whatever the body
        body = ReplySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        message = services.send_agent_reply(conversation, body.validated_data["text"],
                                            body.validated_data["idempotency_key"], request.user)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        conversation = services.mark_conversation_read(self.get_object())
        return Response(ConversationSerializer(conversation).data)


class MessageViewSet(WriteRateLimitMixin, viewsets.GenericViewSet):
    """Moderate one comment: hide or unhide it on the platform."""

    lookup_value_regex = ID_REGEX

    serializer_class = MessageSerializer
    queryset = Message.objects.none()

    def get_object(self):
        return get_object_or_404(
            Message.objects.filter(account__workspace=workspace_of(self.request)).select_related("conversation", "account"),
            pk=self.kwargs["pk"])

    @action(detail=True, methods=["post"])
    def hide(self, request, pk=None):
        return Response(MessageSerializer(services.set_message_hidden(self.get_object(), True)).data)

    @action(detail=True, methods=["post"])
    def unhide(self, request, pk=None):
        return Response(MessageSerializer(services.set_message_hidden(self.get_object(), False)).data)
