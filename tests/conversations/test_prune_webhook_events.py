"""prune_webhook_events: old processed/ignored events go, waiting ones stay, replays stay refused."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from conversations.models import Message, WebhookEvent, WebhookReplayKey
from conversations.services import process_webhook_event

from .conftest import raw_fixture

pytestmark = pytest.mark.django_db


def make_event(n: int, status: str, days_old: int) -> WebhookEvent:
    event = WebhookEvent.objects.create(platform="meta", body=f'{{"n": {n}}}', dedupe_key=f"{n:064x}", status=status)
    WebhookEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(days=days_old))
    return event


def test_old_processed_and_ignored_events_are_deleted_and_their_keys_kept(capsys, settings):
    settings.WEBHOOK_EVENT_RETENTION_DAYS = 30
    old_done, old_ignored = make_event(1, "processed", 31), make_event(2, "ignored", 40)
    recent, waiting, failed = make_event(3, "processed", 29), make_event(4, "received", 90), make_event(5, "failed", 90)
    call_command("prune_webhook_events")
    assert sorted(WebhookEvent.objects.values_list("pk", flat=True)) == sorted([recent.pk, waiting.pk, failed.pk])
    assert sorted(WebhookReplayKey.objects.values_list("dedupe_key", flat=True)) == [
        old_done.dedupe_key, old_ignored.dedupe_key]
    assert capsys.readouterr().out == (
        "prune_webhook_events: deleted 2 event(s) older than 30 days; their keys still refuse replays\n")


def test_days_on_the_command_line_win_and_must_not_be_negative(settings):
    settings.WEBHOOK_EVENT_RETENTION_DAYS = 30
    make_event(1, "processed", 8)
    call_command("prune_webhook_events", "--days", "7")
    assert WebhookEvent.objects.count() == 0
    with pytest.raises(CommandError, match=r"^prune_webhook_events: --days must be 0 or more, not -1\.$"):
        call_command("prune_webhook_events", "--days", "-1")


def test_a_replay_of_a_pruned_delivery_is_never_routed_again(post_meta, sent_events, page):
    body = raw_fixture("facebook/webhook_feed_comment_add.json")
    post_meta(body)
    process_webhook_event(sent_events.pop())
    assert Message.objects.count() == 1
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(days=60))
    call_command("prune_webhook_events", "--days", "30")
    Message.objects.all().delete()  # the agent deleted it; a replay must not bring it back

    assert post_meta(body).status_code == 200
    process_webhook_event(sent_events.pop())
    replay = WebhookEvent.objects.get(dedupe_key=hashlib.sha256(body).hexdigest())
    assert (replay.status, replay.error) == ("ignored", "A replay of a delivery already processed (its event was pruned).")
    assert Message.objects.count() == 0


def test_the_prune_runs_daily_with_the_other_housekeeping():
    from unipulse.scheduler import SCHEDULE

    assert [job.cron for job in SCHEDULE if job.command == "prune_webhook_events"] == ["30 3 * * *"]
