"""One-statement upserts Django's ORM cannot write without extra round trips.

`bulk_create(..., ignore_conflicts=True)` cannot say which row it inserted, and `update_conflicts=True`
wraps the INSERT in a transaction (BEGIN and COMMIT: two more round trips in autocommit). Both callers
here sit on hot paths (every webhook delivery, every enqueued message), so they use one statement;
`insert_many_if_absent` writes a batch of rows in one statement per 1,000 (the enqueue commands).
PostgreSQL and SQLite (>= 3.35) both speak this syntax.
"""

from __future__ import annotations

import json
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
    fields, sql = _upsert_statement(model, tuple(values), conflict, tuple(update), returning, using)
    params = [field.get_db_prep_save(values[field.name], connection) for field in fields]
    retry = not connection.in_atomic_block  # in a transaction a dead connection is the caller's to handle
    while True:
        try:
            with _statement_cursor(connection, health_check=not retry) as cursor:
                cursor.execute(sql, params)
                row = cursor.fetchone() if returning else None
            return row[0] if row else None
        except (OperationalError, InterfaceError):
            if not (retry and _is_dead(connection)):
                raise
            retry = False
            connection.close()  # died while idle: the next attempt opens a new one


def _is_dead(connection) -> bool:
    raw = connection.connection
    return raw is None or bool(getattr(raw, "closed", False)) or bool(getattr(raw, "broken", False))


@lru_cache(maxsize=64)
def _upsert_statement(model, names: tuple[str, ...], conflict: str, update: tuple[str, ...],
                      returning: str | None, using: str) -> tuple[list, str]:
    """(the fields, the SQL) for insert_on_conflict, built once per shape: the hot callers repeat one."""
    meta, quote = model._meta, connections[using].ops.quote_name
    fields = [meta.get_field(name) for name in names]

    def column(name: str) -> str:
        return quote(meta.get_field(name).column)

    action = ("DO UPDATE SET " + ", ".join(f"{column(n)} = excluded.{column(n)}" for n in update)) if update \
        else "DO NOTHING"
    # Only names from the model's own metadata are interpolated; every value is a parameter.
    sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT ({column(conflict)}) {action}"
           + (f" RETURNING {column(returning)}" if returning else ""))
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
