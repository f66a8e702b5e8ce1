"""One-statement upserts Django's ORM cannot write without extra round trips.

`bulk_create(..., ignore_conflicts=True)` cannot say which row it inserted, and `update_conflicts=True`
wraps the INSERT in a transaction (BEGIN and COMMIT: two more round trips in autocommit). Both callers
here sit on hot paths (every webhook delivery, every enqueued message), so they use one statement;
`insert_many_if_absent` writes a batch of rows in one statement per 1,000 (the enqueue commands).
PostgreSQL and SQLite (>= 3.35) both speak this syntax.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from functools import lru_cache

from django.db import InterfaceError, OperationalError, connections


def insert_on_conflict(model, values: dict, *, conflict: str, update: Sequence[str] = (),
                       returning: str | None = None, using: str = "default"):
    """INSERT `values` (field name -> value) into `model`'s table; on a clash on the unique `conflict`
    field do nothing, or, with `update`, set those fields from the new row. Returns the `returning`
    field of the inserted (or updated) row, None when nothing was written or nothing was asked.

    The statement is idempotent (a second run inserts nothing new, or sets the same values), so outside
    a transaction it skips the persistent connection's health check (a `SELECT 1` before the first
    query of each request: a third of the webhook intake's database CPU) and instead, when the
    connection turns out dead (the server restarted, a proxy dropped it), reconnects and runs once more.
    On PostgreSQL the parameters are bound by the server: psycopg's client-side quoting of a webhook
    body cost more CPU than the rest of the statement's client side together.
    """
    connection = connections[using]
    fields, sql = _upsert_statement(model, tuple(values), conflict, tuple(update), (returning,) if returning else (), using)
    params = [field.get_db_prep_save(values[field.name], connection) for field in fields]
    rows = _run_idempotent(connection, sql, params)
    return rows[0][0] if returning and rows else None


def _run_idempotent(connection, sql: str, params: list) -> list[tuple]:
    """Run one idempotent statement and return the rows it returned (none for no RETURNING): outside a
    transaction without the health check, reconnecting once if the connection proves dead."""
    retry = not connection.in_atomic_block  # in a transaction a dead connection is the caller's to handle
    while True:
        try:
            with _statement_cursor(connection, health_check=not retry) as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        except (OperationalError, InterfaceError):
            if not (retry and _is_dead(connection)):
                raise
            retry = False
            connection.close()  # died while idle: the next attempt opens a new one


def _is_dead(connection) -> bool:
    raw = connection.connection
    return raw is None or bool(getattr(raw, "closed", False)) or bool(getattr(raw, "broken", False))


@lru_cache(maxsize=256)
def _upsert_statement(model, names: tuple[str, ...], conflict: str, update: tuple[str, ...],
                      returning: tuple[str, ...], using: str, rows: int = 1) -> tuple[list, str]:
    """(the fields, the SQL) of an INSERT of `rows` rows of `names`, built once per shape: the hot callers
    repeat one (insert_on_conflict one row, GroupedInsert one statement per batch size)."""
    meta, quote = model._meta, connections[using].ops.quote_name
    fields = [meta.get_field(name) for name in names]

    def column(name: str) -> str:
        return quote(meta.get_field(name).column)

    action = ("DO UPDATE SET " + ", ".join(f"{column(n)} = excluded.{column(n)}" for n in update)) if update \
        else "DO NOTHING"
    values = ", ".join([f"({', '.join(['%s'] * len(fields))})"] * rows)
    # Only names from the model's own metadata are interpolated; every value is a parameter.
    sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
           f"VALUES {values} ON CONFLICT ({column(conflict)}) {action}"
           + (f" RETURNING {', '.join(column(name) for name in returning)}" if returning else ""))
    return fields, sql


def _statement_cursor(connection, *, health_check: bool):
    """A Django cursor (query logging and execute wrappers included, as connection.cursor() gives), over
    a server-binding psycopg cursor on PostgreSQL; without the health check when `health_check` is False."""
    if health_check:
        connection.close_if_health_check_failed()
    connection.ensure_connection()
    if connection.vendor != "postgresql":
        with connection.wrap_database_errors:
            return connection._prepare_cursor(connection.create_cursor())
    from django.db.backends.postgresql.base import (
        TIMESTAMPTZ_OID,
        Format,
        ServerBindingCursor,
        register_tzloader,
    )

    with connection.wrap_database_errors:
        cursor = ServerBindingCursor(connection.connection)
        if connection.timezone != connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT).timezone:
            register_tzloader(connection.timezone, cursor)  # as Django's own create_cursor does
        return connection._prepare_cursor(cursor)


def insert_many_if_absent(model, rows: Sequence[dict], *, conflict: str, using: str = "default",
                          batch_size: int = 1000) -> None:
    """INSERT `rows` (each field name -> value, the same fields in each) into `model`'s table, one
    statement per `batch_size` rows, skipping every row whose unique `conflict` field is already there
    (ON CONFLICT DO NOTHING: an existing row is never changed). No transaction of its own.

    PostgreSQL gets the batch as one JSON parameter (`json_populate_recordset`): a VALUES list of 7,000
    placeholders, or one array per column, cost psycopg more to adapt than the server took to insert."""
    if not rows:
        return
    connection = connections[using]
    meta, quote = model._meta, connection.ops.quote_name
    fields = [meta.get_field(name) for name in rows[0]]
    columns = ", ".join(quote(f.column) for f in fields)
    # Only names from the model's own metadata are interpolated; every value is a parameter.
    head = f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608
    tail = f" ON CONFLICT ({quote(meta.get_field(conflict).column)}) DO NOTHING"
    postgres = connection.vendor == "postgresql"
    converters = [(f, _json_converter(f.get_internal_type())) for f in fields]
    from_json = f"SELECT {columns} FROM json_populate_recordset(NULL::{quote(meta.db_table)}, %s)"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            batch = rows[start:start + batch_size]
            if postgres:
                records = json.dumps([{f.column: to_json(row[f.name]) for f, to_json in converters} for row in batch])
                cursor.execute(head + from_json + tail, [records])
            else:
                placeholder = f"({', '.join(['%s'] * len(fields))})"
                params = [f.get_db_prep_save(row[f.name], connection) for row in batch for f in fields]
                cursor.execute(head + "VALUES " + ", ".join([placeholder] * len(batch)) + tail, params)


def _json_converter(internal_type: str):
    """How a value of this field type goes into JSON text that PostgreSQL reads back into its column."""
    if internal_type == "BinaryField":
        return lambda value: None if value is None else "\\x" + bytes(value).hex()  # bytea's hex input form
    if internal_type in ("UUIDField", "DateTimeField", "DateField"):
        return lambda value: None if value is None else str(value)
    return lambda value: value


class _Slot:
    __slots__ = ("values", "params", "key", "ready", "lead", "done", "result", "alone")

    def __init__(self, values: dict, params: list, key) -> None:
        self.values, self.params, self.key = values, params, key
        self.ready = threading.Lock()  # held until the row is written or the slot is to lead: released once
        self.ready.acquire()
        self.lead = self.done = self.alone = False
        self.result = None


class GroupedInsert:
    """INSERT ... ON CONFLICT (`conflict`) DO NOTHING RETURNING `returning`, one row per call, where the
    rows that threads of this process want written at the same moment go as one multi-row statement:
    group commit, done in the application.

    Each autocommitted single-row INSERT costs PostgreSQL a commit (a WAL flush) and the process a round
    trip; the webhook intake spends most of its time there (docs/operations.md). The first thread to
    arrive writes its row at once, on its own connection; threads arriving while that statement runs
    queue up, and the first of them, once woken, writes all of them in one statement. A thread returns
    only after the statement holding its row has committed, so a 200 still means the row is stored.
    If that statement fails, each thread writes its own row alone (insert_on_conflict): a bad row never
    costs its neighbours theirs. Inside a transaction, or on another database than PostgreSQL, `insert`
    is plain insert_on_conflict.
    """

    WAIT_SECONDS = 10  # a follower waiting longer than this writes its row itself (the INSERT is idempotent)

    def __init__(self, model, fields: Sequence[str], *, conflict: str, returning: str, using: str = "default",
                 max_rows: int = 100) -> None:
        self.model, self.names, self.conflict, self.returning = model, tuple(fields), conflict, returning
        self.using, self.max_rows = using, max_rows
        self._lock = threading.Lock()
        self._queue: list[_Slot] = []
        self._busy = False  # a thread is writing (or about to write) the head of the queue
        self.statements = 0  # multi-row statements run, for the tests and the benchmark's notes

    def insert(self, values: dict):
        """Write `values` (exactly the fields named at construction); return the new row's `returning`, or
        None when a row with that `conflict` value exists (as insert_on_conflict)."""
        if tuple(values) != self.names:
            raise ValueError(f"GroupedInsert of {self.model.__name__} takes the fields {self.names}, in that order.")
        connection = connections[self.using]
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return insert_on_conflict(self.model, values, conflict=self.conflict, returning=self.returning,
                                      using=self.using)
        fields, _ = _upsert_statement(self.model, self.names, self.conflict, (), (), self.using)
        slot = _Slot(values, [field.get_db_prep_save(values[field.name], connection) for field in fields],
                     values[self.conflict])
        with self._lock:
            self._queue.append(slot)
            slot.lead = not self._busy
            self._busy = True
        if not slot.lead and not self._wait(slot):
            slot.alone = True
        if slot.lead and not (slot.done or slot.alone):  # first to arrive, or promoted by the last writer
            self._write_head(connection, slot)
        if slot.alone:
            return insert_on_conflict(self.model, slot.values, conflict=self.conflict, returning=self.returning,
                                      using=self.using)
        return slot.result

    def _wait(self, slot: _Slot) -> bool:
        """Wait until another thread wrote this row (True), or this thread is to lead (it writes; True);
        False when the wait timed out and the row was taken off the queue (the caller writes it alone)."""
        if not slot.ready.acquire(timeout=self.WAIT_SECONDS):
            with self._lock:
                if not slot.lead and slot in self._queue:  # neither written nor promoted meanwhile
                    self._queue.remove(slot)
                    return False
            slot.ready.acquire()  # written or promoted meanwhile: the release is on its way
        return True

    def _write_head(self, connection, own: _Slot) -> None:
        """Write the queue's head (`own` row first) in one statement, hand over to the next, wake the rest."""
        with self._lock:
            batch, self._queue = self._queue[:self.max_rows], self._queue[self.max_rows:]
        try:
            _, sql = _upsert_statement(self.model, self.names, self.conflict, (), (self.returning, self.conflict),
                                       self.using, rows=len(batch))
            rows = _run_idempotent(connection, sql, [param for slot in batch for param in slot.params])
            self.statements += 1
            written = {key: result for result, key in rows}
            for slot in batch:  # the first of two rows with one key got it; the second is a repeat (None)
                slot.result = written.pop(slot.key, None)
                slot.done = True
        except Exception:  # noqa: BLE001, S110 - every row of the batch is written again alone, by its own thread
            pass
        finally:
            for slot in batch:
                slot.alone = not slot.done
            with self._lock:
                if self._queue:
                    self._queue[0].lead = True  # the next writer
                    wake = [*(slot for slot in batch if slot is not own), self._queue[0]]
                else:
                    self._busy = False
                    wake = [slot for slot in batch if slot is not own]
            for slot in wake:
                slot.ready.release()

