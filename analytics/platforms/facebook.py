"""Facebook Page analytics: the Page's followers, then /{page-id}/published_posts with summaries and
insights by field expansion, ≤100 a page, back only as far as the oldest due post."""

from __future__ import annotations

from typing import TYPE_CHECKING

from social.clients import facebook as client

from .. import catalogue
from ..services import store
from . import meta

if TYPE_CHECKING:
    from . import SyncProgress


def read_account(sync: SyncProgress) -> store.FetchedAccount:
    sync.ensure_meta_budget()
    page = client.get_page_followers(sync.account)
    return store.FetchedAccount(followers=page.followers_count,
                                metrics={"followers": page.followers_count, "fans": page.fan_count}, raw=page.raw)


def read_posts(sync: SyncProgress) -> None:
    if sync.stage("posts").get("done"):
        return
    account, now = sync.account, sync.now
    horizon, since = store.sync_horizon(account, now), int(store.window_start(now).timestamp())

    def fetch(*, metrics, limit, after):
        return client.list_published_posts(account, metrics=metrics, limit=limit, after=after, since=since)

    def on_page(posts: list) -> bool:
        fetched = [_post(p) for p in posts]
        sync.save_posts(fetched)
        return not store.reached_horizon([f.published_at for f in fetched], horizon)

    meta.graph_pages(sync, fetch=fetch, kind=catalogue.FB_POST, kinds=(catalogue.FB_POST,), on_page=on_page,
                     stage="posts")
    store.defer_unlisted(account, now)  # the listing went past every due post (a pause raises before this)


def _post(post: client.PagePostMetrics) -> store.FetchedPost:
    insights = post.insights
    reactions_by_type = insights.get("post_reactions_by_type_total")
    metrics = {catalogue.KEY_BY_NAME.get(name, name): value for name, value in insights.items()}
    counters = {
        "views": meta.number(insights.get("post_media_view")),
        "reach": meta.number(insights.get("post_total_media_view_unique")),
        "likes": post.reactions if post.reactions is not None else meta.number(reactions_by_type),
        "comments": post.comments, "shares": post.shares, "saves": None,
    }
    metrics.update({k: v for k, v in counters.items() if v is not None})
    return store.FetchedPost(
        platform_post_id=post.id, published_at=store.parse_time(post.created_time), counters=counters,
        metrics=metrics, raw=post.raw, media_type=post.status_type, product_type="post",
        caption=post.message[:5000], permalink=post.permalink_url,
    )
