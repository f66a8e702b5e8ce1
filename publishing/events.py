"""The events publishing reports (events.catalogue), each written in the transaction of its change."""

from __future__ import annotations

from unipulse import hooks

from .models import Post, PostTarget, TargetStatus

TARGET_EVENTS = {TargetStatus.PUBLISHED: "target.published", TargetStatus.FAILED: "target.failed",
                 TargetStatus.UNCONFIRMED: "target.unconfirmed"}


def target_changed(target: PostTarget, before: str) -> None:
    """After a target's status was saved: its event, if the status is one users hear about and it changed."""
    event_type = TARGET_EVENTS.get(target.status)
    if event_type is None or target.status == before:
        return
    from .serializers import TargetSerializer

    obj = {**TargetSerializer(target).data, "post": target.post_id}
    hooks.record_event(target.account.workspace_id, event_type, {"object": obj})


def post_event(post: Post, event_type: str) -> None:
    """The post as GET /api/v1/posts/{id}/ shows it, read again inside the change's transaction."""
    from .serializers import PostSerializer

    fresh = (Post.objects.select_related("series").prefetch_related("media", "targets__account").get(pk=post.pk))
    hooks.record_event(post.workspace_id, event_type, {"object": PostSerializer(fresh).data})
