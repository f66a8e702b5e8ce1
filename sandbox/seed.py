"""The sandbox's test world: one Facebook user with three Pages (two with an Instagram account), one
TikTok creator, and a few older posts so metrics and the inbox are not empty on first connect.

Ids are fixed so docs, e2e tests and a browser session can name them; created on first use.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from . import clock
from .models import Comment, FacebookUser, InstagramAccount, Page, Post, TikTokCreator, new_numeric_id

FB_USER_ID = "10150000000000001"
PAGES = [
    # page id, name, username, (ig id, ig username, ig name) or None
    ("104500000000001", "Sandbox Coffee", "sandboxcoffee", ("17841400000000101", "sandbox.coffee", "Sandbox Coffee")),
    ("104500000000002", "Sandbox Bakery", "sandboxbakery", ("17841400000000102", "sandbox.bakery", "Sandbox Bakery")),
    ("104500000000003", "Sandbox Bookshop", "sandboxbooks", None),
]
CREATOR_OPEN_ID = "-000SandboxCreator-0001"
FANS = [("6782340000000001", "Ada Lovelace"), ("6782340000000002", "Grace Hopper"),
        ("6782340000000003", "Alan Turing"), ("6782340000000004", "Katherine Johnson")]


@transaction.atomic
def ensure_world() -> FacebookUser:
    """Create the test user, Pages, Instagram accounts and TikTok creator if missing. Idempotent."""
    user, created = FacebookUser.objects.get_or_create(fb_id=FB_USER_ID, defaults={"name": "Sandbox Tester"})
    for page_id, name, username, ig in PAGES:
        page, page_created = Page.objects.get_or_create(
            page_id=page_id, defaults={"owner": user, "name": name, "username": username}
        )
        if ig:
            instagram, _ = InstagramAccount.objects.get_or_create(
                ig_id=ig[0], defaults={"page": page, "username": ig[1], "name": ig[2]}
            )
        if page_created:
            _seed_posts(page, instagram if ig else None)
    creator, creator_created = TikTokCreator.objects.get_or_create(open_id=CREATOR_OPEN_ID, defaults={
        "union_id": "-000SandboxUnion-0001", "username": "sandbox.creator", "display_name": "Sandbox Creator",
    })
    if creator_created:
        Post.objects.create(post_id=str(7300000000000000000 + int(new_numeric_id(12))), network=Post.Network.TIKTOK,
                            creator=creator, media_type="VIDEO", message="Hello from the sandbox #demo",
                            created_at=clock.now() - timedelta(days=2), seed=41)
    return user


def _seed_posts(page: Page, instagram: InstagramAccount | None) -> None:
    earlier = clock.now() - timedelta(hours=30)
    post = Post.objects.create(post_id=f"{page.page_id}_{new_numeric_id()}", network=Post.Network.FACEBOOK, page=page,
                               media_type="status", message=f"Welcome to {page.name}!", created_at=earlier, seed=7)
    fan_id, fan_name = FANS[0]
    Comment.objects.create(comment_id=f"{post.post_id.split('_')[1]}_{new_numeric_id()}", post=post, author_id=fan_id,
                           author_name=fan_name, message="Looks great!", created_at=earlier + timedelta(hours=1))
    if instagram:
        media = Post.objects.create(post_id=new_numeric_id(17), network=Post.Network.INSTAGRAM, instagram=instagram,
                                    media_type="IMAGE", product_type="FEED", message="Our first sandbox photo",
                                    media_url="https://picsum.photos/1080", created_at=earlier, seed=11)
        Comment.objects.create(comment_id=new_numeric_id(17), post=media, author_id="2345670000000001",
                               author_name="claire.voyage", message="Love it 😍", created_at=earlier + timedelta(hours=2))
