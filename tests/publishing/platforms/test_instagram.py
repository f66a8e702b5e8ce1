"""Instagram publishing: image, carousel, reel, story; polling by re-enqueueing; exactly one media_publish."""

import json
from datetime import timedelta

import pytest
import requests
from django.test import override_settings
from django.utils import timezone

from publishing.actors import publish
from publishing.models import PostTarget
from social.models import SocialAccount
from unipulse.platform_errors import TransientError

from ..conftest import GRAPH, IG_ID, calls_to, fixture, form

pytestmark = pytest.mark.django_db

MEDIA = f"{GRAPH}/{IG_ID}/media"
PUBLISH = f"{GRAPH}/{IG_ID}/media_publish"
LIMIT = f"{GRAPH}/{IG_ID}/content_publishing_limit"
CONTAINER = "17889455560051444"
MEDIA_ID = "17920238422030506"


def status_url(container=CONTAINER):
    return f"{GRAPH}/{container}"


def mock_happy_path(rsps, container=CONTAINER, create=True):
    if create:
        rsps.post(MEDIA, json={"id": container})
    rsps.get(status_url(container), json=fixture("instagram/publishing_status_finished.json"))
    rsps.get(LIMIT, json=fixture("instagram/publishing_limit.json"))
    rsps.post(PUBLISH, json=fixture("instagram/publishing_media_publish.json"))
    rsps.get(f"{GRAPH}/{MEDIA_ID}", json=fixture("instagram/publishing_permalink.json"))


def test_single_image_goes_container_then_status_then_quota_then_media_publish(make_target, mocked_platforms, sent):
    target = make_target("instagram", media=[("https://cdn.example.com/a.jpg", "image")])
    target.post.media.update(alt_text="A red bicycle")
    mock_happy_path(mocked_platforms)

    publish(target.pk)

    create = form(calls_to(mocked_platforms, "POST", MEDIA)[0])
    assert create["image_url"] == "https://cdn.example.com/a.jpg"
    assert create["caption"] == "Hello from UniPulse" and create["alt_text"] == "A red bicycle"
    assert "media_type" not in create
    [publish_call] = calls_to(mocked_platforms, "POST", PUBLISH)
    assert form(publish_call)["creation_id"] == CONTAINER
    assert [c.request.url.split("?")[0] for c in mocked_platforms.calls] == [
        MEDIA, status_url(), LIMIT, PUBLISH, f"{GRAPH}/{MEDIA_ID}"]
    target.refresh_from_db()
    assert target.status == "published" and target.platform_post_id == MEDIA_ID
    assert target.permalink == "https://www.instagram.com/p/C7xYzAbCdEf/"
    assert target.container_ids == {"parent": CONTAINER}


def test_carousel_creates_children_then_the_parent_with_their_ids(make_target, mocked_platforms, sent):
    target = make_target("instagram", media=[("https://cdn.example.com/a.jpg", "image"),
                                             ("https://cdn.example.com/b.mp4", "video")])
    mocked_platforms.post(MEDIA, json={"id": "child-1"})
    mocked_platforms.post(MEDIA, json={"id": "child-2"})
    mocked_platforms.post(MEDIA, json={"id": CONTAINER})
    for child in ("child-1", "child-2"):
        mocked_platforms.get(status_url(child), json=fixture("instagram/publishing_status_finished.json"))
    mock_happy_path(mocked_platforms, create=False)

    publish(target.pk)

    first, second, parent = (form(c) for c in calls_to(mocked_platforms, "POST", MEDIA))
    assert first["is_carousel_item"] == "true" and first["image_url"] == "https://cdn.example.com/a.jpg"
    assert second["is_carousel_item"] == "true" and second["media_type"] == "VIDEO"
    assert second["video_url"] == "https://cdn.example.com/b.mp4"
    assert parent["media_type"] == "CAROUSEL" and parent["children"] == "child-1,child-2"
    assert parent["caption"] == "Hello from UniPulse"
    assert "caption" not in first
    target.refresh_from_db()
    assert target.status == "published"
    assert target.container_ids == {"children": ["child-1", "child-2"], "parent": CONTAINER}


def test_reel_is_polled_by_re_enqueueing_with_a_delay_until_finished(make_target, mocked_platforms, sent, worker):
    target = make_target("instagram", media=[("https://cdn.example.com/v.mp4", "video")],
                         options={"kind": "reel", "share_to_feed": False})
    mocked_platforms.post(MEDIA, json={"id": CONTAINER})
    mocked_platforms.get(status_url(), json=fixture("instagram/publishing_status_in_progress.json"))
    mock_happy_path(mocked_platforms, create=False)

    publish(target.pk)

    target.refresh_from_db()
    assert target.status == "publishing" and target.step == "prepared" and target.polls == 1
    assert sent == [(target.pk, 20_000)]
    create = form(calls_to(mocked_platforms, "POST", MEDIA)[0])
    assert (create["media_type"], create["video_url"], create["share_to_feed"]) == (
        "REELS", "https://cdn.example.com/v.mp4", "false")
    worker()

    assert len(calls_to(mocked_platforms, "POST", MEDIA)) == 1
    assert len(calls_to(mocked_platforms, "POST", PUBLISH)) == 1
    target.refresh_from_db()
    assert target.status == "published"


def test_story_uses_the_stories_media_type_without_caption(make_target, mocked_platforms, sent):
    target = make_target("instagram", media=[("https://cdn.example.com/a.jpg", "image")], options={"kind": "story"})
    mock_happy_path(mocked_platforms)

    publish(target.pk)

    create = form(calls_to(mocked_platforms, "POST", MEDIA)[0])
    assert create["media_type"] == "STORIES" and "caption" not in create
    target.refresh_from_db()
    assert target.status == "published"


@pytest.mark.parametrize("step", ["container", "status", "limit"])
def test_a_timeout_before_the_commit_is_retried_and_publishes_once(step, make_target, mocked_platforms, sent):
    target = make_target("instagram", media=[("https://cdn.example.com/a.jpg", "image")])
    url, method = {"container": (MEDIA, "POST"), "status": (status_url(), "GET"), "limit": (LIMIT, "GET")}[step]
    for _ in range(2 if method == "GET" else 1):  # http.request repeats a GET once by itself
        mocked_platforms.add(method, url, body=requests.exceptions.ReadTimeout())
    mock_happy_path(mocked_platforms)

    with pytest.raises(TransientError):
        publish(target.pk)
    publish(target.pk)

    assert len(calls_to(mocked_platforms, "POST", PUBLISH)) == 1
    target.refresh_from_db()
    assert target.status == "published" and target.attempts == 1


def test_timeout_on_media_publish_with_a_published_container_is_not_published_again(make_target, mocked_platforms, sent):
    target = make_target("instagram", media=[("https://cdn.example.com/a.jpg", "image")])
    mocked_platforms.post(MEDIA, json={"id": CONTAINER})
    mocked_platforms.get(status_url(), json=fixture("instagram/publishing_status_finished.json"))
    mocked_platforms.get(status_url(), json=fixture("instagram/publishing_status_published.json"))
    mocked_platforms.get(LIMIT, json=fixture("instagram/publishing_limit.json"))
    mocked_platforms.post(PUBLISH, body=requests.exceptions.ReadTimeout())
    recent = fixture("instagram/publishing_recent_media.json")
    recent["data"][0]["timestamp"] = timezone.now().strftime("%Y-%m-%dT%H:%M:%S+0000")
    mocked_platforms.get(MEDIA, json=recent)

    with pytest.raises(TransientError):
        publish(target.pk)
    publish(target.pk)

    assert len(calls_to(mocked_platforms, "POST", PUBLISH)) == 1
    target.refresh_from_db()
    assert (target.status, target.platform_post_id) == ("published", MEDIA_ID)
    assert target.permalink == "https://www.instagram.com/p/C7xYzAbCdEf/"


def test_timeout_on_media_publish_with_a_still_finished_container_publishes_it(make_target, mocked_platforms, sent):
    target = make_target("instagram", media=[("https://cdn.example.com/a.jpg", "image")])
    mocked_platforms.post(PUBLISH, status=500, json={"error": {"message": "An unknown error occurred", "code": 1}})
    mock_happy_path(mocked_platforms)

    with pytest.raises(TransientError):
        publish(target.pk)
    target.refresh_from_db()
    assert target.commit_started_at is not None
    publish(target.pk)

    assert len(calls_to(mocked_platforms, "POST", PUBLISH)) == 2  # the first one never made it public
    assert len(calls_to(mocked_platforms, "POST", MEDIA)) == 1
    target.refresh_from_db()
    assert target.status == "published" and target.commit_started_at is not None


@pytest.mark.parametrize("fixture_name, code, words", [
    ("publishing_status_error", "instagram:container_error", "2207052: The media could not be fetched"),
    ("publishing_status_expired", "instagram:container_expired", "expired"),
])
def test_container_error_or_expiry_fails_the_target_with_the_reason(fixture_name, code, words, make_target,
                                                                      mocked_platforms, sent):
    target = make_target("instagram", media=[("https://cdn.example.com/a.jpg", "image")])
    mocked_platforms.post(MEDIA, json={"id": CONTAINER})
    mocked_platforms.get(status_url(), json=fixture(f"instagram/{fixture_name}.json"))

    publish(target.pk)

    target.refresh_from_db()
    assert target.status == "failed" and target.last_error_code == code
    assert words in target.last_error_message
    assert calls_to(mocked_platforms, "POST", PUBLISH) == [] and sent == []


def test_reached_publishing_quota_blocks_the_account_and_the_target_waits(make_target, mocked_platforms, sent):
    target = make_target("instagram", media=[("https://cdn.example.com/a.jpg", "image")])
    mocked_platforms.post(MEDIA, json={"id": CONTAINER})
    mocked_platforms.get(status_url(), json=fixture("instagram/publishing_status_finished.json"))
    mocked_platforms.get(LIMIT, json=fixture("instagram/publishing_limit_reached.json"))

    publish(target.pk)

    target.refresh_from_db()
    assert target.status == "queued" and "publishing limit" in target.last_error_message
    assert SocialAccount.objects.get(pk=target.account_id).blocked_until > timezone.now() + timedelta(minutes=59)
    assert calls_to(mocked_platforms, "POST", PUBLISH) == []
    [(target_id, delay)] = sent
    assert target_id == target.pk and delay > 3_590_000


def test_blocking_error_on_media_publish_never_loops(make_target, mocked_platforms, sent):
    target = make_target("instagram", media=[("https://cdn.example.com/a.jpg", "image")])
    mock_happy_path(mocked_platforms)
    mocked_platforms.replace("POST", PUBLISH, status=400, json={"error": {
        "message": "Application request limit reached", "code": 9, "error_subcode": 2207042, "fbtrace_id": "Ax"}})

    publish(target.pk)
    publish(target.pk)  # an early redelivery stays parked

    assert len(calls_to(mocked_platforms, "POST", PUBLISH)) == 1
    target.refresh_from_db()
    assert target.status == "queued" and target.commit_started_at is None
    assert SocialAccount.objects.get(pk=target.account_id).blocked_until > timezone.now() + timedelta(hours=23)


@override_settings(PUBLISH_MAX_POLLS=2)
def test_polling_is_bounded(make_target, mocked_platforms, sent, worker):
    target = make_target("instagram", media=[("https://cdn.example.com/v.mp4", "video")])
    mocked_platforms.post(MEDIA, json={"id": CONTAINER})
    mocked_platforms.get(status_url(), json=fixture("instagram/publishing_status_in_progress.json"))

    publish(target.pk)
    worker()

    target.refresh_from_db()
    assert target.status == "failed" and target.last_error_code == "poll_timeout"
    assert len(calls_to(mocked_platforms, "GET", status_url())) == 3


def test_error_190_on_container_creation_fails_with_reconnect(make_target, mocked_platforms, sent):
    target = make_target("instagram", media=[("https://cdn.example.com/a.jpg", "image")])
    mocked_platforms.post(MEDIA, status=400, json=fixture("facebook/publishing_error_190.json"))

    publish(target.pk)

    target.refresh_from_db()
    assert target.status == "failed" and target.last_error_message == "Reconnect your Instagram account, then retry this post."
    assert SocialAccount.objects.get(pk=target.account_id).status == "needs_reauth"
    assert target.account.access_token not in target.last_error_message


def test_first_comment_on_instagram_is_looked_up_before_a_retry(make_target, mocked_platforms, sent):
    target = make_target("instagram", media=[("https://cdn.example.com/a.jpg", "image")], first_comment="Link in bio!")
    mock_happy_path(mocked_platforms)
    comments = f"{GRAPH}/{MEDIA_ID}/comments"
    mocked_platforms.post(comments, status=503, json={"error": {"message": "Service temporarily unavailable", "code": 2}})
    mocked_platforms.get(comments, json=fixture("instagram/publishing_comments.json"))

    with pytest.raises(TransientError):
        publish(target.pk)
    publish(target.pk)

    assert len(calls_to(mocked_platforms, "POST", comments)) == 1
    target = PostTarget.objects.get(pk=target.pk)
    assert (target.status, target.first_comment_status, target.first_comment_id) == ("published", "posted", "17858893269000001")


def test_media_not_ready_on_publish_waits_and_polls_again(make_target, mocked_platforms, sent, worker):
    target = make_target("instagram", media=[("https://cdn.example.com/a.jpg", "image")])
    mock_happy_path(mocked_platforms)
    mocked_platforms.replace("POST", PUBLISH, status=400, json=fixture("instagram/publishing_error_not_ready.json"))
    mocked_platforms.add("POST", PUBLISH, json=fixture("instagram/publishing_media_publish.json"))

    publish(target.pk)

    target.refresh_from_db()
    assert target.status == "publishing" and target.commit_started_at is None and sent == [(target.pk, 20_000)]
    worker()
    assert len(calls_to(mocked_platforms, "POST", PUBLISH)) == 2
    assert PostTarget.objects.get(pk=target.pk).status == "published"


def test_a_worker_killed_during_media_publish_is_reconciled_on_redelivery(make_target, mocked_platforms, sent):
    from dramatiq.middleware.time_limit import TimeLimitExceeded

    def worker_dies(request):
        raise TimeLimitExceeded()

    target = make_target("instagram", media=[("https://cdn.example.com/a.jpg", "image")])
    mocked_platforms.post(MEDIA, json={"id": CONTAINER})
    mocked_platforms.get(status_url(), json=fixture("instagram/publishing_status_finished.json"))
    mocked_platforms.get(status_url(), json=fixture("instagram/publishing_status_published.json"))
    mocked_platforms.get(LIMIT, json=fixture("instagram/publishing_limit.json"))
    mocked_platforms.add_callback("POST", PUBLISH, callback=worker_dies)
    mocked_platforms.get(MEDIA, json={"data": []})  # the feed does not show it yet

    with pytest.raises(TimeLimitExceeded):
        publish(target.pk)
    publish(target.pk)

    assert len(calls_to(mocked_platforms, "POST", PUBLISH)) == 1
    target.refresh_from_db()
    assert target.status == "published" and target.platform_post_id == ""  # live, id unknown: never re-published


def test_a_permanent_error_reading_the_container_after_a_commit_timeout_is_unconfirmed(make_target, mocked_platforms,
                                                                                       sent, retry):
    target = make_target("instagram", media=[("https://cdn.example.com/a.jpg", "image")])
    mocked_platforms.post(MEDIA, json={"id": CONTAINER})
    mocked_platforms.get(status_url(), json=fixture("instagram/publishing_status_finished.json"))
    mocked_platforms.get(LIMIT, json=fixture("instagram/publishing_limit.json"))
    mocked_platforms.post(PUBLISH, body=requests.exceptions.ReadTimeout())
    with pytest.raises(TransientError):
        publish(target.pk)
    mocked_platforms.replace("GET", status_url(), status=400, json={"error": {
        "message": "Unsupported get request.", "type": "GraphMethodException", "code": 100, "fbtrace_id": "T1"}})

    publish(target.pk)

    target.refresh_from_db()
    assert target.status == "unconfirmed" and target.container_ids == {"parent": CONTAINER}
    assert target.last_error_message.endswith("so it is not sent again: check the account before posting it again.")
    assert retry(target.post) == []
    assert len(calls_to(mocked_platforms, "POST", PUBLISH)) == 1


def test_the_publishing_limit_never_shortens_a_longer_block_recorded_meanwhile(make_target, mocked_platforms, sent):
    target = make_target("instagram", media=[("https://cdn.example.com/a.jpg", "image")])
    mocked_platforms.post(MEDIA, json={"id": CONTAINER})
    mocked_platforms.get(status_url(), json=fixture("instagram/publishing_status_finished.json"))
    longer = timezone.now() + timedelta(hours=24)

    def another_worker_blocked_it_for_a_day(request):
        SocialAccount.objects.filter(pk=target.account_id).update(blocked_until=longer)
        return 200, {}, json.dumps(fixture("instagram/publishing_limit_reached.json"))

    mocked_platforms.add_callback("GET", LIMIT, callback=another_worker_blocked_it_for_a_day)

    publish(target.pk)  # the quota check blocks for 1 h: the recorded 24 h must stay

    assert SocialAccount.objects.get(pk=target.account_id).blocked_until == longer
    target.refresh_from_db()
    assert target.status == "queued" and target.last_error_message.startswith(("Waiting 1440 min: ", "Waiting 1441 min: "))
    [(target_id, delay)] = sent  # comes back when the real block ends, not after 1 h
    assert target_id == target.pk and 24 * 3600 * 1000 - 5_000 <= delay <= 24 * 3600 * 1000 + 2_000
    assert calls_to(mocked_platforms, "POST", PUBLISH) == []


def test_temporary_errors_before_the_commit_are_retried_a_bounded_number_of_times_then_fail(
        make_target, mocked_platforms, sent):
    from publishing.services.engine import MAX_TEMPORARY_FAILURES

    target = make_target("instagram", media=[("https://cdn.example.com/a.jpg", "image")])
    mocked_platforms.post(MEDIA, status=500, json=fixture("facebook/errors_2_service.json"))

    for attempt in range(1, MAX_TEMPORARY_FAILURES + 1):  # each run is one Dramatiq retry
        with pytest.raises(TransientError):
            publish(target.pk)
        target.refresh_from_db()
        assert (target.status, target.attempts) == ("publishing", attempt)
    publish(target.pk)  # the last allowed run: no exception, so Dramatiq stops here

    target.refresh_from_db()
    assert (target.status, target.attempts, target.last_error_code) == ("failed", 6, "meta:2")
    assert target.last_error_message == ("Instagram kept failing: Instagram had a temporary problem: "
                                         "An unexpected error has occurred. Please retry your request later.")
    assert len(calls_to(mocked_platforms, "POST", MEDIA)) == MAX_TEMPORARY_FAILURES + 1 == 6
    assert calls_to(mocked_platforms, "POST", PUBLISH) == [] and sent == []
    publish(target.pk)  # a stray message after the end asks nothing
    assert len(mocked_platforms.calls) == 6
