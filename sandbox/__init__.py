"""A built-in sandbox of Facebook/Instagram (Graph API, OAuth dialog) and TikTok (Login Kit, Content
Posting, Display API), served by this process under /sandbox/ when settings.SOCIAL_SANDBOX is on.

It speaks the platforms' HTTP (payload shapes, error envelopes, usage headers, webhook signatures) so
the production clients run unchanged against it. Everything it stores is fake and only valid here.
"""

from __future__ import annotations


def is_sandbox_url(url: str) -> bool:
    """True when `url` points at this process's sandbox (e.g. settings.META_GRAPH_URL with the sandbox on)."""
    from django.conf import settings

    base = getattr(settings, "SANDBOX_URL", "")
    return bool(getattr(settings, "SOCIAL_SANDBOX", False) and base and str(url).startswith(base))
