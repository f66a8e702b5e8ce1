"""Functions publishing exposes to other apps (analytics, conversations)."""

import pytest

from publishing.models import Post, PostTarget
from publishing.services import get_platform_posts_for_user

pytestmark = pytest.mark.django_db


def test_platform_posts_for_the_owner_and_lookup_error_for_anyone_else(user, other_user, account_factory):
    post = Post.objects.create(owner=user, text="hi")
    fb, tt = account_factory("facebook"), account_factory("tiktok")
    a = PostTarget.objects.create(post=post, account=fb, status="published", platform_post_id="1_2")
    b = PostTarget.objects.create(post=post, account=tt, status="queued")
    assert get_platform_posts_for_user(user, post.pk) == [(a.pk, fb.pk, "1_2"), (b.pk, tt.pk, "")]
    with pytest.raises(LookupError):
        get_platform_posts_for_user(other_user, post.pk)
