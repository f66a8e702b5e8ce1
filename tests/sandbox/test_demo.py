"""`make demo` and the demo command: the sandbox is switched on for it, and a server without it is named."""

import subprocess

import pytest
import responses
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tests.sandbox.test_switch import ROOT


def test_make_demo_switches_the_sandbox_on_for_its_migrate_and_its_command():
    dry = subprocess.run(["make", "--no-print-directory", "-n", "demo"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert dry.returncode == 0, dry.stderr
    lines = [line for line in dry.stdout.splitlines() if "manage.py" in line]
    assert [line.split("manage.py ")[1] for line in lines][-2:] == ["migrate --noinput", "demo"]
    assert all("SOCIAL_SANDBOX=true" in line for line in lines[-2:])


@responses.activate
def test_a_running_server_without_the_sandbox_is_named_before_anything_is_written(sandbox):
    responses.get("http://testserver/healthz", json={"status": "ok"})
    responses.get("http://testserver/sandbox/control/failures", status=404, json={"detail": "Not found."})
    with pytest.raises(CommandError, match=r"^The server at http://testserver runs with the sandbox off: restart it "
                                           r"with SOCIAL_SANDBOX=true"):
        call_command("demo")
    assert not get_user_model().objects.filter(username="demo").exists()
