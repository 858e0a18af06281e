"""The sequencer: the one way events enter the ledger.

An append runs in one write transaction that first takes the ledger's write
lock (SQLite: the transaction began with BEGIN IMMEDIATE; PostgreSQL: LOCK
TABLE in a mode that conflicts with itself but not with readers), then reads
the head, then numbers, times, chains and inserts the events. So concurrent
appenders, in any number of processes, are serialised: sequence numbers have
no gaps and no duplicates, and a failed transaction leaves nothing behind.
The primary key on `seq` backs this up should anything bypass the lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, select
from sqlalchemy.exc import SQLAlchemyError

from custos.errors import LedgerError
from custos.ledger import canonical
from custos.ledger.events import (
    GENESIS_PREV,
    LedgerEvent,
    NewEvent,
    event_bytes,
    format_time,
    leaf_hash,
    parse_event_type,
    utc_now,
)
from custos.store.engine import Store, is_write
from custos.store.schema import ledger_events

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Head:
    """The ledger's tip: how many events it holds, the last one's time and leaf hash."""

    size: int
    time: str
    leaf_hash: bytes


def append(store: Store, event: NewEvent, *, clock: Clock = utc_now) -> LedgerEvent:
    """Append one event in its own transaction."""
    return append_many(store, [event], clock=clock)[0]


def append_many(
    store: Store, events: Sequence[NewEvent], *, clock: Clock = utc_now
) -> list[LedgerEvent]:
    """Append events in one transaction: all of them, consecutively numbered, or none.

    They share one time, the moment the transaction took the ledger's lock.

    A database or I/O failure is raised as `LedgerError` after the transaction
    has rolled back, so nothing of it was written.
    """
    try:
        with store.write() as conn:
            return append_events(conn, events, clock=clock)
    except (SQLAlchemyError, OSError) as exc:
        raise LedgerError(f"ledger append failed, nothing was written: {exc}") from exc


def append_events(
    conn: Connection, events: Sequence[NewEvent], *, clock: Clock = utc_now
) -> list[LedgerEvent]:
    """Append within the caller's `Store.write()` transaction, so the events commit with it.

    This is how a stage records an outcome and its ledger event atomically.
    """
    if not is_write(conn):
        raise LedgerError("ledger events can only be appended inside Store.write()")
    prepared = [_prepare(e) for e in events]
    if not prepared:
        return []
    lock_ledger(conn)
    head = read_head(conn)
    time = format_time(clock())
    if time < head.time:
        raise LedgerError(
            f"clock went backwards: {time} is earlier than the last ledger event ({head.time})"
        )
    seq, prev = head.size, head.leaf_hash
    rows: list[tuple[object, ...]] = []
    recorded: list[LedgerEvent] = []
    for event_type, payload, event in prepared:
        canonical_event = event_bytes(
            seq, time, event.actor, event_type, event.success, event.origin, event.object,
            payload, prev,
        )  # fmt: skip
        leaf = leaf_hash(canonical_event)
        row = (seq, time, event.actor, event_type, event.success, event.origin, event.object,
               payload, prev, leaf)  # fmt: skip
        rows.append(row)
        recorded.append(LedgerEvent(*row))
        seq, prev = seq + 1, leaf
    _insert(conn, rows)
    return recorded


_COLUMNS = ("seq", "time", "actor", "event_type", "success", "origin", "object", "payload",
            "prev_hash", "leaf_hash")  # fmt: skip


def _insert(conn: Connection, rows: list[tuple[object, ...]]) -> None:
    """One executemany straight to the driver: the hot path of every append."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(
        f"INSERT INTO ledger_events ({', '.join(_COLUMNS)}) "
        f"VALUES ({', '.join([mark] * len(_COLUMNS))})",
        rows,
    )


def lock_ledger(conn: Connection) -> None:
    """Take the ledger's write lock for the rest of the transaction."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE ledger_events IN SHARE ROW EXCLUSIVE MODE")


def read_head(conn: Connection) -> Head:
    row = conn.execute(
        select(ledger_events.c.seq, ledger_events.c.time, ledger_events.c.leaf_hash)
        .order_by(ledger_events.c.seq.desc())
        .limit(1)
    ).one_or_none()
    if row is None:
        return Head(0, "", GENESIS_PREV)
    return Head(int(row.seq) + 1, row.time, bytes(row.leaf_hash))


def read_events(
    conn: Connection,
    start: int = 0,
    stop: int | None = None,
    *,
    where: ColumnElement[bool] | None = None,
) -> list[LedgerEvent]:
    """Events with start <= seq < stop (and matching `where`), in order."""
    return list(iter_events(conn, start, stop, where=where))


def iter_events(
    conn: Connection,
    start: int = 0,
    stop: int | None = None,
    *,
    where: ColumnElement[bool] | None = None,
) -> Iterator[LedgerEvent]:
    """Stream events in order, a few thousand rows at a time (verify reads millions)."""
    query = select(*(ledger_events.c[name] for name in _COLUMNS)).where(
        ledger_events.c.seq >= start
    )
    if stop is not None:
        query = query.where(ledger_events.c.seq < stop)
    if where is not None:
        query = query.where(where)
    statement = query.order_by(ledger_events.c.seq).execution_options(yield_per=10_000)
    with conn.execute(statement) as result:
        for seq, time, actor, event_type, success, origin, obj, payload, prev, leaf in result:
            yield LedgerEvent(
                int(seq), time, actor, event_type, bool(success), origin, obj, payload,
                bytes(prev), bytes(leaf),
            )  # fmt: skip


def _prepare(event: NewEvent) -> tuple[str, str, NewEvent]:
    event_type = parse_event_type(str(event.event_type)).value
    for name in ("actor", "origin", "object"):
        value = getattr(event, name)
        if not isinstance(value, str) or not value.strip():
            raise LedgerError(f"a ledger event needs a non-empty {name}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise LedgerError(f"a ledger event's {name} is not valid Unicode: {exc}") from exc
    if not isinstance(event.success, bool):
        raise LedgerError("a ledger event's success must be true or false")
    if not isinstance(event.payload, Mapping):
        raise LedgerError("a ledger event's payload must be a JSON object (a mapping)")
    return event_type, canonical.dumps(event.payload), event
