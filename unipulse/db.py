"""One-statement upserts Django's ORM cannot write without extra round trips.

`bulk_create(..., ignore_conflicts=True)` cannot say which row it inserted, and `update_conflicts=True`
wraps the INSERT in a transaction (BEGIN and COMMIT: two more round trips in autocommit). Both callers
here sit on hot paths (every webhook delivery, every enqueued message), so they use one statement;
`insert_many_if_absent` writes a batch of rows in one statement per 1,000 (the enqueue commands).
PostgreSQL and SQLite (>= 3.35) both speak this syntax.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections


def insert_on_conflict(model, values: dict, *, conflict: str, update: Sequence[str] = (),
                       returning: str | None = None, using: str = "default"):
    """INSERT `values` (field name -> value) into `model`'s table; on a clash on the unique `conflict`
    field do nothing, or, with `update`, set those fields from the new row. Returns the `returning`
    field of the inserted (or updated) row, None when nothing was written or nothing was asked."""
    connection = connections[using]
    meta, quote = model._meta, connection.ops.quote_name
    fields = [meta.get_field(name) for name in values]

    def column(name: str) -> str:
        return quote(meta.get_field(name).column)

    action = ("DO UPDATE SET " + ", ".join(f"{column(n)} = excluded.{column(n)}" for n in update)) if update \
        else "DO NOTHING"
    # Only names from the model's own metadata are interpolated; every value is a parameter.
    sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT ({column(conflict)}) {action}"
           + (f" RETURNING {column(returning)}" if returning else ""))
    with connection.cursor() as cursor:
        cursor.execute(sql, [f.get_db_prep_save(values[f.name], connection) for f in fields])
        row = cursor.fetchone() if returning else None
    return row[0] if row else None


def insert_many_if_absent(model, rows: Sequence[dict], *, conflict: str, using: str = "default",
                          batch_size: int = 1000) -> None:
    """INSERT `rows` (each field name -> value, the same fields in each) into `model`'s table, one
    statement per `batch_size` rows, skipping every row whose unique `conflict` field is already there
    (ON CONFLICT DO NOTHING: an existing row is never changed). No transaction of its own."""
    if not rows:
        return
    connection = connections[using]
    meta, quote = model._meta, connection.ops.quote_name
    fields = [meta.get_field(name) for name in rows[0]]
    placeholder = f"({', '.join(['%s'] * len(fields))})"
    head = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES ")  # noqa: S608
    tail = f" ON CONFLICT ({quote(meta.get_field(conflict).column)}) DO NOTHING"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            batch = rows[start:start + batch_size]
            params = [f.get_db_prep_save(row[f.name], connection) for row in batch for f in fields]
            cursor.execute(head + ", ".join([placeholder] * len(batch)) + tail, params)
