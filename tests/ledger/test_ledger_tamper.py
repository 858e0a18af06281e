"""Tampering: every way of rewriting the ledger behind custos's back is caught by verify.

Each tamper acts as an administrator with direct database access (the
append-only triggers switched off). A hypothesis state machine interleaves
appends, checkpoints and tampers; deterministic cases run on both backends.
"""

import functools
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Connection, select, text, update

from custos.errors import LedgerError
from custos.ledger import (
    EventType,
    FaultKind,
    NewEvent,
    append_many,
    checkpoint,
    export,
    exported_notes,
    generate_signing_key,
    verify,
)
from custos.ledger.checkpoint import checkpoint_text, sign_note
from custos.ledger.events import GENESIS_PREV, event_bytes, leaf_hash
from custos.ledger.keys import SigningKey
from custos.ledger.merkle import MerkleTree
from custos.store import Store, open_store
from custos.store.schema import checkpoints, ledger_events
from custos.store.testing import tampering

KEY = generate_signing_key("custos.test/ledger")
OTHER_KEY = generate_signing_key("custos.test/ledger")
COLUMNS = ("time", "actor", "event_type", "success", "origin", "object", "payload",
           "prev_hash", "leaf_hash")  # fmt: skip


class Clock:
    """Strictly increasing times, so no two events are ever identical."""

    def __init__(self) -> None:
        self._ticks = count()

    def __call__(self) -> datetime:
        return datetime(2025, 8, 7, tzinfo=UTC) + timedelta(milliseconds=next(self._ticks))


def _events(n: int, tag: str = "x") -> list[NewEvent]:
    return [
        NewEvent("officer:7", EventType.REQUEST_DECIDED, True, "cli:o7@ws", f"request:A/{tag}{i}",
                 {"i": i, "tag": tag, "tin": "123456789"})
        for i in range(n)
    ]  # fmt: skip


def _row(conn: Connection, seq: int) -> dict[str, object]:
    row = conn.execute(select(ledger_events).where(ledger_events.c.seq == seq)).one()
    return dict(row._mapping)


def flip_payload_byte(conn: Connection, seq: int, position: int) -> None:
    payload = str(_row(conn, seq)["payload"])
    i = position % len(payload)
    flipped = payload[:i] + chr(ord(payload[i]) ^ 1) + payload[i + 1 :]
    conn.execute(update(ledger_events).where(ledger_events.c.seq == seq).values(payload=flipped))


def rewrite_from(conn: Connection, seq: int, edit: Callable[[dict[str, object]], None]) -> None:
    """Edit one event, then recompute its leaf and the whole chain after it, as a careful attacker."""
    prev = GENESIS_PREV if seq == 0 else bytes(_row(conn, seq - 1)["leaf_hash"])  # type: ignore[arg-type]
    seqs = conn.execute(
        select(ledger_events.c.seq).where(ledger_events.c.seq >= seq).order_by(ledger_events.c.seq)
    ).scalars().all()  # fmt: skip
    for s in seqs:
        row = _row(conn, s)
        if s == seq:
            edit(row)
        row["prev_hash"] = prev
        canonical_event = event_bytes(
            s, row["time"], row["actor"], row["event_type"], row["success"],  # type: ignore[arg-type]
            row["origin"], row["object"], row["payload"], prev,  # type: ignore[arg-type]
        )  # fmt: skip
        row["leaf_hash"] = prev = leaf_hash(canonical_event)
        conn.execute(
            update(ledger_events)
            .where(ledger_events.c.seq == s)
            .values({c: row[c] for c in COLUMNS})
        )


def delete_event(conn: Connection, seq: int) -> None:
    conn.execute(text("DELETE FROM ledger_events WHERE seq = :s"), {"s": seq})


def swap_events(conn: Connection, i: int, j: int) -> None:
    a, b = _row(conn, i), _row(conn, j)
    for seq, other in ((i, b), (j, a)):
        conn.execute(
            update(ledger_events)
            .where(ledger_events.c.seq == seq)
            .values({c: other[c] for c in COLUMNS})
        )


def truncate(conn: Connection, keep: int) -> None:
    conn.execute(text("DELETE FROM ledger_events WHERE seq >= :k"), {"k": keep})


def _checkpoint_row(conn: Connection, which: int) -> dict[str, object]:
    rows = conn.execute(select(checkpoints).order_by(checkpoints.c.id)).all()
    return dict(rows[which % len(rows)]._mapping)


def resign_with(conn: Connection, which: int, key: SigningKey) -> None:
    row = _checkpoint_row(conn, which)
    note = str(row["note"])
    conn.execute(
        update(checkpoints)
        .where(checkpoints.c.id == row["id"])
        .values(note=sign_note(note[: note.rindex("\n\n") + 1], key))
    )


def replace_root(conn: Connection, which: int, key: SigningKey) -> None:
    """A correctly signed checkpoint over a root the events do not have."""
    row = _checkpoint_row(conn, which)
    root = bytes(b ^ 0xFF for b in bytes(row["root_hash"]))  # type: ignore[arg-type]
    note = sign_note(checkpoint_text(str(row["origin"]), int(row["tree_size"]), root), key)  # type: ignore[call-overload]
    conn.execute(
        update(checkpoints).where(checkpoints.c.id == row["id"]).values(note=note, root_hash=root)
    )


@functools.cache
def _migrated_template() -> str:
    """One migrated SQLite file that every run of the machine starts from a copy of."""
    path = f"{tempfile.mkdtemp()}/template.db"
    open_store(f"sqlite:///{path}").close()
    return path


class LedgerMachine(RuleBasedStateMachine):
    """Appends and checkpoints keep the ledger verifiable; a tamper makes it fail for good.

    Each run tampers (at most once, at a random point) in the one way `kind` names.
    """

    kind = "flip a payload byte"

    def __init__(self) -> None:
        super().__init__()
        self.directory = tempfile.mkdtemp()
        shutil.copyfile(_migrated_template(), f"{self.directory}/custos.db")
        self.store = open_store(f"sqlite:///{self.directory}/custos.db")
        self.clock = Clock()
        self.size = 0
        self.signed = 0
        self.checkpoints = 0
        self.tamper: str | None = None

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    @initialize(n=st.integers(2, 6), sign=st.booleans())
    def start(self, n: int, sign: bool) -> None:
        self.grow(n, "start", sign)

    @rule(n=st.integers(0, 6), tag=st.text(max_size=5), sign=st.booleans())
    def grow(self, n: int, tag: str, sign: bool) -> None:
        """Append n events, then maybe sign a checkpoint (one rule, so tampers come often)."""
        if n:
            append_many(self.store, _events(n, tag), clock=self.clock)
            self.size += n
        if not sign:
            return
        try:
            cp = checkpoint(self.store, KEY, clock=self.clock)
        except LedgerError:
            assert self.tamper is not None, "checkpoint refused an untampered ledger"
            return
        self.checkpoints += 1
        if self.tamper is None:
            assert cp.tree_size == self.size
            self.signed = self.size

    def _can_tamper(self) -> bool:
        if self.tamper is not None:
            return False
        return {
            "flip a payload byte": self.size > 0,
            "rewrite a signed event and its chain": self.signed > 0,
            "delete an event": max(self.size - 1, self.signed) > 0,
            "swap two events": self.size > 1,
            "truncate signed events": self.signed > 0,
            "re-sign a checkpoint with another key": self.checkpoints > 0,
            "sign a checkpoint with another root": self.checkpoints > 0,
        }[self.kind]

    @precondition(_can_tamper)
    @rule(n=st.integers(0, 10**6), m=st.integers(0, 10**6), actor=st.text(min_size=1, max_size=8))
    def tamper_with_the_ledger(self, n: int, m: int, actor: str) -> None:
        with tampering(self.store) as conn:
            if self.kind == "flip a payload byte":
                flip_payload_byte(conn, n % self.size, m)
            elif self.kind == "rewrite a signed event and its chain":
                rewrite_from(conn, n % self.signed, lambda row: row.update(actor="~" + actor))
            elif self.kind == "delete an event":
                delete_event(conn, n % max(self.size - 1, self.signed))
            elif self.kind == "swap two events":
                i = n % self.size
                swap_events(conn, i, (i + 1 + m % (self.size - 1)) % self.size)
            elif self.kind == "truncate signed events":
                truncate(conn, n % self.signed)
            elif self.kind == "re-sign a checkpoint with another key":
                resign_with(conn, n, OTHER_KEY)
            else:
                replace_root(conn, n, KEY)
        self.tamper = self.kind
        TAMPERED[self.kind] += 1

    @invariant()
    def verify_tells_the_truth(self) -> None:
        report = verify(self.store, KEY.verifier)
        if self.tamper is not None:
            event("tampered")
        if self.tamper is None:
            assert report.ok, report.faults
            assert (report.events, report.signed_size) == (self.size, self.signed)
        else:
            assert not report.ok, f"undetected: {self.tamper}"


TAMPERS = (
    "flip a payload byte",
    "rewrite a signed event and its chain",
    "delete an event",
    "swap two events",
    "truncate signed events",
    "re-sign a checkpoint with another key",
    "sign a checkpoint with another root",
)


TAMPERED: Counter[str] = Counter()


@pytest.mark.parametrize("kind", TAMPERS)
def test_state_machine(kind: str) -> None:
    before = TAMPERED[kind]
    machine = type(f"LedgerMachine_{kind.replace(' ', '_')}", (LedgerMachine,), {"kind": kind})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=20,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    assert TAMPERED[kind] - before >= 3, "too few runs tampered to mean anything"


# Deterministic cases, on both backends: which fault, and where.


@pytest.fixture
def ledger(store: Store) -> Store:
    """18 events: checkpoints at 10 and 15, three unsigned events after."""
    clock = Clock()
    append_many(store, _events(10, "a"), clock=clock)
    checkpoint(store, KEY, clock=clock)
    append_many(store, _events(5, "b"), clock=clock)
    checkpoint(store, KEY, clock=clock)
    append_many(store, _events(3, "c"), clock=clock)
    return store


def test_an_untampered_ledger_verifies(ledger: Store) -> None:
    report = verify(ledger, KEY.verifier)
    assert report.ok and report.first_bad_seq is None
    assert (report.events, report.checkpoints, report.signed_size, report.unsealed) == (
        18,
        2,
        15,
        3,
    )


@pytest.mark.parametrize(
    ("tamper", "kind", "first_bad"),
    [
        (lambda c: flip_payload_byte(c, 4, 3), FaultKind.LEAF_MISMATCH, 4),
        (lambda c: flip_payload_byte(c, 16, 3), FaultKind.LEAF_MISMATCH, 16),
        (lambda c: rewrite_from(c, 12, lambda r: r.update(success=False)),
         FaultKind.CHECKPOINT_ROOT_MISMATCH, 10),
        (lambda c: delete_event(c, 7), FaultKind.SEQ_GAP, 7),
        (lambda c: delete_event(c, 16), FaultKind.SEQ_GAP, 16),
        (lambda c: swap_events(c, 3, 5), FaultKind.LEAF_MISMATCH, 3),
        (lambda c: truncate(c, 12), FaultKind.CHECKPOINT_BEYOND_LOG, 12),
        (lambda c: resign_with(c, 0, OTHER_KEY), FaultKind.BAD_CHECKPOINT, None),
        (lambda c: replace_root(c, 1, KEY), FaultKind.CHECKPOINT_ROOT_MISMATCH, 10),
        (lambda c: rewrite_from(c, 16, lambda r: r.update(time="2025-08-06T00:00:00.000000Z")),
         FaultKind.CLOCK_BACKWARDS, 16),
        (lambda c: rewrite_from(c, 17, lambda r: r.update(event_type="lunch_ordered")),
         FaultKind.UNKNOWN_EVENT_TYPE, 17),
        (lambda c: rewrite_from(c, 17, lambda r: r.update(time="yesterday")),
         FaultKind.BAD_TIME, 17),
    ],
)  # fmt: skip
def test_each_tamper_is_reported_with_its_first_bad_event(
    ledger: Store, tamper: Callable[[Connection], None], kind: FaultKind, first_bad: int | None
) -> None:
    with tampering(ledger) as conn:
        tamper(conn)
    report = verify(ledger, KEY.verifier)
    assert not report.ok
    assert kind in {f.kind for f in report.faults}, report.faults
    assert report.first_bad_seq == first_bad


@pytest.mark.parametrize(("size", "consistent"), [(5, False), (10, True), (12, True)])
def test_later_checkpoints_must_extend_earlier_ones(
    ledger: Store, size: int, consistent: bool
) -> None:
    with ledger.read() as conn:
        leaves = [
            bytes(h)
            for h in conn.execute(
                select(ledger_events.c.leaf_hash).order_by(ledger_events.c.seq)
            ).scalars()
        ]
    root = MerkleTree(leaves).root(size)
    with tampering(ledger) as conn:
        row = _checkpoint_row(conn, 1)
        note = sign_note(checkpoint_text("custos.test/ledger", size, root), KEY)
        conn.execute(
            update(checkpoints)
            .where(checkpoints.c.id == row["id"])
            .values(note=note, tree_size=size, root_hash=root)
        )
    report = verify(ledger, KEY.verifier)
    assert report.ok is consistent
    if not consistent:
        assert [f.kind for f in report.faults] == [FaultKind.CHECKPOINT_INCONSISTENT]


def test_removing_the_tail_with_its_checkpoints_needs_the_exported_checkpoints(
    ledger: Store,
) -> None:
    kept = exported_notes(export(ledger))
    with tampering(ledger) as conn:
        truncate(conn, 10)
        conn.execute(text("DELETE FROM checkpoints WHERE tree_size > 10"))
    assert verify(ledger, KEY.verifier).ok  # the limit of a self-contained check
    report = verify(ledger, KEY.verifier, trusted=kept)
    assert not report.ok
    assert report.faults[0].kind is FaultKind.TRUSTED_CHECKPOINT_MISMATCH
    assert report.first_bad_seq == 10


def test_kept_checkpoints_signed_by_another_key_do_not_count(ledger: Store) -> None:
    kept = exported_notes(export(ledger))
    report = verify(ledger, OTHER_KEY.verifier, trusted=kept)
    assert not report.ok
    assert {f.kind for f in report.faults} == {
        FaultKind.BAD_CHECKPOINT, FaultKind.TRUSTED_CHECKPOINT_MISMATCH,
    }  # fmt: skip


def test_export_holds_checkpoints_and_no_event_data(ledger: Store) -> None:
    document = export(ledger)
    assert "123456789" not in document and "officer:7" not in document
    assert len(exported_notes(document)) == 2
    with pytest.raises(LedgerError, match="not a checkpoint export"):
        exported_notes('{"format": "something else"}')
