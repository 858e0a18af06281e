"""Proofs for auditors: inclusion of a request's events, consistency of two checkpoints, export.

Each bundle serialises (`to_json`) to the document the stand-alone verifier
reads, so an auditor can check it without custos. Hashes are base64, as in
checkpoints. `export` publishes checkpoints only: sizes, roots and signatures,
no event and no taxpayer data.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from sqlalchemy import Connection, select

from custos.errors import LedgerError
from custos.ledger.chain import read_events
from custos.ledger.checkpoint import Checkpoint, checkpoint_at, latest_checkpoint, list_checkpoints
from custos.ledger.events import LedgerEvent, request_object
from custos.ledger.merkle import MerkleTree
from custos.ledger.verifier import CONSISTENCY_FORMAT, INCLUSION_FORMAT
from custos.store.engine import Store
from custos.store.schema import ledger_events

EXPORT_FORMAT = "custos-checkpoints/v1"


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """One event, its leaf index and its audit path."""

    leaf_index: int
    event: str
    proof: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class InclusionBundle:
    """A request's events proven against one checkpoint; `pending` are not yet signed."""

    checkpoint: Checkpoint
    entries: tuple[InclusionProof, ...]
    pending: tuple[int, ...] = ()

    def to_json(self) -> str:
        return _json(
            {
                "format": INCLUSION_FORMAT,
                "checkpoint": self.checkpoint.note,
                "entries": [
                    {"leaf_index": e.leaf_index, "event": e.event, "proof": _b64s(e.proof)}
                    for e in self.entries
                ],
                "pending": list(self.pending),
            }
        )


@dataclass(frozen=True, slots=True)
class ConsistencyBundle:
    """Two checkpoints and the proof that the newer tree extends the older."""

    old: Checkpoint
    new: Checkpoint
    proof: tuple[bytes, ...]

    def to_json(self) -> str:
        return _json(
            {
                "format": CONSISTENCY_FORMAT,
                "old_checkpoint": self.old.note,
                "new_checkpoint": self.new.note,
                "proof": _b64s(self.proof),
            }
        )


def prove(store: Store, request_id: str, *, agency: str | None = None) -> InclusionBundle:
    """Inclusion proofs for every event about `request_id`, against the latest checkpoint.

    With `agency` None, the request id is looked up across all agencies.
    """
    with store.read() as conn:
        cp = latest_checkpoint(conn)
        if cp is None:
            raise LedgerError("the ledger has no checkpoint yet; nothing can be proven")
        events = _request_events(conn, request_id, agency)
        if not events:
            where = f"{agency}/{request_id}" if agency else request_id
            raise LedgerError(f"no ledger events about request {where}")
        tree = _tree(conn, cp)
    signed = [e for e in events if e.seq < cp.tree_size]
    entries = tuple(
        InclusionProof(
            e.seq, e.canonical().decode(), tuple(tree.inclusion_proof(e.seq, cp.tree_size))
        )
        for e in signed
    )
    pending = tuple(e.seq for e in events if e.seq >= cp.tree_size)
    return InclusionBundle(cp, entries, pending)


def consistency(store: Store, old_size: int, new_size: int) -> ConsistencyBundle:
    """A consistency proof between the checkpoints at `old_size` and `new_size` events."""
    if old_size > new_size:
        raise LedgerError(f"the old size {old_size} is larger than the new size {new_size}")
    with store.read() as conn:
        old, new = checkpoint_at(conn, old_size), checkpoint_at(conn, new_size)
        for size, found in ((old_size, old), (new_size, new)):
            if found is None:
                sizes = sorted({c.tree_size for c in list_checkpoints(conn)})
                raise LedgerError(f"no checkpoint at size {size}; checkpointed sizes: {sizes}")
        assert old is not None and new is not None
        tree = _tree(conn, new)
    return ConsistencyBundle(old, new, tuple(tree.consistency_proof(old_size, new_size)))


def export(store: Store) -> str:
    """Every checkpoint as a JSON document, for publication to oversight; no event data."""
    with store.read() as conn:
        cps = list_checkpoints(conn)
    return _json(
        {
            "format": EXPORT_FORMAT,
            "checkpoints": [
                {
                    "origin": c.origin,
                    "tree_size": c.tree_size,
                    "root_hash": base64.b64encode(c.root_hash).decode(),
                    "created_at": c.created_at.isoformat(),
                    "note": c.note,
                }
                for c in cps
            ],
        }
    )


def exported_notes(document: str) -> list[str]:
    """The checkpoint notes of an `export` document, to pass to verify as `trusted`."""
    try:
        data = json.loads(document)
        if data.get("format") != EXPORT_FORMAT:
            raise ValueError(f"not a {EXPORT_FORMAT} document")
        return [str(c["note"]) for c in data["checkpoints"]]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LedgerError(f"not a checkpoint export: {exc}") from exc


def _request_events(conn: Connection, request_id: str, agency: str | None) -> list[LedgerEvent]:
    if agency is not None:
        condition = ledger_events.c.object == request_object(agency, request_id)
    else:
        condition = ledger_events.c.object.endswith(f"/{request_id}", autoescape=True)
    events = read_events(conn, where=condition)
    return [
        e
        for e in events
        if e.object.startswith("request:") and e.object.partition("/")[2] == request_id
    ]


def _tree(conn: Connection, cp: Checkpoint) -> MerkleTree:
    """The tree of the checkpoint's events from their recorded leaf hashes, checked against it."""
    leaves = conn.execute(
        select(ledger_events.c.leaf_hash)
        .where(ledger_events.c.seq < cp.tree_size)
        .order_by(ledger_events.c.seq)
    ).scalars()
    tree = MerkleTree(bytes(h) for h in leaves)
    if tree.size != cp.tree_size or tree.root() != cp.root_hash:
        raise LedgerError(
            f"the ledger does not match its checkpoint at size {cp.tree_size}; run verify"
        )
    return tree


def _b64s(hashes: tuple[bytes, ...]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


def _json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"
