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
    env.setdefault("ENV_FILE", "/nonexistent/.env")  # the checkout's development .env (make run) must not fill the keys in
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
    from social.checks import check_secrets

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


def probe_urls(env_overrides: dict) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PORT", "PUBLIC_BASE_URL", "DJANGO_SETTINGS_MODULE",
                                                           "SOCIAL_SANDBOX", "FACEBOOK_APP_ID", "TIKTOK_CLIENT_KEY"}}
    env.update({"DEBUG": "true", "DJANGO_SETTINGS_MODULE": "unipulse.settings", "ENV_FILE": "/nonexistent/.env",
                **env_overrides})
    probe = ("import django; django.setup(); from django.conf import settings as s;"
             "print(s.PUBLIC_BASE_URL, s.FACEBOOK_CALLBACK_URL, s.TIKTOK_CALLBACK_URL, s.META_GRAPH_URL)")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_the_public_urls_and_the_sandbox_follow_port_unless_public_base_url_is_set():
    base, facebook, tiktok, graph = probe_urls({"PORT": "8711"})
    assert base == "http://localhost:8711"
    assert facebook == "http://localhost:8711/api/v1/auth/callback/facebook"
    assert tiktok == "http://localhost:8711/api/v1/auth/callback/tiktok"
    assert graph == "http://localhost:8711/sandbox/graph"  # DEBUG with no app credentials: the sandbox
    assert probe_urls({"PORT": "8711", "PUBLIC_BASE_URL": "https://api.example.com"})[0] == "https://api.example.com"


def test_the_development_env_file_is_written_once_and_keeps_its_keys(tmp_path):
    from unipulse.devenv import ensure

    path = tmp_path / ".env"
    assert ensure(path, "8000") == ["DEBUG", "SECRET_KEY", "ENCRYPTION_KEY"]
    first = path.read_text()
    assert ensure(path, "8711") == []
    values = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and line[0] != "#")
    assert values["PORT"] == "8711" and path.read_text().count("PORT=") == 1
    assert all(f"{name}={values[name]}" in first for name in ("SECRET_KEY", "ENCRYPTION_KEY"))
    import base64
    assert len(base64.urlsafe_b64decode(values["ENCRYPTION_KEY"] + "=")) == 32


def test_a_command_run_with_only_the_env_file_starts_in_development(tmp_path):
    from unipulse.devenv import ensure

    ensure(tmp_path / ".env", "8000")
    result = start({"ENV_FILE": str(tmp_path / ".env")})
    assert result.returncode == 0 and result.stdout.strip() == "started", result.stderr
    assert "DEVELOPMENT values" not in result.stderr  # the generated keys, not the fixed ones
