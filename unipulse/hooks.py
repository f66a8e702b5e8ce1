"""The only ways one domain app reaches another: a signal for "this happened", a hook for "do this for me".

Domain apps (publishing, analytics, conversations, tokens) never import each other (the direction is
checked by tests/unipulse/test_layout.py). Where one must react to or ask another, the contract lives
here, on the ground floor both may import: the sender or caller names the contract, never the app
behind it. Each hook is provided by exactly one app in its `AppConfig.ready()`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.dispatch import Signal

# Sent by publishing after the transaction that stored a target's platform post id has committed, once per
# target. kwargs: account_id, platform_post_id, published_at. analytics starts tracking the post.
target_published = Signal()


class Hook:
    """One function that one app provides at start-up and others call, without importing that app."""

    def __init__(self, name: str, provider: str) -> None:
        self.name = name
        self.provider = provider  # the app expected to provide it, for the error message
        self._function: Callable[..., Any] | None = None

    def provide(self, function: Callable[..., Any]) -> Callable[..., Any]:
        if self._function is not None and self._function is not function:
            raise ImproperlyConfigured(f"The hook {self.name} is already provided by {self._function.__module__}.")
        self._function = function
        return function

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._function is None:
            raise ImproperlyConfigured(f"The hook {self.name} is not provided: is the {self.provider} app installed?")
        return self._function(*args, **kwargs)


# publishing: (workspace, post_id) -> [(target_id, account_id, platform_post_id)] of the post's
# targets (an empty id while unpublished); raises LookupError when the post is not the workspace's. Called by analytics' per-post report.
post_platform_posts = Hook("post_platform_posts", provider="publishing")

# publishing: (publish_id, event, post_id=None, reason=None) -> bool, whether a target took the TikTok
# `post.publish.*` webhook event. Called by conversations' webhook routing.
tiktok_publish_event = Hook("tiktok_publish_event", provider="publishing")

# analytics: (workspace, platform, account_id=None) -> an unevaluated query of per-video comment count rows
# (dicts), newest first, for the caller to paginate. Called by the inbox's TikTok video list.
video_comment_counts = Hook("video_comment_counts", provider="analytics")

# events: (workspace_id, event_type, data) -> the stored event. Called by every app inside the transaction
# that makes the change the event reports (events.services.record), so the event exists exactly when the
# change was committed. `data` is {"object": <the object as the REST API shows it>} (never a token).
record_event = Hook("record_event", provider="events")

# analytics: (workspace, account_id, count) -> [(weekday 0=Monday..6, local hour)] of the account's `count` best
# hours of the week by its own engagement rate, best first ([] below the minimum sample); raises
# DoesNotExist for another workspace's account. Called by publishing to fill a posting schedule.
best_posting_hours = Hook("best_posting_hours", provider="analytics")
