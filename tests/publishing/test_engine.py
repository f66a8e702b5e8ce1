"""The engine owns the order of a platform's steps and the commit rules, whatever the platform."""

from types import SimpleNamespace

import pytest

from publishing.models import PostTarget
from publishing.platforms import NOT_SENT, READY, TOO_EARLY, Published, Sent
from publishing.services import engine

pytestmark = pytest.mark.django_db


def fake_platform(monkeypatch, calls: list, **answers):
    """A platform whose steps record their name (and whether the commit guard was on the row) and answer as told."""

    def step(name):
        def run_step(run):
            guarded = PostTarget.objects.get(pk=run.target.pk).commit_started_at is not None
            calls.append(f"{name}{' (guarded)' if guarded else ''}")
            return answers.get(name, READY)
        return run_step

    platform = SimpleNamespace(
        **{name: step(name) for name in ("reconcile", "prepare", "poll", "commit")},
        permalink=lambda account, post_id: calls.append("permalink") or f"https://example.com/{post_id}",
        after_publish=lambda target: calls.append("after_publish"),
        follow_up_due=lambda target: False,
        follow_up=lambda target: calls.append("follow_up"))
    monkeypatch.setattr(engine, "get_platform", lambda name: platform)
    return platform


def test_the_steps_run_in_order_and_only_the_commit_is_guarded(make_target, monkeypatch, sent):
    calls: list = []
    fake_platform(monkeypatch, calls, commit=Published("42"))
    target = make_target()

    engine.publish_target(target.pk)

    assert calls == ["prepare", "poll", "commit (guarded)", "permalink", "after_publish"]
    target.refresh_from_db()
    assert (target.status, target.platform_post_id, target.permalink) == ("published", "42", "https://example.com/42")


def test_a_started_commit_is_reconciled_and_never_sent_again(make_target, monkeypatch, sent):
    calls: list = []
    fake_platform(monkeypatch, calls, reconcile=Published("7", "https://example.com/found"))
    target = make_target(status="publishing")
    PostTarget.objects.filter(pk=target.pk).update(commit_started_at=target.created_at)

    engine.publish_target(target.pk)

    assert calls == ["reconcile (guarded)", "after_publish"]  # the permalink came with the answer
    target.refresh_from_db()
    assert (target.status, target.platform_post_id, target.permalink) == ("published", "7", "https://example.com/found")


def test_not_sent_clears_the_guard_before_preparing_and_committing_again(make_target, monkeypatch, sent):
    calls: list = []
    fake_platform(monkeypatch, calls, reconcile=NOT_SENT, commit=Published("8"))
    target = make_target(status="publishing")
    PostTarget.objects.filter(pk=target.pk).update(commit_started_at=target.created_at)

    engine.publish_target(target.pk)

    assert calls == ["reconcile (guarded)", "prepare", "poll", "commit (guarded)", "permalink", "after_publish"]


def test_a_commit_refused_as_too_early_clears_the_guard_and_polls_later(make_target, monkeypatch, sent):
    calls: list = []
    fake_platform(monkeypatch, calls, commit=TOO_EARLY)
    target = make_target()

    engine.publish_target(target.pk)

    target.refresh_from_db()
    assert (target.status, target.commit_started_at, target.polls) == ("publishing", None, 1)
    assert [target_id for target_id, _ in sent] == [target.pk]


def test_a_sent_commit_saves_its_handle_and_the_next_run_only_polls(make_target, monkeypatch, sent):
    calls: list = []
    fake_platform(monkeypatch, calls, commit=Sent({"publish_id": "p-1"}), poll=READY)
    target = make_target()

    engine.publish_target(target.pk)
    target.refresh_from_db()
    assert (target.publish_id, target.step, target.polls) == ("p-1", "committed", 1)

    calls.clear()
    fake_platform(monkeypatch, calls, poll=Published(""))
    engine.publish_target(target.pk)

    assert calls == ["poll (guarded)", "after_publish"]
    assert PostTarget.objects.get(pk=target.pk).status == "published"


def test_a_published_target_only_gets_its_follow_up(make_target, monkeypatch, sent):
    calls: list = []
    platform = fake_platform(monkeypatch, calls)
    platform.follow_up_due = lambda target: True
    target = make_target(status="published")

    engine.publish_target(target.pk)

    assert calls == ["follow_up"]
