"""The process refuses to start without keys when DEBUG is off, with one clear line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy1sb25n"


def start(env_overrides: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ENCRYPTION_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}}
    env.update(env_overrides)
    env["DJANGO_SETTINGS_MODULE"] = "unipulse.settings"
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ENCRYPTION_KEY"])
def test_refuses_to_start_without_a_key_when_debug_is_off(missing):
    env = {"DEBUG": "false", "SECRET_KEY": "x" * 50, "ENCRYPTION_KEY": GOOD_KEY}
    del env[missing]
    result = start(env)
    assert result.returncode == 1
    assert "started" not in result.stdout
    assert result.stderr.strip() == f"UniPulse cannot start: {missing} is not set; it is required when DEBUG is off (see .env.example)."


def test_starts_with_both_keys_when_debug_is_off():
    result = start({"DEBUG": "false", "SECRET_KEY": "x" * 50, "ENCRYPTION_KEY": GOOD_KEY})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "started"
    assert "DEVELOPMENT" not in result.stderr


def test_debug_without_keys_warns_loudly_and_uses_development_keys():
    result = start({"DEBUG": "true"})
    assert result.returncode == 0, result.stderr
    assert "WARNING: UniPulse is using fixed DEVELOPMENT values for SECRET_KEY, ENCRYPTION_KEY" in result.stderr


def test_malformed_encryption_key_is_reported_by_name_without_its_value(settings):
    from unipulse.checks import check_secrets

    settings.ENCRYPTION_KEY = "not-a-valid-key-VALUE"
    messages = [m.msg for m in check_secrets(None)]
    assert any(m.startswith("ENCRYPTION_KEY ") for m in messages)
    assert all("not-a-valid-key-VALUE" not in m for m in messages)


def test_env_example_copied_as_it_is_starts_on_the_defaults():
    """Every variable of .env.example, empty ones included, with only DEBUG and the keys changed."""
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name] = value
    assert len(values) > 40
    values.update({"DEBUG": "false", "SECRET_KEY": "x" * 50, "ENCRYPTION_KEY": GOOD_KEY})
    env = {k: v for k, v in os.environ.items() if k not in values and k not in {"DJANGO_SETTINGS_MODULE"}}
    env.update(values)
    env["DJANGO_SETTINGS_MODULE"] = "unipulse.settings"
    probe = ("import django; django.setup(); from django.conf import settings as s;"
             "print(s.DATABASES['default']['ENGINE'], str(s.MEDIA_ROOT).rstrip('/').rsplit('/', 1)[-1], s.SESSION_COOKIE_SECURE, s.BROKER_MODE,"
             " s.SOCIAL_SANDBOX, len(s.FACEBOOK_OAUTH_SCOPES) > 3)")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "media", "True", "embedded", "False", "True"]
