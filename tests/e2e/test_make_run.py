"""`make run` as a newcomer starts it: nothing but Python, SQLite, the in-process broker with its worker
threads and scheduler inside the web server, the sandbox as the platforms. It prints where to go,
connects a sandbox Page, publishes through the embedded worker, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

import pytest
import requests

from tests.servers import ROOT, free_port, manage, wait_for

from .test_full_flow import connect

pytestmark = pytest.mark.e2e


def test_make_run_starts_everything_embedded_publishes_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The test run's own settings module and switches are not a newcomer's: manage.py picks unipulse.settings.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SOCIAL_SANDBOX",
                                                          "FACEBOOK_APP_ID", "TIKTOK_CLIENT_KEY",
                                                          "DJANGO_SETTINGS_MODULE")}
    # Only the files and the port differ from a newcomer's run (the repository's db.sqlite3 and .env stay
    # untouched). PUBLIC_BASE_URL is not set: OAuth and the sandbox must follow PORT by themselves.
    env_file = tmp_path / ".env"
    env.pop("PUBLIC_BASE_URL", None)
    env.pop("DEBUG", None)  # `make run` sets it, and writes it to the .env that later commands read
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", PORT=str(port), ENV_FILE=str(env_file),
               FRONTEND_URL=f"{base}/admin/", ALLOWED_HOSTS="127.0.0.1,localhost",
               PUBLISH_POLL_DELAY_SECONDS="2", LOG_LEVEL="INFO")
    proc = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        wait_for(lambda: requests.get(f"{base}/healthz", timeout=2).status_code == 200, timeout=120, interval=0.5)
        out = "".join(lines)
        assert f"UniPulse is starting on {base}/  (admin: {base}/admin/, API docs: {base}/api/v1/docs/)" in out
        assert "Create a login with: .venv/bin/python manage.py createsuperuser" in out
        assert "Embedded mode: DATABASE_URL, in-process broker and scheduler" in out
        assert requests.get(f"{base}/healthz", timeout=5).json() == {"status": "ok", "database": "ok", "broker": "embedded"}
        wait_for(lambda: "Embedded scheduler started: publish_due (* * * * *)" in "".join(lines), timeout=30)
        written = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line and line[0] != "#")
        assert written["DEBUG"] == "true" and written["PORT"] == str(port)
        assert len(written["SECRET_KEY"]) >= 50 and len(written["ENCRYPTION_KEY"]) == 43  # 32 random bytes
        assert oct(env_file.stat().st_mode & 0o777) == "0o600"

        # The commands the README shows work as shown, with nothing but the .env (no DEBUG in the shell) ...
        assert "No changes detected" in manage(env, "makemigrations", "--check", "--dry-run")
        # ... and `make superuser` works without a terminal.
        made = subprocess.run(["make", "--no-print-directory", "superuser"], cwd=ROOT, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120,
                              env={**env, "DJANGO_SUPERUSER_USERNAME": "admin", "DJANGO_SUPERUSER_EMAIL": "a@example.com",
                                   "DJANGO_SUPERUSER_PASSWORD": "pw-admin-12345"})
        assert made.returncode == 0 and "Superuser created successfully." in made.stdout, made.stderr[-2000:]
        assert env_file.read_text().count("SECRET_KEY=") == 1  # a second make target kept the same keys

        token = manage(env, "shell", "-c", (
            "from django.contrib.auth import get_user_model; from rest_framework.authtoken.models import Token;"
            "u = get_user_model().objects.create_user('newcomer', 'n@example.com', 'pw-newcomer-1');"
            "print(Token.objects.create(user=u).key)")).strip().splitlines()[-1]
        stack = {"base": base, "headers": {"Authorization": f"Token {token}"}, "frontend": f"{base}/admin/"}
        page = connect(stack, "facebook")[0]
        created = requests.post(f"{base}/api/v1/posts/", headers=stack["headers"], timeout=30,
                                json={"text": "Hello from make run", "accounts": [page]})
        assert created.status_code == 201, created.text

        def published():
            target = requests.get(f"{base}/api/v1/posts/{created.json()['id']}/", headers=stack["headers"],
                                  timeout=10).json()["targets"][0]
            return target if target["status"] == "published" else None

        target = wait_for(published, timeout=90, interval=1)  # run by the worker threads inside the server
        assert target["platform_post_id"], target
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends to the whole foreground group
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError("make run did not stop within 20 s of Ctrl-C") from None
        reader.join(timeout=5)
    time.sleep(0.5)
    survivors = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert survivors == [], f"processes left after Ctrl-C: {survivors}"
    out = "".join(lines)
    assert "Traceback" not in out, out[-3000:]
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/healthz", timeout=2)
