"""Posts and media API: thin views over publishing.services."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from unipulse.converters import ID_REGEX
from unipulse.ratelimits import WriteRateLimitMixin

from . import services
from .models import Post, get_post_for_user
from .serializers import (
    MediaUploadSerializer,
    PostFilterSerializer,
    PostInputSerializer,
    PostSerializer,
    StoredMediaSerializer,
)


class PostViewSet(WriteRateLimitMixin, viewsets.GenericViewSet):
    lookup_value_regex = ID_REGEX  # anything else is a 404 at the router, never a 500 in the lookup
    serializer_class = PostSerializer
    queryset = Post.objects.none()  # for the schema; get_queryset() narrows to the caller's posts

    def get_queryset(self):
        return services.get_posts_for_user(self.request.user)

    def get_object(self) -> Post:
        get_post_for_user(self.request.user, self.kwargs["pk"])  # 404 for anyone else's post
        return self.get_queryset().get(pk=self.kwargs["pk"])

    @extend_schema(parameters=[PostFilterSerializer])
    def list(self, request):
        filters = PostFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = services.filter_posts(self.get_queryset(), **filters.validated_data)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(PostSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(PostSerializer(self.get_object()).data)

    @extend_schema(request=PostInputSerializer, responses={201: PostSerializer})
    def create(self, request):
        data = self._valid_input(request.data)
        post = services.create_post(request.user, data)
        return Response(PostSerializer(self.get_queryset().get(pk=post.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PostInputSerializer, responses=PostSerializer)
    def partial_update(self, request, pk=None):
        post = self.get_object()
        current = {"text": post.text, "link": post.link, "first_comment": post.first_comment,
                   "scheduled_at": post.scheduled_at, "media": [{"url": m.url, "type": m.type, "alt_text": m.alt_text}
                                                               for m in post.media.all()],
                   "accounts": [t.account_id for t in post.targets.all()],
                   "options": {t.account.platform: t.options for t in post.targets.all() if t.options}}
        data = self._valid_input({**current, **request.data})
        services.update_post(post, data)
        return Response(PostSerializer(self.get_object()).data)

    def destroy(self, request, pk=None):
        services.cancel_post(self.get_object())
        return Response(PostSerializer(self.get_object()).data)

    @extend_schema(request=None, responses={202: PostSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        services.retry_post(self.get_object())
        return Response(PostSerializer(self.get_object()).data, status=status.HTTP_202_ACCEPTED)

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
        stored = services.store_media(request.user, serializer.validated_data["file"])
        return Response(StoredMediaSerializer(stored).data, status=status.HTTP_201_CREATED)
