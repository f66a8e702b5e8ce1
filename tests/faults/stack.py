"""The whole product for fault tests: a fresh database on the private PostgreSQL, a private Redis,
gunicorn serving the API and the built-in sandbox platforms, and a Dramatiq worker that can be killed.

The database is also read directly (psycopg) to count what the sandbox platforms hold: a manage.py
shell per question would cost seconds of start-up each on a shared 2-core machine.
"""

from __future__ import annotations

import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import requests

from tests.servers import DramatiqWorker, Gunicorn, PrivateRedis, free_port, manage, server_env, wait_for

IMAGE = "https://cdn.example.com/photo-{}.jpg"
VIDEO = "https://cdn.example.com/clip.mp4"


class Stack:
    def __init__(self, pg, redis: PrivateRedis, **extra: str) -> None:
        self.pg, self.redis = pg, redis
        self.db = f"unipulse_faults_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(pg.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db}"')
        self.dsn = pg.url.rsplit("/", 1)[0] + "/" + self.db
        port = free_port()
        self.frontend = f"http://127.0.0.1:{port}/admin/"
        self.env = server_env(self.dsn, redis.url, SOCIAL_SANDBOX="true", PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
                              FRONTEND_URL=self.frontend, ALLOWED_HOSTS="127.0.0.1", LOG_LEVEL="WARNING",
                              META_CALLS_PER_HOUR="5000", **extra)
        manage(self.env, "migrate", "--noinput")
        token = manage(self.env, "shell", "-c", (
            "from django.contrib.auth import get_user_model; from rest_framework.authtoken.models import Token;"
            "u = get_user_model().objects.create_user('faults', 'faults@example.com', 'pw-faults-12345');"
            "u.is_staff = u.is_superuser = True; u.save();"
            "print(Token.objects.create(user=u).key)"
        )).strip().splitlines()[-1]
        self.headers = {"Authorization": f"Token {token}"}
        # Every request gunicorn served, the sandbox's platform calls included: what the platforms received.
        self.access_log = Path(tempfile.mkdtemp(prefix="unipulse-faults-")) / "access.log"
        self.server = Gunicorn(self.env, workers=2, threads=4, port=port, access_log=str(self.access_log))
        self.base = self.server.base
        self.worker: DramatiqWorker | None = None

    def __getitem__(self, key: str):  # tests.e2e helpers take the e2e stack's dict
        return getattr(self, key)

    # ---- processes
    def start_worker(self) -> DramatiqWorker:
        self.worker = DramatiqWorker(self.env)
        return self.worker

    def close(self) -> None:
        if self.worker:
            self.worker.stop()
        self.server.stop()
        with psycopg.connect(self.pg.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')

    # ---- HTTP
    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, self.base + path, headers={**self.headers, **kwargs.pop("headers", {})},
                                timeout=30, **kwargs)

    def inject(self, **failure) -> None:
        response = requests.post(self.base + "/sandbox/control/failures", json=failure, headers=self.headers, timeout=10)
        assert response.status_code == 201, response.text

    def pending_failures(self) -> list[dict]:
        return requests.get(self.base + "/sandbox/control/failures", headers=self.headers, timeout=10).json()["failures"]

    def clear_failures(self) -> None:
        requests.delete(self.base + "/sandbox/control/failures", headers=self.headers, timeout=10)

    def accounts(self) -> dict[str, list[dict]]:
        accounts = self.api("GET", "/api/v1/accounts/?page_size=200").json()["results"]
        return {p: [a for a in accounts if a["platform"] == p] for p in ("facebook", "instagram", "tiktok")}

    def account(self, account_id: int) -> dict:
        return self.api("GET", f"/api/v1/accounts/{account_id}/").json()

    def create_post(self, body: dict) -> dict:
        response = self.api("POST", "/api/v1/posts/", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def target(self, post_id: int) -> dict:
        return self.api("GET", f"/api/v1/posts/{post_id}/").json()["targets"][0]

    def wait_target(self, post_id: int, statuses=("published", "failed", "unconfirmed"), timeout: float = 90) -> dict:
        return wait_for(lambda: (t := self.target(post_id))["status"] in statuses and t, timeout=timeout, interval=0.5)

    def platform_calls(self, marker: str) -> int:
        """Requests the sandbox received whose path contains `marker` (e.g. "/sandbox/graph/")."""
        if not self.access_log.exists():
            return 0
        return sum(marker in line for line in self.access_log.read_text().splitlines())

    # ---- the database (product and sandbox tables)
    def sql(self, query: str, *params):
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else cursor.rowcount

    def one(self, query: str, *params):
        return self.sql(query, *params)[0][0]


@contextmanager
def running_stack(pg, redis, **extra: str):
    stack = Stack(pg, redis, **extra)
    try:
        yield stack
    finally:
        stack.close()


def connect_all(stack: Stack) -> dict[str, list[dict]]:
    """Connect the sandbox's Facebook Pages (with their Instagram accounts) and its TikTok creator over OAuth."""
    from tests.e2e.test_full_flow import connect

    connect(stack, "facebook")
    connect(stack, "tiktok")
    return stack.accounts()
