"""Dramatiq broker helpers.

django-dramatiq builds the broker from settings.DRAMATIQ_BROKER at start-up:
- REDIS_URL set: Dramatiq's RedisBroker; `manage.py rundramatiq` workers consume the five queues.
- no REDIS_URL ("embedded"): an in-process broker. Web processes start worker threads here
  (`start_embedded_worker`, called from wsgi.py), and management commands that enqueue work run it
  to completion before they exit (`drain_embedded`), so nothing sent is lost in a process with no worker.
"""

from __future__ import annotations

import atexit
import logging
import sys
import threading
import time
from collections.abc import Sequence
from uuid import uuid4

import dramatiq
from django.conf import settings
from django.core.management.base import CommandError
from django.utils.module_loading import autodiscover_modules
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis
from redis.exceptions import NoScriptError

from .progress import ProgressBar

logger = logging.getLogger(__name__)

_worker: dramatiq.Worker | None = None
_lock = threading.Lock()

BATCH_SIZE = 1000  # messages per pipelined Redis round trip and per task-history INSERT
LINGER_SECONDS = 0.02  # how long the background sender waits for more messages to join a batch (it never delays a 200)


def is_embedded() -> bool:
    return settings.BROKER_MODE == "embedded"


def import_actors() -> None:
    """Declare every installed app's actors on the current broker (a worker must know them to consume
    their queues). Found as `rundramatiq` finds them (DRAMATIQ_AUTODISCOVER_MODULES), so this ground
    module names no app."""
    for module in settings.DRAMATIQ_AUTODISCOVER_MODULES:
        autodiscover_modules(module)


def start_embedded_worker() -> dramatiq.Worker | None:
    """Start worker threads inside this process when running on the in-process broker. Idempotent."""
    global _worker
    if not is_embedded():
        return None
    with _lock:
        if _worker is None:
            import_actors()
            _worker = dramatiq.Worker(dramatiq.get_broker(), worker_threads=settings.EMBEDDED_WORKER_THREADS, worker_timeout=100)
            _worker.start()
            atexit.register(stop_embedded_worker)  # Ctrl-C: let running jobs finish their step
            logger.info("Embedded Dramatiq worker started with %d threads", settings.EMBEDDED_WORKER_THREADS)
    return _worker


def stop_embedded_worker() -> None:
    global _worker
    with _lock:
        if _worker is not None:
            _worker.stop()
            _worker = None


class JobReport(dramatiq.Middleware):
    """While a command drains its jobs: each failed attempt is written to the command's stream as it
    happens, and the last outcome of every message is kept for the command's exit code."""

    def __init__(self) -> None:
        self.stream = None
        self.last_failure: dict[str, str] = {}

    def after_process_message(self, broker, message, *, result=None, exception=None):
        if self.stream is None:
            return
        if exception is None:
            self.last_failure.pop(message.message_id, None)
            return
        from .platform_errors import PlatformError  # its text is safe to show (never a token or body)

        what = f"{type(exception).__name__}: {exception}" if isinstance(exception, PlatformError) else type(exception).__name__
        attempt = message.options.get("retries", 0)
        self.last_failure[message.message_id] = f"{message.actor_name}{message.args}: {what}"
        self.stream.write(f"{message.actor_name}{message.args} failed (attempt {attempt}): {what}\n")
        self.stream.flush()


_report = JobReport()


def drain_embedded(timeout_ms: int | None = None, stream=None) -> None:
    """In embedded mode, process what this process enqueued before it exits. No-op with Redis.

    Also a no-op where this process already runs embedded workers (the web server's scheduler):
    those workers consume the messages, and waiting here would stall the schedule.

    Fails fast: each failed attempt is reported on `stream` (stderr) as it happens; waiting stops after
    `timeout_ms` (COMMAND_DRAIN_SECONDS, 120 s), and a job still pending then, or whose last attempt
    failed, raises CommandError, so the command exits non-zero. The work itself is never lost: every
    enqueue command selects by state, so its next run sends what did not finish.
    """
    if not is_embedded() or _worker is not None:
        return
    timeout_ms = timeout_ms if timeout_ms is not None else settings.COMMAND_DRAIN_SECONDS * 1000
    broker = dramatiq.get_broker()
    if _report not in broker.middleware:
        broker.add_middleware(_report)
    _report.stream, _report.last_failure = stream or sys.stderr, {}
    worker = start_embedded_worker()
    deadline = time.monotonic() + timeout_ms / 1000
    pending = False
    try:
        for queue in list(broker.get_declared_queues()):
            # fail_fast off: a dead message is reported below with the others, not raised as a traceback.
            broker.join(queue, timeout=max(1, int((deadline - time.monotonic()) * 1000)), fail_fast=False)
        if worker is not None:
            worker.join()
    except dramatiq.errors.QueueJoinTimeout:
        pending = True
    finally:
        stop_embedded_worker()
        failed, _report.stream = list(_report.last_failure.values()), None
    if pending:
        raise CommandError(f"jobs still unfinished after {timeout_ms // 1000} s ({len(failed)} failing: "
                           f"{'; '.join(failed[:5]) or 'none failed, still running'}); the next run picks them up.")
    if failed:
        raise CommandError(f"{len(failed)} job(s) failed: {'; '.join(failed[:5])}")


def requeue_later(actor: dramatiq.Actor, args: tuple, delay_seconds: float) -> None:
    """Send the same work again after a delay, without spending one of the message's retries.

    Used for rate limits: being told to wait is not a failure.
    """
    actor.send_with_options(args=args, delay=int(max(1, delay_seconds) * 1000))


class EnqueueError(Exception):
    """The broker refused a batch: `sent` messages of it surely went (the ones before the refusal);
    of a pipelined Redis batch none is counted, though some may have reached Redis before it broke."""

    def __init__(self, sent: int, error: Exception) -> None:
        super().__init__(type(error).__name__)
        self.sent, self.error = sent, error


def enqueue_many(messages: Sequence[dramatiq.Message], broker: dramatiq.Broker | None = None) -> int:
    """Enqueue messages (none delayed) on `broker` (the configured one); return how many. Raises EnqueueError.

    On Redis the batch is one pipelined round trip instead of one per message; every broker records
    the task-history rows together (task_history.recorded_together: one INSERT per 1,000, insert-if-absent).
    """
    from .task_history import recorded_together

    broker = broker or dramatiq.get_broker()
    with recorded_together():
        # A broker whose enqueue was replaced on the instance (tests, instrumentation) goes through it.
        if isinstance(broker, RedisBroker) and "enqueue" not in vars(broker):
            try:
                _enqueue_pipelined(broker, messages)
            except Exception as error:  # noqa: BLE001 - any Redis failure, reported by type
                raise EnqueueError(0, error) from error
            return len(messages)
        for done, message in enumerate(messages):
            try:
                broker.enqueue(message)
            except Exception as error:  # noqa: BLE001 - any broker failure, reported by type
                raise EnqueueError(done, error) from error
    return len(messages)


def _enqueue_pipelined(broker: RedisBroker, messages: Sequence[dramatiq.Message]) -> None:
    """RedisBroker.enqueue (dramatiq 2.x) for many messages: the same Lua `enqueue` dispatch with the
    same arguments, sent in one pipeline; the middleware sees each message before and after, as there.

    The dispatch goes as a plain EVALSHA. Calling the registered Script on a pipeline would make redis-py
    ask SCRIPT EXISTS first, a second round trip per batch: on the webhook intake, where most batches
    hold one message, that was a third of the sender's CPU. A Redis that lost the script (restarted,
    SCRIPT FLUSH) answers NOSCRIPT for every command of the batch; the script is then loaded and only
    those commands are sent again, so nothing goes twice.
    """
    from .task_history import note_encoded

    dispatch = broker.scripts["dispatch"]
    pending = []
    for message in messages:
        message = message.copy(options={"redis_message_id": str(uuid4())})  # unique per enqueue, as there
        broker.emit_before("enqueue", message, None)
        data = message.encode()
        note_encoded(message, data)
        pending.append((message, [
            "enqueue", current_millis(), message.queue_name, broker.broker_id, broker.heartbeat_timeout,
            broker.dead_message_ttl, broker._should_do_maintenance("enqueue"), broker._max_unpack_size(),
            message.options["redis_message_id"], data]))
    sent = []
    for attempt in range(2):
        with broker.client.pipeline(transaction=False) as pipe:
            for _, args in pending:
                pipe.evalsha(dispatch.sha, 1, broker.namespace, *args)
            results = pipe.execute(raise_on_error=False)
        missing = []
        for item, result in zip(pending, results, strict=True):
            if isinstance(result, NoScriptError):
                missing.append(item)
            elif isinstance(result, Exception):
                raise result
            else:
                sent.append(item[0])
        if not missing:
            break
        if attempt:
            raise NoScriptError("the enqueue script is still missing after SCRIPT LOAD")
        dispatch.sha = broker.client.script_load(dispatch.script)
        pending = missing
    for message in sent:
        broker.emit_after("enqueue", message, None)


def send_each(command: str, actor: dramatiq.Actor, ids: Sequence[int], stream, label: str,
              extra_args: tuple = ()) -> int:
    """Send one message per id, `actor(id, *extra_args)`, in batches of BATCH_SIZE (with a progress bar on
    a terminal); return how many were sent.

    The broker refusing a batch (Redis down, a timeout) stops the run with one CommandError line,
    so cron sees a non-zero exit. Nothing was written for the ids not sent: the commands that use this
    select by state, so the next run sends them (a pipelined batch that broke half-way may have sent
    some of its messages already: each actor re-reads its row, so a second message does nothing twice).
    """
    with ProgressBar(stream, label, len(ids)) as bar:
        for start in range(0, len(ids), BATCH_SIZE):
            batch = [actor.message(pk, *extra_args) for pk in ids[start:start + BATCH_SIZE]]
            try:
                enqueue_many(batch)
            except EnqueueError as refused:
                bar.close()
                raise CommandError(f"{command}: the broker refused a message ({refused}); "
                                   f"{bar.done + refused.sent} of {len(ids)} enqueued, the rest go on the next run."
                                   ) from refused.error
            bar.advance(len(batch))
    return len(ids)


class BackgroundSender:
    """Messages handed to Redis by one daemon thread per process, pipelined in batches, off the request thread.

    For work whose safety is a committed row, not the message (webhook intake: the row stays `received`
    and `process_webhooks` sends it again): a message lost here — Redis down, the process killed before
    the thread sent it — costs a delay, never the work. On any other broker (embedded, the tests' stub)
    `send` enqueues at once, in the caller's thread. Messages are sent without a task-history "enqueued"
    row (task_history.enqueue_unrecorded): their own rows say the same.
    """

    def __init__(self, name: str, max_batch: int = BATCH_SIZE, linger: float = LINGER_SECONDS) -> None:
        import queue

        self.name, self.max_batch, self.linger = name, max_batch, linger
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._start_lock = threading.Lock()
        self._sending = threading.Lock()  # held by the thread while it has a batch in hand

    def send(self, message: dramatiq.Message) -> None:
        from .task_history import enqueue_unrecorded

        broker = dramatiq.get_broker()
        if not isinstance(broker, RedisBroker) or "enqueue" in vars(broker):  # embedded, stub, instrumented
            with enqueue_unrecorded():
                broker.enqueue(message)
            return
        self._ensure_thread()
        self._queue.put(message)

    def _ensure_thread(self) -> None:
        import os

        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                if self._pid != os.getpid():  # a forked worker gets its own thread (threads do not survive
                    self._sending = threading.Lock()  # fork) and its own lock (the parent's thread may hold it)
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name=f"sender-{self.name}", daemon=True)
                self._thread.start()
                atexit.register(self.flush)

    def _take(self, block: bool, limit: int | None = None) -> list[dramatiq.Message]:
        import queue

        batch: list[dramatiq.Message] = []
        limit = self.max_batch if limit is None else limit
        try:
            batch.append(self._queue.get(block=block, timeout=1 if block else None))
            while len(batch) < limit:
                batch.append(self._queue.get_nowait())
        except queue.Empty:
            pass
        return batch

    def _run(self) -> None:
        while True:
            batch = self._take(block=True)
            if not batch:
                continue
            with self._sending:
                if len(batch) < self.max_batch and self.linger:
                    # Let the messages of the requests in flight join this one: a pipeline of one message
                    # costs the process about 150 us of CPU, one of four about 75 us each (see enqueue_many).
                    time.sleep(self.linger)
                    batch += self._take(block=False, limit=self.max_batch - len(batch))
                self._send_batch(batch)

    def _send_batch(self, batch: list[dramatiq.Message]) -> None:
        from .task_history import enqueue_unrecorded

        try:
            with enqueue_unrecorded():
                enqueue_many(batch)
        except Exception as error:  # noqa: BLE001 - the rows are the safety net; say so once per batch
            logger.warning("%s: %d message(s) not enqueued (%s); their rows stay for the resend command",
                           self.name, len(batch), type(error).__name__)

    def flush(self) -> None:
        """Send what is waiting now, in this thread (process exit, tests), after the batch the thread holds."""
        with self._sending:
            while batch := self._take(block=False):
                self._send_batch(batch)
