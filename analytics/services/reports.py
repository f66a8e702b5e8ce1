"""Reads for the analytics API: each in a constant number of queries, narrowed to one workspace's rows."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum

from social.models import SocialAccount, get_account_in_workspace
from unipulse import hooks

from ..models import COUNTERS, AccountMetricSnapshot, PostMetricSnapshot, TrackedPost

# An account row read only for its name or sandbox flag never decrypts its tokens.
ACCOUNT_TOKENS = ("account__access_token", "account__refresh_token")


def _totals(rows) -> dict:
    return {"posts": rows.get("posts") or 0, **{name: rows.get(name) or 0 for name in COUNTERS}}


def _sums() -> dict:
    return {name: Sum(name) for name in COUNTERS}


def get_account_report_in_workspace(workspace, account_id: int, start: datetime, end: datetime) -> dict:
    """Follower series and totals of posts published in [start, end]. 3 queries; DoesNotExist -> 404."""
    account = get_account_in_workspace(workspace, account_id)
    series = list(
        AccountMetricSnapshot.objects.filter(account=account, captured_at__gte=start, captured_at__lte=end)
        .order_by("captured_at", "id").values("captured_at", "followers")
    )
    totals = TrackedPost.objects.filter(account=account, published_at__gte=start, published_at__lte=end) \
        .aggregate(posts=Count("id"), **_sums())
    return {
        "account": _account_dict(account),
        "from": start, "to": end,
        "followers": {"latest": series[-1]["followers"] if series else None, "series": series},
        "posts": _totals(totals),
    }


def get_summary_in_workspace(workspace, start: datetime, end: datetime) -> dict:
    """Totals of posts published in [start, end], per account and per platform. 2 queries."""
    in_period = Q(tracked_posts__published_at__gte=start, tracked_posts__published_at__lte=end)
    accounts = (
        SocialAccount.objects.in_workspace(workspace).select_related("analytics_metrics").order_by("platform", "name", "id")
        # Only what the summary shows: loading whole rows decrypted every account's tokens.
        .defer("access_token", "refresh_token")
        .annotate(posts=Count("tracked_posts", filter=in_period),
                  **{name: Sum(f"tracked_posts__{name}", filter=in_period) for name in COUNTERS})
    )
    per_account, per_platform = [], {}
    for account in accounts:
        metrics = getattr(account, "analytics_metrics", None)
        totals = _totals({"posts": account.posts, **{name: getattr(account, name) for name in COUNTERS}})
        followers = metrics.followers if metrics else None
        per_account.append({**_account_dict(account), "followers": followers, "totals": totals})
        platform = per_platform.setdefault(account.platform, {"platform": account.platform, "accounts": 0,
                                                              "followers": 0, "totals": _totals({})})
        platform["accounts"] += 1
        platform["followers"] += followers or 0
        for key, value in totals.items():
            platform["totals"][key] += value
    return {"from": start, "to": end, "platforms": list(per_platform.values()), "accounts": per_account}


def get_tracked_post_in_workspace(workspace, tracked_post_id: int) -> dict:
    """One tracked post with its metric series. 2 queries; DoesNotExist -> 404."""
    post = TrackedPost.objects.select_related("account").defer(*ACCOUNT_TOKENS).get(pk=tracked_post_id, account__workspace=workspace)
    return _post_dict(post, list(post.snapshots.order_by("captured_at", "id")))


def get_tracked_posts_in_workspace(workspace, account: int | None = None, platform: str | None = None,
                                    source: str | None = None) -> QuerySet[TrackedPost]:
    """The caller's tracked posts (UniPulse's and external ones), newest first; a page is 1 query."""
    posts = TrackedPost.objects.filter(account__workspace=workspace).annotate(is_sandbox=F("account__is_sandbox"))
    if account is not None:
        posts = posts.filter(account_id=account)
    if platform:
        posts = posts.filter(platform=platform)
    if source:
        posts = posts.filter(source=source)
    return posts.order_by(F("published_at").desc(nulls_last=True), "-id")


def get_video_comment_counts_in_workspace(workspace, platform: str = "tiktok", account_id: int | None = None) -> QuerySet:
    """The caller's videos on `platform` with their comment counts, newest first: an unevaluated query of
    dicts (id, account_id, platform_post_id, caption, permalink, published_at, comments, last_synced_at,
    is_sandbox) the caller paginates; a page is 1 query (plus its count).

    For the inbox of platforms whose APIs cannot read comments (TikTok): counts come from analytics sync.
    """
    posts = TrackedPost.objects.filter(account__workspace=workspace, platform=platform)
    if account_id is not None:
        posts = posts.filter(account_id=account_id)
    return posts.order_by(F("published_at").desc(nulls_last=True), "-id").values(
        "id", "account_id", "platform_post_id", "caption", "permalink", "published_at", "comments", "last_synced_at",
        is_sandbox=F("account__is_sandbox"))


def get_post_targets_in_workspace(workspace, post_id: int) -> dict:
    """A publishing post's targets, each with its metric series. Raises LookupError when not the caller's.

    Publishing owns the post and its targets; it tells us which platform posts they became.
    """
    targets = hooks.post_platform_posts(workspace, post_id)
    wanted = {(account_id, platform_post_id): target_id for target_id, account_id, platform_post_id in targets}
    posts = (
        TrackedPost.objects.select_related("account").defer(*ACCOUNT_TOKENS)
        .filter(account__workspace=workspace, account_id__in={a for a, _ in wanted},
                platform_post_id__in={p for _, p in wanted})
        .prefetch_related(Prefetch("snapshots", queryset=PostMetricSnapshot.objects.order_by("captured_at", "id")))
    )
    found = {(p.account_id, p.platform_post_id): p for p in posts}
    return {"post": post_id, "targets": [
        {"target": target_id, "account": account_id, "platform_post_id": platform_post_id,
         "tracked": _post_dict(found[(account_id, platform_post_id)],
                               list(found[(account_id, platform_post_id)].snapshots.all()))
         if (account_id, platform_post_id) in found else None}
        for target_id, account_id, platform_post_id in targets
    ]}


def _account_dict(account: SocialAccount) -> dict:
    return {"id": account.pk, "platform": account.platform, "name": account.name, "username": account.username,
            "is_sandbox": account.is_sandbox}


def _post_dict(post: TrackedPost, snapshots: list[PostMetricSnapshot]) -> dict:
    return {
        "id": post.pk, "account": post.account_id, "platform": post.platform,
        "platform_post_id": post.platform_post_id, "media_type": post.media_type,
        "product_type": post.product_type, "permalink": post.permalink, "published_at": post.published_at,
        "source": post.source, "last_synced_at": post.last_synced_at, "is_sandbox": post.account.is_sandbox,
        "latest": {**post.latest_metrics, **{name: getattr(post, name) for name in COUNTERS}},
        "series": [{"captured_at": s.captured_at, "metrics": s.metrics} for s in snapshots],
    }
