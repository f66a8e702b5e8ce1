"""Facebook Page publishing: every content type, timeouts at each step, reconcile, errors."""

import json
from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from dramatiq.middleware.time_limit import TimeLimitExceeded

from publishing.actors import publish
from publishing.models import PostTarget
from social.models import SocialAccount
from unipulse.platform_errors import TransientError

from ..conftest import GRAPH, PAGE_ID, calls_to, fixture, form

pytestmark = pytest.mark.django_db

FEED = f"{GRAPH}/{PAGE_ID}/feed"
PHOTOS = f"{GRAPH}/{PAGE_ID}/photos"
VIDEOS = f"{GRAPH}/{PAGE_ID}/videos"
POSTS = f"{GRAPH}/{PAGE_ID}/posts"
POST_ID = "104512345678901_122098765432109876"


def mock_permalink(rsps, post_id=POST_ID):
    rsps.get(f"{GRAPH}/{post_id}", json=fixture("facebook/publishing_permalink.json"))


def test_text_and_link_post_goes_to_the_feed_with_token_in_the_body(make_target, mocked_platforms, sent):
    target = make_target(link="https://example.com/launch")
    mocked_platforms.post(FEED, json=fixture("facebook/publishing_feed.json"))
    mock_permalink(mocked_platforms)

    publish(target.pk)

    [call] = calls_to(mocked_platforms, "POST", FEED)
    sent_form = form(call)
    assert sent_form["message"] == "Hello from UniPulse"
    assert sent_form["link"] == "https://example.com/launch"
    assert sent_form["published"] == "true"
    assert sent_form["access_token"] == target.account.access_token and "appsecret_proof" in sent_form
    assert "access_token" not in call.request.url
    target.refresh_from_db()
    assert target.status == "published" and target.step == "done"
    assert target.platform_post_id == POST_ID
    assert target.permalink == "https://www.facebook.com/104512345678901/posts/122098765432109876"
    assert target.published_at is not None and target.lease_until is None
    assert sent == []


def test_single_photo_is_published_with_its_caption(make_target, mocked_platforms, sent):
    target = make_target(media=[("https://cdn.example.com/a.jpg", "image")])
    mocked_platforms.post(PHOTOS, json=fixture("facebook/publishing_photo.json"))
    mock_permalink(mocked_platforms, "104512345678901_122098765432110002")

    publish(target.pk)

    [call] = calls_to(mocked_platforms, "POST", PHOTOS)
    assert form(call)["url"] == "https://cdn.example.com/a.jpg"
    assert form(call)["caption"] == "Hello from UniPulse" and form(call)["published"] == "true"
    target.refresh_from_db()
    assert (target.status, target.platform_post_id) == ("published", "104512345678901_122098765432110002")


def test_several_photos_are_uploaded_unpublished_then_attached_to_one_feed_post(make_target, mocked_platforms, sent):
    target = make_target(media=[("https://cdn.example.com/a.jpg", "image"), ("https://cdn.example.com/b.jpg", "image")])
    mocked_platforms.post(PHOTOS, json={"id": "photo-1"})
    mocked_platforms.post(PHOTOS, json={"id": "photo-2"})
    mocked_platforms.post(FEED, json=fixture("facebook/publishing_feed.json"))
    mock_permalink(mocked_platforms)

    publish(target.pk)

    uploads = calls_to(mocked_platforms, "POST", PHOTOS)
    assert [form(c)["url"] for c in uploads] == ["https://cdn.example.com/a.jpg", "https://cdn.example.com/b.jpg"]
    assert all(form(c)["published"] == "false" for c in uploads)
    [feed] = calls_to(mocked_platforms, "POST", FEED)
    assert json.loads(form(feed)["attached_media"]) == [{"media_fbid": "photo-1"}, {"media_fbid": "photo-2"}]
    target.refresh_from_db()
    assert target.status == "published" and target.container_ids == {"photos": ["photo-1", "photo-2"]}


def test_video_is_published_from_its_url(make_target, mocked_platforms, sent):
    target = make_target(media=[("https://cdn.example.com/v.mp4", "video")])
    mocked_platforms.post(VIDEOS, json=fixture("facebook/publishing_video.json"))
    mock_permalink(mocked_platforms, "1234567890123456")

    publish(target.pk)

    [call] = calls_to(mocked_platforms, "POST", VIDEOS)
    assert form(call)["file_url"] == "https://cdn.example.com/v.mp4"
    assert form(call)["description"] == "Hello from UniPulse"
    target.refresh_from_db()
    assert (target.status, target.platform_post_id) == ("published", "1234567890123456")


def test_timeout_on_second_photo_upload_resumes_with_the_saved_first_photo(make_target, mocked_platforms, sent):
    target = make_target(media=[("https://cdn.example.com/a.jpg", "image"), ("https://cdn.example.com/b.jpg", "image")])
    mocked_platforms.post(PHOTOS, json={"id": "photo-1"})
    mocked_platforms.post(PHOTOS, body=requests.exceptions.ReadTimeout())
    mocked_platforms.post(PHOTOS, json={"id": "photo-2"})
    mocked_platforms.post(FEED, json=fixture("facebook/publishing_feed.json"))
    mock_permalink(mocked_platforms)

    with pytest.raises(TransientError):
        publish(target.pk)
    target.refresh_from_db()
    assert target.container_ids == {"photos": ["photo-1"]} and target.attempts == 1 and target.status == "publishing"
    publish(target.pk)  # Dramatiq's retry

    assert [form(c)["url"] for c in calls_to(mocked_platforms, "POST", PHOTOS)] == [
        "https://cdn.example.com/a.jpg", "https://cdn.example.com/b.jpg", "https://cdn.example.com/b.jpg"]
    assert len(calls_to(mocked_platforms, "POST", FEED)) == 1
    target.refresh_from_db()
    assert target.status == "published"


def test_timeout_on_the_commit_is_reconciled_with_the_pages_recent_posts_and_never_reposted(
        make_target, mocked_platforms, sent):
    target = make_target()
    mocked_platforms.post(FEED, body=requests.exceptions.ReadTimeout())
    recent = fixture("facebook/publishing_recent_posts.json")
    recent["data"][0]["created_time"] = timezone.now().strftime("%Y-%m-%dT%H:%M:%S+0000")
    mocked_platforms.get(POSTS, json=recent)

    with pytest.raises(TransientError):
        publish(target.pk)
    target.refresh_from_db()
    assert target.commit_started_at is not None and target.status == "publishing"
    publish(target.pk)

    assert len(calls_to(mocked_platforms, "POST", FEED)) == 1
    target.refresh_from_db()
    assert target.status == "published" and target.platform_post_id == POST_ID
    assert target.permalink == "https://www.facebook.com/104512345678901/posts/122098765432109876"


def mock_commit_502_then_ok(rsps):
    rsps.post(FEED, status=502, json={"error": {"message": "Service unavailable", "code": 2, "is_transient": True}})
    rsps.post(FEED, json=fixture("facebook/publishing_feed.json"))
    mock_permalink(rsps)


def commit_failed_and_page_without_it(make_target, rsps, settings):
    """A target whose /feed answered 502 (the job retries), on a Page whose recent posts lack it (for now)."""
    settings.PUBLISH_RECONCILE_GRACE_SECONDS = 120
    target = make_target()
    mock_commit_502_then_ok(rsps)
    rsps.get(POSTS, json={"data": [fixture("facebook/publishing_recent_posts.json")["data"][1]]})
    with pytest.raises(TransientError):
        publish(target.pk)
    return target


def test_a_post_missing_from_the_page_within_the_grace_period_is_looked_for_again_not_reposted(
        make_target, mocked_platforms, sent, settings):
    target = commit_failed_and_page_without_it(make_target, mocked_platforms, settings)
    publish(target.pk)  # Dramatiq's retry, seconds later: the post is not listed (yet)

    assert len(calls_to(mocked_platforms, "GET", POSTS)) == 1
    assert len(calls_to(mocked_platforms, "POST", FEED)) == 1  # absence this early proves nothing
    target.refresh_from_db()
    assert target.status == "publishing" and target.commit_started_at is not None
    [(target_id, delay)] = sent  # come back when the grace period is over; no worker sleeps
    assert target_id == target.pk and 119_000 <= delay <= 121_000

    # Meanwhile the interrupted request completed at Facebook: the next look finds it.
    recent = fixture("facebook/publishing_recent_posts.json")
    recent["data"][0]["created_time"] = timezone.now().strftime("%Y-%m-%dT%H:%M:%S+0000")
    mocked_platforms.replace("GET", POSTS, json=recent)
    PostTarget.objects.filter(pk=target.pk).update(commit_started_at=target.commit_started_at - timedelta(seconds=121))
    publish(target.pk)

    assert len(calls_to(mocked_platforms, "POST", FEED)) == 1
    target.refresh_from_db()
    assert (target.status, target.platform_post_id) == ("published", POST_ID)


def test_a_post_still_missing_from_the_page_after_the_grace_period_is_published_again(
        make_target, mocked_platforms, sent, settings):
    target = commit_failed_and_page_without_it(make_target, mocked_platforms, settings)
    target.refresh_from_db()
    PostTarget.objects.filter(pk=target.pk).update(commit_started_at=target.commit_started_at - timedelta(seconds=121))
    publish(target.pk)

    assert len(calls_to(mocked_platforms, "GET", POSTS)) == 1  # asked before publishing again
    assert len(calls_to(mocked_platforms, "POST", FEED)) == 2
    assert sent == []
    target.refresh_from_db()
    assert (target.status, target.platform_post_id) == ("published", POST_ID)


def test_a_killed_worker_after_the_commit_left_publishes_once_on_redelivery(make_target, mocked_platforms, sent):
    target = make_target()
    def worker_dies(request):  # the worker is killed while the request is in flight
        raise TimeLimitExceeded()

    mocked_platforms.add_callback("POST", FEED, callback=worker_dies)
    recent = fixture("facebook/publishing_recent_posts.json")
    recent["data"][0]["created_time"] = timezone.now().strftime("%Y-%m-%dT%H:%M:%S+0000")
    mocked_platforms.get(POSTS, json=recent)

    with pytest.raises(TimeLimitExceeded):
        publish(target.pk)
    publish(target.pk)  # the broker redelivers the unacknowledged message

    assert len(calls_to(mocked_platforms, "POST", FEED)) == 1
    target.refresh_from_db()
    assert (target.status, target.platform_post_id) == ("published", POST_ID)


def test_a_redelivered_message_waits_for_the_lease_of_a_hard_killed_worker(make_target, mocked_platforms, sent):
    target = make_target(status="publishing")
    PostTarget.objects.filter(pk=target.pk).update(lease_until=timezone.now() + timedelta(minutes=5),
                                                   commit_started_at=timezone.now())

    publish(target.pk)

    assert len(mocked_platforms.calls) == 0
    [(target_id, delay)] = sent
    assert target_id == target.pk and 299_000 <= delay <= 301_000


def test_video_commit_timeout_ends_unconfirmed_when_the_page_does_not_show_it(make_target, mocked_platforms, sent):
    target = make_target(media=[("https://cdn.example.com/v.mp4", "video")])
    mocked_platforms.post(VIDEOS, body=requests.exceptions.ConnectTimeout())
    mocked_platforms.get(POSTS, json={"data": []})

    with pytest.raises(TransientError):
        publish(target.pk)
    publish(target.pk)

    assert len(calls_to(mocked_platforms, "POST", VIDEOS)) == 1
    target.refresh_from_db()
    assert target.status == "unconfirmed"
    assert "check the Page" in target.last_error_message


def test_error_190_fails_the_target_with_reconnect_and_marks_the_account(make_target, mocked_platforms, sent, caplog):
    target = make_target()
    mocked_platforms.post(FEED, status=400, json=fixture("facebook/publishing_error_190.json"))

    publish(target.pk)

    target.refresh_from_db()
    assert target.status == "failed"
    assert target.last_error_message == "Reconnect your Facebook account, then retry this post."
    assert target.last_error_code == "meta:190/460"
    assert target.commit_started_at is None
    assert SocialAccount.objects.get(pk=target.account_id).status == "needs_reauth"
    assert sent == []
    assert "meta:190/460" in caplog.text and target.account.access_token not in caplog.text


def test_rate_limit_on_the_commit_blocks_the_account_and_waits_without_looping(make_target, mocked_platforms, sent):
    target = make_target()
    mocked_platforms.post(FEED, status=400, json=fixture("facebook/publishing_error_rate_limit.json"))

    publish(target.pk)

    target.refresh_from_db()
    account = SocialAccount.objects.get(pk=target.account_id)
    assert target.status == "queued" and target.commit_started_at is None and target.attempts == 0
    assert target.last_error_message.startswith("Waiting 10 min: ")  # the 600 s it waits, rounded up
    assert account.blocked_until > timezone.now() + timedelta(minutes=9)
    [(target_id, delay)] = sent
    assert target_id == target.pk and delay == 600_000
    sent.clear()

    publish(target.pk)  # early redelivery: no call while blocked

    assert len(calls_to(mocked_platforms, "POST", FEED)) == 1
    assert len(sent) == 1 and sent[0][1] > 590_000


def test_duplicate_post_fails_with_the_platforms_message(make_target, mocked_platforms, sent):
    target = make_target()
    mocked_platforms.post(FEED, status=400, json=fixture("facebook/publishing_error_duplicate.json"))

    publish(target.pk)

    target.refresh_from_db()
    assert target.status == "failed" and target.last_error_code == "meta:506"
    assert "identical to the last one" in target.last_error_message


def test_permalink_failure_after_publishing_keeps_the_target_published(make_target, mocked_platforms, sent):
    target = make_target()
    mocked_platforms.post(FEED, json=fixture("facebook/publishing_feed.json"))
    mocked_platforms.get(f"{GRAPH}/{POST_ID}", status=500, json={"error": {"message": "boom", "code": 1}})

    publish(target.pk)

    target.refresh_from_db()
    assert (target.status, target.platform_post_id, target.permalink) == ("published", POST_ID, "")


def test_first_comment_is_posted_once_even_after_an_unclear_error(make_target, mocked_platforms, sent):
    target = make_target(first_comment="Link in bio!")
    mocked_platforms.post(FEED, json=fixture("facebook/publishing_feed.json"))
    mock_permalink(mocked_platforms)
    comments = f"{GRAPH}/{POST_ID}/comments"
    mocked_platforms.post(comments, body=requests.exceptions.ReadTimeout())
    mocked_platforms.get(comments, json={"data": [{"id": "c-1", "message": "Link in bio!", "from": {"id": PAGE_ID}}]})

    with pytest.raises(TransientError):
        publish(target.pk)
    target.refresh_from_db()
    assert target.status == "published" and target.first_comment_status == "unknown"
    publish(target.pk)

    assert len(calls_to(mocked_platforms, "POST", comments)) == 1
    assert len(calls_to(mocked_platforms, "POST", FEED)) == 1
    target.refresh_from_db()
    assert (target.first_comment_status, target.first_comment_id) == ("posted", "c-1")
    assert target.status == "published"


def test_first_comment_goes_out_after_the_post(make_target, mocked_platforms, sent):
    target = make_target(first_comment="Link in bio!")
    mocked_platforms.post(FEED, json=fixture("facebook/publishing_feed.json"))
    mock_permalink(mocked_platforms)
    mocked_platforms.post(f"{GRAPH}/{POST_ID}/comments", json=fixture("facebook/publishing_comment.json"))

    publish(target.pk)

    assert form(mocked_platforms.calls[-1])["message"] == "Link in bio!"
    target.refresh_from_db()
    assert (target.first_comment_status, target.first_comment_id) == ("posted", "122098765432109876_987654321098765")


def test_published_cancelled_and_failed_targets_ignore_stray_messages(make_target, mocked_platforms, sent):
    for status in ("published", "cancelled", "failed", "unconfirmed", "scheduled"):
        target = make_target(status=status, account=None) if status == "published" else make_target(
            status=status, account=SocialAccount.objects.first())
        publish(target.pk)
    assert len(mocked_platforms.calls) == 0 and sent == []


def test_without_link_preview_the_link_goes_in_the_message(make_target, mocked_platforms, sent):
    target = make_target(link="https://example.com/launch", options={"link_preview": False})
    mocked_platforms.post(FEED, json=fixture("facebook/publishing_feed.json"))
    mock_permalink(mocked_platforms)

    publish(target.pk)

    sent_form = form(calls_to(mocked_platforms, "POST", FEED)[0])
    assert sent_form["message"] == "Hello from UniPulse\n\nhttps://example.com/launch" and "link" not in sent_form


def test_first_comment_waits_for_its_delay(make_target, mocked_platforms, sent):
    target = make_target(first_comment="Later!", options={"first_comment_delay_seconds": 120})
    mocked_platforms.post(FEED, json=fixture("facebook/publishing_feed.json"))
    mock_permalink(mocked_platforms)
    comments = f"{GRAPH}/{POST_ID}/comments"
    mocked_platforms.post(comments, json=fixture("facebook/publishing_comment.json"))

    publish(target.pk)

    assert calls_to(mocked_platforms, "POST", comments) == []
    [(target_id, delay)] = sent
    assert target_id == target.pk and 118_000 <= delay <= 120_000
    PostTarget.objects.filter(pk=target.pk).update(published_at=timezone.now() - timedelta(minutes=3))
    publish(target.pk)
    assert len(calls_to(mocked_platforms, "POST", comments)) == 1
    assert PostTarget.objects.get(pk=target.pk).first_comment_status == "posted"


def test_an_unexpected_error_is_retried_then_fails_the_target_instead_of_hanging(make_target, mocked_platforms, sent,
                                                                                 monkeypatch, settings):
    from publishing.platforms import facebook as service

    settings.PUBLISH_RECONCILE_GRACE_SECONDS = 0  # each retry may conclude "not on the Page" at once
    target = make_target()
    mocked_platforms.get(POSTS, json={"data": []})
    monkeypatch.setattr(service.client, "publish_feed_post", lambda *a, **k: (_ for _ in ()).throw(KeyError("id")))
    for _ in range(5):
        with pytest.raises(KeyError):
            publish(target.pk)
        assert PostTarget.objects.get(pk=target.pk).status == "publishing"
    with pytest.raises(KeyError):
        publish(target.pk)

    target.refresh_from_db()
    assert target.status == "unconfirmed" and target.attempts == 6  # the failing call was the commit


def test_an_account_that_needs_reconnecting_fails_without_calling_the_platform(make_target, mocked_platforms, sent,
                                                                               account_factory):
    account = account_factory("facebook", external_id=PAGE_ID, status="needs_reauth")
    target = make_target(account=account)

    publish(target.pk)

    target.refresh_from_db()
    assert (target.status, target.last_error_code) == ("failed", "account_inactive")
    assert target.last_error_message == "Reconnect your Facebook account, then retry this post."
    assert len(mocked_platforms.calls) == 0


@pytest.mark.parametrize("fixture_name, status", [("facebook/errors_10_permission.json", 403),
                                                  ("facebook/publishing_error_190.json", 400)])
def test_a_permanent_error_while_reconciling_a_commit_is_unconfirmed_and_never_reposted(
        fixture_name, status, make_target, mocked_platforms, sent, retry):
    target = make_target()
    mocked_platforms.post(FEED, body=requests.exceptions.ReadTimeout())
    mocked_platforms.get(POSTS, status=status, json=fixture(fixture_name))

    with pytest.raises(TransientError):
        publish(target.pk)
    publish(target.pk)  # the reconcile read is refused

    target.refresh_from_db()
    assert target.status == "unconfirmed" and target.commit_started_at is not None
    assert "not sent again" in target.last_error_message and "check the account" in target.last_error_message.lower()
    assert retry(target.post) == []  # nothing to ask: the target is left for the user to check
    publish(target.pk)  # a stray message
    assert len(calls_to(mocked_platforms, "POST", FEED)) == 1
    assert len(calls_to(mocked_platforms, "GET", POSTS)) == 1


def test_a_rate_limit_on_the_commit_never_shortens_a_longer_block_recorded_meanwhile(make_target, mocked_platforms,
                                                                                    sent):
    target = make_target()
    longer = timezone.now() + timedelta(hours=3)

    def blocked_for_longer_while_in_flight(request):
        SocialAccount.objects.filter(pk=target.account_id).update(blocked_until=longer)
        return 400, {}, json.dumps(fixture("facebook/publishing_error_rate_limit.json"))

    mocked_platforms.add_callback("POST", FEED, callback=blocked_for_longer_while_in_flight)

    publish(target.pk)  # the commit's rate limit asks for 10 min

    assert SocialAccount.objects.get(pk=target.account_id).blocked_until == longer
    target.refresh_from_db()
    assert target.status == "queued" and target.commit_started_at is None
    sent.clear()
    publish(target.pk)  # the re-sent message, 10 min later: still blocked for hours, so no call
    assert len(calls_to(mocked_platforms, "POST", FEED)) == 1
    [(_, delay)] = sent
    assert delay > 2 * 3600 * 1000
