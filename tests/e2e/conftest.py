"""The running product for end-to-end tests: PostgreSQL (a fresh database), a private Redis,
gunicorn and a Dramatiq worker, with the built-in sandbox as the three platforms."""

import uuid

import psycopg
import pytest

from tests.servers import DramatiqWorker, Gunicorn, PrivateRedis, free_port, manage, server_env

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def stack():
    db = f"unipulse_e2e_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    redis = PrivateRedis()
    redis.start()
    port = free_port()
    frontend = f"http://127.0.0.1:{port}/admin/"  # where OAuth results land; the admin stands in for a frontend
    env = server_env(f"postgres://postgres@127.0.0.1:5432/{db}", redis.url, SOCIAL_SANDBOX="true",
                     PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", FRONTEND_URL=frontend, ALLOWED_HOSTS="127.0.0.1",
                     PUBLISH_POLL_DELAY_SECONDS="2", LOG_LEVEL="WARNING",
                     # An hour of use squeezed into a minute: the hourly Meta budget (200) would pause analytics.
                     META_CALLS_PER_HOUR="5000",
                     # The e2e webhook receiver listens on 127.0.0.1 over plain http (development settings).
                     WEBHOOK_ALLOW_HTTP="true", WEBHOOK_ALLOW_PRIVATE_ADDRESSES="true")
    manage(env, "migrate", "--noinput")
    token = manage(env, "shell", "-c", (
        "from django.contrib.auth import get_user_model; from rest_framework.authtoken.models import Token;"
        "u = get_user_model().objects.create_user('e2e', 'e2e@example.com', 'pw-e2e-12345');"
        "u.is_staff = u.is_superuser = True; u.save();"
        "print(Token.objects.create(user=u).key)"
    )).strip().splitlines()[-1]
    server = Gunicorn(env, workers=2, threads=4, port=port)
    worker = DramatiqWorker(env)
    try:
        yield {"base": server.base, "env": env, "headers": {"Authorization": f"Token {token}"}, "frontend": frontend,
               "username": "e2e", "password": "pw-e2e-12345"}
    finally:
        worker.stop()
        server.stop()
        redis.stop()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def new_login(stack, username: str) -> dict:
    """A new user with an API token; returns the headers that sign in as them."""
    token = manage(stack["env"], "shell", "-c", (
        "from django.contrib.auth import get_user_model; from rest_framework.authtoken.models import Token;"
        f"u = get_user_model().objects.create_user({username!r}, {username + '@example.com'!r}, 'pw-team-12345');"
        "print(Token.objects.create(user=u).key)")).strip().splitlines()[-1]
    return {"Authorization": f"Token {token}"}
