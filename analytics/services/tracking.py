"""Which posts analytics follows beyond those a sync lists: the ones UniPulse published."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from social.models import SocialAccount

from ..models import TrackedPost


def register_published_post(account_id: int, platform_post_id: str, published_at: datetime | None = None) -> None:
    """Track a post UniPulse just published (source=unipulse), due at the next sync. Idempotent.

    Reached from publishing through the `target_published` signal; analytics never imports publishing.
    """
    post, created = TrackedPost.objects.get_or_create(
        account_id=account_id, platform_post_id=platform_post_id,
        defaults={"source": TrackedPost.Source.UNIPULSE, "published_at": published_at or timezone.now(),
                  "platform": _platform_of(account_id)},
    )
    if not created and post.source != TrackedPost.Source.UNIPULSE:
        TrackedPost.objects.filter(pk=post.pk).update(source=TrackedPost.Source.UNIPULSE)


def track_published_target(sender, *, account_id: int, platform_post_id: str, published_at=None, **kwargs) -> None:
    """Receiver of `unipulse.hooks.target_published`: a post UniPulse published starts being tracked."""
    register_published_post(account_id, platform_post_id, published_at)


def _platform_of(account_id: int) -> str:
    return SocialAccount.objects.values_list("platform", flat=True).get(pk=account_id)
