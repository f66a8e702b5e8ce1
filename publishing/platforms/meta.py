"""What Facebook and Instagram share after a publish: the first comment, posted once.

Both modules use these as their after_publish, follow_up_due and follow_up; only the two Graph calls and
how a comment of ours is recognised differ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta

from django.utils import timezone

from ..models import CommentStatus, PostTarget
from ..services import engine


def matches_text(candidate: str, expected: str) -> bool:
    return " ".join(candidate.split()) == " ".join(expected.split())


def follow_up_due(target: PostTarget) -> bool:
    return target.first_comment_status in (CommentStatus.PENDING, CommentStatus.UNKNOWN)


def post_first_comment(target: PostTarget, create: Callable[[], str], comments: Callable[[], Iterable],
                       is_ours: Callable[[object], bool]) -> None:
    """Post the first comment once. After an unclear outcome, look for it among `comments` before posting again."""
    if not target.first_comment or not follow_up_due(target):
        return
    delay = int((target.options or {}).get("first_comment_delay_seconds") or 0)
    if target.first_comment_status == CommentStatus.PENDING and delay and target.published_at:
        due = target.published_at + timedelta(seconds=delay)
        if due > timezone.now():
            engine.send_publish(target.pk, (due - timezone.now()).total_seconds())
            return
    if target.first_comment_status == CommentStatus.UNKNOWN:
        found = next((comment.id for comment in comments() if is_ours(comment)), "")
        if found:
            engine.save_handles(target, first_comment_id=found, first_comment_status=CommentStatus.POSTED)
            return
    engine.save_handles(target, first_comment_status=CommentStatus.UNKNOWN)  # a crash from here on means "look first"
    comment_id = create()
    engine.save_handles(target, first_comment_id=comment_id, first_comment_status=CommentStatus.POSTED)
