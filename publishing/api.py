"""Posts and media API: thin views over publishing.services."""

from __future__ import annotations

import hashlib
import json
import re

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.response import Response

from social.models import get_account_in_workspace
from unipulse.api_errors import ApiError, ErrorSerializer
from unipulse.conventions import ACCOUNT_ID_PARAMETER
from unipulse.converters import ID_REGEX
from unipulse.parsers import MultiPartParser
from unipulse.throttles import WriteRateLimitMixin
from workspaces.access import current_membership, workspace_of

from . import services
from .models import Post, get_post_in_workspace
from .serializers import (
    MediaUploadSerializer,
    PostFilterSerializer,
    PostInputSerializer,
    PostRejectSerializer,
    PostSerializer,
    StoredMediaSerializer,
)
from .services import recurrence
from .services.imports import IMPORT_KEY_PREFIX

IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # visible ASCII, e.g. a UUID the client made for this post
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": 255, "pattern": IDEMPOTENCY_KEY_PATTERN},
    OpenApiParameter.HEADER, description=(
        "Optional. A client-chosen key (1-255 visible ASCII characters, e.g. a UUID) naming this post: repeating "
        "the request with the same key, e.g. after a timeout, returns the post the first one created (200) and "
        "queues nothing new. Keys are per workspace; a key sent again with a different body is a 422."))


SCOPE = OpenApiParameter("scope", str, enum=["this", "following", "series"], description=(
    "For an occurrence of a recurring post: `this` (default) edits or cancels this one only; `following` this one "
    "and the later ones (an edit starts a new series from here); `series` (DELETE only) the whole series. Only "
    "occurrences that have not started are cancelled."))


def scope_of(request, post: Post, allowed: tuple[str, ...]) -> str:
    scope = request.query_params.get("scope", "this")
    if scope not in allowed:
        raise ApiError("invalid_scope", f"scope is one of {', '.join(allowed)}.", 400, fields={"scope": ["Not allowed."]})
    if scope != "this" and post.series_id is None:
        raise ApiError("not_recurring", "This post is not part of a recurring series: leave scope out.", 400)
    return scope


def idempotency_key_of(request) -> str:
    """The request's Idempotency-Key header ('' when absent); 400 when malformed."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if key and not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key):
        message = "Use 1 to 255 visible ASCII characters (for example a UUID)."
        raise ApiError("invalid_idempotency_key", message, 400, fields={"Idempotency-Key": [message]})
    if key.startswith(IMPORT_KEY_PREFIX):  # the keys CSV imports give their posts (services/imports.py)
        message = f"Keys starting with {IMPORT_KEY_PREFIX!r} name the posts of CSV imports; choose another one."
        raise ApiError("invalid_idempotency_key", message, 400, fields={"Idempotency-Key": [message]})
    return key


def body_fingerprint(request) -> str:
    """SHA-256 of the request body as parsed, key order aside: what a repeat with the same key must match."""
    data = request.data
    if hasattr(data, "getlist"):  # a form body: every value of every field
        data = {name: data.getlist(name) for name in data}
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_same_request(post: Post, fingerprint: str) -> None:
    """A key names one request: sent again with another body it is a client bug, never a silent success."""
    if post.idempotency_fingerprint and post.idempotency_fingerprint != fingerprint:
        raise ApiError("idempotency_key_reused",
                       f"This Idempotency-Key already created post {post.pk} from a different request body. "
                       "Send the same body to get that post again, or use a new key for a new post.", 422)


class PostViewSet(WriteRateLimitMixin, viewsets.GenericViewSet):
    lookup_value_regex = ID_REGEX  # anything else is a 404 at the router, never a 500 in the lookup
    serializer_class = PostSerializer
    queryset = Post.objects.none()  # for the schema; get_queryset() narrows to the workspace's posts

    def get_queryset(self):
        return services.get_posts_in_workspace(workspace_of(self.request))

    def get_object(self) -> Post:
        get_post_in_workspace(workspace_of(self.request), self.kwargs["pk"])  # 404 for another workspace's post
        return self.get_queryset().get(pk=self.kwargs["pk"])

    @extend_schema(parameters=[PostFilterSerializer, ACCOUNT_ID_PARAMETER])
    def list(self, request):
        filters = PostFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = services.filter_posts(self.get_queryset(), **filters.validated_data)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(PostSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(PostSerializer(self.get_object()).data)

    @extend_schema(request=PostInputSerializer, parameters=[IDEMPOTENCY_KEY],
                   responses={201: PostSerializer, 200: OpenApiResponse(PostSerializer, description=(
                       "The post an earlier request with the same Idempotency-Key and body created; nothing new is "
                       "queued.")), 422: OpenApiResponse(ErrorSerializer, description=(
                       "`idempotency_key_reused`: the Idempotency-Key already created a post from another body."))})
    def create(self, request):
        key = idempotency_key_of(request)
        fingerprint = body_fingerprint(request) if key else ""
        membership = current_membership(request)
        post = services.get_post_by_idempotency_key(membership.workspace, key)  # a repeat: answered without re-validating
        created = post is None
        if created:
            post, created = services.create_post_once(membership, self._valid_input(request.data), key, fingerprint)
        if not created:
            check_same_request(post, fingerprint)
        return Response(PostSerializer(self.get_queryset().get(pk=post.pk)).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=PostInputSerializer, responses=PostSerializer, parameters=[SCOPE])
    def partial_update(self, request, pk=None):
        post = self.get_object()
        current = {"text": post.text, "link": post.link, "first_comment": post.first_comment,
                   "scheduled_at": post.scheduled_at, "media": [{"url": m.url, "type": m.type, "alt_text": m.alt_text}
                                                               for m in post.media.all()],
                   "accounts": [t.account_id for t in post.targets.all()],
                   "options": {t.account.platform: t.options for t in post.targets.all() if t.options}}
        named = set(request.data) if isinstance(request.data, dict) else set()
        if str(request.data.get("next_free_slot") if named else "").lower() in ("true", "1") and "scheduled_at" not in named:
            current["scheduled_at"] = None  # the queue picks the time
        data = self._valid_input({**current, **request.data})
        keep_slots = not named & {"scheduled_at", "next_free_slot"}  # no new time: queued targets keep their slots
        if scope_of(request, post, ("this", "following")) == "following":
            recurrence.edit_following(post, data, current_membership(request))
        else:
            services.update_post(post, data, current_membership(request), keep_slots=keep_slots)
        return Response(PostSerializer(self.get_object()).data)

    @extend_schema(parameters=[SCOPE])
    def destroy(self, request, pk=None):
        post = self.get_object()
        scope = scope_of(request, post, ("this", "following", "series"))
        if scope == "this":
            services.cancel_post(post, request.user)
        else:
            recurrence.cancel_series_from(post, whole=scope == "series")
        return Response(PostSerializer(self.get_object()).data)

    @extend_schema(request=None, responses={202: PostSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        services.retry_post(self.get_object(), request.user)
        return Response(PostSerializer(self.get_object()).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: PostSerializer, 409: OpenApiResponse(ErrorSerializer, description=(
        "`not_pending`: the post is not waiting for approval; `schedule_passed`: its time passed while it waited "
        "(it is now `expired`; its author picks a new time)."))})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve a post waiting for approval: its targets are scheduled or queued."""
        services.approve_post(self.get_object(), request.user)
        return Response(PostSerializer(self.get_object()).data)

    @extend_schema(request=PostRejectSerializer, responses={200: PostSerializer, 409: OpenApiResponse(
        ErrorSerializer, description="`not_pending`: the post is not waiting for approval.")})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Send a post waiting for approval back to draft with a comment for its author."""
        post = self.get_object()
        body = PostRejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.reject_post(post, request.user, body.validated_data["comment"])
        return Response(PostSerializer(self.get_object()).data)

    def _valid_input(self, data) -> dict:
        serializer = PostInputSerializer(data=data, context={"request": self.request})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


@extend_schema(exclude=True)
class PostRetryWithoutSlash(PostViewSet):
    """`POST /api/v1/posts/{id}/retry` as the issue spells it (the router serves the slashed form)."""


class MediaUploadView(WriteRateLimitMixin, generics.GenericAPIView):
    parser_classes = [MultiPartParser]
    serializer_class = MediaUploadSerializer

    @extend_schema(responses={201: StoredMediaSerializer})
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        stored = services.store_media(workspace_of(request), serializer.validated_data["file"])
        return Response(StoredMediaSerializer(stored).data, status=status.HTTP_201_CREATED)


class PublishingOptionsSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    platform = serializers.CharField()
    content_kinds = serializers.ListField(child=serializers.CharField(), help_text=(
        "What this platform publishes: Facebook text, link, photo(s), video; Instagram feed, reel, story, carousel "
        "(options.instagram.kind); TikTok video or photos."))
    limits = serializers.DictField(help_text="The limits validation applies to a post for this platform.")
    live = serializers.DictField(allow_null=True, help_text=(
        "The platform's own answer: TikTok creator_info (privacy_level_options, max_video_post_duration_sec, "
        "comment/duet/stitch disabled; cached for TIKTOK_CREATOR_INFO_CACHE_SECONDS), Instagram's publishing quota "
        "left in its rolling 24 h; null for Facebook, or when the platform could not be asked (see live_error)."))
    live_error = serializers.DictField(allow_null=True, help_text=(
        "{code, message} when `live` could not be read; the codes of the API's platform errors (reauth_required, "
        "permission_missing, rate_limited, account_blocked, platform_unavailable, platform_rejected)."))


@extend_schema(responses=PublishingOptionsSerializer)
@api_view(["GET"])
def publishing_options(request, pk: int):
    """What may be posted to this account, before a post is written (for the composer)."""
    account = get_account_in_workspace(workspace_of(request), pk)
    return Response(services.get_publishing_options(account))
