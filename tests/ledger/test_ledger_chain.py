"""The sequencer: numbering, chaining, validation, concurrency and failures, on both backends."""

import itertools
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, text

from custos.errors import LedgerError
from custos.ledger import (
    EventType,
    NewEvent,
    append,
    append_events,
    append_many,
    parse_event_type,
    read_events,
    read_head,
    request_object,
    verify,
)
from custos.ledger.canonical import dumps, encode
from custos.ledger.events import GENESIS_PREV, event_bytes, format_time, leaf_hash
from custos.ledger.keys import SigningKey
from custos.store import Store

SRC = Path(__file__).resolve().parents[2] / "src"


def _event(i: int = 0, actor: str = "officer:7", **payload: object) -> NewEvent:
    return NewEvent(
        actor=actor,
        event_type=EventType.REQUEST_RECEIVED,
        success=True,
        origin="cli:officer7@workstation",
        object=request_object("DHS-ICE", f"R{i}"),
        payload={"i": i, **payload},
    )


def _ticking(
    start: datetime, step: timedelta = timedelta(microseconds=1)
) -> Callable[[], datetime]:
    moments = iter(start + n * step for n in range(10**9))
    return lambda: next(moments)


def test_events_are_numbered_from_zero_timed_and_chained(store: Store) -> None:
    clock = _ticking(datetime(2025, 8, 7, 12, 0, tzinfo=UTC))
    first = append(store, _event(0), clock=clock)
    rest = append_many(store, [_event(1), _event(2, note="é ✓")], clock=clock)
    assert [e.seq for e in [first, *rest]] == [0, 1, 2]
    assert first.time == "2025-08-07T12:00:00.000000Z"
    assert first.prev_hash == GENESIS_PREV
    assert rest[0].prev_hash == first.leaf_hash and rest[1].prev_hash == rest[0].leaf_hash
    with store.read() as conn:
        stored = read_events(conn)
        head = read_head(conn)
    assert stored == [first, *rest]
    assert (head.size, head.leaf_hash) == (3, rest[1].leaf_hash)
    assert json.loads(stored[2].payload) == {"i": 2, "note": "é ✓"}


def test_leaf_is_the_rfc6962_hash_of_the_whole_canonical_event(store: Store) -> None:
    recorded = append(store, _event(5, tin="123456789"))
    whole = {
        "seq": recorded.seq,
        "time": recorded.time,
        "actor": recorded.actor,
        "event_type": recorded.event_type,
        "success": recorded.success,
        "origin": recorded.origin,
        "object": recorded.object,
        "payload": {"i": 5, "tin": "123456789"},
        "prev": recorded.prev_hash.hex(),
    }
    assert recorded.canonical() == encode(whole)
    assert recorded.leaf_hash == leaf_hash(encode(whole))


payloads = st.dictionaries(
    st.text(max_size=8),
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=10),
    max_size=5,
)


@given(
    seq=st.integers(0, 2**40),
    actor=st.text(min_size=1, max_size=20),
    event_type=st.text(max_size=20),
    success=st.booleans(),
    origin=st.text(max_size=20),
    obj=st.text(max_size=20),
    payload=payloads,
    prev=st.binary(min_size=32, max_size=32),
)
def test_fast_event_encoding_equals_canonical_json(
    seq: int, actor: str, event_type: str, success: bool, origin: str, obj: str,
    payload: dict[str, Any], prev: bytes,
) -> None:  # fmt: skip
    time = "2025-08-07T12:00:00.000001Z"
    whole = {
        "seq": seq, "time": time, "actor": actor, "event_type": event_type, "success": success,
        "origin": origin, "object": obj, "payload": payload, "prev": prev.hex(),
    }  # fmt: skip
    fast = event_bytes(seq, time, actor, event_type, success, origin, obj, dumps(payload), prev)
    assert fast == encode(whole)


def test_unknown_event_types_are_refused_with_the_known_ones(store: Store) -> None:
    with pytest.raises(
        LedgerError, match=r"unknown ledger event type 'request_teleported'.*disclosure_made"
    ):
        parse_event_type("request_teleported")
    bad = NewEvent("a", "request_teleported", True, "o", "x")  # type: ignore[arg-type]
    with pytest.raises(LedgerError, match="unknown ledger event type"):
        append(store, bad)
    assert parse_event_type("hold_placed") is EventType.HOLD_PLACED


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (NewEvent("", EventType.AUTH_FAILED, False, "http:10.0.0.1", "api"), "non-empty actor"),
        (NewEvent("a", EventType.AUTH_FAILED, False, " ", "api"), "non-empty origin"),
        (NewEvent("a", EventType.AUTH_FAILED, False, "o", ""), "non-empty object"),
        (NewEvent("a", EventType.AUTH_FAILED, 1, "o", "x"), "true or false"),  # type: ignore[arg-type]
        (NewEvent("a", EventType.AUTH_FAILED, False, "o", "x", [1]), "JSON object"),  # type: ignore[arg-type]
        (NewEvent("a", EventType.AUTH_FAILED, False, "o", "x", {"p": 1.0e400 * 0}), "cannot hold"),
        (NewEvent("a", EventType.AUTH_FAILED, False, "o", "x", {"p": {1, 2}}), "cannot hold a set"),
    ],
)
def test_malformed_events_are_refused_and_nothing_is_written(
    store: Store, bad: NewEvent, message: str
) -> None:
    with pytest.raises(LedgerError, match=message):
        append_many(store, [_event(0), bad])
    with store.read() as conn:
        assert read_head(conn).size == 0


def test_clock_going_backwards_is_refused(store: Store) -> None:
    now = datetime(2025, 8, 7, 12, 0, tzinfo=UTC)
    append(store, _event(0), clock=lambda: now)
    append(store, _event(1), clock=lambda: now)
    with pytest.raises(LedgerError, match="clock went backwards"):
        append(store, _event(2), clock=lambda: now - timedelta(microseconds=1))
    with store.read() as conn:
        assert read_head(conn).size == 2


def test_times_are_utc_with_microseconds() -> None:
    eastern = datetime(2025, 8, 7, 8, 0, 0, 5, tzinfo=UTC).astimezone()
    assert format_time(eastern) == "2025-08-07T08:00:00.000005Z"
    with pytest.raises(LedgerError, match="aware"):
        format_time(datetime(2025, 8, 7))


def test_appending_outside_a_write_transaction_is_refused(store: Store) -> None:
    with store.read() as conn, pytest.raises(LedgerError, match=r"inside Store\.write"):
        append_events(conn, [_event(0)])


def test_events_commit_or_roll_back_with_the_callers_transaction(store: Store) -> None:
    with pytest.raises(RuntimeError), store.write() as conn:
        append_events(conn, [_event(0), _event(1)])
        raise RuntimeError("the stage failed after appending")
    with store.write() as conn:
        recorded = append_events(conn, [_event(2)])
    assert [e.seq for e in recorded] == [0]


@pytest.mark.parametrize("hook", ["after_cursor_execute", "commit"])
def test_an_io_error_mid_append_leaves_no_half_written_event(
    store: Store, signing_key: SigningKey, hook: str
) -> None:
    append_many(store, [_event(i) for i in range(3)])

    def disk_full(*args: object) -> None:
        statement = args[2] if hook == "after_cursor_execute" else "commit"
        if hook == "commit" or "INSERT INTO ledger_events" in str(statement):
            raise OSError(28, "No space left on device")

    event.listen(store.engine, hook, disk_full)
    try:
        with pytest.raises(LedgerError, match=r"nothing was written.*No space left"):
            append_many(store, [_event(i) for i in range(3, 8)])
    finally:
        event.remove(store.engine, hook, disk_full)
    with store.read() as conn:
        assert read_head(conn).size == 3
    after = append_many(store, [_event(9)])
    assert after[0].seq == 3
    with store.read() as conn:
        assert [e.seq for e in read_events(conn)] == [0, 1, 2, 3]
    assert verify(store, signing_key.verifier).ok


WORKER = textwrap.dedent(
    """
    import os, sys, time
    from custos.ledger import EventType, NewEvent, append_many
    from custos.store import open_store

    url, name, rounds, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    store = open_store(url)
    open(go + "." + name, "w").close()
    while not os.path.exists(go):
        time.sleep(0.002)
    for i in range(rounds):
        append_many(store, [
            NewEvent(name, EventType.REQUEST_RECEIVED, True, "test:" + name,
                     f"request:A/{name}-{i}-{j}", {"i": i, "j": j})
            for j in range(1 + i % 3)
        ])
        time.sleep(0.002)  # a stage's own work between appends
    """
)


def test_two_processes_appending_at_once_get_no_gaps_and_no_duplicates(
    store: Store, store_url: str, tmp_path: Path, signing_key: SigningKey
) -> None:
    rounds = 100
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, store_url, name, str(rounds), str(go)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("alpha", "beta")
    ]
    deadline = time.monotonic() + 30
    while not all(Path(f"{go}.{n}").exists() for n in ("alpha", "beta")):
        assert time.monotonic() < deadline and all(w.poll() is None for w in workers)
        time.sleep(0.01)
    go.touch()
    for worker in workers:
        _, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
    with store.read() as conn:
        events = read_events(conn)
    per_worker = sum(1 + i % 3 for i in range(rounds))
    assert [e.seq for e in events] == list(range(2 * per_worker))
    objects = [e.object for e in events]
    assert len(set(objects)) == len(objects) == 2 * per_worker
    actors = [e.actor for e in events]
    switches = sum(1 for a, b in itertools.pairwise(actors) if a != b)
    assert switches > 1, "the two appenders never interleaved; the test proved nothing"
    for name in ("alpha", "beta"):
        mine = [e for e in events if e.actor == name]
        assert [json.loads(e.payload)["i"] for e in mine] == sorted(
            json.loads(e.payload)["i"] for e in mine
        )
    assert verify(store, signing_key.verifier).ok


def test_sqlite_write_transactions_take_the_lock_at_begin(tmp_path: Path) -> None:
    from custos.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'custos.db'}")
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(str(a[2])))
    with store.write() as conn:
        conn.execute(text("SELECT 1"))
    with store.read() as conn:
        conn.execute(text("SELECT 1"))
    assert statements[0] == "BEGIN IMMEDIATE"
    assert "BEGIN" in statements and statements.index("BEGIN") > 0
    store.close()
