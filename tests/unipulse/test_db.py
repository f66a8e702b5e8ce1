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


# --- GroupedInsert: concurrent single-row INSERTs of one process as one statement (group commit) ---------

FIELDS = ("platform", "topic", "body", "headers", "dedupe_key", "received_at", "attempts", "is_sandbox", "status",
          "error")


def _grouped(**kwargs):
    from unipulse.db import GroupedInsert

    return GroupedInsert(WebhookEvent, FIELDS, conflict="dedupe_key", returning="id", **kwargs)


def _in_threads(grouped, events: list[dict], hold_first_until_queued: int = 0, hold_seconds: float = 0.0):
    """Insert each event from its own thread (its own connection, autocommit, as request threads do), the
    first statement held until `hold_first_until_queued` rows wait behind it (or `hold_seconds` pass).
    Returns each thread's result (or the exception it raised), in the events' order."""
    import threading
    import time

    import unipulse.db as db

    run, held = db._run_idempotent, threading.Event()

    def holding(connection, sql, params):
        if not held.is_set():
            held.set()
            deadline = time.monotonic() + (hold_seconds or 10)
            while len(grouped._queue) < hold_first_until_queued and time.monotonic() < deadline:
                time.sleep(0.005)
            if hold_seconds:
                time.sleep(max(0.0, deadline - time.monotonic()))
        return run(connection, sql, params)

    results: list = [None] * len(events)

    def write(index: int) -> None:
        try:
            results[index] = grouped.insert(events[index])
        except Exception as error:  # noqa: BLE001 - returned for the test to look at
            results[index] = error
        finally:
            connection.close()

    db._run_idempotent = holding
    try:
        first = threading.Thread(target=write, args=(0,))
        first.start()
        held.wait(10)
        others = [threading.Thread(target=write, args=(i,)) for i in range(1, len(events))]
        for thread in others:
            thread.start()
            time.sleep(0.002)
        for thread in [first, *others]:
            thread.join(30)
    finally:
        db._run_idempotent = run
    return results


def _row(key: str, **changes) -> dict:
    return {**_event(key), **changes}  # _event's fields are FIELDS, in that order


@postgres_only
def test_rows_arriving_while_a_statement_runs_go_in_one_statement_and_each_thread_gets_its_own_id():
    grouped = _grouped()
    events = [_row(f"{n:064d}") for n in range(6)]
    results = _in_threads(grouped, events, hold_first_until_queued=5)
    assert grouped.statements == 2  # the first row alone, then the five that queued behind it
    stored = dict(WebhookEvent.objects.values_list("dedupe_key", "id"))
    assert results == [stored[event["dedupe_key"]] for event in events]
    assert len(set(results)) == 6


@postgres_only
def test_two_rows_with_one_key_in_a_batch_are_one_row_and_the_second_is_a_repeat():
    grouped = _grouped()
    events = [_row("1" * 64), _row("2" * 64), _row("2" * 64)]
    results = _in_threads(grouped, events, hold_first_until_queued=2)
    assert grouped.statements == 2
    assert WebhookEvent.objects.count() == 2
    assert results[1] == WebhookEvent.objects.get(dedupe_key="2" * 64).pk and results[2] is None


@postgres_only
def test_a_bad_row_fails_alone_and_its_batch_neighbours_are_written():
    from django.db import DataError

    grouped = _grouped()
    events = [_row("3" * 64), _row("4" * 64), _row("5" * 64, topic="x" * 65), _row("6" * 64)]  # topic is 64 at most
    results = _in_threads(grouped, events, hold_first_until_queued=3)
    assert isinstance(results[2], DataError)
    assert sorted(WebhookEvent.objects.values_list("dedupe_key", flat=True)) == ["3" * 64, "4" * 64, "6" * 64]
    stored = dict(WebhookEvent.objects.values_list("dedupe_key", "id"))
    assert [results[0], results[1], results[3]] == [stored["3" * 64], stored["4" * 64], stored["6" * 64]]


@postgres_only
def test_a_follower_that_waits_too_long_writes_its_row_itself_and_the_queue_keeps_moving():
    grouped = _grouped()
    grouped.WAIT_SECONDS = 0.2
    results = _in_threads(grouped, [_row("7" * 64), _row("8" * 64)], hold_seconds=1.0)
    stored = dict(WebhookEvent.objects.values_list("dedupe_key", "id"))
    assert results == [stored["7" * 64], stored["8" * 64]]
    assert grouped.statements == 1 and grouped._queue == [] and grouped._busy is False
    assert grouped.insert(_row("9" * 64)) == WebhookEvent.objects.get(dedupe_key="9" * 64).pk  # not stuck


def test_inside_a_transaction_or_off_postgresql_it_is_one_plain_statement():
    grouped = _grouped()
    with transaction.atomic():
        pk = grouped.insert(_row("a1" * 32))
    assert pk == WebhookEvent.objects.get().pk and grouped.statements == 0


def test_other_fields_than_the_ones_it_was_made_for_are_refused():
    with pytest.raises(ValueError, match="takes the fields"):
        _grouped().insert({"platform": "meta", "dedupe_key": "b" * 64})
