"""Analytics API: constant query counts, another user's data is a 404, bad dates are a 400."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.models import AccountMetrics, AccountMetricSnapshot, PostMetricSnapshot, SyncRun, TrackedPost
from tests.conftest import workspace_of_user


def make_history(account, posts: int, syncs: int = 2):
    """`posts` tracked posts and `syncs` runs, each with an account snapshot and one snapshot per post."""
    now = timezone.now()
    tracked = TrackedPost.objects.bulk_create([
        TrackedPost(account=account, platform=account.platform, platform_post_id=f"{account.external_id}_{i}",
                    published_at=now - timedelta(days=i % 20, hours=1), views=100 + i, likes=10, comments=2, shares=1)
        for i in range(posts)
    ])
    tracked = list(TrackedPost.objects.filter(account=account))
    for n in range(syncs):
        run = SyncRun.objects.create(account=account, status=SyncRun.Status.DONE)
        at = now - timedelta(hours=syncs - n)
        AccountMetricSnapshot.objects.create(account=account, sync_run=run, captured_at=at, followers=1000 + n)
        PostMetricSnapshot.objects.bulk_create([
            PostMetricSnapshot(tracked_post=t, sync_run=run, captured_at=at, metrics={"views": 10 * n}) for t in tracked
        ])
    AccountMetrics.objects.create(account=account, followers=1000 + syncs - 1, last_synced_at=now)
    return tracked


@pytest.mark.parametrize("posts", [2, 30])
def test_account_report_takes_the_same_number_of_queries_for_any_size(api_client, account_factory, posts,
                                                                      django_assert_max_num_queries):
    account = account_factory("facebook")
    make_history(account, posts, syncs=posts // 2)

    with django_assert_max_num_queries(4):
        response = api_client.get(f"/api/v1/analytics/accounts/{account.id}/")

    assert response.status_code == 200
    body = response.json()
    assert body["posts"]["posts"] == posts
    assert body["posts"]["views"] == sum(100 + i for i in range(posts))
    assert len(body["followers"]["series"]) == posts // 2


@pytest.mark.parametrize("accounts", [1, 6])
def test_summary_takes_the_same_number_of_queries_for_any_size(api_client, account_factory, accounts,
                                                               django_assert_max_num_queries):
    made = [account_factory(platform) for platform in (["facebook", "instagram", "tiktok"] * accounts)[:accounts * 2]]
    for account in made:
        make_history(account, 3, syncs=1)

    with django_assert_max_num_queries(3):
        response = api_client.get("/api/v1/analytics/summary/")

    body = response.json()
    assert response.status_code == 200
    assert len(body["accounts"]) == len(made)
    assert sum(p["totals"]["posts"] for p in body["platforms"]) == 3 * len(made)
    assert body["accounts"][0]["totals"] == {"posts": 3, "views": 303, "reach": 0, "likes": 30, "comments": 6,
                                             "shares": 3, "saves": 0}
    assert body["accounts"][0]["followers"] == 1000


def test_summary_counts_only_posts_published_in_the_period(api_client, account_factory):
    account = account_factory("instagram")
    make_history(account, 20, syncs=1)  # published 0..19 days and 1 hour ago
    # The newest post's day, not today's: in the first hour of a UTC day every post is a day older.
    newest = TrackedPost.objects.filter(account=account).latest("published_at").published_at.date()
    response = api_client.get(f"/api/v1/analytics/summary/?from={newest - timedelta(days=4)}&to={newest}")
    assert response.json()["platforms"][0]["totals"]["posts"] == 5


@pytest.mark.parametrize("posts", [1, 25])
def test_tracked_post_report_takes_the_same_number_of_queries_for_any_history(api_client, account_factory, posts,
                                                                             django_assert_max_num_queries):
    account = account_factory("tiktok")
    tracked = make_history(account, 1, syncs=posts)[0]
    with django_assert_max_num_queries(3):
        response = api_client.get(f"/api/v1/analytics/tracked-posts/{tracked.id}/")
    assert response.status_code == 200
    assert [point["metrics"]["views"] for point in response.json()["series"]] == [10 * n for n in range(posts)]


def make_post(owner, accounts, tracked):
    """A publishing post with one published target per account, pointing at the tracked posts."""
    from publishing.models import Post, PostTarget

    post = Post.objects.create(workspace=workspace_of_user(owner), created_by=owner, text="Winter menu")
    PostTarget.objects.bulk_create([
        PostTarget(post=post, account=account, status="published", platform_post_id=t.platform_post_id)
        for account, t in zip(accounts, tracked, strict=True)
    ])
    return post


@pytest.mark.parametrize("targets", [1, 3])
def test_post_report_lists_each_target_series_in_constant_queries(api_client, account_factory, targets,
                                                                 django_assert_num_queries, user):
    accounts = [account_factory(p) for p in ["facebook", "instagram", "tiktok"][:targets]]
    tracked = [make_history(a, 1, syncs=2)[0] for a in accounts]
    post = make_post(user, accounts, tracked)
    target_ids = list(post.targets.order_by("pk").values_list("pk", flat=True))

    # publishing's get_platform_posts_for_user (the real one): the post's ownership and its targets;
    # then the tracked posts and their snapshots.
    with django_assert_num_queries(5):
        response = api_client.get(f"/api/v1/analytics/posts/{post.id}/")

    assert response.status_code == 200
    body = response.json()
    assert body["post"] == post.id
    assert [t["target"] for t in body["targets"]] == target_ids
    assert [t["tracked"]["platform_post_id"] for t in body["targets"]] == [t.platform_post_id for t in tracked]
    assert all(len(t["tracked"]["series"]) == 2 for t in body["targets"])


def test_post_report_shows_an_unpublished_target_without_numbers(api_client, account_factory, user):
    from publishing.models import PostTarget

    account = account_factory("facebook")
    post = make_post(user, [account], make_history(account, 1, syncs=1))
    PostTarget.objects.filter(post=post).update(status="scheduled", platform_post_id="")

    body = api_client.get(f"/api/v1/analytics/posts/{post.id}/").json()

    assert [t["tracked"] for t in body["targets"]] == [None]


def test_another_users_post_or_an_unknown_one_is_a_404(api_client, account_factory, other_user):
    account = account_factory("facebook", owner=other_user)
    theirs = make_post(other_user, [account], make_history(account, 1, syncs=1))
    for post_id in (theirs.id, theirs.id + 1000):
        response = api_client.get(f"/api/v1/analytics/posts/{post_id}/")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_another_users_account_and_tracked_post_are_a_404(other_client, account_factory):
    account = account_factory("facebook")
    tracked = make_history(account, 1, syncs=1)[0]
    assert other_client.get(f"/api/v1/analytics/accounts/{account.id}/").status_code == 404
    assert other_client.get(f"/api/v1/analytics/tracked-posts/{tracked.id}/").status_code == 404
    summary = other_client.get("/api/v1/analytics/summary/").json()
    assert summary["accounts"] == [] and summary["platforms"] == []


@pytest.mark.parametrize("query, message", [
    ("from=yesterday", "`from` must be a date (YYYY-MM-DD) or an ISO 8601 date-time, not 'yesterday'."),
    ("to=2026-13-01", "`to` must be a date (YYYY-MM-DD) or an ISO 8601 date-time, not '2026-13-01'."),
    ("from=2026-11-10&to=2026-11-01", "`from` must not be after `to`."),
    # Seen while giving ?from=&to= a date-time schema for Schemathesis: outside years 1..9999 in UTC (was a 500).
    ("from=0001-01-01T00:00:00%2B01:00", "`from` is out of range: it must fall between the years 1 and 9999 in UTC."),
    ("to=9999-12-31T23:00:00-05:00", "`to` is out of range: it must fall between the years 1 and 9999 in UTC."),
])
def test_bad_dates_are_a_400_that_says_what_is_wrong(api_client, account_factory, query, message):
    account = account_factory("facebook")
    for url in (f"/api/v1/analytics/accounts/{account.id}/?{query}", f"/api/v1/analytics/summary/?{query}"):
        response = api_client.get(url)
        assert response.status_code == 400
        assert response.json()["error"] == {"code": "invalid_period", "message": message, "fields": {}}


def test_a_to_in_the_first_days_of_year_one_starts_the_default_period_at_its_beginning(api_client, account_factory):
    """The default `from` (30 days before `to`) would fall before year 1: it was an OverflowError, a 500."""
    account = account_factory("facebook")
    for url in (f"/api/v1/analytics/accounts/{account.id}/?to=0001-01-05", "/api/v1/analytics/summary/?to=0001-01-05"):
        response = api_client.get(url)
        assert response.status_code == 200
        assert (response.json()["from"], response.json()["to"]) == ("0001-01-01T00:00:00Z", "0001-01-05T23:59:59.999999Z")


def test_a_bound_with_an_offset_postgresql_cannot_store_is_read_in_utc(api_client, account_factory):
    """Python accepts offsets up to ±23:59, PostgreSQL only ±15:59: Schemathesis found the 500 on PostgreSQL."""
    account = account_factory("facebook")
    for url in (f"/api/v1/analytics/accounts/{account.id}/", "/api/v1/analytics/summary/"):
        response = api_client.get(url, {"from": "2026-11-01T10:00:00+21:55", "to": "2026-11-30T00:00:00-20:30"})
        assert response.status_code == 200, response.content
        assert (response.json()["from"], response.json()["to"]) == ("2026-10-31T12:05:00Z", "2026-11-30T20:30:00Z")


def test_the_analytics_api_needs_a_login(client):
    assert client.get("/api/v1/analytics/summary/").status_code in (401, 403)


def test_summary_never_decrypts_tokens(api_client, account_factory, monkeypatch):
    """Found by `make bench` (API reads): the summary loaded whole account rows, decrypting every token."""
    from social.fields import EncryptedTokenField

    made = [account_factory(platform) for platform in ("facebook", "instagram", "tiktok")]
    for account in made:
        make_history(account, 2, syncs=1)
    monkeypatch.setattr(EncryptedTokenField, "from_db_value", lambda *a: pytest.fail("a token was decrypted"))

    body = api_client.get("/api/v1/analytics/summary/").json()

    assert [a["followers"] for a in body["accounts"]] == [1000, 1000, 1000]
    assert {a["name"] for a in body["accounts"]} == {a.name for a in made}


@pytest.mark.parametrize("posts", [2, 40])
def test_tracked_posts_list_takes_the_same_number_of_queries_for_any_size(api_client, account_factory, posts,
                                                                          django_assert_num_queries):
    account = account_factory("instagram")
    make_history(account, posts, syncs=2)

    with django_assert_num_queries(3):  # the membership, the count and the page
        response = api_client.get("/api/v1/analytics/tracked-posts/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == posts and len(body["results"]) == posts
    first = body["results"][0]
    assert set(first) == {"id", "account", "account_id", "platform", "platform_post_id", "source", "media_type", "product_type",
                          "caption", "permalink", "published_at", "views", "reach", "likes", "comments", "shares",
                          "saves", "latest", "last_synced_at", "next_sync_at", "is_sandbox"}
    assert first["account"] == account.id and first["source"] == "external" and first["is_sandbox"] is False
    published = [r["published_at"] for r in body["results"]]
    assert published == sorted(published, reverse=True)  # newest first


def test_every_analytics_read_marks_what_belongs_to_a_sandbox_account(api_client, account_factory, user, monkeypatch):
    from social.fields import EncryptedTokenField

    real, sandboxed = account_factory("tiktok"), account_factory("tiktok", is_sandbox=True)
    tracked = {a.pk: make_history(a, 1, syncs=1)[0] for a in (real, sandboxed)}
    post = make_post(user, [real, sandboxed], [tracked[real.pk], tracked[sandboxed.pk]])
    # Reading the flag joins the account row without decrypting its tokens.
    monkeypatch.setattr(EncryptedTokenField, "from_db_value", lambda *a: pytest.fail("a token was decrypted"))

    listed = api_client.get("/api/v1/analytics/tracked-posts/").json()["results"]
    assert {r["account"]: r["is_sandbox"] for r in listed} == {real.pk: False, sandboxed.pk: True}
    for account in (real, sandboxed):
        one = api_client.get(f"/api/v1/analytics/tracked-posts/{tracked[account.pk].pk}/").json()
        assert one["is_sandbox"] is account.is_sandbox
    report = api_client.get(f"/api/v1/analytics/posts/{post.id}/").json()
    assert [t["tracked"]["is_sandbox"] for t in report["targets"]] == [False, True]
    summary = api_client.get("/api/v1/analytics/summary/").json()
    assert {a["id"]: a["is_sandbox"] for a in summary["accounts"]} == {real.pk: False, sandboxed.pk: True}
    videos = api_client.get("/api/v1/conversations/tiktok-videos/").json()["results"]
    assert {v["account"]: v["is_sandbox"] for v in videos} == {real.pk: False, sandboxed.pk: True}
    monkeypatch.undo()  # the account report reads the account itself
    assert api_client.get(f"/api/v1/analytics/accounts/{sandboxed.pk}/").json()["account"]["is_sandbox"] is True


def test_tracked_posts_list_filters_by_account_platform_and_source(api_client, account_factory):
    fb, ig = account_factory("facebook"), account_factory("instagram")
    make_history(fb, 3, syncs=0)
    make_history(ig, 2, syncs=0)
    TrackedPost.objects.filter(platform_post_id=f"{fb.external_id}_1").update(source="unipulse")

    def ids(query: str) -> set[str]:
        response = api_client.get(f"/api/v1/analytics/tracked-posts/?{query}")
        assert response.status_code == 200
        return {r["platform_post_id"] for r in response.json()["results"]}

    assert ids(f"account={ig.id}") == {f"{ig.external_id}_0", f"{ig.external_id}_1"}
    assert ids("platform=facebook") == {f"{fb.external_id}_{i}" for i in range(3)}
    assert ids("source=unipulse") == {f"{fb.external_id}_1"}
    assert ids("source=external&platform=facebook") == {f"{fb.external_id}_0", f"{fb.external_id}_2"}


def test_tracked_posts_list_is_paginated(api_client, account_factory):
    make_history(account_factory("tiktok"), 7, syncs=0)
    first = api_client.get("/api/v1/analytics/tracked-posts/?page_size=5").json()
    second = api_client.get("/api/v1/analytics/tracked-posts/?page_size=5&page=2").json()
    assert first["count"] == 7 and len(first["results"]) == 5 and len(second["results"]) == 2
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


def test_tracked_posts_list_shows_only_the_callers_posts(api_client, other_client, account_factory, other_user):
    mine = account_factory("facebook")
    theirs = account_factory("facebook", owner=other_user)
    make_history(mine, 2, syncs=0)
    make_history(theirs, 3, syncs=0)

    assert api_client.get("/api/v1/analytics/tracked-posts/").json()["count"] == 2
    assert api_client.get(f"/api/v1/analytics/tracked-posts/?account={theirs.id}").json()["count"] == 0
    assert other_client.get("/api/v1/analytics/tracked-posts/").json()["count"] == 3


@pytest.mark.parametrize("query, field", [
    ("account=99999999999999999999", "account"), ("account=0", "account"), ("account=abc", "account"),
    ("platform=myspace", "platform"), ("source=both", "source"),
])
def test_a_bad_tracked_posts_filter_is_a_400_naming_it(api_client, query, field):
    response = api_client.get(f"/api/v1/analytics/tracked-posts/?{query}")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {field}
