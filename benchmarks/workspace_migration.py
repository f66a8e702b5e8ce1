"""The workspace data migration on 100,000 accounts and 1,000,000 posts of 10,000 users.

A database at the schema before workspaces is filled with generate_series, then `manage.py migrate`
moves every row into its user's personal workspace. Baseline, measured in the same run on the same
rows: one bare UPDATE of every account and every post (the least any migration touching each row once
can cost). Migrating back is timed too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from benchmarks.common import ROOT, Row

USERS, ACCOUNTS, POSTS = 10_000, 100_000, 1_000_000
LABEL = "Workspace migration (10,000 users, 100,000 accounts, 1,000,000 posts)"
FILLERS = {"boolean": "false", "integer": "0", "bigint": "0", "smallint": "0", "jsonb": "'{}'::jsonb",
           "timestamp with time zone": "now()", "text": "''", "character varying": "''"}


def _url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/unipulse_bench")
    return base.rsplit("/", 1)[0] + "/unipulse_bench_migration"


def _manage(url: str, *args: str) -> float:
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "true"}
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args, "-v0"], env=env, check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _insert(conn, table: str, count: int, given: dict[str, str]) -> None:
    """INSERT count rows; columns not given get a filler for their type when the column needs a value."""
    columns = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s AND is_nullable = 'NO'"
        " AND column_default IS NULL AND is_identity = 'NO'", [table]).fetchall()
    values = {name: FILLERS[kind] for name, kind in columns if name not in given}
    values.update(given)
    names = ", ".join(values)
    conn.execute(f"INSERT INTO {table} ({names}) SELECT {', '.join(values.values())} FROM generate_series(1, {count}) AS i")


def run() -> list[Row]:
    import psycopg

    url = _url()
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "unipulse_bench_migration"')
        conn.execute('CREATE DATABASE "unipulse_bench_migration"')
    _manage(url, "migrate", "--noinput")
    _manage(url, "migrate", "workspaces", "zero", "--noinput")  # the schema before workspaces
    with psycopg.connect(url, autocommit=True) as conn:
        _insert(conn, "auth_user", USERS, {"username": "'user-' || i", "password": "'!'", "date_joined": "now()"})
        first_user = conn.execute("SELECT min(id) FROM auth_user").fetchone()[0]
        _insert(conn, "social_socialaccount", ACCOUNTS, {
            "owner_id": f"{first_user} + (i % {USERS})", "platform": "'facebook'", "external_id": "'page-' || i",
            "scopes": "'[]'::jsonb", "connected_at": "now()", "updated_at": "now()"})
        _insert(conn, "publishing_post", POSTS, {
            "owner_id": f"{first_user} + (i % {USERS})", "text": "'post ' || i", "created_at": "now()",
            "updated_at": "now()"})
        conn.execute("ANALYZE")
    startup = _manage(url, "migrate", "social", "0003", "--noinput")  # nothing to do: Django's start-up and plan
    forward = _manage(url, "migrate", "--noinput") - startup
    with psycopg.connect(url, autocommit=True) as conn:
        moved = conn.execute("SELECT count(*) FROM social_socialaccount WHERE workspace_id IS NOT NULL").fetchone()[0] + \
            conn.execute("SELECT count(*) FROM publishing_post WHERE workspace_id IS NOT NULL").fetchone()[0]
        if moved != ACCOUNTS + POSTS:
            raise RuntimeError(f"only {moved} of {ACCOUNTS + POSTS} rows reached a workspace")
        start = time.perf_counter()
        conn.execute("UPDATE social_socialaccount SET connected_by_id = connected_by_id")
        conn.execute("UPDATE publishing_post SET created_by_id = created_by_id")
        bare = time.perf_counter() - start
    back = _manage(url, "migrate", "workspaces", "zero", "--noinput") - startup
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "unipulse_bench_migration" WITH (FORCE)')
    return [
        Row(LABEL, "migrate forward (wall time, Django start-up excluded)", forward,
            "one bare UPDATE of every account and post", bare, "s"),
        Row(LABEL, "migrate back to per-user ownership", back, "one bare UPDATE of every account and post", bare, "s"),
    ]
