"""Verification of the whole ledger, as an auditor would do it.

`verify` trusts nothing stored: it recomputes every event's leaf from its
fields, checks the sequence numbers, the hash chain and that time never goes
backwards, rebuilds the Merkle tree, checks every checkpoint's signature
against the key the auditor supplies, that its root is the root of the events
it claims to cover, and that each checkpoint is consistent with the one
before (an RFC 9162 consistency proof between the two signed roots). Faults
are reported, not raised, so an auditor sees all of them.

`first_bad_seq` is the first event that is not vouched for. An edited,
deleted or moved event is pinpointed exactly when the signed root can be
rebuilt from the hashes the surrounding rows still hold; after a careful
rewrite that recomputed every hash, only the range is known: from the end of
the last checkpoint that still matches.

What it can and cannot see: every change to an event covered by a signed
checkpoint is detected, as is any in-place change to a later event (its leaf
or chain no longer matches). Removing events from the tail *together with*
the checkpoints that cover them is only detected against checkpoints the
auditor kept from an earlier export: pass them as `trusted`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import Connection, select

from custos.ledger.chain import iter_events
from custos.ledger.events import GENESIS_PREV, TIME_PATTERN, EventType, leaf_hash
from custos.ledger.merkle import MerkleTree
from custos.ledger.verifier import (
    CheckpointBody,
    VerificationError,
    VerifierKey,
    verify_checkpoint,
    verify_consistency,
)
from custos.store.engine import Store
from custos.store.schema import checkpoints

MAX_FAULTS = 1000
_KNOWN_TYPES = frozenset(t.value for t in EventType)


class FaultKind(StrEnum):
    """What kind of thing failed to verify."""

    SEQ_GAP = "seq_gap"
    LEAF_MISMATCH = "leaf_mismatch"
    CHAIN_BROKEN = "chain_broken"
    CLOCK_BACKWARDS = "clock_backwards"
    BAD_TIME = "bad_time"
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
    BAD_CHECKPOINT = "bad_checkpoint"
    CHECKPOINT_BEYOND_LOG = "checkpoint_beyond_log"
    CHECKPOINT_ROOT_MISMATCH = "checkpoint_root_mismatch"
    CHECKPOINT_INCONSISTENT = "checkpoint_inconsistent"
    TRUSTED_CHECKPOINT_MISMATCH = "trusted_checkpoint_mismatch"


@dataclass(frozen=True, slots=True)
class Fault:
    """One thing that does not verify. `seq` is the first event it casts doubt on."""

    kind: FaultKind
    message: str
    seq: int | None = None
    checkpoint_id: int | None = None


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of verifying a ledger; `ok` only when there is no fault at all."""

    events: int
    checkpoints: int
    signed_size: int
    faults: tuple[Fault, ...] = field(default=())
    fault_count: int = 0

    @property
    def ok(self) -> bool:
        return self.fault_count == 0

    @property
    def first_bad_seq(self) -> int | None:
        seqs = [f.seq for f in self.faults if f.seq is not None]
        return min(seqs) if seqs else None

    @property
    def unsealed(self) -> int:
        """Events after the last verified checkpoint: protected by the chain only."""
        return max(self.events - self.signed_size, 0)


class _Faults:
    def __init__(self) -> None:
        self.items: list[Fault] = []
        self.count = 0

    def add(
        self, kind: FaultKind, message: str, seq: int | None = None, cp: int | None = None
    ) -> None:
        self.count += 1
        if len(self.items) < MAX_FAULTS:
            self.items.append(Fault(kind, message, seq, cp))


def verify(store: Store, key: VerifierKey, *, trusted: Sequence[str] = ()) -> VerifyReport:
    """Verify every event and checkpoint in the store against the auditor's `key`.

    `trusted` are checkpoint notes the auditor kept from earlier exports; each
    must be signed by `key` and match the ledger.
    """
    faults = _Faults()
    with store.read() as conn:
        tree, events = _verify_events(conn, faults)
        signed_size, count = _verify_checkpoints(conn, key, tree, faults)
    for note in trusted:
        _verify_trusted(note, key, tree, faults)
    return VerifyReport(
        events=events,
        checkpoints=count,
        signed_size=signed_size,
        faults=tuple(faults.items),
        fault_count=faults.count,
    )


def _verify_events(conn: Connection, faults: _Faults) -> tuple[MerkleTree, int]:
    tree = MerkleTree()
    pending: list[bytes] = []
    expected, prev, last_time = 0, GENESIS_PREV, ""
    count = 0
    for event in iter_events(conn):
        count += 1
        seq, time = event.seq, event.time
        if seq != expected:
            if seq > expected:
                message = f"events {expected}..{seq - 1} are missing"
            else:
                message = f"event {seq} is out of order"
            faults.add(FaultKind.SEQ_GAP, message, min(seq, expected))
        try:
            leaf = leaf_hash(event.canonical())
        except UnicodeEncodeError:
            leaf = bytes(32)
        if leaf != event.leaf_hash:
            faults.add(FaultKind.LEAF_MISMATCH, f"event {seq} does not match its leaf hash", seq)
        if event.prev_hash != prev:
            faults.add(
                FaultKind.CHAIN_BROKEN, f"event {seq} does not chain to the event before", seq
            )
        if not TIME_PATTERN.match(time):
            faults.add(FaultKind.BAD_TIME, f"event {seq} has a malformed time {time!r}", seq)
        elif time < last_time:
            faults.add(
                FaultKind.CLOCK_BACKWARDS,
                f"event {seq} at {time} is earlier than the event before ({last_time})",
                seq,
            )
        else:
            last_time = time
        if event.event_type not in _KNOWN_TYPES:
            faults.add(
                FaultKind.UNKNOWN_EVENT_TYPE, f"event {seq} has type {event.event_type!r}", seq
            )
        pending.append(leaf)
        if len(pending) >= 65_536:
            tree.extend(pending)
            pending.clear()
        prev, expected = leaf, seq + 1
    tree.extend(pending)
    return tree, count


def _verify_checkpoints(
    conn: Connection, key: VerifierKey, tree: MerkleTree, faults: _Faults
) -> tuple[int, int]:
    """Check every checkpoint; returns the largest size whose root matches, and the count."""
    rows = conn.execute(select(checkpoints).order_by(checkpoints.c.id)).all()
    evidence: _Evidence | None = None
    previous: CheckpointBody | None = None
    good_size = 0
    for row in rows:
        cp = int(row.id)
        try:
            body = verify_checkpoint(row.note, key)
        except VerificationError as exc:
            faults.add(FaultKind.BAD_CHECKPOINT, f"checkpoint {cp}: {exc}", None, cp)
            continue
        if body.size != int(row.tree_size) or body.root != bytes(row.root_hash):
            faults.add(
                FaultKind.BAD_CHECKPOINT,
                f"checkpoint {cp}: its columns disagree with its signed note",
                None,
                cp,
            )
        signed_tree: MerkleTree | None = tree
        if body.size <= tree.size and tree.root(body.size) == body.root:
            good_size = max(good_size, body.size)
        else:
            evidence = evidence or _Evidence.gather(conn)
            signed_tree = evidence.tree if evidence.explains(body) else None
            _checkpoint_mismatch(cp, body, tree, evidence, good_size, faults)
        if previous is not None:
            _check_consistency(previous, body, signed_tree, cp, faults)
        previous = body
    return good_size, len(rows)


@dataclass(frozen=True, slots=True)
class _Evidence:
    """The leaves as they were signed, recovered from what the altered rows still remember.

    Where an event's recomputed leaf differs from its stored leaf hash, or the
    event is missing, the signed leaf is taken from the next event's `prev`
    field. If the tree so built has a checkpoint's signed root, every event
    whose recomputed leaf was used is exactly as signed (barring a SHA-256
    collision), so the first bad event is known exactly. Otherwise the whole
    range since the last matching checkpoint is in doubt.
    """

    tree: MerkleTree
    unvouched: tuple[int, ...]

    @classmethod
    def gather(cls, conn: Connection) -> _Evidence:
        rows: dict[int, tuple[bytes, bytes, bytes]] = {}
        for event in iter_events(conn):
            try:
                recomputed = leaf_hash(event.canonical())
            except UnicodeEncodeError:
                recomputed = b""
            rows[event.seq] = (recomputed, event.leaf_hash, event.prev_hash)
        leaves: list[bytes] = []
        unvouched: list[int] = []
        for position in range(max(rows, default=-1) + 1):
            here, after = rows.get(position), rows.get(position + 1)
            if here is not None and here[0] == here[1]:
                leaves.append(here[0])
                continue
            unvouched.append(position)
            if after is not None:
                leaves.append(after[2])
            elif here is not None:
                leaves.append(here[1])
            else:
                break
        return cls(MerkleTree(leaves), tuple(unvouched))

    def explains(self, body: CheckpointBody) -> bool:
        return body.size <= self.tree.size and self.tree.root(body.size) == body.root

    def first_unvouched(self, size: int) -> int | None:
        return next((p for p in self.unvouched if p < size), None)


def _checkpoint_mismatch(
    cp: int,
    body: CheckpointBody,
    tree: MerkleTree,
    evidence: _Evidence,
    good_size: int,
    faults: _Faults,
) -> None:
    if evidence.explains(body):
        first = evidence.first_unvouched(body.size)
        faults.add(
            FaultKind.CHECKPOINT_ROOT_MISMATCH,
            f"checkpoint {cp}: the ledger was altered after signing, first at event {first}",
            first,
            cp,
        )
    elif body.size > tree.size:
        faults.add(
            FaultKind.CHECKPOINT_BEYOND_LOG,
            f"checkpoint {cp} signs {body.size} events but the ledger holds {tree.size}",
            tree.size,
            cp,
        )
    else:
        faults.add(
            FaultKind.CHECKPOINT_ROOT_MISMATCH,
            f"checkpoint {cp}: events {good_size}..{body.size - 1} are not the ones it signed",
            min(good_size, body.size - 1) if body.size else 0,
            cp,
        )


def _check_consistency(
    old: CheckpointBody,
    new: CheckpointBody,
    tree: MerkleTree | None,
    cp: int,
    faults: _Faults,
) -> None:
    """An RFC 9162 consistency proof between two signed roots, from a tree that has the newer."""
    if old.origin != new.origin:
        faults.add(
            FaultKind.CHECKPOINT_INCONSISTENT,
            f"checkpoint {cp} is for {new.origin!r}, the one before for {old.origin!r}",
            None,
            cp,
        )
        return
    if new.size < old.size:
        faults.add(
            FaultKind.CHECKPOINT_INCONSISTENT,
            f"checkpoint {cp} shrinks the tree from {old.size} to {new.size}",
            None,
            cp,
        )
        return
    if tree is None or new.size > tree.size:
        return
    try:
        proof = tree.consistency_proof(old.size, new.size)
        verify_consistency(old.size, new.size, proof, old.root, new.root)
    except VerificationError as exc:
        faults.add(
            FaultKind.CHECKPOINT_INCONSISTENT,
            f"checkpoint {cp} is not consistent with the one before: {exc}",
            None,
            cp,
        )


def _verify_trusted(note: str, key: VerifierKey, tree: MerkleTree, faults: _Faults) -> None:
    try:
        body = verify_checkpoint(note, key)
    except VerificationError as exc:
        faults.add(FaultKind.TRUSTED_CHECKPOINT_MISMATCH, f"a kept checkpoint: {exc}")
        return
    if body.size > tree.size:
        faults.add(
            FaultKind.TRUSTED_CHECKPOINT_MISMATCH,
            f"a kept checkpoint signs {body.size} events; the ledger holds only {tree.size}",
            tree.size,
        )
    elif body.root != tree.root(body.size):
        faults.add(
            FaultKind.TRUSTED_CHECKPOINT_MISMATCH,
            f"a kept checkpoint at size {body.size} has another root than the ledger",
            0,
        )
