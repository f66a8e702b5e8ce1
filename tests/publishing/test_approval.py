"""Approval before anything goes public: editors' posts wait, admins approve or reject."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from publishing.models import Post, PostTarget
from publishing.services import enqueue_due_targets
from workspaces.models import AuditEntry, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(workspace, member_factory):
    workspace.approval_required = True
    workspace.save()
    editor_user, editor = member_factory(workspace, Role.EDITOR)
    admin_user, admin = member_factory(workspace, Role.ADMIN)
    return {"editor": editor, "admin": admin, "editor_user": editor_user, "admin_user": admin_user}


def write(client, account, **fields):
    response = client.post("/api/v1/posts/", {"text": "Spring menu", "accounts": [account.pk], **fields}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_an_editors_post_waits_for_approval_and_queues_nothing(team, account_factory, sent,
                                                              django_capture_on_commit_callbacks):
    fb = account_factory("facebook")
    with django_capture_on_commit_callbacks(execute=True):
        post = write(team["editor"], fb)
    assert post["approval"] == "pending" and [t["status"] for t in post["targets"]] == ["pending_approval"]
    assert post["created_by"] == team["editor_user"].pk
    assert sent == []
    listed = team["admin"].get("/api/v1/posts/?status=pending_approval").json()["results"]
    assert [p["id"] for p in listed] == [post["id"]]
    enqueue_due_targets()  # cron never picks a pending target
    assert PostTarget.objects.get().status == "pending_approval" and sent == []


def test_an_admin_approves_and_the_post_is_queued_once(team, account_factory, sent, django_capture_on_commit_callbacks):
    fb = account_factory("facebook")
    post = write(team["editor"], fb)
    assert team["editor"].post(f"/api/v1/posts/{post['id']}/approve/").status_code == 403  # editors cannot
    with django_capture_on_commit_callbacks(execute=True):
        approved = team["admin"].post(f"/api/v1/posts/{post['id']}/approve/")
    assert approved.status_code == 200
    body = approved.json()
    assert body["approval"] == "approved" and body["reviewed_by"] == team["admin_user"].pk
    assert [t["status"] for t in body["targets"]] == ["queued"]
    assert sent == [(PostTarget.objects.get().pk, 0)]
    again = team["admin"].post(f"/api/v1/posts/{post['id']}/approve/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_pending" and len(sent) == 1
    assert list(AuditEntry.objects.filter(object_type="post").values_list("action", flat=True).order_by("id")) == [
        "post.created", "post.approved"]


def test_a_scheduled_post_approved_goes_to_scheduled(team, account_factory, sent):
    when = timezone.now() + timedelta(hours=3)
    post = write(team["editor"], account_factory("facebook"), scheduled_at=when.isoformat())
    body = team["admin"].post(f"/api/v1/posts/{post['id']}/approve/").json()
    assert [t["status"] for t in body["targets"]] == ["scheduled"] and sent == []


def test_rejecting_sends_it_back_to_draft_with_the_comment_and_editing_resubmits(team, account_factory, sent):
    fb = account_factory("facebook")
    post = write(team["editor"], fb)
    url = f"/api/v1/posts/{post['id']}/"
    assert team["admin"].post(url + "reject/", {}, format="json").status_code == 400  # a comment is required
    rejected = team["admin"].post(url + "reject/", {"comment": "Add the price"}, format="json").json()
    assert rejected["approval"] == "rejected" and rejected["review_comment"] == "Add the price"
    assert [t["status"] for t in rejected["targets"]] == ["draft"] and sent == []
    edited = team["editor"].patch(url, {"text": "Spring menu, 12 EUR"}, format="json").json()
    assert edited["approval"] == "pending" and [t["status"] for t in edited["targets"]] == ["pending_approval"]
    assert edited["review_comment"] == "Add the price"  # kept until approved


def test_editing_an_approved_post_that_has_not_started_asks_again(team, account_factory, sent):
    when = timezone.now() + timedelta(hours=3)
    post = write(team["editor"], account_factory("facebook"), scheduled_at=when.isoformat())
    team["admin"].post(f"/api/v1/posts/{post['id']}/approve/")
    edited = team["editor"].patch(f"/api/v1/posts/{post['id']}/", {"text": "changed"}, format="json").json()
    assert edited["approval"] == "pending" and [t["status"] for t in edited["targets"]] == ["pending_approval"]


def test_admins_posts_and_workspaces_without_approval_are_queued_at_once(team, workspace, account_factory, sent,
                                                                        django_capture_on_commit_callbacks):
    fb = account_factory("facebook")
    with django_capture_on_commit_callbacks(execute=True):
        by_admin = write(team["admin"], fb)
    assert by_admin["approval"] == "" and [t["status"] for t in by_admin["targets"]] == ["queued"]
    workspace.approval_required = False
    workspace.save()
    with django_capture_on_commit_callbacks(execute=True):
        by_editor = write(team["editor"], fb, text="other")
    assert by_editor["approval"] == "" and len(sent) == 2


def test_a_pending_post_whose_time_passes_is_not_published_and_can_be_rescheduled(team, account_factory, sent):
    post = write(team["editor"], account_factory("facebook"),
                 scheduled_at=(timezone.now() + timedelta(hours=1)).isoformat())
    later = timezone.now() + timedelta(hours=2)
    assert enqueue_due_targets(now=later) == [] and sent == []
    target = PostTarget.objects.get()
    assert target.status == "draft" and "waited for approval" in target.last_error_message
    assert Post.objects.get().approval == "expired"
    refused = team["admin"].post(f"/api/v1/posts/{post['id']}/approve/")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_pending"
    new_time = (timezone.now() + timedelta(days=1)).isoformat()
    resubmitted = team["editor"].patch(f"/api/v1/posts/{post['id']}/", {"scheduled_at": new_time}, format="json").json()
    assert resubmitted["approval"] == "pending"


def test_approving_after_the_time_passed_marks_it_expired_instead(team, account_factory, sent):
    post = write(team["editor"], account_factory("facebook"),
                 scheduled_at=(timezone.now() + timedelta(hours=1)).isoformat())
    Post.objects.update(scheduled_at=timezone.now() - timedelta(minutes=1))
    response = team["admin"].post(f"/api/v1/posts/{post['id']}/approve/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "schedule_passed"
    assert Post.objects.get().approval == "expired" and PostTarget.objects.get().status == "draft" and sent == []


def test_the_admin_approve_action_queues_the_post(team, account_factory, staff, sent, django_capture_on_commit_callbacks):
    post = write(team["editor"], account_factory("facebook"))
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post("/admin/publishing/post/", {"action": "approve", "_selected_action": [post["id"]]})
    assert response.status_code == 302
    assert Post.objects.get().approval == "approved" and PostTarget.objects.get().status == "queued" and len(sent) == 1
