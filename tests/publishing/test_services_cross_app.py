"""Functions publishing exposes to other apps (analytics, conversations)."""

import pytest

from publishing.models import Post, PostTarget
from publishing.services import get_platform_posts_in_workspace
from tests.conftest import workspace_of_user

pytestmark = pytest.mark.django_db


def test_platform_posts_in_the_workspace_and_lookup_error_in_any_other(user, other_user, account_factory):
    post = Post.objects.create(workspace=workspace_of_user(user), created_by=user, text="hi")
    fb, tt = account_factory("facebook"), account_factory("tiktok")
    a = PostTarget.objects.create(post=post, account=fb, status="published", platform_post_id="1_2")
    b = PostTarget.objects.create(post=post, account=tt, status="queued")
    assert get_platform_posts_in_workspace(workspace_of_user(user), post.pk) == [(a.pk, fb.pk, "1_2"), (b.pk, tt.pk, "")]
    with pytest.raises(LookupError):
        get_platform_posts_in_workspace(workspace_of_user(other_user), post.pk)


def test_a_published_target_is_tracked_by_analytics_as_unipulse(user, account_factory, django_capture_on_commit_callbacks):
    from analytics.models import TrackedPost
    from publishing.services.engine import mark_published

    post = Post.objects.create(workspace=workspace_of_user(user), created_by=user, text="hi")
    target = PostTarget.objects.create(post=post, account=account_factory("facebook"), status="publishing")
    with django_capture_on_commit_callbacks(execute=True):
        mark_published(target, "111_222", "https://facebook.com/111_222")
    tracked = TrackedPost.objects.get(account=target.account, platform_post_id="111_222")
    assert tracked.source == TrackedPost.Source.UNIPULSE
    assert tracked.published_at is not None
