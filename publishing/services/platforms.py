"""Which runner advances a target on each platform."""

from __future__ import annotations

from collections.abc import Callable

from ..models import PostTarget


def runner_for(platform: str) -> Callable[[PostTarget], None]:
    from . import facebook, instagram, tiktok

    return {"facebook": facebook.run, "instagram": instagram.run, "tiktok": tiktok.run}[platform]
