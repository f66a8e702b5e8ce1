"""Posts API: create (publish now or schedule), validation per platform, list, edit, cancel, retry, 404s."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from publishing.models import Post, PostTarget
from social.models import AccountStatus, SocialAccount
from tests.conftest import side_by_side, workspace_of_user

from .conftest import TIKTOK, fixture

pytestmark = pytest.mark.django_db

IMAGE = {"url": "https://cdn.example.com/a.jpg", "type": "image"}
VIDEO = {"url": "https://cdn.example.com/v.mp4", "type": "video"}
CREATOR = f"{TIKTOK}/creator_info/query/"


def create(client, **data):
    return client.post("/api/v1/posts/", data, format="json")


def fields(response) -> dict:
    return response.json()["error"]["fields"]


def test_creating_a_post_queues_one_message_per_target_after_commit(api_client, account_factory, sent,
                                                                    django_capture_on_commit_callbacks):
    fb, ig = account_factory("facebook"), account_factory("instagram")
    with django_capture_on_commit_callbacks(execute=True):
        response = create(api_client, text="Hi", media=[IMAGE], accounts=[fb.pk, ig.pk],
                          options={"instagram": {"kind": "feed"}}, first_comment="First!")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert [(t["platform"], t["status"], t["first_comment_status"]) for t in data["targets"]] == [
        ("facebook", "queued", ""), ("instagram", "queued", "")]
    ids = sorted(t["id"] for t in data["targets"])
    assert sorted(t for t, _ in sent) == ids and all(delay == 0 for _, delay in sent)
    assert PostTarget.objects.get(pk=ids[1]).options == {"kind": "feed"}
    assert data["media"] == [{"url": IMAGE["url"], "type": "image", "alt_text": ""}]


def test_a_scheduled_post_waits_for_publish_due(api_client, account_factory, sent, django_capture_on_commit_callbacks):
    fb = account_factory("facebook")
    when = timezone.now() + timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        response = create(api_client, text="Later", accounts=[fb.pk], scheduled_at=when.isoformat())

    assert response.status_code == 201
    assert response.json()["targets"][0]["status"] == "scheduled"
    assert PostTarget.objects.get().scheduled_at == when
    assert sent == []


def test_scheduled_time_must_be_in_the_future(api_client, account_factory):
    fb = account_factory("facebook")
    response = create(api_client, text="x", accounts=[fb.pk], scheduled_at=(timezone.now() - timedelta(minutes=1)).isoformat())
    assert response.status_code == 400
    assert fields(response) == {"scheduled_at": ["Choose a time in the future, or leave it empty to publish now."]}


def test_accounts_must_be_the_users_own(api_client, account_factory, other_user):
    theirs = account_factory("facebook", owner=other_user)
    response = create(api_client, text="x", accounts=[theirs.pk])
    assert response.status_code == 400
    assert fields(response) == {"accounts": [f"Unknown account: {theirs.pk}."]}
    assert Post.objects.count() == 0


def test_accounts_must_be_active_and_allowed_to_publish(api_client, account_factory):
    stale = account_factory("facebook", status="needs_reauth")
    no_scope = account_factory("instagram", scopes=["instagram_basic"])
    response = create(api_client, text="x", media=[IMAGE], accounts=[stale.pk, no_scope.pk])
    assert response.status_code == 400
    assert fields(response)["accounts"] == [
        f"Reconnect {stale}: it is needs reconnect.",
        f"{no_scope} did not grant the instagram_content_publish permission; reconnect it to publish."]


def test_facebook_needs_text_link_or_media_and_no_mixed_video(api_client, account_factory):
    fb = account_factory("facebook")
    assert fields(create(api_client, text="  ", accounts=[fb.pk])) == {"text": ["Facebook needs text, a link or media."]}
    assert fields(create(api_client, media=[VIDEO, IMAGE], accounts=[fb.pk])) == {
        "media": ["Facebook posts a single video on its own; it cannot be mixed with other media."]}


@pytest.mark.parametrize("payload, expected", [
    ({"text": "x"}, {"media": ["Instagram needs at least one image or video."]}),
    ({"text": "x" * 2201, "media": [IMAGE]}, {"text": ["Instagram captions are limited to 2200 characters."]}),
    ({"text": " ".join(f"#t{i}" for i in range(31)), "media": [IMAGE]},
     {"text": ["Instagram allows at most 30 hashtags."]}),
    ({"text": " ".join(f"@u{i}" for i in range(21)), "media": [IMAGE]},
     {"text": ["Instagram allows at most 20 @mentions."]}),
    ({"media": [IMAGE] * 11}, {"media": ["An Instagram carousel holds 2 to 10 items."]}),
    ({"media": [IMAGE], "options": {"instagram": {"kind": "carousel"}}},
     {"media": ["An Instagram carousel holds 2 to 10 items."]}),
    ({"media": [IMAGE], "options": {"instagram": {"kind": "reel"}}}, {"media": ["An Instagram reel is exactly one video."]}),
    ({"media": [IMAGE, IMAGE], "options": {"instagram": {"kind": "story"}}},
     {"media": ["An Instagram story is one image or one video (publish several as several stories)."]}),
    ({"media": [{"url": "https://cdn.example.com/a.png", "type": "image"}]},
     {"media.0.url": ["Instagram accepts JPEG images only."]}),
    ({"media": [IMAGE], "options": {"instagram": {"kind": "igtv"}}},
     {"options.instagram.kind": ["Choose one of: feed, reel, story, carousel."]}),
])
def test_instagram_rules(payload, expected, api_client, account_factory):
    ig = account_factory("instagram")
    response = create(api_client, accounts=[ig.pk], **payload)
    assert response.status_code == 400
    assert fields(response) == expected


@override_settings(INSTAGRAM_MAX_HASHTAGS=5)
def test_instagram_hashtag_limit_is_a_setting(api_client, account_factory):
    ig = account_factory("instagram")
    response = create(api_client, accounts=[ig.pk], media=[IMAGE], text="#a #b #c #d #e #f")
    assert fields(response) == {"text": ["Instagram allows at most 5 hashtags."]}


@pytest.mark.parametrize("payload, expected", [
    ({"text": "x", "options": {"tiktok": {"privacy_level": "SELF_ONLY"}}},
     {"media": ["TikTok needs one video or up to 35 photos."]}),
    ({"media": [VIDEO, IMAGE], "options": {"tiktok": {"privacy_level": "SELF_ONLY"}}},
     {"media": ["A TikTok post is one video, or photos only."]}),
    ({"media": [VIDEO], "text": "é" * 2201, "options": {"tiktok": {"privacy_level": "SELF_ONLY"}}},
     {"text": ["A TikTok caption is limited to 2200 characters."]}),
    ({"media": [IMAGE] * 36, "options": {"tiktok": {"privacy_level": "SELF_ONLY"}}},
     {"media": ["A TikTok photo post holds at most 35 photos."]}),
    ({"media": [{"url": "https://cdn.example.com/a.png", "type": "image"}], "options": {"tiktok": {"privacy_level": "SELF_ONLY"}}},
     {"media.0.url": ["TikTok photos must be JPEG or WebP."]}),
    ({"media": [IMAGE], "options": {"tiktok": {"privacy_level": "SELF_ONLY", "disable_duet": True}}},
     {"options.tiktok.disable_duet": ["Photo posts have no duet or stitch."]}),
    ({"media": [VIDEO], "options": {"tiktok": {"privacy_level": "SELF_ONLY", "source": "FILE_UPLOAD"}}},
     {"options.tiktok.source": ["FILE_UPLOAD sends one video uploaded through /api/v1/media/."]}),
    ({"media": [VIDEO], "options": {"tiktok": {"privacy_level": "SELF_ONLY", "brand_content_toggle": True}}},
     {"options.tiktok.privacy_level": ["Branded content cannot be private (SELF_ONLY) on TikTok."]}),
    ({"media": [VIDEO], "options": {"tiktok": {"privacy_level": "SELF_ONLY", "source": "EMAIL"}}},
     {"options.tiktok.source": ["Choose PULL_FROM_URL or FILE_UPLOAD."]}),
    ({"media": [VIDEO], "first_comment": "hi", "options": {"tiktok": {"privacy_level": "SELF_ONLY"}}},
     {"first_comment": ["TikTok's API cannot post comments; remove the first comment or the TikTok account."]}),
])
def test_tiktok_rules(payload, expected, api_client, account_factory, mocked_platforms):
    tt = account_factory("tiktok")
    response = create(api_client, accounts=[tt.pk], **payload)
    assert response.status_code == 400
    assert fields(response) == expected
    assert len(mocked_platforms.calls) == 0  # content rules are checked before asking TikTok


def test_a_missing_privacy_level_says_where_the_choices_are_then_lists_them_once_tiktok_told_us(
        api_client, account_factory, mocked_platforms):
    tt = account_factory("tiktok")
    response = create(api_client, accounts=[tt.pk], media=[VIDEO])
    assert fields(response) == {"options.tiktok.privacy_level": [
        "Choose who can see this TikTok post (privacy_level); GET /api/v1/accounts/{id}/publishing-options/ lists "
        f"each creator's choices (account {tt.pk})."]}
    assert len(mocked_platforms.calls) == 0  # validation never calls TikTok itself

    mocked_platforms.post(CREATOR, json=fixture("tiktok/publishing_creator_info_unaudited.json"))
    options = api_client.get(f"/api/v1/accounts/{tt.pk}/publishing-options/").json()
    response = create(api_client, accounts=[tt.pk], media=[VIDEO])
    choices = ", ".join(options["live"]["privacy_level_options"])
    assert choices and fields(response) == {"options.tiktok.privacy_level": [
        f"Choose who can see this TikTok post (privacy_level), one of {tt}: {choices}."]}


def test_tiktok_privacy_level_must_be_among_the_creators_options(api_client, account_factory, mocked_platforms):
    tt = account_factory("tiktok")
    mocked_platforms.post(CREATOR, json=fixture("tiktok/publishing_creator_info_unaudited.json"))

    response = create(api_client, accounts=[tt.pk], media=[VIDEO], options={"tiktok": {"privacy_level": "PUBLIC_TO_EVERYONE"}})

    assert response.status_code == 400
    assert fields(response) == {"options.tiktok.privacy_level": [f"{tt} may post as: SELF_ONLY."]}
    assert Post.objects.count() == 0


def test_tiktok_creator_info_errors_become_field_errors(api_client, account_factory, mocked_platforms):
    tt = account_factory("tiktok")
    mocked_platforms.post(CREATOR, status=401, json=fixture("tiktok/publishing_error_token.json"))
    mocked_platforms.post("https://open.tiktokapis.com/v2/oauth/token/", status=400,  # the refresh tried first
                          json=fixture("tiktok/tokens_refresh_invalid_grant.json"))

    response = create(api_client, accounts=[tt.pk], media=[VIDEO], options={"tiktok": {"privacy_level": "SELF_ONLY"}})

    assert response.status_code == 400
    assert fields(response) == {"accounts": [f"Reconnect {tt}: TikTok no longer accepts its authorisation."]}
    assert tt.access_token not in response.content.decode()


def test_tiktok_post_with_an_allowed_privacy_level_is_created(api_client, account_factory, mocked_platforms, sent):
    tt = account_factory("tiktok")
    mocked_platforms.post(CREATOR, json=fixture("tiktok/publishing_creator_info.json"))
    response = create(api_client, accounts=[tt.pk], media=[VIDEO], text="Watch",
                      options={"tiktok": {"privacy_level": "FOLLOWER_OF_CREATOR", "disable_comment": True}})
    assert response.status_code == 201, response.json()
    assert response.json()["targets"][0]["options"] == {"privacy_level": "FOLLOWER_OF_CREATOR", "disable_comment": True}


def test_media_urls_must_be_public_https(api_client, account_factory):
    fb = account_factory("facebook")
    response = create(api_client, accounts=[fb.pk], media=[{"url": "http://10.0.0.1/a.jpg", "type": "image"}])
    assert response.status_code == 400
    assert fields(response) == {"media": {"0": {"url": ["Use a public https URL (the platforms download the media from it)."]}}}


def make_posts(user, account, n):
    for i in range(n):
        post = Post.objects.create(workspace=workspace_of_user(user), created_by=user, text=f"post {i}")
        PostTarget.objects.create(post=post, account=account, status="published")


def test_list_uses_a_constant_number_of_queries(api_client, user, account_factory, django_assert_max_num_queries):
    fb, ig = account_factory("facebook"), account_factory("instagram")
    make_posts(user, fb, 2)
    with django_assert_max_num_queries(5):
        small = api_client.get("/api/v1/posts/")
    make_posts(user, ig, 30)
    with django_assert_max_num_queries(5):
        large = api_client.get("/api/v1/posts/")
    assert small.json()["count"] == 2 and large.json()["count"] == 32


def test_list_filters_by_status_account_platform_and_date(api_client, user, other_user, account_factory):
    fb, tt = account_factory("facebook"), account_factory("tiktok")
    p1 = Post.objects.create(workspace=workspace_of_user(user), created_by=user, text="fb")
    PostTarget.objects.create(post=p1, account=fb, status="published")
    p2 = Post.objects.create(workspace=workspace_of_user(user), created_by=user, text="tt", scheduled_at=timezone.now() + timedelta(days=3))
    PostTarget.objects.create(post=p2, account=tt, status="scheduled")
    Post.objects.create(workspace=workspace_of_user(other_user), created_by=other_user, text="not mine")

    def ids(query):
        return [p["id"] for p in api_client.get(f"/api/v1/posts/?{query}").json()["results"]]

    assert ids("") == [p2.pk, p1.pk]
    assert ids("status=scheduled") == [p2.pk]
    assert ids(f"account={fb.pk}") == [p1.pk]
    assert ids("platform=tiktok") == [p2.pk]
    since = (timezone.now() + timedelta(days=1)).isoformat().replace("+", "%2B")
    assert ids(f"since={since}") == [p2.pk]
    assert ids(f"until={since}") == [p1.pk]


def test_another_users_post_is_a_404_everywhere(api_client, other_client, account_factory, sent):
    fb = account_factory("facebook")
    post = Post.objects.create(workspace=fb.workspace, created_by=fb.connected_by, text="mine")
    PostTarget.objects.create(post=post, account=fb, status="failed")
    url = f"/api/v1/posts/{post.pk}/"
    assert api_client.get(url).status_code == 200
    assert other_client.get(url).status_code == 404
    assert other_client.patch(url, {"text": "pwned"}, format="json").status_code == 404
    assert other_client.delete(url).status_code == 404
    assert other_client.post(f"/api/v1/posts/{post.pk}/retry").status_code == 404
    assert PostTarget.objects.get().status == "failed" and Post.objects.get().text == "mine"


def test_patch_edits_a_scheduled_post_and_revalidates(api_client, account_factory, sent):
    fb = account_factory("facebook")
    when = (timezone.now() + timedelta(hours=1)).isoformat()
    post_id = create(api_client, text="draft", accounts=[fb.pk], scheduled_at=when).json()["id"]

    response = api_client.patch(f"/api/v1/posts/{post_id}/", {"text": "final"}, format="json")
    bad = api_client.patch(f"/api/v1/posts/{post_id}/", {"text": "", "link": ""}, format="json")

    assert response.status_code == 200 and response.json()["text"] == "final"
    assert response.json()["targets"][0]["status"] == "scheduled"
    assert bad.status_code == 400 and fields(bad) == {"text": ["Facebook needs text, a link or media."]}


def test_patch_is_refused_once_publishing_started(api_client, account_factory):
    fb = account_factory("facebook")
    post = Post.objects.create(workspace=fb.workspace, created_by=fb.connected_by, text="x")
    PostTarget.objects.create(post=post, account=fb, status="publishing")
    response = api_client.patch(f"/api/v1/posts/{post.pk}/", {"text": "y"}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "post_started"


def test_delete_cancels_only_what_has_not_started(api_client, account_factory):
    post = None
    for status in ("scheduled", "queued", "publishing", "published"):
        account = account_factory("facebook")
        post = post or Post.objects.create(workspace=account.workspace, created_by=account.connected_by, text="x")
        PostTarget.objects.create(post=post, account=account, status=status)

    response = api_client.delete(f"/api/v1/posts/{post.pk}/")

    assert response.status_code == 200
    assert [t["status"] for t in response.json()["targets"]] == ["cancelled", "cancelled", "publishing", "published"]


def test_retry_requeues_failed_targets_only_from_scratch(api_client, account_factory, sent,
                                                        django_capture_on_commit_callbacks):
    post = None
    for status in ("failed", "published", "unconfirmed"):
        account = account_factory("instagram")
        post = post or Post.objects.create(workspace=account.workspace, created_by=account.connected_by, text="x")
        PostTarget.objects.create(post=post, account=account, status=status, container_ids={"parent": "1"},
                                  last_error_message="boom", attempts=3)
    failed = PostTarget.objects.get(status="failed")

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(f"/api/v1/posts/{post.pk}/retry")

    assert response.status_code == 202
    assert [t["status"] for t in response.json()["targets"]] == ["queued", "published", "unconfirmed"]
    failed.refresh_from_db()
    assert (failed.container_ids, failed.attempts, failed.last_error_message) == ({}, 0, "")
    assert sent == [(failed.pk, 0)]


def test_unauthenticated_requests_are_refused(client):
    assert client.get("/api/v1/posts/").status_code in (401, 403)


def test_token_never_appears_in_post_responses(api_client, account_factory):
    fb = account_factory("facebook", access_token="LEAK-publishing-123")
    post = Post.objects.create(workspace=fb.workspace, created_by=fb.connected_by, text="x")
    PostTarget.objects.create(post=post, account=fb, status="failed", last_error_message="Reconnect")
    assert "LEAK-publishing" not in api_client.get(f"/api/v1/posts/{post.pk}/").content.decode()
    assert SocialAccount.objects.get().access_token == "LEAK-publishing-123"


def test_admin_shows_targets_with_errors_but_no_upload_token(client, django_user_model, account_factory):
    staff = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123")
    client.force_login(staff)
    tt = account_factory("tiktok")
    post = Post.objects.create(workspace=tt.workspace, created_by=tt.connected_by, text="x")
    target = PostTarget.objects.create(post=post, account=tt, status="failed", last_error_message="TikTok said no",
                                       container_ids={"upload_url": "https://up.example/?upload_token=SECRETUP", "size": 3})
    for url in ("/admin/publishing/posttarget/", f"/admin/publishing/posttarget/{target.pk}/change/",
                f"/admin/publishing/post/{post.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 200
        assert "SECRETUP" not in response.content.decode()
    assert "TikTok said no" in client.get(f"/admin/publishing/post/{post.pk}/change/").content.decode()


def test_admin_retry_action_requeues_failed_targets(client, django_user_model, account_factory, sent,
                                                    django_capture_on_commit_callbacks):
    staff = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123")
    client.force_login(staff)
    fb = account_factory("facebook")
    post = Post.objects.create(workspace=fb.workspace, created_by=fb.connected_by, text="x")
    target = PostTarget.objects.create(post=post, account=fb, status="failed")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/publishing/post/", {"action": "retry_failed", "_selected_action": [post.pk]})
    assert response.status_code == 302
    assert PostTarget.objects.get(pk=target.pk).status == "queued" and sent == [(target.pk, 0)]


def test_delete_never_cancels_a_target_whose_commit_may_have_gone_out(api_client, account_factory):
    tt = account_factory("tiktok")
    post = Post.objects.create(workspace=tt.workspace, created_by=tt.connected_by, text="x")
    # Rate limited while polling TikTok after init: it waits, but the post may already be live.
    PostTarget.objects.create(post=post, account=tt, status="publishing", step="committed", publish_id="v_pub_1",
                              commit_started_at=timezone.now())
    response = api_client.delete(f"/api/v1/posts/{post.pk}/")
    assert [t["status"] for t in response.json()["targets"]] == ["publishing"]


def test_bad_list_filters_are_field_errors(api_client):
    response = api_client.get("/api/v1/posts/?since=yesterday&platform=myspace")
    assert response.status_code == 400
    assert set(fields(response)) == {"since", "platform"}


@pytest.mark.parametrize("account", ["31393433572933959726137344", "0", "-4", "²"])
def test_an_account_filter_no_database_id_can_be_is_a_400_not_a_500(api_client, account):
    # found by Schemathesis on SQLite, which cannot bind an integer past 2**63 - 1
    response = api_client.get("/api/v1/posts/", {"account": account})
    assert response.status_code == 400
    assert set(fields(response)) == {"account"}


def test_creating_a_post_puts_one_message_on_the_real_publish_queue(api_client, account_factory,
                                                                    django_capture_on_commit_callbacks):
    import dramatiq

    broker = dramatiq.get_broker()
    broker.flush_all()
    fb = account_factory("facebook")
    with django_capture_on_commit_callbacks(execute=True):
        target_id = create(api_client, text="Hi", accounts=[fb.pk]).json()["targets"][0]["id"]
    [message] = list(broker.queues["publish"].queue)
    decoded = dramatiq.Message.decode(message)
    assert (decoded.actor_name, decoded.queue_name, list(decoded.args)) == ("publish", "publish", [target_id])
    broker.flush_all()


def test_the_list_never_decrypts_account_tokens(api_client, user, account_factory, monkeypatch):
    """Found by `make bench` (API reads): each listed target's account had its tokens decrypted."""
    from social.fields import EncryptedTokenField

    make_posts(user, account_factory("facebook"), 3)
    monkeypatch.setattr(EncryptedTokenField, "from_db_value", lambda *a: pytest.fail("a token was decrypted"))
    body = api_client.get("/api/v1/posts/").json()
    assert body["count"] == 3 and all(t["platform"] == "facebook" for p in body["results"] for t in p["targets"])


def create_with_key(client, key: str, **data):
    return client.post("/api/v1/posts/", data, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_repeated_create_with_the_same_idempotency_key_returns_the_first_post_and_queues_nothing_new(
        api_client, account_factory, sent, django_capture_on_commit_callbacks):
    fb, ig = account_factory("facebook"), account_factory("instagram")
    with django_capture_on_commit_callbacks(execute=True):
        first = create_with_key(api_client, "7f1c0e1a-key", text="Hi", media=[IMAGE], accounts=[fb.pk, ig.pk])
    assert first.status_code == 201, first.json()
    assert len(sent) == 2
    with django_capture_on_commit_callbacks(execute=True):
        # The same body in another key order is the same request.
        again = create_with_key(api_client, "7f1c0e1a-key", accounts=[fb.pk, ig.pk], media=[IMAGE], text="Hi")
        # Even a repeat that would no longer validate (the account has since lost its grant) gets the post it made.
        fb.status = AccountStatus.NEEDS_REAUTH
        fb.save(update_fields=["status"])
        late = create_with_key(api_client, "7f1c0e1a-key", text="Hi", media=[IMAGE], accounts=[fb.pk, ig.pk])

    assert (again.status_code, late.status_code) == (200, 200)
    assert again.json() == first.json() and late.json()["id"] == first.json()["id"]
    assert Post.objects.count() == 1 and PostTarget.objects.count() == 2
    assert len(sent) == 2  # nothing new enqueued
    assert Post.objects.get().idempotency_key == "7f1c0e1a-key"


def test_a_key_sent_again_with_a_different_body_is_a_422_and_changes_nothing(api_client, account_factory, sent):
    fb = account_factory("facebook")
    first = create_with_key(api_client, "k-reused", text="Launch day", accounts=[fb.pk])
    assert first.status_code == 201
    queued = len(sent)

    other = create_with_key(api_client, "k-reused", text="Another post", accounts=[fb.pk])

    assert other.status_code == 422
    assert other.json()["error"] == {
        "code": "idempotency_key_reused",
        "message": f"This Idempotency-Key already created post {first.json()['id']} from a different request body. "
                   "Send the same body to get that post again, or use a new key for a new post.",
        "fields": {}}
    assert list(Post.objects.values_list("text", flat=True)) == ["Launch day"]
    assert len(sent) == queued


def test_idempotency_keys_are_per_workspace_and_posts_without_a_key_are_independent(
        api_client, other_client, account_factory, user, other_user):
    fb = account_factory("facebook")
    assert create(api_client, text="a", accounts=[fb.pk]).status_code == 201
    assert create(api_client, text="a", accounts=[fb.pk]).status_code == 201  # no key: two posts, as asked
    assert create_with_key(api_client, "k-1", text="b", accounts=[fb.pk]).status_code == 201
    assert create_with_key(api_client, "k-2", text="b", accounts=[fb.pk]).status_code == 201

    other_fb = account_factory("facebook", owner=other_user)
    response = create_with_key(other_client, "k-1", text="mine", accounts=[other_fb.pk])
    assert response.status_code == 201 and response.json()["text"] == "mine"  # never another user's post
    assert Post.objects.filter(created_by=user).count() == 4 and Post.objects.filter(created_by=other_user).count() == 1


@pytest.mark.parametrize("key", ["x" * 256, "has space", "naïve"])
def test_a_malformed_idempotency_key_is_a_400_that_names_the_header(api_client, account_factory, key):
    fb = account_factory("facebook")
    response = api_client.post("/api/v1/posts/", {"text": "a", "accounts": [fb.pk]}, format="json",
                               headers={"Idempotency-Key": key})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert fields(response) == {"Idempotency-Key": ["Use 1 to 255 visible ASCII characters (for example a UUID)."]}
    assert Post.objects.count() == 0


def test_the_losing_request_of_a_race_on_one_key_returns_the_winners_post_and_queues_nothing(
        api_client, account_factory, user, sent, monkeypatch, django_capture_on_commit_callbacks):
    from publishing import services

    fb = account_factory("facebook")
    with django_capture_on_commit_callbacks(execute=True):
        winner = create_with_key(api_client, "race-key", text="Hi", accounts=[fb.pk])
    assert winner.status_code == 201 and len(sent) == 1
    # The loser looked the key up before the winner's row existed, so it goes on to INSERT.
    monkeypatch.setattr(services, "get_post_by_idempotency_key", lambda workspace, key: None)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        loser = create_with_key(api_client, "race-key", text="Hi", accounts=[fb.pk])

    assert loser.status_code == 200 and loser.json()["id"] == winner.json()["id"]
    assert Post.objects.count() == 1 and PostTarget.objects.count() == 1  # the loser's rows were rolled back
    assert callbacks == [] and len(sent) == 1  # and its messages with them


def test_create_post_once_reraises_an_integrity_error_that_is_not_a_key_clash(user, account_factory, monkeypatch):
    from django.db import IntegrityError

    from publishing.services import posts

    def clash(*args, **kwargs):
        raise IntegrityError("some other constraint")

    monkeypatch.setattr(posts, "create_post", clash)
    with pytest.raises(IntegrityError):
        posts.create_post_once(workspace_of_user(user).memberships.get(), {"accounts": []}, "unused-key")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs two real connections (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_creates_with_one_key_make_one_post(user, account_factory, sent, monkeypatch):
    import threading

    from rest_framework.test import APIClient

    from publishing import services

    fb = account_factory("facebook")
    real_lookup = services.get_post_by_idempotency_key
    both_looked = threading.Barrier(2)

    def lookup_then_wait(workspace, key):
        found = real_lookup(workspace, key)
        both_looked.wait(timeout=10)  # neither sees the other's post: both go on to INSERT
        return found

    monkeypatch.setattr(services, "get_post_by_idempotency_key", lookup_then_wait)

    def request():
        client = APIClient()
        client.force_authenticate(user)
        return create_with_key(client, "same-key", text="Once", accounts=[fb.pk])

    errors, answers = side_by_side(request)

    assert errors == []
    assert sorted(a.status_code for a in answers) == [200, 201]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert Post.objects.count() == 1 and PostTarget.objects.count() == 1
    assert [pk for pk, _ in sent] == [PostTarget.objects.get().pk]  # one message, after the winner's commit


def test_a_tiktok_photo_description_is_limited_to_4000_utf16_units(api_client, account_factory, mocked_platforms):
    tt = account_factory("tiktok")
    mocked_platforms.post(CREATOR, json=fixture("tiktok/publishing_creator_info.json"))
    photos = {"media": [IMAGE, IMAGE], "options": {"tiktok": {"privacy_level": "SELF_ONLY"}}}

    too_long = create(api_client, accounts=[tt.pk], text="😀" * 2001, **photos)  # 2,001 characters, 4,002 units
    assert too_long.status_code == 400
    assert fields(too_long) == {"text": ["A TikTok photo description is limited to 4000 characters."]}
    assert len(mocked_platforms.calls) == 0

    at_the_limit = create(api_client, accounts=[tt.pk], text="😀" * 2000, **photos)
    assert at_the_limit.status_code == 201, at_the_limit.json()


def test_interactions_the_creator_turned_off_cannot_be_turned_on(api_client, account_factory, mocked_platforms):
    tt = account_factory("tiktok")
    info = fixture("tiktok/publishing_creator_info.json")
    info["data"].update(comment_disabled=True, duet_disabled=True, stitch_disabled=True)
    mocked_platforms.post(CREATOR, json=info)

    response = create(api_client, accounts=[tt.pk], media=[VIDEO], options={"tiktok": {
        "privacy_level": "SELF_ONLY", "disable_comment": False, "disable_duet": False, "disable_stitch": True}})

    assert response.status_code == 400
    assert fields(response) == {"options.tiktok.disable_comment": [f"{tt} has turned this interaction off in TikTok."],
                                "options.tiktok.disable_duet": [f"{tt} has turned this interaction off in TikTok."]}
    assert Post.objects.count() == 0
    ok = create(api_client, accounts=[tt.pk], media=[VIDEO], options={"tiktok": {
        "privacy_level": "SELF_ONLY", "disable_comment": True, "disable_duet": True}})
    assert ok.status_code == 201, ok.json()


def test_a_first_comment_is_limited_to_2200_characters(api_client, account_factory):
    fb = account_factory("facebook")
    response = create(api_client, text="Hi", accounts=[fb.pk], first_comment="x" * 2201)
    assert response.status_code == 400
    assert fields(response) == {"first_comment": ["A first comment is limited to 2200 characters."]}
    ok = create(api_client, text="Hi", accounts=[fb.pk], first_comment="x" * 2200,
                scheduled_at=(timezone.now() + timedelta(hours=1)).isoformat())
    assert ok.status_code == 201 and ok.json()["first_comment"] == "x" * 2200


def test_options_for_an_unknown_platform_are_refused(api_client, account_factory):
    fb = account_factory("facebook")
    response = create(api_client, text="Hi", accounts=[fb.pk], options={"twitter": {"thread": True}})
    assert response.status_code == 400
    assert fields(response) == {"options.twitter": ["Unknown platform."]}
    assert Post.objects.count() == 0


def test_a_post_created_while_the_broker_is_down_is_scheduled_for_publish_due_not_stuck_queued(
        api_client, account_factory, django_capture_on_commit_callbacks, monkeypatch):
    import dramatiq
    import redis

    broker = dramatiq.get_broker()

    def refuse(message, *, delay=None):
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(broker, "enqueue", refuse)
    fb = account_factory("facebook")
    with django_capture_on_commit_callbacks(execute=True):
        response = create(api_client, text="While Redis is down", accounts=[fb.pk])
    assert response.status_code == 201  # the post is saved; only its message could not leave
    target = PostTarget.objects.get(pk=response.json()["targets"][0]["id"])
    assert target.status == "scheduled" and target.scheduled_at <= timezone.now()
    assert target.last_error_message == "The job queue could not be reached; publish_due sends this again within a minute."
    monkeypatch.delattr(broker, "enqueue")
    broker.flush_all()
    from publishing.services.posts import enqueue_due_targets

    with django_capture_on_commit_callbacks(execute=True):
        assert enqueue_due_targets() == [target.pk]
    assert [dramatiq.Message.decode(m).args[0] for m in broker.queues["publish"].queue] == [target.pk]
    target.refresh_from_db()
    assert (target.status, target.last_error_message) == ("queued", "")
    broker.flush_all()
