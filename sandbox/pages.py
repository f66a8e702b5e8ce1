"""Pages a browser opens: one per sandbox post, at the permalink the fake platforms answer.

The real platforms' permalinks point at facebook.com, instagram.com and tiktok.com, where a sandbox
post does not exist; these pages show what the sandbox holds (text, media, counters, comments).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from . import metrics
from .models import Post

NETWORK_NAMES = {"facebook": "Facebook", "instagram": "Instagram", "tiktok": "TikTok"}


def post_url(post: Post, comment_id: str = "") -> str:
    """The sandbox permalink of a post (or of one of its comments): an absolute URL this process serves."""
    base = getattr(settings, "SANDBOX_URL", "") or f"{settings.PUBLIC_BASE_URL}/sandbox"
    return f"{base}/posts/{post.post_id}/" + (f"?comment_id={comment_id}" if comment_id else "")


def author_of(post: Post) -> str:
    if post.network == Post.Network.INSTAGRAM:
        return f"@{post.instagram.username}"
    if post.network == Post.Network.TIKTOK:
        return f"@{post.creator.username}"
    return post.page.name if post.page_id else ""


def post_page(request: HttpRequest, post_id: str) -> HttpResponse:
    post = get_object_or_404(Post.objects.select_related("page", "instagram", "creator"), post_id=post_id)
    counters = metrics.post_counters(post)
    is_video = post.media_type.lower() == "video" or post.product_type == "REELS"
    return render(request, "sandbox/post.html", {
        "post": post, "network": NETWORK_NAMES.get(post.network, post.network), "author": author_of(post),
        "is_video": is_video, "counters": counters, "highlight": request.GET.get("comment_id", ""),
        "comments": post.comments.filter(parent__isnull=True, is_hidden=False).prefetch_related("replies"),
    })
