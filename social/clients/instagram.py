"""Instagram professional accounts (Facebook Login path) client: small functions in the platform's vocabulary, built on meta.call().

Each function parses its answer into a small dataclass at the boundary. Sections below belong to
the app that uses them; add functions under your section only.
"""

from __future__ import annotations

from dataclasses import dataclass, field  # noqa: F401

from . import meta  # noqa: F401

# ==== accounts, OAuth, webhook subscriptions (social app) ==========================================

@dataclass(frozen=True)
class InstagramProfile:
    id: str
    username: str
    name: str
    picture_url: str


# Ref: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user
def get_account_profile(account) -> InstagramProfile:
    """The Instagram professional account's public profile (called with the linked Page's token)."""
    body = meta.call(account, "GET", account.external_id, endpoint="ig_user",
                     params={"fields": "id,username,name,profile_picture_url"})
    return InstagramProfile(id=str(body.get("id") or account.external_id), username=str(body.get("username") or ""),
                            name=str(body.get("name") or ""), picture_url=str(body.get("profile_picture_url") or ""))



# ==== publishing ==================================================================================



# ==== analytics ===================================================================================



# ==== conversations ===============================================================================

