"""Admin for posts and targets: a status summary per post (no query per row), retry and cancel that
really change the rows and send the publish messages."""

from __future__ import annotations

import dramatiq
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from publishing.models import Post, PostMedia, PostTarget

pytestmark = pytest.mark.django_db


def publish_messages(broker) -> list[int]:
    queue = broker.queues.get("publish")
    return [dramatiq.Message.decode(raw).args[0] for raw in queue.queue] if queue else []


def post_with(account_factory, *statuses: str) -> tuple[Post, list[PostTarget]]:
    accounts = [account_factory(platform) for platform in ("facebook", "instagram", "tiktok")[: len(statuses)]]
    post = Post.objects.create(workspace=accounts[0].workspace, text="Launch day")
    return post, [PostTarget.objects.create(post=post, account=a, status=s) for a, s in zip(accounts, statuses)]


def list_posts(client) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/publishing/post/")
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_the_post_list_summarises_each_posts_target_statuses(staff, account_factory):
    post_with(account_factory, "published", "failed", "published")
    html, _ = list_posts(staff)
    assert ('<span style="color:#1b7f3b">2 published</span> · <span style="color:#b3261e">1 failed</span>') in html
    Post.objects.create(workspace=Post.objects.get().workspace, text="empty")
    assert "no targets" in list_posts(staff)[0]


def test_the_post_list_reads_all_targets_in_one_query(staff, account_factory):
    post_with(account_factory, "published")
    _, one = list_posts(staff)
    for _ in range(4):
        post_with(account_factory, "failed", "scheduled", "queued")
    html, five = list_posts(staff)
    assert five == one
    assert html.count("1 scheduled") == 4


def test_the_post_list_filters_by_target_status(staff, account_factory):
    failed, _ = post_with(account_factory, "failed", "published")
    post_with(account_factory, "published")
    response = staff.get("/admin/publishing/post/", {"targets__status": "failed"})
    assert [p.pk for p in response.context["cl"].result_list] == [failed.pk]


def test_post_retry_action_requeues_failed_targets_and_sends_them(staff, account_factory, broker,
                                                                  django_capture_on_commit_callbacks):
    post, (failed, published) = post_with(account_factory, "failed", "published")
    PostTarget.objects.filter(pk=failed.pk).update(last_error_code="190", last_error_message="Reconnect", attempts=2)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post("/admin/publishing/post/", {"action": "retry_failed", "_selected_action": [post.pk]},
                              follow=True)
    assert "Queued 1 target(s) again." in response.content.decode()
    failed.refresh_from_db()
    assert (failed.status, failed.last_error_code, failed.attempts) == ("queued", "", 0)
    assert PostTarget.objects.get(pk=published.pk).status == "published"
    assert publish_messages(broker) == [failed.pk]


def test_post_cancel_action_cancels_only_targets_that_have_not_started(staff, account_factory, broker):
    post, (scheduled, publishing) = post_with(account_factory, "scheduled", "publishing")
    response = staff.post("/admin/publishing/post/", {"action": "cancel_not_started", "_selected_action": [post.pk]},
                          follow=True)
    assert "Cancelled 1 target(s)." in response.content.decode()
    assert PostTarget.objects.get(pk=scheduled.pk).status == "cancelled"
    assert PostTarget.objects.get(pk=publishing.pk).status == "publishing"  # a worker holds it
    assert publish_messages(broker) == []


def test_target_retry_action_requeues_only_the_selected_failed_target(staff, account_factory, broker,
                                                                      django_capture_on_commit_callbacks):
    _, (chosen, sibling) = post_with(account_factory, "failed", "failed")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post("/admin/publishing/posttarget/", {"action": "retry_failed",
                                                                "_selected_action": [chosen.pk]}, follow=True)
    assert "Queued 1 target(s) again." in response.content.decode()
    assert PostTarget.objects.get(pk=chosen.pk).status == "queued"
    assert PostTarget.objects.get(pk=sibling.pk).status == "failed"  # not selected: left alone
    assert publish_messages(broker) == [chosen.pk]


def test_target_cancel_action_cancels_the_selected_waiting_targets(staff, account_factory, broker):
    _, (queued, scheduled, published) = post_with(account_factory, "queued", "scheduled", "published")
    response = staff.post("/admin/publishing/posttarget/", {
        "action": "cancel", "_selected_action": [queued.pk, published.pk]}, follow=True)
    assert "Cancelled 1 target(s)." in response.content.decode()
    assert dict(PostTarget.objects.values_list("pk", "status")) == {
        queued.pk: "cancelled", scheduled.pk: "scheduled", published.pk: "published"}


def test_the_target_list_shows_each_targets_error(staff, account_factory):
    _, (target,) = post_with(account_factory, "failed")
    PostTarget.objects.filter(pk=target.pk).update(last_error_message="(#10) Application does not have permission")
    html = staff.get("/admin/publishing/posttarget/").content.decode()
    assert "(#10) Application does not have permission" in html


def test_a_published_post_and_its_targets_are_read_only(staff, account_factory):
    post, (live, failed) = post_with(account_factory, "published", "failed")
    PostMedia.objects.create(post=post, url="https://cdn.example.com/a.jpg", type="image", position=0)
    page = staff.get(f"/admin/publishing/post/{post.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and 'name="_save"' not in html and 'name="text"' not in html
    assert "https://cdn.example.com/a.jpg" in html and '-0-url"' not in html  # the media inline: shown, not a field
    assert 'name="media-MAX_NUM_FORMS" value="0"' in html  # and no room for another one
    assert "Launch day" in html  # shown, not editable
    refused = staff.post(f"/admin/publishing/post/{post.pk}/change/", {"text": "Edited"})
    assert refused.status_code == 403
    post.refresh_from_db()
    assert post.text == "Launch day"
    target_page = staff.get(f"/admin/publishing/posttarget/{live.pk}/change/").content.decode()
    assert 'name="_save"' not in target_page
    # A target that is not live keeps its form.
    assert 'name="_save"' in staff.get(f"/admin/publishing/posttarget/{failed.pk}/change/").content.decode()


def test_a_post_not_published_anywhere_stays_editable(staff, account_factory):
    post, _ = post_with(account_factory, "failed", "queued")
    html = staff.get(f"/admin/publishing/post/{post.pk}/change/").content.decode()
    assert 'name="_save"' in html and 'name="text"' in html and 'name="media-MAX_NUM_FORMS" value="1000"' in html
