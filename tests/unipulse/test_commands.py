"""Every UniPulse management command explains itself, and shows progress only on a terminal."""

import io

import pytest
from django.core.management import get_commands, load_command_class

from unipulse.progress import ProgressBar, progress

OURS = {name: app for name, app in get_commands().items()
        if app.split(".")[0] in {"social", "tokens", "publishing", "analytics", "conversations", "unipulse",
                                          "sandbox"}}


def test_our_commands_are_all_there():
    assert {"publish_due", "refresh_tokens", "sync_analytics", "sync_conversations", "process_webhooks",
            "subscribe_webhooks", "rotate_encryption_key", "run_scheduler", "sandbox_activity"} <= set(OURS)


@pytest.mark.parametrize("name", sorted(OURS))
def test_each_command_has_a_one_sentence_help(name):
    command = load_command_class(OURS[name], name)
    assert command.help and len(command.help) > 30 and command.help.strip().endswith("."), name
    assert "--help" not in command.help


class FakeTTY(io.StringIO):
    """A terminal as far as isatty() can tell."""

    def __init__(self, tty: bool = True) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def frames(stream: FakeTTY) -> list[str]:
    """What a terminal shows after each redraw (each frame starts with a carriage return)."""
    return stream.getvalue().split("\r")[1:]


def test_the_bar_fills_in_place_and_ends_its_line_on_a_terminal():
    shown = FakeTTY()
    assert list(progress([1, 2, 3, 4], shown, "sent")) == [1, 2, 3, 4]
    assert frames(shown) == [
        "sent [#######.......................]  25% 1/4",
        "sent [###############...............]  50% 2/4",
        "sent [######################........]  75% 3/4",
        "sent [##############################] 100% 4/4\n",
    ]


def test_the_bar_writes_nothing_off_a_terminal_or_for_nothing():
    quiet, empty = FakeTTY(tty=False), FakeTTY()
    assert list(progress([1, 2, 3], quiet, "sent")) == [1, 2, 3]
    assert list(progress([], empty, "sent")) == []
    assert quiet.getvalue() == "" and empty.getvalue() == ""


def test_the_bar_redraws_only_when_the_percentage_moves():
    shown = FakeTTY()
    with ProgressBar(shown, "rows", 10_000) as bar:
        for _ in range(10_000):
            bar.advance()
    assert len(frames(shown)) == 101  # 0 %, 1 %, ..., 100 %: not ten thousand writes
    assert frames(shown)[-1] == "rows [##############################] 100% 10000/10000\n"


def test_a_bar_left_early_still_ends_its_line():
    shown = FakeTTY()
    for n in progress(range(10), shown, "events"):
        if n == 2:
            break
    assert shown.getvalue().endswith("  20% 2/10\n")


def test_on_a_command_stderr_the_bar_is_not_painted_as_an_error():
    from django.core.management.base import OutputWrapper
    from django.core.management.color import color_style

    shown = FakeTTY()
    wrapper = OutputWrapper(shown)
    wrapper.style_func = color_style(force_color=True).ERROR  # what BaseCommand sets on a terminal
    list(progress([1], wrapper, "sent"))
    assert shown.getvalue() == "\rsent [##############################] 100% 1/1\n"


# ---- each command that loops over rows shows the bar on a terminal, and only there ----------------

@pytest.fixture
def rows(db, account_factory, mocked_platforms, settings):
    """Two of everything each command loops over."""
    import re
    from datetime import timedelta

    import dramatiq
    from django.utils import timezone
    from django_dramatiq.models import Task

    from conversations.models import WebhookEvent
    from publishing.models import Post, PostTarget
    from sandbox.models import Page
    from social.models import SocialAccount
    from tests.conftest import load_fixture
    from tokens.actors import token_refresh

    graph = re.compile(r"https://graph\.facebook\.com/v25\.0/[^/]+/subscribed_apps")
    mocked_platforms.add("POST", graph, json=load_fixture("facebook/oauth_subscribed_apps_success.json"))
    mocked_platforms.add("GET", graph, json=load_fixture("facebook/oauth_subscribed_apps_read.json"))
    past = timezone.now() - timedelta(days=30)
    pages = [account_factory("facebook"), account_factory("facebook")]
    SocialAccount.objects.update(token_refresh_due_at=past)
    for n, page in enumerate(pages):
        post = Post.objects.create(workspace=page.workspace, created_by=page.connected_by, text="x", scheduled_at=past)
        PostTarget.objects.create(post=post, account=page, status="scheduled", scheduled_at=past)
        WebhookEvent.objects.create(platform="meta", body="{}", dedupe_key=f"{n}" * 64)
        Page.objects.create(page_id=f"10900000000000{n}", name=f"Page {n}", owner_id=_sandbox_user(n))
        Task.tasks.filter(id=token_refresh.send(n).message_id).update(created_at=past)
    WebhookEvent.objects.update(received_at=past)
    settings.SOCIAL_SANDBOX = True
    yield
    dramatiq.get_broker().flush_all()


def _sandbox_user(n: int) -> int:
    from sandbox.models import FacebookUser

    return FacebookUser.objects.create(fb_id=f"10200000000000{n}", name=f"Fan {n}").pk


BARS = {
    "publish_due": "targets", "process_webhooks": "events", "sync_conversations": "accounts",
    "refresh_tokens": "accounts", "sync_analytics": "accounts", "subscribe_webhooks": "Pages",
    "prune_task_history": "task rows", "sandbox_activity": "Pages",
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", sorted(BARS))
def test_each_command_draws_its_bar_on_a_terminal_only(name, rows, no_drain):
    from django.core.management import call_command

    args = ["--days", "7"] if name == "prune_task_history" else []
    terminal, out = FakeTTY(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=terminal)
    assert frames(terminal)[-1] == f"{BARS[name]} [##############################] 100% 2/2\n", terminal.getvalue()
    assert "\r" not in out.getvalue() and len(out.getvalue().splitlines()) == 1  # stdout: the summary alone


@pytest.mark.parametrize("name", ["sync_analytics", "refresh_tokens", "process_webhooks"])
def test_commands_write_nothing_but_the_summary_off_a_terminal(name, rows, no_drain):
    from django.core.management import call_command

    quiet, out = FakeTTY(tty=False), io.StringIO()
    call_command(name, stdout=out, stderr=quiet)
    assert quiet.getvalue() == ""
    assert len(out.getvalue().splitlines()) == 1
