"""Business logic of the publishing app (plain functions; see STYLE.md). This package only hands names on.

- posts: create/edit/cancel/retry posts, schedule due targets, store uploaded media, reads for other apps
- engine: the publish state machine (`publish_target`): calls each platform's steps in order
- validation: per-platform rules checked before anything is queued; options: what a composer may use
- each platform's prepare -> poll -> commit lives in `publishing.platforms.<platform>`, TikTok's publish
  webhooks in `publishing.platforms.tiktok.apply_publish_event`
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
    get_platform_posts_in_workspace,
    get_post_by_idempotency_key,
    get_posts_in_workspace,
    reject_post,
    retry_post,
    retry_targets,
    store_media,
    update_post,
)

__all__ = [
    "get_platform_posts_in_workspace", "get_publishing_options",
    "approve_post", "cancel_post", "expire_pending_posts", "reject_post", "cancel_targets", "create_post", "create_post_once",
    "enqueue_due_targets", "filter_posts", "get_post_by_idempotency_key", "get_posts_in_workspace", "publish_target",
    "retry_post", "retry_targets", "send_publish", "store_media", "update_post",
]
