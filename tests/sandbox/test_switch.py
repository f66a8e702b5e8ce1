"""SOCIAL_SANDBOX: its default, what it changes, the refused start, and sandbox-marked accounts."""

import os
import subprocess
import sys
from pathlib import Path

from social.models import SocialAccount
from tests.conftest import workspace_of_user

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_VARS = {"SOCIAL_SANDBOX", "DEBUG", "FACEBOOK_APP_ID", "TIKTOK_CLIENT_KEY", "FACEBOOK_APP_SECRET",
                 "TIKTOK_CLIENT_SECRET", "META_GRAPH_URL", "TIKTOK_API_URL", "META_OAUTH_DIALOG_URL", "TIKTOK_AUTH_URL",
                 "PUBLIC_BASE_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "ENCRYPTION_KEY"}
PRINT = ("from django.conf import settings as s; print(s.SOCIAL_SANDBOX, s.META_GRAPH_URL, s.META_OAUTH_DIALOG_URL, "
         "s.TIKTOK_API_URL, s.TIKTOK_AUTH_URL, s.FACEBOOK_APP_ID, s.TIKTOK_CLIENT_KEY)")


def start(env_overrides: dict, code: str = PRINT) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in PLATFORM_VARS}
    env.update(env_overrides, DJANGO_SETTINGS_MODULE="unipulse.settings", PUBLIC_BASE_URL="http://localhost:8000")
    return subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_debug_without_platform_credentials_turns_the_sandbox_on_and_repoints_only_urls_and_credentials():
    result = start({"DEBUG": "true"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True", "http://localhost:8000/sandbox/graph", "http://localhost:8000/sandbox/facebook",
        "http://localhost:8000/sandbox/tiktok-api", "http://localhost:8000/sandbox/tiktok", "sandbox-app-id",
        "sandbox-client-key",
    ]


def test_an_empty_value_as_copied_from_env_example_means_the_default():
    assert start({"DEBUG": "true", "SOCIAL_SANDBOX": ""}).stdout.split()[0] == "True"


def test_real_credentials_keep_the_sandbox_off_by_default():
    result = start({"DEBUG": "true", "FACEBOOK_APP_ID": "123"})
    assert result.stdout.split()[:2] == ["False", "https://graph.facebook.com"]


def test_the_sandbox_refuses_to_start_with_debug_off():
    result = start({"DEBUG": "false", "SOCIAL_SANDBOX": "true", "SECRET_KEY": "x" * 50,
                    "ENCRYPTION_KEY": "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy1sb25n"})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == ("UniPulse cannot start: SOCIAL_SANDBOX is on while DEBUG is off; the fake "
                                     "platforms never run in production.")


def test_debug_off_leaves_the_sandbox_off_by_default():
    result = start({"DEBUG": "false", "SECRET_KEY": "x" * 50,
                    "ENCRYPTION_KEY": "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy1sb25n"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "False"


INSTALLED = "from django.conf import settings as s; print('sandbox' in s.INSTALLED_APPS)"


def test_the_sandbox_app_is_installed_only_when_the_sandbox_is_on():
    assert start({"DEBUG": "true"}, INSTALLED).stdout.split() == ["True"]
    assert start({"DEBUG": "true", "SOCIAL_SANDBOX": "false"}, INSTALLED).stdout.split() == ["False"]
    assert start({"DEBUG": "true", "FACEBOOK_APP_ID": "123"}, INSTALLED).stdout.split() == ["False"]


def test_with_the_sandbox_off_the_project_checks_and_needs_no_migration():
    env = {"DEBUG": "true", "SOCIAL_SANDBOX": "false"}
    code = ("from django.core.management import call_command; call_command('check', fail_level='ERROR'); "
            "call_command('makemigrations', check=True, dry_run=True); "
            "from django.urls import resolve, Resolver404\n"
            "try: resolve('/sandbox/graph/v25.0/me')\nexcept Resolver404: print('no sandbox urls')")
    result = start(env, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-2:] == ["No changes detected", "no sandbox urls"]


def test_accounts_saved_while_the_sandbox_serves_the_platform_are_marked(sandbox, user):
    account = SocialAccount.objects.create(workspace=workspace_of_user(user), platform="facebook", external_id="104500000000001")
    assert account.is_sandbox is True


def test_accounts_saved_against_the_real_platforms_are_not_marked(db, user):
    account = SocialAccount.objects.create(workspace=workspace_of_user(user), platform="tiktok", external_id="-000real")
    assert account.is_sandbox is False
