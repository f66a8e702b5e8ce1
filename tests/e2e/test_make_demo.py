"""`make demo` as a newcomer runs it after cloning: nothing but Python, SQLite and the in-process broker.
It connects the sandbox's three platforms, publishes one post of each content type, syncs analytics and
fills the inbox; run again, it finds everything in place and adds nothing."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess

import pytest

from tests.servers import ROOT, free_port

pytestmark = pytest.mark.e2e

COUNTS = {
    "posts": "SELECT count(*) FROM publishing_post",
    "published targets": "SELECT count(*) FROM publishing_posttarget WHERE status = 'published'",
    "accounts": "SELECT count(*) FROM social_socialaccount",
    "sandbox posts published": "SELECT count(*) FROM sandbox_post WHERE is_published",
    "conversations": "SELECT count(*) FROM conversations_conversation",
    "messages": "SELECT count(*) FROM conversations_message",
}


def test_make_demo_fills_a_fresh_install_and_a_second_run_adds_nothing(tmp_path):
    db = tmp_path / "db.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SOCIAL_SANDBOX", "DEBUG",
                                                          "FACEBOOK_APP_ID", "TIKTOK_CLIENT_KEY", "PUBLIC_BASE_URL",
                                                          "DJANGO_SETTINGS_MODULE")}
    env.update(DATABASE_URL=f"sqlite:///{db}", PORT=str(free_port()), ENV_FILE=str(tmp_path / ".env"))

    def demo() -> str:
        result = subprocess.run(["make", "--no-print-directory", "demo"], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=300, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
        return result.stdout

    def counts() -> dict[str, int]:
        with sqlite3.connect(db) as conn:
            return {name: conn.execute(query).fetchone()[0] for name, query in COUNTS.items()}

    out = demo()
    assert "Published 11 of 11 targets (11 posts, one of each content type)." in out
    assert re.search(r"Analytics synced; inbox: \d+ conversations", out)
    assert re.search(r"Sign in at http://localhost:\d+/admin/ as demo / demo-unipulse", out)
    first = counts()
    assert first["posts"] == 11 and first["published targets"] == 11 and first["accounts"] >= 3
    assert first["conversations"] >= 2 and first["messages"] >= 2

    assert "Published 11 of 11 targets" in demo()
    assert counts() == first  # nothing posted, connected or delivered twice
