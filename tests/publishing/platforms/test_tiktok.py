"""TikTok Direct Post: creator_info, video by URL, photos, status polling, FAILED reasons, webhooks."""

from datetime import timedelta

import pytest
import requests
import responses
from django.utils import timezone

from publishing.actors import publish
from publishing.models import PostTarget
from publishing.platforms.tiktok import apply_publish_event
from social.models import SocialAccount
from unipulse.platform_errors import TransientError

from ..conftest import TIKTOK, body, calls_to, fixture

pytestmark = pytest.mark.django_db

CREATOR = f"{TIKTOK}/creator_info/query/"
VIDEO_INIT = f"{TIKTOK}/video/init/"
PHOTO_INIT = f"{TIKTOK}/content/init/"
STATUS = f"{TIKTOK}/status/fetch/"
PUBLISH_ID = "v_pub_url~v2-1.7301234567890123456"
OPTIONS = {"privacy_level": "PUBLIC_TO_EVERYONE", "disable_duet": True, "video_cover_timestamp_ms": 1500}
VIDEO_LIST = "https://open.tiktokapis.com/v2/video/list/"
OAUTH_TOKEN = "https://open.tiktokapis.com/v2/oauth/token/"
LIST_WITHOUT_IT = {"data": {"videos": [{"id": "7000000000000000001", "title": "Someone else's words",
                                         "create_time": 1700000000}], "cursor": 0, "has_more": False},
                   "error": {"code": "ok", "message": "", "log_id": "x"}}


def video_target(make_target, **kw):
    return make_target("tiktok", media=[("https://media.example.com/v.mp4", "video")], options=dict(OPTIONS), **kw)


def test_video_is_pulled_from_url_then_polled_until_complete_with_the_post_id(make_target, mocked_platforms, sent, worker):
    target = video_target(make_target)
    mocked_platforms.post(CREATOR, json=fixture("tiktok/publishing_creator_info.json"))
    mocked_platforms.post(VIDEO_INIT, json=fixture("tiktok/publishing_video_init.json"))
    mocked_platforms.post(STATUS, json=fixture("tiktok/publishing_status_processing.json"))
    mocked_platforms.post(STATUS, json=fixture("tiktok/publishing_status_complete.json"))

    publish(target.pk)

    target.refresh_from_db()
    assert (target.status, target.step, target.publish_id) == ("publishing", "committed", PUBLISH_ID)
    assert sent == [(target.pk, 20_000)]
    init = body(calls_to(mocked_platforms, "POST", VIDEO_INIT)[0])
    assert init["source_info"] == {"source": "PULL_FROM_URL", "video_url": "https://media.example.com/v.mp4"}
    assert init["post_info"]["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert init["post_info"]["title"] == "Hello from UniPulse"
    assert init["post_info"]["disable_duet"] is True and init["post_info"]["video_cover_timestamp_ms"] == 1500
    # Left unset: each interaction follows the creator's own setting (stitch is off in creator_info).
    assert (init["post_info"]["disable_comment"], init["post_info"]["disable_stitch"]) == (False, True)
    auth = calls_to(mocked_platforms, "POST", VIDEO_INIT)[0].request.headers["Authorization"]
    assert auth == f"Bearer {target.account.access_token}"
    worker()

    assert [body(c) for c in calls_to(mocked_platforms, "POST", STATUS)] == [{"publish_id": PUBLISH_ID}] * 2
    assert len(calls_to(mocked_platforms, "POST", VIDEO_INIT)) == 1
    target.refresh_from_db()
    assert (target.status, target.platform_post_id) == ("published", "7301234567890123456")


def test_photos_are_posted_with_content_init(make_target, mocked_platforms, sent, worker):
    target = make_target("tiktok", media=[("https://media.example.com/1.jpg", "image"),
                                          ("https://media.example.com/2.webp", "image")],
                         options={"privacy_level": "SELF_ONLY"}, text="Title line\nand more words")
    mocked_platforms.post(CREATOR, json=fixture("tiktok/publishing_creator_info.json"))
    mocked_platforms.post(PHOTO_INIT, json=fixture("tiktok/publishing_photo_init.json"))
    mocked_platforms.post(STATUS, json=fixture("tiktok/publishing_status_complete.json"))

    publish(target.pk)
    worker()

    init = body(calls_to(mocked_platforms, "POST", PHOTO_INIT)[0])
    assert (init["media_type"], init["post_mode"]) == ("PHOTO", "DIRECT_POST")
    assert init["source_info"] == {"source": "PULL_FROM_URL", "photo_cover_index": 0,
                                   "photo_images": ["https://media.example.com/1.jpg", "https://media.example.com/2.webp"]}
    assert init["post_info"]["title"] == "Title line"
    assert init["post_info"]["description"] == "Title line\nand more words"
    assert "disable_duet" not in init["post_info"]
    target.refresh_from_db()
    assert target.status == "published" and target.publish_id == "p_pub_url~v2.7301234567890999999"


def test_failed_publish_fails_the_target_with_tiktoks_reason(make_target, mocked_platforms, sent, worker):
    target = video_target(make_target)
    mocked_platforms.post(CREATOR, json=fixture("tiktok/publishing_creator_info.json"))
    mocked_platforms.post(VIDEO_INIT, json=fixture("tiktok/publishing_video_init.json"))
    mocked_platforms.post(STATUS, json=fixture("tiktok/publishing_status_failed.json"))

    publish(target.pk)
    worker()

    target.refresh_from_db()
    assert target.status == "failed" and target.last_error_code == "tiktok:video_pull_failed"
    assert target.last_error_message == "TikTok could not publish the post: video_pull_failed."


def test_timeout_on_init_ends_unconfirmed_and_never_inits_twice(make_target, mocked_platforms, sent, settings):
    settings.PUBLISH_MAX_POLLS = 0  # look in the video list once, then give up
    target = video_target(make_target)
    mocked_platforms.post(CREATOR, json=fixture("tiktok/publishing_creator_info.json"))
    mocked_platforms.post(VIDEO_LIST, json=LIST_WITHOUT_IT)
    mocked_platforms.post(VIDEO_INIT, body=requests.exceptions.ReadTimeout())

    with pytest.raises(TransientError):
        publish(target.pk)
    publish(target.pk)

    assert len(calls_to(mocked_platforms, "POST", VIDEO_INIT)) == 1
    target.refresh_from_db()
    assert target.status == "unconfirmed" and "check the profile" in target.last_error_message


@pytest.mark.parametrize("step", ["creator_info", "status"])
def test_a_timeout_at_a_read_step_is_retried_and_inits_once(step, make_target, mocked_platforms, sent, worker):
    target = video_target(make_target)
    if step == "creator_info":
        mocked_platforms.post(CREATOR, body=requests.exceptions.ConnectTimeout())
    mocked_platforms.post(CREATOR, json=fixture("tiktok/publishing_creator_info.json"))
    mocked_platforms.post(VIDEO_INIT, json=fixture("tiktok/publishing_video_init.json"))
    if step == "status":
        mocked_platforms.post(STATUS, body=requests.exceptions.ReadTimeout())
    mocked_platforms.post(STATUS, json=fixture("tiktok/publishing_status_complete.json"))

    if step == "creator_info":
        with pytest.raises(TransientError):
            publish(target.pk)
        publish(target.pk)
    else:
        publish(target.pk)
        with pytest.raises(TransientError):
            worker()
        publish(target.pk)  # Dramatiq's retry
    worker()

    assert len(calls_to(mocked_platforms, "POST", VIDEO_INIT)) == 1
    target.refresh_from_db()
    assert target.status == "published"


def test_spam_risk_on_init_blocks_the_account_and_the_target_waits(make_target, mocked_platforms, sent):
    target = video_target(make_target)
    mocked_platforms.post(CREATOR, json=fixture("tiktok/publishing_creator_info.json"))
    mocked_platforms.post(VIDEO_INIT, status=403, json=fixture("tiktok/publishing_error_spam_risk.json"))

    publish(target.pk)

    target.refresh_from_db()
    assert target.status == "queued" and target.commit_started_at is None
    assert "spam_risk_too_many_posts" in target.last_error_message
    assert SocialAccount.objects.get(pk=target.account_id).blocked_until > timezone.now() + timedelta(hours=23)
    assert len(sent) == 1 and sent[0][1] > 23 * 3600 * 1000


def test_an_unaudited_app_posting_to_a_public_account_fails_the_target_with_what_to_do(make_target, mocked_platforms,
                                                                                         sent):
    target = make_target("tiktok", media=[("https://media.example.com/v.mp4", "video")],
                         options={**OPTIONS, "privacy_level": "SELF_ONLY"})
    mocked_platforms.post(CREATOR, json=fixture("tiktok/publishing_creator_info.json"))
    mocked_platforms.post(VIDEO_INIT, status=403, json=fixture("tiktok/errors_unaudited_client.json"))

    publish(target.pk)

    target.refresh_from_db()
    assert target.status == "failed" and target.commit_started_at is None
    assert target.last_error_code == "tiktok:unaudited_client_can_only_post_to_private_accounts"
    assert target.last_error_message.startswith("TikTok accepts posts from this app only on private TikTok accounts")
    assert SocialAccount.objects.get(pk=target.account_id).blocked_until is None  # other posts are not held back
    assert sent == []  # not re-sent: waiting does not fix it


def test_rate_limit_requeues_without_counting_a_failure(make_target, mocked_platforms, sent):
    target = video_target(make_target)
    mocked_platforms.post(CREATOR, status=429, json=fixture("tiktok/publishing_error_rate_limit.json"),
                          headers={"Retry-After": "60"})

    publish(target.pk)

    target.refresh_from_db()
    assert target.status == "queued" and target.attempts == 0
    assert sent == [(target.pk, 60_000)]


def test_access_token_invalid_whose_refresh_is_refused_fails_with_reconnect(make_target, mocked_platforms, sent):
    target = video_target(make_target)
    mocked_platforms.post(CREATOR, status=401, json=fixture("tiktok/publishing_error_token.json"))
    mocked_platforms.post(OAUTH_TOKEN, status=400, json=fixture("tiktok/tokens_refresh_invalid_grant.json"))

    publish(target.pk)

    target.refresh_from_db()
    assert target.status == "failed" and target.last_error_message == "Reconnect your TikTok account, then retry this post."
    account = SocialAccount.objects.get(pk=target.account_id)
    assert account.status == "needs_reauth"
    assert account.status_reason == "Reconnect your TikTok account: TikTok no longer accepts its authorisation."
    assert len(calls_to(mocked_platforms, "POST", CREATOR)) == 1  # not sent again with the same token
    assert calls_to(mocked_platforms, "POST", VIDEO_INIT) == []


def test_access_token_invalid_on_the_commit_refreshes_and_sends_the_commit_once_more(make_target, mocked_platforms, sent):
    """TikTok refusing the token proves the init did nothing, so it is sent again with the new token."""
    target = video_target(make_target)
    old_token = target.account.access_token
    mocked_platforms.post(CREATOR, json=fixture("tiktok/publishing_creator_info.json"))
    mocked_platforms.post(VIDEO_INIT, status=401, json=fixture("tiktok/publishing_error_token.json"))
    mocked_platforms.post(VIDEO_INIT, json=fixture("tiktok/publishing_video_init.json"))
    mocked_platforms.post(OAUTH_TOKEN, json=fixture("tiktok/tokens_refresh_ok.json"))

    publish(target.pk)

    target.refresh_from_db()
    assert (target.status, target.step, target.publish_id) == ("publishing", "committed", PUBLISH_ID)
    inits = calls_to(mocked_platforms, "POST", VIDEO_INIT)
    assert [c.request.headers["Authorization"] for c in inits] == [f"Bearer {old_token}", "Bearer act.NEW-ROTATED-ACCESS-9f2"]
    assert body(inits[0]) == body(inits[1])  # the same commit, once more
    assert len(calls_to(mocked_platforms, "POST", OAUTH_TOKEN)) == 1
    account = SocialAccount.objects.get(pk=target.account_id)
    assert (account.status, account.refresh_token) == ("active", "rft.NEW-ROTATED-REFRESH-4c1")


def test_privacy_level_no_longer_offered_fails_before_posting(make_target, mocked_platforms, sent):
    target = video_target(make_target)
    mocked_platforms.post(CREATOR, json=fixture("tiktok/publishing_creator_info_unaudited.json"))

    publish(target.pk)

    target.refresh_from_db()
    assert target.status == "failed" and target.last_error_code == "tiktok:privacy_level"
    assert calls_to(mocked_platforms, "POST", VIDEO_INIT) == []


def test_publicly_available_webhook_stores_the_post_id(make_target, sent):
    target = video_target(make_target, status="publishing")
    PostTarget.objects.filter(pk=target.pk).update(publish_id=PUBLISH_ID, step="committed")

    assert apply_publish_event(PUBLISH_ID, "post.publish.complete") is True
    assert apply_publish_event(PUBLISH_ID, "post.publish.publicly_available", post_id="7301") is True

    target.refresh_from_db()
    assert (target.status, target.platform_post_id) == ("published", "7301")


def test_failed_webhook_fails_an_unfinished_target_with_its_reason(make_target, sent):
    target = video_target(make_target, status="unconfirmed")
    PostTarget.objects.filter(pk=target.pk).update(publish_id=PUBLISH_ID)

    assert apply_publish_event(PUBLISH_ID, "post.publish.failed", reason="spam_risk_text") is True

    target.refresh_from_db()
    assert target.status == "failed" and target.last_error_code == "tiktok:spam_risk_text"


def test_webhook_for_an_unknown_publish_id_matches_nothing(db):
    assert apply_publish_event("v_pub_url~unknown", "post.publish.complete") is False
    assert apply_publish_event("", "post.publish.complete") is False


UPLOAD_URL = "https://open-upload.tiktokapis.com/video/?upload_id=67890&upload_token=Xza123"


@pytest.fixture
def own_video(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.PUBLIC_BASE_URL = "https://app.example.com"
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / "clip.mp4").write_bytes(b"0123456789A")
    return "https://app.example.com/media/uploads/clip.mp4"


def test_our_own_uploaded_video_is_sent_by_file_upload(make_target, mocked_platforms, sent, worker, own_video):
    target = make_target("tiktok", media=[(own_video, "video")], options={"privacy_level": "SELF_ONLY"})
    mocked_platforms.post(CREATOR, json=fixture("tiktok/publishing_creator_info.json"))
    mocked_platforms.post(VIDEO_INIT, json=fixture("tiktok/publishing_video_init_file_upload.json"))
    mocked_platforms.put(UPLOAD_URL, status=201, body=b"")
    mocked_platforms.post(STATUS, json=fixture("tiktok/publishing_status_complete.json"))

    publish(target.pk)
    worker()

    init = body(calls_to(mocked_platforms, "POST", VIDEO_INIT)[0])
    assert init["source_info"] == {"source": "FILE_UPLOAD", "video_size": 11, "chunk_size": 11, "total_chunk_count": 1}
    [put] = [c for c in mocked_platforms.calls if c.request.method == "PUT"]
    assert put.request.url == UPLOAD_URL and put.request.body == b"0123456789A"
    assert put.request.headers["Content-Range"] == "bytes 0-10/11"
    assert put.request.headers["Content-Type"] == "video/mp4"
    target.refresh_from_db()
    assert (target.status, target.publish_id) == ("published", "v_pub_file~v2-1.7301234567890555555")


def test_file_upload_resumes_after_a_timeout_on_the_last_chunk(make_target, mocked_platforms, sent, worker, own_video,
                                                               monkeypatch):
    from publishing.platforms import tiktok as service

    monkeypatch.setattr(service, "SINGLE_CHUNK_MAX", 8)
    monkeypatch.setattr(service, "CHUNK_SIZE", 4)
    target = make_target("tiktok", media=[(own_video, "video")], options={"privacy_level": "SELF_ONLY"})
    mocked_platforms.post(CREATOR, json=fixture("tiktok/publishing_creator_info.json"))
    mocked_platforms.post(VIDEO_INIT, json=fixture("tiktok/publishing_video_init_file_upload.json"))
    mocked_platforms.put(UPLOAD_URL, status=206, body=b"")
    mocked_platforms.put(UPLOAD_URL, body=requests.exceptions.ReadTimeout())
    mocked_platforms.put(UPLOAD_URL, status=201, body=b"")
    mocked_platforms.post(STATUS, json=fixture("tiktok/publishing_status_uploading.json"))
    mocked_platforms.post(STATUS, json=fixture("tiktok/publishing_status_complete.json"))

    with pytest.raises(TransientError):
        publish(target.pk)
    target.refresh_from_db()
    assert target.container_ids["chunks_done"] == 1 and target.commit_started_at is not None
    publish(target.pk)
    worker()

    ranges = [c.request.headers["Content-Range"] for c in mocked_platforms.calls if c.request.method == "PUT"]
    assert ranges == ["bytes 0-3/11", "bytes 4-10/11", "bytes 4-10/11"]
    assert len(calls_to(mocked_platforms, "POST", VIDEO_INIT)) == 1
    target.refresh_from_db()
    assert target.status == "published"


def test_rate_limit_while_polling_after_init_keeps_the_target_publishing(make_target, mocked_platforms, sent):
    target = video_target(make_target, status="publishing")
    PostTarget.objects.filter(pk=target.pk).update(publish_id=PUBLISH_ID, step="committed", commit_started_at=timezone.now())
    mocked_platforms.post(STATUS, status=429, json=fixture("tiktok/publishing_error_rate_limit.json"),
                          headers={"Retry-After": "30"})

    publish(target.pk)

    target.refresh_from_db()
    assert target.status == "publishing" and sent == [(target.pk, 30_000)]


def test_a_worker_killed_during_init_ends_unconfirmed_without_a_second_init(make_target, mocked_platforms, sent, settings):
    from dramatiq.middleware.time_limit import TimeLimitExceeded

    settings.PUBLISH_MAX_POLLS = 0
    mocked_platforms.post(VIDEO_LIST, json=LIST_WITHOUT_IT)

    def worker_dies(request):
        raise TimeLimitExceeded()

    target = video_target(make_target)
    mocked_platforms.post(CREATOR, json=fixture("tiktok/publishing_creator_info.json"))
    mocked_platforms.add_callback("POST", VIDEO_INIT, callback=worker_dies)

    with pytest.raises(TimeLimitExceeded):
        publish(target.pk)
    publish(target.pk)

    assert len(calls_to(mocked_platforms, "POST", VIDEO_INIT)) == 1
    assert PostTarget.objects.get(pk=target.pk).status == "unconfirmed"


def test_a_poll_without_post_id_keeps_the_id_a_webhook_already_stored(make_target, mocked_platforms, sent,
                                                                     monkeypatch):
    from social.clients import tiktok as client

    target = video_target(make_target, status="publishing")
    PostTarget.objects.filter(pk=target.pk).update(publish_id=PUBLISH_ID, step="committed")
    complete = fixture("tiktok/publishing_status_complete.json")
    complete["data"]["publicaly_available_post_id"] = []
    mocked_platforms.post(STATUS, json=complete)
    real_fetch = client.fetch_publish_status

    def webhook_arrives_meanwhile(*args, **kwargs):
        apply_publish_event(PUBLISH_ID, "post.publish.publicly_available", post_id="7309")
        return real_fetch(*args, **kwargs)

    monkeypatch.setattr(client, "fetch_publish_status", webhook_arrives_meanwhile)

    publish(target.pk)

    target.refresh_from_db()
    assert (target.status, target.platform_post_id) == ("published", "7309")


def test_a_lost_init_is_found_in_the_public_video_list_by_caption_and_time(make_target, mocked_platforms, sent):
    target = video_target(make_target, text="Launch day #unipulse")
    mocked_platforms.post(CREATOR, json=fixture("tiktok/publishing_creator_info.json"))
    mocked_platforms.post(VIDEO_INIT, body=requests.exceptions.ReadTimeout())
    with pytest.raises(TransientError):
        publish(target.pk)
    # Moderation has not finished: not listed yet, so the target waits and looks again.
    mocked_platforms.post(VIDEO_LIST, json=LIST_WITHOUT_IT)
    publish(target.pk)
    target.refresh_from_db()
    assert target.status == "publishing" and target.polls == 1
    listed = {"data": {"videos": [{"id": "7301234567890123999", "title": "Launch day #unipulse",
                                   "create_time": int(timezone.now().timestamp())}], "cursor": 0, "has_more": False},
              "error": {"code": "ok", "message": "", "log_id": "y"}}
    mocked_platforms.replace(responses.POST, VIDEO_LIST, json=listed)
    publish(target.pk)
    target.refresh_from_db()
    assert (target.status, target.platform_post_id) == ("published", "7301234567890123999")
    assert len(calls_to(mocked_platforms, "POST", VIDEO_INIT)) == 1  # never sent twice


def test_a_lost_private_init_ends_unconfirmed_at_once(make_target, mocked_platforms, sent):
    target = make_target("tiktok", media=[("https://media.example.com/v.mp4", "video")],
                         options={**OPTIONS, "privacy_level": "SELF_ONLY"})
    mocked_platforms.post(CREATOR, json=fixture("tiktok/publishing_creator_info.json"))
    mocked_platforms.post(VIDEO_INIT, body=requests.exceptions.ReadTimeout())
    with pytest.raises(TransientError):
        publish(target.pk)
    publish(target.pk)
    target.refresh_from_db()
    assert target.status == "unconfirmed" and "check the profile" in target.last_error_message
    assert calls_to(mocked_platforms, "POST", VIDEO_LIST) == []  # private videos are never listed


def test_a_401_on_the_status_poll_after_init_is_unconfirmed_and_no_retry_inits_again(make_target, mocked_platforms,
                                                                                     sent, worker, retry):
    target = video_target(make_target)
    mocked_platforms.post(CREATOR, json=fixture("tiktok/publishing_creator_info.json"))
    mocked_platforms.post(VIDEO_INIT, json=fixture("tiktok/publishing_video_init.json"))
    mocked_platforms.post(STATUS, status=401, json=fixture("tiktok/publishing_error_token.json"))
    # The refused token is renewed first; TikTok refusing the refresh too is what ends the grant.
    mocked_platforms.post(OAUTH_TOKEN, status=400, json=fixture("tiktok/tokens_refresh_invalid_grant.json"))

    publish(target.pk)
    worker()  # the status poll gets the 401

    target.refresh_from_db()
    assert target.status == "unconfirmed" and target.last_error_code == "unconfirmed"
    assert target.last_error_message == ("Reconnect your TikTok account, then retry: TikTok already has the post, "
                                         "and the retry only asks how it went.")
    assert (target.publish_id, target.step) == (PUBLISH_ID, "committed") and target.commit_started_at is not None
    account = SocialAccount.objects.get(pk=target.account_id)
    assert account.status == "needs_reauth"

    # A retry before reconnecting asks nothing and keeps every handle.
    assert retry(target.post) == [target.pk]
    worker()
    target.refresh_from_db()
    assert (target.status, target.publish_id, target.step) == ("unconfirmed", PUBLISH_ID, "committed")
    assert target.last_error_message == "Reconnect your TikTok account to learn whether the post went out."
    assert len(calls_to(mocked_platforms, "POST", STATUS)) == 1

    # Reconnected: the retry resumes polling the same publish_id; it never calls init again.
    SocialAccount.objects.filter(pk=account.pk).update(status="active")
    mocked_platforms.replace(responses.POST, STATUS, json=fixture("tiktok/publishing_status_complete.json"))
    assert retry(target.post) == [target.pk]
    worker()

    target.refresh_from_db()
    assert (target.status, target.platform_post_id) == ("published", "7301234567890123456")
    assert [body(c) for c in calls_to(mocked_platforms, "POST", STATUS)] == [{"publish_id": PUBLISH_ID}] * 2
    assert len(calls_to(mocked_platforms, "POST", VIDEO_INIT)) == 1
    assert len(calls_to(mocked_platforms, "POST", CREATOR)) == 1


def test_a_permanent_error_on_the_status_poll_after_init_is_unconfirmed_not_failed(make_target, mocked_platforms,
                                                                                   sent, worker, retry):
    target = video_target(make_target)
    mocked_platforms.post(CREATOR, json=fixture("tiktok/publishing_creator_info.json"))
    mocked_platforms.post(VIDEO_INIT, json=fixture("tiktok/publishing_video_init.json"))
    mocked_platforms.post(STATUS, status=401, json={"data": {}, "error": {
        "code": "scope_not_authorized", "message": "The user did not authorize the scope required.", "log_id": "z"}})

    publish(target.pk)
    worker()

    target.refresh_from_db()
    assert target.status == "unconfirmed" and target.publish_id == PUBLISH_ID
    assert target.last_error_message.endswith(
        "The post may already be on TikTok, so it is not sent again: check the account before posting it again.")
    assert retry(target.post) == [target.pk]  # resumable: polls again, never inits
    mocked_platforms.replace(responses.POST, STATUS, json=fixture("tiktok/publishing_status_failed.json"))
    worker()
    target.refresh_from_db()
    # TikTok itself says it failed: now, and only now, a retry may post it from scratch.
    assert target.status == "failed" and target.last_error_code == "tiktok:video_pull_failed"
    assert len(calls_to(mocked_platforms, "POST", VIDEO_INIT)) == 1


def test_a_reauth_error_before_the_commit_still_fails_and_a_retry_starts_over(make_target, mocked_platforms, sent,
                                                                              worker, retry):
    target = video_target(make_target)
    mocked_platforms.post(CREATOR, status=401, json=fixture("tiktok/publishing_error_token.json"))
    mocked_platforms.post(OAUTH_TOKEN, status=400, json=fixture("tiktok/tokens_refresh_invalid_grant.json"))
    publish(target.pk)
    target.refresh_from_db()
    assert target.status == "failed" and target.commit_started_at is None

    SocialAccount.objects.filter(pk=target.account_id).update(status="active")
    mocked_platforms.replace(responses.POST, CREATOR, json=fixture("tiktok/publishing_creator_info.json"))
    mocked_platforms.post(VIDEO_INIT, json=fixture("tiktok/publishing_video_init.json"))
    mocked_platforms.post(STATUS, json=fixture("tiktok/publishing_status_complete.json"))
    assert retry(target.post) == [target.pk]
    worker()
    target.refresh_from_db()
    assert target.status == "published" and len(calls_to(mocked_platforms, "POST", VIDEO_INIT)) == 1


def complete_without_post_id() -> dict:
    answer = fixture("tiktok/publishing_status_complete.json")
    answer["data"]["publicaly_available_post_id"] = []  # sic: TikTok's spelling
    return answer


def committed_target(make_target, **options):
    target = make_target("tiktok", media=[("https://media.example.com/v.mp4", "video")],
                         options={**OPTIONS, **options}, status="publishing")
    PostTarget.objects.filter(pk=target.pk).update(publish_id=PUBLISH_ID, step="committed", polls=3,
                                                   commit_started_at=timezone.now())
    return target


def test_complete_without_a_post_id_is_published_and_checked_again_until_tiktok_names_it(
        make_target, mocked_platforms, sent, worker, django_capture_on_commit_callbacks):
    target = committed_target(make_target)
    mocked_platforms.post(STATUS, json=complete_without_post_id())
    mocked_platforms.post(STATUS, json=complete_without_post_id())
    mocked_platforms.post(STATUS, json=fixture("tiktok/publishing_status_complete.json"))

    publish(target.pk)

    target.refresh_from_db()
    assert (target.status, target.platform_post_id, target.polls) == ("published", "", 0)  # it is live
    assert sent == [(target.pk, 20_000)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        worker()

    target.refresh_from_db()
    assert (target.status, target.platform_post_id) == ("published", "7301234567890123456")
    assert len(calls_to(mocked_platforms, "POST", STATUS)) == 3 and sent == []  # found: no more checks
    assert len(callbacks) == 1  # analytics hears of the post once, when its id is known


def test_follow_up_checks_for_the_post_id_are_bounded_and_back_off(make_target, mocked_platforms, sent, settings):
    from publishing.platforms.tiktok import POST_ID_CHECKS

    target = committed_target(make_target)
    mocked_platforms.post(STATUS, json=complete_without_post_id())

    delays = []
    publish(target.pk)
    while sent:
        target_id, delay = sent.pop(0)
        delays.append(delay)
        publish(target_id)

    assert delays == [settings.PUBLISH_POLL_DELAY_SECONDS * 1000 * 2 ** n for n in range(POST_ID_CHECKS)]
    assert len(calls_to(mocked_platforms, "POST", STATUS)) == 1 + POST_ID_CHECKS
    target.refresh_from_db()
    assert (target.status, target.platform_post_id, target.step) == ("published", "", "done")
    publish(target.pk)  # a stray message afterwards asks nothing
    assert len(calls_to(mocked_platforms, "POST", STATUS)) == 1 + POST_ID_CHECKS


def test_a_private_post_complete_without_an_id_is_never_asked_about_again(make_target, mocked_platforms, sent):
    target = committed_target(make_target, privacy_level="SELF_ONLY")
    mocked_platforms.post(STATUS, json=complete_without_post_id())

    publish(target.pk)
    publish(target.pk)  # a stray message

    target.refresh_from_db()
    assert (target.status, target.platform_post_id) == ("published", "")
    assert sent == [] and len(calls_to(mocked_platforms, "POST", STATUS)) == 1


@pytest.mark.parametrize("failure", [
    dict(status=500, json=fixture("tiktok/errors_internal_error.json")),
    dict(status=401, json=fixture("tiktok/publishing_error_token.json")),
])
def test_a_failed_follow_up_check_never_unpublishes_the_post(failure, make_target, mocked_platforms, sent):
    target = committed_target(make_target)
    mocked_platforms.post(STATUS, json=complete_without_post_id())
    publish(target.pk)
    mocked_platforms.replace(responses.POST, STATUS, **failure)
    # A refused token is renewed first; TikTok refusing that too is what revokes the grant.
    mocked_platforms.post(OAUTH_TOKEN, status=400, json=fixture("tiktok/tokens_refresh_invalid_grant.json"))
    sent.clear()

    publish(target.pk)

    target.refresh_from_db()
    assert target.status == "published" and target.last_error_message == "" and target.first_comment_status == ""
    reauth = failure["status"] == 401
    # A temporary failure costs one of the bounded checks; a revoked token stops them (nothing to ask with).
    assert sent == ([] if reauth else [(target.pk, 40_000)])


def test_temporary_errors_after_the_commit_are_bounded_and_end_unconfirmed_never_reposted(
        make_target, mocked_platforms, sent, worker, retry):
    from publishing.services.engine import MAX_TEMPORARY_FAILURES

    target = video_target(make_target)
    mocked_platforms.post(CREATOR, json=fixture("tiktok/publishing_creator_info.json"))
    mocked_platforms.post(VIDEO_INIT, json=fixture("tiktok/publishing_video_init.json"))
    mocked_platforms.post(STATUS, status=500, json=fixture("tiktok/errors_internal_error.json"))
    publish(target.pk)  # init answered: the post is TikTok's now
    sent.clear()

    for attempt in range(1, MAX_TEMPORARY_FAILURES + 1):
        with pytest.raises(TransientError):
            publish(target.pk)
        assert PostTarget.objects.get(pk=target.pk).attempts == attempt
    publish(target.pk)

    target.refresh_from_db()
    assert (target.status, target.attempts, target.last_error_code) == ("unconfirmed", 6, "unconfirmed")
    assert target.last_error_message == "TikTok kept failing after we sent the post; check the account before retrying."
    assert len(calls_to(mocked_platforms, "POST", STATUS)) == 6 and sent == []
    # Its publish_id is known: a retry only polls again, and TikTok's answer settles it.
    mocked_platforms.replace(responses.POST, STATUS, json=fixture("tiktok/publishing_status_complete.json"))
    assert retry(target.post) == [target.pk]
    worker()
    target.refresh_from_db()
    assert (target.status, target.platform_post_id) == ("published", "7301234567890123456")
    assert len(calls_to(mocked_platforms, "POST", VIDEO_INIT)) == 1 and len(calls_to(mocked_platforms, "POST", STATUS)) == 7


VIDEO_QUERY = "https://open.tiktokapis.com/v2/video/query/"
SHARE_URL = "https://www.tiktok.com/@sandbox.creator/video/7301234567890123456"


def video_query_answer(video_id: str = "7301234567890123456", share_url: str = SHARE_URL) -> dict:
    return {"data": {"videos": [{"id": video_id, "title": "Hello from UniPulse", "share_url": share_url}]},
            "error": {"code": "ok", "message": "", "log_id": "x"}}


def test_once_tiktok_names_the_post_its_permalink_is_read_from_the_video_query(make_target, mocked_platforms, sent):
    target = committed_target(make_target)
    PostTarget.objects.filter(pk=target.pk).update(polls=0)
    mocked_platforms.post(STATUS, json=fixture("tiktok/publishing_status_complete.json"))
    mocked_platforms.post(VIDEO_QUERY, json=video_query_answer())

    publish(target.pk)

    target.refresh_from_db()
    assert (target.status, target.platform_post_id, target.permalink) == ("published", "7301234567890123456", SHARE_URL)
    (query,) = calls_to(mocked_platforms, "POST", VIDEO_QUERY)
    assert body(query) == {"filters": {"video_ids": ["7301234567890123456"]}} and "share_url" in query.request.url
    assert sent == []


def test_a_failed_permalink_read_leaves_the_published_post_without_a_link(make_target, mocked_platforms, sent):
    target = committed_target(make_target)
    PostTarget.objects.filter(pk=target.pk).update(polls=0)
    mocked_platforms.post(STATUS, json=fixture("tiktok/publishing_status_complete.json"))
    mocked_platforms.post(VIDEO_QUERY, status=500, json={"error": {"code": "internal_error", "message": "", "log_id": "x"}})

    publish(target.pk)

    target.refresh_from_db()
    assert (target.status, target.platform_post_id, target.permalink) == ("published", "7301234567890123456", "")


def test_a_post_named_by_webhook_gets_its_permalink_from_one_follow_up(
        make_target, mocked_platforms, sent, django_capture_on_commit_callbacks):
    target = video_target(make_target, status="publishing")
    PostTarget.objects.filter(pk=target.pk).update(publish_id=PUBLISH_ID, step="committed")
    mocked_platforms.post(VIDEO_QUERY, json=video_query_answer("7301"))

    with django_capture_on_commit_callbacks(execute=True):
        apply_publish_event(PUBLISH_ID, "post.publish.publicly_available", post_id="7301")
    assert sent == [(target.pk, 0)]  # no platform call inside the webhook's lock
    assert len(mocked_platforms.calls) == 0
    publish(target.pk)

    target.refresh_from_db()
    assert (target.platform_post_id, target.permalink) == ("7301", SHARE_URL)
    publish(target.pk)  # a stray message: the link is known, nothing is asked again
    assert len(calls_to(mocked_platforms, "POST", VIDEO_QUERY)) == 1
