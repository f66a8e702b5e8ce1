"""Publishing's events: a target's outcome and the approval steps, each written with its change."""

from __future__ import annotations

import pytest
from django.db import transaction

from publishing.models import PostTarget
from publishing.services import engine
from tests.conftest import recorded_events

from .test_approval import team, write  # noqa: F401 - the approval fixture and helper

pytestmark = pytest.mark.django_db


def test_a_published_target_is_one_event_with_the_target_as_the_api_shows_it(make_target):
    target = make_target("facebook", status="publishing")
    engine.mark_published(target, "1234567890_111", "https://www.facebook.com/1234567890_111")
    engine.mark_published(target, "1234567890_111")  # the same outcome again (a webhook): no second event
    [event] = recorded_events()
    assert (event.type, event.workspace_id) == ("target.published", target.post.workspace_id)
    obj = event.data["object"]
    assert (obj["id"], obj["post"], obj["status"], obj["platform_post_id"], obj["platform"]) == (
        target.pk, target.post_id, "published", "1234567890_111", "facebook")


def test_a_failed_and_an_unconfirmed_target_are_their_own_events(make_target):
    failed = make_target("facebook", status="publishing")
    engine.mark_failed(failed, "The Page token was revoked.", "reauth_required")
    committed = make_target("instagram", status="publishing")
    engine.mark_unconfirmed(committed, "Instagram did not confirm in time.")
    assert [(e.type, e.data["object"]["id"], e.data["object"]["last_error_code"]) for e in recorded_events()] == [
        ("target.failed", failed.pk, "reauth_required"), ("target.unconfirmed", committed.pk, "unconfirmed")]


def test_a_status_change_rolled_back_leaves_no_event(make_target):
    target = make_target("facebook", status="publishing")
    with pytest.raises(RuntimeError), transaction.atomic():
        engine.mark_published(target, "1234567890_111")
        raise RuntimeError("the surrounding work failed")
    assert recorded_events() == []
    assert PostTarget.objects.get(pk=target.pk).status == "publishing"


def test_the_approval_steps_are_events_with_the_post(team, account_factory):  # noqa: F811
    fb = account_factory("facebook")
    post = write(team["editor"], fb)
    assert team["admin"].post(f"/api/v1/posts/{post['id']}/reject/", {"comment": "Add the price"},
                              format="json").status_code == 200
    team["editor"].patch(f"/api/v1/posts/{post['id']}/", {"text": "Spring menu, 12 €", "accounts": [fb.pk]},
                         format="json")
    assert team["admin"].post(f"/api/v1/posts/{post['id']}/approve/").status_code == 200
    events = recorded_events()
    assert [e.type for e in events] == ["post.pending_approval", "post.rejected", "post.pending_approval",
                                        "post.approved"]
    assert {e.data["object"]["id"] for e in events} == {post["id"]}
    assert events[1].data["object"]["review_comment"] == "Add the price"
    assert events[3].data["object"]["approval"] == "approved"
    assert [t["status"] for t in events[3].data["object"]["targets"]] == ["queued"]
