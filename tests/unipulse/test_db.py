"""unipulse.db.insert_on_conflict: one idempotent statement, no health check in autocommit, one reconnect
when the persistent connection died while idle, and exact values whichever side binds them."""

from __future__ import annotations

import psycopg
import pytest
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from conversations.models import WebhookEvent
from unipulse.db import insert_on_conflict

pytestmark = pytest.mark.django_db(transaction=True)  # autocommit, as a request runs it

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="a server connection to kill")


def _event(key: str, body: str = "{}") -> dict:
    return {"platform": "meta", "topic": "page", "body": body, "headers": {"User-Agent": "test"}, "dedupe_key": key,
            "received_at": timezone.now(), "attempts": 0, "is_sandbox": False, "status": "received", "error": ""}


def _insert(key: str, body: str = "{}"):
    return insert_on_conflict(WebhookEvent, _event(key, body), conflict="dedupe_key", returning="id")


def _terminate_own_backend() -> None:
    """As a server restart or a proxy's idle timeout does: the connection Django keeps is dead."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_a_repeat_inserts_nothing_and_returns_none():
    first = _insert("a" * 64)
    assert isinstance(first, int)
    assert _insert("a" * 64) is None
    assert list(WebhookEvent.objects.values_list("id", flat=True)) == [first]


def test_quotes_percent_signs_backslashes_and_non_ascii_are_stored_exactly():
    body = '{"m": "it\'s 100% \\\\ ok; --", "e": "\u00e9\u4e2d\U0001f600", "s": "%s %(x)s $1"}'
    pk = _insert("b" * 64, body)
    assert WebhookEvent.objects.get(pk=pk).body == body


@pytest.fixture
def health_checks():
    """CONN_HEALTH_CHECKS on (as in production) for the open connection; each check is counted."""
    WebhookEvent.objects.exists()  # a connection is open, as it stays between requests
    checks: list[int] = []
    enabled, usable = connection.health_check_enabled, connection.is_usable
    connection.health_check_enabled = True
    connection.is_usable = lambda: checks.append(1) or usable()
    try:
        yield checks
    finally:
        connection.health_check_enabled = enabled
        del connection.is_usable


def test_outside_a_transaction_the_statement_skips_the_health_check_and_later_queries_keep_it(health_checks):
    checks = health_checks
    connection.close_if_unusable_or_obsolete()  # what a new request does: "check before the next query"
    _insert("c" * 64)
    assert checks == []  # no SELECT 1 before the idempotent statement
    WebhookEvent.objects.exists()
    assert checks == [1]  # the request's other queries are still checked


def test_inside_a_transaction_the_health_check_is_kept(health_checks):
    checks = health_checks
    connection.close_if_unusable_or_obsolete()
    with transaction.atomic():
        _insert("d" * 64)
    assert checks == [1]


@postgres_only
def test_a_connection_that_died_while_idle_is_reopened_and_the_row_written_once():
    _insert("e" * 64)
    _terminate_own_backend()
    pk = _insert("f" * 64)
    assert isinstance(pk, int)
    assert sorted(WebhookEvent.objects.values_list("dedupe_key", flat=True)) == ["e" * 64, "f" * 64]


@postgres_only
def test_inside_a_transaction_a_dead_connection_is_the_callers_error():
    WebhookEvent.objects.exists()
    with pytest.raises(OperationalError):
        with transaction.atomic():
            _terminate_own_backend()
            _insert("g" * 64)
    connection.close()
    assert not WebhookEvent.objects.exists()
