"""Best times to post: the account's own engagement rate per hour of the week, in the workspace's timezone.

A post's engagement rate is its interactions (likes + comments + shares + saves, those the platform gives)
over its reach, or its views where the platform gives no reach (TikTok), as the latest snapshot of its
numbers says (TrackedPost keeps the latest snapshot's counters). Posts with neither are left out. A bucket
is the local weekday and hour the post was published; its rate is the mean of its posts' rates, and a
bucket with fewer than ANALYTICS_BEST_TIMES_MIN_POSTS posts is not shown: a single lucky post says nothing.
Two queries whatever the number of posts.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from social.models import get_account_in_workspace

from ..models import TrackedPost

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
INTERACTIONS = ("likes", "comments", "shares", "saves")


def engagement_rate(post: dict) -> float | None:
    """Interactions over reach (else views); None when the post has neither."""
    audience = post["reach"] or post["views"]
    if not audience:
        return None
    return sum(post[name] or 0 for name in INTERACTIONS) / audience


def get_best_times_in_workspace(workspace, account_id: int) -> dict:
    """The account's hour-of-week buckets, best engagement rate first. DoesNotExist -> 404. 2 queries."""
    account = get_account_in_workspace(workspace, account_id)
    zone = ZoneInfo(workspace.timezone)
    since = timezone.now() - timedelta(days=settings.ANALYTICS_BEST_TIMES_DAYS)
    rows = TrackedPost.objects.filter(account=account, published_at__gte=since).values(
        "published_at", "reach", "views", *INTERACTIONS)
    buckets: dict[tuple[int, int], list[float]] = {}
    considered = 0
    for row in rows:
        rate = engagement_rate(row)
        if rate is None:
            continue
        considered += 1
        local = row["published_at"].astimezone(zone)
        buckets.setdefault((local.weekday(), local.hour), []).append(rate)
    minimum = settings.ANALYTICS_BEST_TIMES_MIN_POSTS
    shown = [{"weekday": WEEKDAYS[day], "hour": hour, "posts": len(rates), "engagement_rate": round(sum(rates) / len(rates), 6)}
             for (day, hour), rates in buckets.items() if len(rates) >= minimum]
    shown.sort(key=lambda b: (-b["engagement_rate"], -b["posts"], WEEKDAYS.index(b["weekday"]), b["hour"]))
    for rank, bucket in enumerate(shown, start=1):
        bucket["rank"] = rank
    return {"account": account.pk, "timezone": workspace.timezone, "since": since, "min_posts": minimum,
            "posts_considered": considered, "buckets": shown}


def get_best_slots_in_workspace(workspace, account_id: int, count: int) -> list[tuple[int, int]]:
    """(weekday 0-6, hour) of the account's `count` best buckets, best first: the `best_posting_hours` hook."""
    buckets = get_best_times_in_workspace(workspace, account_id)["buckets"][:count]
    return [(WEEKDAYS.index(b["weekday"]), b["hour"]) for b in buckets]
