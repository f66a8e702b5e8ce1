"""Facebook Pages client: small functions in the platform's vocabulary, built on meta.call().

Each function parses its answer into a small dataclass at the boundary. Sections below belong to
the app that uses them; add functions under your section only.
"""

from __future__ import annotations

from dataclasses import dataclass, field  # noqa: F401

from . import meta  # noqa: F401

# ==== accounts, OAuth, webhook subscriptions (social app) ==========================================



# ==== publishing ==================================================================================



# ==== analytics ===================================================================================

def insight_values(insights: dict | None) -> dict:
    """{"data": [{"name", "values": [{"value"}]} | {"name", "total_value": {"value"}}]} -> {name: value}."""
    values = {}
    for item in (insights or {}).get("data") or []:
        if "total_value" in item:
            values[item["name"]] = (item.get("total_value") or {}).get("value")
        elif item.get("values"):
            values[item["name"]] = item["values"][-1].get("value")
    return values


def next_after(body: dict) -> str | None:
    # Same rule as meta.paginate: rebuild the next request from the cursor; the `next` URL carries the token.
    paging = body.get("paging") or {}
    after = (paging.get("cursors") or {}).get("after")
    return after if paging.get("next") and after else None


@dataclass(frozen=True)
class PagePost:
    """One Page post with its engagement summaries and insights, read from one listing page."""

    id: str
    created_time: str
    message: str
    permalink_url: str
    status_type: str
    reactions: int | None
    comments: int | None
    shares: int
    insights: dict = field(default_factory=dict)  # metric name -> value (a number, or a dict by type)
    raw: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class PostsPage:
    items: list
    after: str | None  # None: this was the last page


@dataclass(frozen=True)
class PageFollowers:
    followers_count: int | None
    fan_count: int | None
    raw: dict = field(default_factory=dict, repr=False)


POST_FIELDS = (
    "id,created_time,message,permalink_url,status_type,shares,"
    "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)"
)


def _summary_total(edge: dict | None) -> int | None:
    return ((edge or {}).get("summary") or {}).get("total_count")


# Ref: https://developers.facebook.com/docs/graph-api/reference/page/published_posts/
# Ref: https://developers.facebook.com/docs/graph-api/field-expansion/
def list_published_posts(account, *, metrics: list[str], limit: int, after: str | None = None,
                         since: int | None = None) -> PostsPage:
    """One page of the Page's published posts with summaries and insights (field expansion). One call.

    Raises TransientError code 1 "reduce the amount of data" when the page is too heavy (ask for fewer),
    and InvalidRequestError code 100 when an insights metric is not valid.
    """
    fields = POST_FIELDS + (f",insights.metric({','.join(metrics)})" if metrics else "")
    params: dict = {"fields": fields, "limit": limit}
    if after:
        params["after"] = after
    if since:
        params["since"] = since
    body = meta.call(account, "GET", f"{account.external_id}/published_posts", endpoint="page.published_posts", params=params)
    posts = [
        PagePost(
            id=str(item["id"]), created_time=item.get("created_time") or "", message=item.get("message") or "",
            permalink_url=item.get("permalink_url") or "", status_type=item.get("status_type") or "",
            reactions=_summary_total(item.get("reactions")), comments=_summary_total(item.get("comments")),
            shares=int((item.get("shares") or {}).get("count") or 0),  # key absent when nobody shared
            insights=insight_values(item.get("insights")), raw=item,
        )
        for item in body.get("data") or []
    ]
    return PostsPage(items=posts, after=next_after(body))


# Ref: https://developers.facebook.com/docs/graph-api/reference/page/
def get_page_followers(account) -> PageFollowers:
    """The Page's followers_count (what new Pages show) and fan_count (legacy likes). One call."""
    body = meta.call(account, "GET", account.external_id, endpoint="page.followers",
                     params={"fields": "followers_count,fan_count"})
    return PageFollowers(followers_count=body.get("followers_count"), fan_count=body.get("fan_count"), raw=body)




# ==== conversations ===============================================================================

