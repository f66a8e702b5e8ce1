"""The admin's background task history (django-dramatiq's AdminMiddleware), one statement per record.

django-dramatiq writes each record with `update_or_create`: a savepoint, a SELECT … FOR UPDATE, an
INSERT or UPDATE and a release, four statements for every message enqueued, started and finished. A
cron run enqueuing 10,000 token refreshes spent most of its time there. The same record here is
one autocommitted `INSERT … ON CONFLICT (id) DO UPDATE` (PostgreSQL and SQLite alike): a new message
inserts its row, a retry or a status change of the same message id updates it. What is recorded is unchanged.

The enqueue commands send thousands of messages at once (unipulse.broker.enqueue_many): inside
`recorded_together()` their "enqueued" rows are kept and written at the end, one
`INSERT … ON CONFLICT (id) DO NOTHING` per 1,000 rows. The messages are already on the queue by then,
so a worker may have written "running" or "done" first: insert-if-absent keeps the worker's status.

Webhook intake sends inside `enqueue_unrecorded()`: no "enqueued" row. The stored WebhookEvent (status
`received`) already records the accepted delivery, and that row was half of the intake's database work
(one round trip of two). The worker's "running" and "done" rows are written as for every message.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django_dramatiq.middleware import AdminMiddleware

logger = logging.getLogger(__name__)

UPDATED = ("status", "message_data", "actor_name", "queue_name", "updated_at")
_together = threading.local()  # .rows: the rows kept by recorded_together() in this thread, else None;
# .unrecorded: inside enqueue_unrecorded()


def _values(message, status: str, data: bytes | None = None) -> dict:
    from django.utils import timezone

    now = timezone.now()
    return {"id": uuid.UUID(message.message_id), "status": status, "created_at": now, "updated_at": now,
            "message_data": data or message.encode(), "actor_name": message.actor_name,
            "queue_name": message.queue_name}


def note_encoded(message, data: bytes) -> None:
    """Inside recorded_together(): the broker already encoded this message; its row reuses the bytes
    (encoding is a JSON dump per message, a tenth of a 10,000-message batch's time when done twice)."""
    encoded = getattr(_together, "encoded", None)
    if encoded is not None:
        encoded[message.message_id] = data


def record(message, status: str) -> None:
    """Upsert the message's row in one autocommitted statement: no transaction around it (bulk_create's
    BEGIN and COMMIT were two more round trips on every enqueue, the larger part of a webhook's intake)."""
    from django_dramatiq.models import DATABASE_LABEL, Task

    from .db import insert_on_conflict

    values = _values(message, status)
    _contained(lambda: insert_on_conflict(Task, values, conflict="id", update=UPDATED, using=DATABASE_LABEL))


@contextmanager
def recorded_together() -> Iterator[None]:
    """Keep the "enqueued" rows of the messages this thread sends inside; at the exit (also after a refusal:
    what went is recorded) insert the ones still absent, one statement per 1,000 rows."""
    from django_dramatiq.models import DATABASE_LABEL, Task

    from .db import insert_many_if_absent

    if getattr(_together, "rows", None) is not None:  # nested: the outer block writes them
        yield
        return
    rows = _together.rows = []
    _together.encoded = {}
    try:
        yield
    finally:
        _together.rows = _together.encoded = None
        if rows:
            _contained(lambda: insert_many_if_absent(Task, rows, conflict="id", using=DATABASE_LABEL))


@contextmanager
def enqueue_unrecorded() -> Iterator[None]:
    """Messages sent by this thread inside get no "enqueued" row (for senders whose own row is the record)."""
    previous = getattr(_together, "unrecorded", False)
    _together.unrecorded = True
    try:
        yield
    finally:
        _together.unrecorded = previous


def _contained(write: Callable[[], object]) -> None:
    from django.db import connections, transaction
    from django_dramatiq.models import DATABASE_LABEL

    if connections[DATABASE_LABEL].in_atomic_block:
        # Inside someone's transaction a failed write must not abort it (PostgreSQL refuses every later
        # statement): a savepoint, as django-dramatiq's own write had. Sends after commit need none.
        with transaction.atomic(using=DATABASE_LABEL):
            write()
        return
    write()


class TaskHistoryMiddleware(AdminMiddleware):
    def after_enqueue(self, broker, message, delay):
        from django_dramatiq.models import Task

        if getattr(_together, "unrecorded", False) and not delay:
            return
        rows = getattr(_together, "rows", None)
        if rows is not None and not delay:
            rows.append(_values(message, Task.STATUS_ENQUEUED, _together.encoded.pop(message.message_id, None)))
            return
        record(message, Task.STATUS_DELAYED if delay else Task.STATUS_ENQUEUED)

    def before_process_message(self, broker, message):
        from django_dramatiq.models import Task

        record(message, Task.STATUS_RUNNING)

    def after_process_message(self, broker, message, *, result=None, exception=None, status=None):
        from django_dramatiq.models import Task

        if exception is not None:
            # AdminMiddleware's own handling: the traceback goes into the stored message.
            return super().after_process_message(broker, message, result=result, exception=exception, status=status)
        record(message, status or Task.STATUS_DONE)
