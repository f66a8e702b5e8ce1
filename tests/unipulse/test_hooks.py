"""The contracts between domain apps: each hook provided by its app at start-up, and refused twice."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from unipulse import hooks


def test_every_hook_is_provided_by_its_app_at_start_up():
    import analytics.services
    import publishing.platforms.tiktok
    import publishing.services

    assert hooks.post_platform_posts._function is publishing.services.get_platform_posts_in_workspace
    assert hooks.tiktok_publish_event._function is publishing.platforms.tiktok.apply_publish_event
    assert hooks.video_comment_counts._function is analytics.services.get_video_comment_counts_in_workspace


def test_a_hook_nobody_provides_says_which_app_is_missing():
    hook = hooks.Hook("example", provider="example-app")
    with pytest.raises(ImproperlyConfigured, match="is the example-app app installed"):
        hook(1)


def test_a_hook_cannot_be_provided_twice_by_different_functions():
    hook = hooks.Hook("example", provider="example-app")

    def first(): return 1

    def second(): return 2

    hook.provide(first)
    hook.provide(first)  # the same function again (an app's ready() run twice) is fine
    assert hook() == 1
    with pytest.raises(ImproperlyConfigured, match="already provided"):
        hook.provide(second)


def test_analytics_listens_for_published_targets():
    import analytics.services

    receivers, _async_receivers = hooks.target_published._live_receivers(sender=None)

    assert analytics.services.track_published_target in receivers
