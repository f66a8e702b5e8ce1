"""Every UniPulse management command explains itself, and shows progress only on a terminal."""

import io

import pytest
from django.core.management import get_commands, load_command_class

from unipulse.progress import progress

OURS = {name: app for name, app in get_commands().items()
        if app.split(".")[0] in {"social", "tokens", "publishing", "analytics", "conversations", "unipulse"}}


def test_our_commands_are_all_there():
    assert {"publish_due", "refresh_tokens", "sync_analytics", "sync_conversations", "process_webhooks",
            "subscribe_webhooks", "rotate_encryption_key", "run_scheduler", "sandbox_activity"} <= set(OURS)


@pytest.mark.parametrize("name", sorted(OURS))
def test_each_command_has_a_one_sentence_help(name):
    command = load_command_class(OURS[name], name)
    assert command.help and len(command.help) > 30 and command.help.strip().endswith("."), name
    assert "--help" not in command.help


class FakeTTY(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty

    def write(self, text, ending="\n"):
        return super().write(text + ending)


def test_progress_counts_on_a_terminal_and_stays_silent_otherwise():
    shown, quiet = FakeTTY(True), FakeTTY(False)
    assert list(progress([1, 2, 3], shown, "sent")) == [1, 2, 3]
    assert list(progress([1, 2, 3], quiet, "sent")) == [1, 2, 3]
    assert shown.getvalue() == "\rsent 1/3\rsent 2/3\rsent 3/3\n"
    assert quiet.getvalue() == ""
