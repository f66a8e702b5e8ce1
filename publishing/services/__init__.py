"""Business logic of the publishing app (plain functions; see STYLE.md).

- posts: create/edit/cancel/retry posts, schedule due targets, store uploaded media
- engine: the publish state machine (`publish_target`), shared by the platform runners
- facebook, instagram, tiktok: each platform's prepare -> poll -> commit
- validation: per-platform rules checked before anything is queued
"""

from __future__ import annotations

from .engine import publish_target, send_publish
from .options import get_publishing_options
from .posts import (
    approve_post,
    cancel_post,
    cancel_targets,
    create_post,
    create_post_once,
    enqueue_due_targets,
    expire_pending_posts,
    filter_posts,
    get_post_by_idempotency_key,
    get_posts_in_workspace,
    reject_post,
    retry_post,
    retry_targets,
    store_media,
    update_post,
)


def apply_tiktok_publish_event(publish_id: str, event: str, post_id: str | None = None,
                               reason: str | None = None) -> bool:
    """Apply a TikTok `post.publish.*` webhook (called by conversations). Returns whether a target matched."""
    from .tiktok import apply_publish_event

    return apply_publish_event(publish_id, event, post_id=post_id, reason=reason)


def get_platform_posts_in_workspace(workspace, post_id: int) -> list[tuple[int, int, str]]:
    """(target id, account id, platform post id) of one of the workspace's posts, for the analytics API.

    Raises LookupError when the post is not the workspace's (the caller answers 404). Targets not yet
    published have an empty platform post id.
    """
    from ..models import Post, PostTarget

    if not Post.objects.filter(pk=post_id, workspace=workspace).exists():
        raise LookupError(post_id)
    return list(PostTarget.objects.filter(post_id=post_id).order_by("pk").values_list("pk", "account_id", "platform_post_id"))


__all__ = [
    "get_platform_posts_in_workspace", "get_publishing_options",
    "apply_tiktok_publish_event", "approve_post", "cancel_post", "expire_pending_posts", "reject_post", "cancel_targets", "create_post", "create_post_once",
    "enqueue_due_targets", "filter_posts", "get_post_by_idempotency_key", "get_posts_in_workspace", "publish_target",
    "retry_post", "retry_targets", "send_publish", "store_media", "update_post",
]
