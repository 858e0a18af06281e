"""Background processing of received batches through `pipeline.advance`.

In process (the default) one thread takes batch ids from a queue, so the
store sees one writer from the service. As a separate process (`custos
worker`) each worker claims a batch from the store: on PostgreSQL the
candidate is picked with `FOR UPDATE SKIP LOCKED` and held for the whole run
by a session advisory lock, so two workers never advance the same batch; on
SQLite a lock file beside the batches makes sure only one worker (in process
or separate) runs at a time, and every stage's `BEGIN IMMEDIATE` keeps
writes serial. A failure is recorded beside the batch's stage (and in the
ledger) and the batch is retried once `retry_after` has passed — every stage
is exactly-once, so a retry cannot answer a row twice.
"""

from __future__ import annotations

import fcntl
import json
import logging
import queue
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import IO

from sqlalchemy import Connection, or_, select, text

from custos import pipeline, store
from custos.errors import CustosError
from custos.ledger import EventType, NewEvent, append_events, checkpoint_if_due
from custos.store.schema import batches

log = logging.getLogger("custos.service")

_STOP = ""


def process(gw: pipeline.Gateway, batch_id: str) -> bool:
    """Advance one batch to completion; False (and the failure recorded) if it failed."""
    try:
        pipeline.advance(gw, batch_id)
    except Exception as exc:  # any failure is recorded and retried, never lost
        message = f"{type(exc).__name__}: {exc}"
        log.error(json.dumps({"event": "batch_failed", "batch_id": batch_id, "error": message}))
        with gw.store.write() as conn:
            store.record_batch_failure(conn, batch_id, message)
            append_events(
                conn,
                [
                    NewEvent(
                        actor=gw.actor.id,
                        event_type=EventType.BATCH_FAILED,
                        success=False,
                        origin=gw.actor.origin,
                        object=f"batch:{batch_id}",
                        payload={"error": message},
                    )
                ],
            )
        return False
    log.info(json.dumps({"event": "batch_completed", "batch_id": batch_id}))
    return True


def pending_batches(conn: Connection, retry_after: float, *, lock: bool = False) -> list[str]:
    """Batches not complete and without a failure newer than `retry_after` seconds, oldest first."""
    cutoff = datetime.now(UTC) - timedelta(seconds=retry_after)
    query = (
        select(batches.c.id)
        .where(batches.c.stage != store.BatchStage.COMPLETE.value)
        .where(or_(batches.c.error.is_(None), batches.c.updated_at < cutoff))
        .order_by(batches.c.received_at, batches.c.id)
    )
    if lock:
        query = query.with_for_update(skip_locked=True)
    return [str(row.id) for row in conn.execute(query)]


def single_worker_lock(gw: pipeline.Gateway) -> IO[bytes] | None:
    """On SQLite, the exclusive right to process this store's batches (None on PostgreSQL).

    Held until the returned file is closed; a second worker is refused at once.
    """
    if gw.store.dialect == "postgresql":
        return None
    gw.work.mkdir(parents=True, exist_ok=True)
    handle = (gw.work / "worker.lock").open("wb")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise CustosError(
            f"another worker is already processing the batches of {gw.store.url}; "
            "on SQLite run one worker (use PostgreSQL for several)"
        ) from None
    return handle


CHECKPOINT_EVERY = timedelta(minutes=5)
"""Events between batches (failed logins, reviews, reports) are signed at most this late."""
IDLE_CHECK_S = 30.0


def seal_idle_events(gw: pipeline.Gateway, every: timedelta = CHECKPOINT_EVERY) -> None:
    """The time-interval checkpoint: batches sign at their end, idle time on this clock."""
    try:
        checkpoint_if_due(gw.store, gw.key, every)
    except Exception as exc:  # a failed checkpoint is retried on the next idle tick
        log.error(json.dumps({"event": "checkpoint_error", "error": str(exc)}))


class InProcessWorker:
    """One background thread advancing the batches it is given, one at a time."""

    def __init__(self, gw: pipeline.Gateway) -> None:
        self._gw = gw
        self._queue: queue.Queue[str] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock: IO[bytes] | None = None

    def start(self, retry_after: float) -> None:
        """Start, after queueing what a previous run left unfinished.

        A stopped worker may be started again (an app's lifespan can run more than once).
        """
        if self._thread is not None and self._thread.is_alive():
            raise CustosError("the in-process worker is already running")
        self._lock = single_worker_lock(self._gw)
        with self._gw.store.read() as conn:
            for batch_id in pending_batches(conn, retry_after):
                self._queue.put(batch_id)
        self._thread = threading.Thread(target=self._run, name="custos-worker", daemon=True)
        self._thread.start()

    def submit(self, batch_id: str) -> None:
        self._queue.put(batch_id)

    def join(self) -> None:
        """Wait until every queued batch has been processed."""
        self._queue.join()

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
        self._thread = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _run(self) -> None:
        while True:
            try:
                batch_id = self._queue.get(timeout=IDLE_CHECK_S)
            except queue.Empty:
                seal_idle_events(self._gw)
                continue
            try:
                if batch_id == _STOP:
                    return
                if pipeline.stage_of(self._gw, batch_id) is not store.BatchStage.COMPLETE:
                    process(self._gw, batch_id)
            except Exception as exc:  # a dead store must not kill the thread silently
                log.error(json.dumps({"event": "worker_error", "error": str(exc)}))
            finally:
                self._queue.task_done()


def _lock_key(batch_id: str) -> int:
    return zlib.crc32(batch_id.encode()) - (1 << 31)


@contextmanager
def claim(gw: pipeline.Gateway, retry_after: float) -> Iterator[str | None]:
    """The id of one batch this worker alone may advance, or None when there is none."""
    if gw.store.dialect != "postgresql":
        with gw.store.read() as conn:
            found = pending_batches(conn, retry_after)
        yield found[0] if found else None
        return
    with gw.store.engine.connect() as session:
        claimed: str | None = None
        with session.begin():
            for batch_id in pending_batches(session, retry_after, lock=True):
                got = session.execute(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": _lock_key(batch_id)}
                ).scalar_one()
                if got:
                    claimed = batch_id
                    break
        try:
            yield claimed
        finally:
            if claimed is not None:
                session.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _lock_key(claimed)})
                session.commit()


def run_worker(
    gw: pipeline.Gateway,
    *,
    retry_after: float,
    poll_s: float = 2.0,
    once: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """Claim and process batches until stopped; with `once`, until none is left. Returns count."""
    done = 0
    lock = single_worker_lock(gw)
    try:
        while not should_stop():
            with claim(gw, retry_after) as batch_id:
                if batch_id is not None:
                    process(gw, batch_id)
                    done += 1
                    continue
            if once:
                break
            seal_idle_events(gw)
            time.sleep(poll_s)
    finally:
        if lock is not None:
            lock.close()
    return done
