"""sync_analytics: one message per active account, filters, one summary line; never calls a platform."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from social.models import AccountStatus


@pytest.fixture(autouse=True)
def drains(monkeypatch) -> list:
    """Record drain_embedded instead of running a worker (tests read the stub broker's queue)."""
    calls = []
    monkeypatch.setattr("analytics.management.commands.sync_analytics.drain_embedded", lambda: calls.append(True))
    return calls


def run(*args) -> str:
    out = StringIO()
    call_command("sync_analytics", *args, stdout=out)
    return out.getvalue()


def enqueued(broker) -> list[int]:
    from dramatiq import Message

    return [Message.decode(raw).args[0] for raw in broker.queues["analytics-sync"].queue]


def test_sync_analytics_enqueues_one_message_per_active_account(account_factory, stub_broker, mocked_platforms, drains):
    active = [account_factory("facebook"), account_factory("instagram"), account_factory("tiktok")]
    account_factory("facebook", status=AccountStatus.NEEDS_REAUTH)

    assert run() == "sync_analytics: enqueued 3 account syncs\n"

    assert sorted(enqueued(stub_broker)) == sorted(a.id for a in active)
    assert len(mocked_platforms.calls) == 0
    assert drains == [True]  # embedded mode runs them before the command exits


def test_sync_analytics_filters_by_platform_and_account(account_factory, stub_broker):
    fb, ig = account_factory("facebook"), account_factory("instagram")

    assert run("--platform", "instagram") == "sync_analytics: enqueued 1 account syncs\n"
    assert enqueued(stub_broker) == [ig.id]
    stub_broker.flush_all()
    run("--account", str(fb.id))
    assert enqueued(stub_broker) == [fb.id]


def test_sync_analytics_dry_run_enqueues_nothing(account_factory, stub_broker, drains):
    account_factory("tiktok")
    assert run("--dry-run") == "sync_analytics: would enqueue 1 account syncs\n"
    assert enqueued(stub_broker) == [] and drains == []


def test_sync_analytics_refuses_an_unknown_account(db, stub_broker):
    with pytest.raises(CommandError, match="No active account with id 999"):
        run("--account", "999")
