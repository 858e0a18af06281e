"""Signed checkpoints: C2SP tlog-checkpoint notes over the ledger's Merkle tree.

A checkpoint's text is `<origin>\\n<tree size>\\n<base64 root hash>\\n`, signed
as a C2SP signed note with the ledger's Ed25519 key, whose name is the origin.
The pipeline calls `checkpoint` at the end of each batch and a worker calls
`checkpoint_if_due` on a timer; there is never one per event.

Each checkpoint also stores its tree's frontier, so the next one reads only
the events appended since. Before signing, the new events are re-hashed and
their chain checked, and the stored frontier is checked against the last
signed root: custos refuses to sign over a ledger it can see was altered, and
never signs a tree inconsistent with one it signed before.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Row, insert, select

from custos.errors import LedgerError
from custos.ledger.chain import Clock, iter_events, lock_ledger, read_head
from custos.ledger.events import GENESIS_PREV, leaf_hash, utc_now
from custos.ledger.keys import SigningKey, register_signing_key
from custos.ledger.merkle import extend_frontier, frontier_root
from custos.ledger.verifier import HASH_SIZE
from custos.store.engine import Store
from custos.store.schema import checkpoints, ledger_events


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement of the ledger's size and root at one moment."""

    id: int
    origin: str
    tree_size: int
    root_hash: bytes
    key_id: str
    note: str
    created_at: datetime


def checkpoint_text(origin: str, tree_size: int, root_hash: bytes) -> str:
    """The tlog-checkpoint note text: origin, size and base64 root, each on its own line."""
    return f"{origin}\n{tree_size}\n{base64.b64encode(root_hash).decode()}\n"


def sign_note(text: str, key: SigningKey) -> str:
    """A C2SP signed note: the text, a blank line, and one Ed25519 signature line."""
    if not text.endswith("\n"):
        raise LedgerError("note text must end with a newline")
    signature = key.verifier.key_id + key.sign(text.encode())
    return f"{text}\n\u2014 {key.name} {base64.b64encode(signature).decode()}\n"


def checkpoint(store: Store, key: SigningKey, *, clock: Clock = utc_now) -> Checkpoint:
    """Sign the ledger as it stands; returns the latest checkpoint if nothing was appended since."""
    with store.write() as conn:
        lock_ledger(conn)
        head = read_head(conn)
        last = _latest_row(conn)
        if last is None:
            size, frontier = 0, []
        else:
            if last.origin != key.name:
                raise LedgerError(
                    f"the ledger's origin is {last.origin!r}; a key named {key.name!r} cannot sign it"
                )
            size, frontier = int(last.tree_size), _split(bytes(last.frontier))
            if frontier_root(frontier) != bytes(last.root_hash):
                raise LedgerError("the last checkpoint's stored frontier was altered; run verify")
            if head.size < size:
                raise LedgerError(
                    f"the ledger holds {head.size} events but was signed at {size}; run verify"
                )
            if head.size == size:
                return _checkpoint(last)
        new_leaves = _checked_leaves(conn, size, head.size)
        size, frontier = extend_frontier(size, frontier, new_leaves)
        root = frontier_root(frontier)
        note = sign_note(checkpoint_text(key.name, size, root), key)
        register_signing_key(conn, key.verifier, now=clock())
        new_id = conn.execute(
            insert(checkpoints)
            .values(
                origin=key.name,
                tree_size=size,
                root_hash=root,
                key_id=key.verifier.key_id.hex(),
                note=note,
                frontier=b"".join(frontier),
                created_at=clock(),
            )
            .returning(checkpoints.c.id)
        ).scalar_one()
        row = conn.execute(select(checkpoints).where(checkpoints.c.id == new_id)).one()
        return _checkpoint(row)


def checkpoint_if_due(
    store: Store, key: SigningKey, every: timedelta, *, clock: Clock = utc_now
) -> Checkpoint | None:
    """Checkpoint when events were appended and the last checkpoint is older than `every`."""
    with store.read() as conn:
        head = read_head(conn)
        last = latest_checkpoint(conn)
    if last is not None and (head.size == last.tree_size or clock() - last.created_at < every):
        return None
    if last is None and head.size == 0:
        return None
    return checkpoint(store, key, clock=clock)


def latest_checkpoint(conn: Connection) -> Checkpoint | None:
    row = _latest_row(conn)
    return None if row is None else _checkpoint(row)


def list_checkpoints(conn: Connection) -> list[Checkpoint]:
    """Every checkpoint, in the order they were made."""
    rows = conn.execute(select(checkpoints).order_by(checkpoints.c.id)).all()
    return [_checkpoint(r) for r in rows]


def checkpoint_at(conn: Connection, tree_size: int) -> Checkpoint | None:
    """The latest checkpoint made at exactly `tree_size` events."""
    row = conn.execute(
        select(checkpoints)
        .where(checkpoints.c.tree_size == tree_size)
        .order_by(checkpoints.c.id.desc())
        .limit(1)
    ).one_or_none()
    return None if row is None else _checkpoint(row)


def _checked_leaves(conn: Connection, start: int, stop: int) -> list[bytes]:
    """Leaf hashes of events [start, stop), recomputed and chain-checked, or LedgerError."""
    prev = GENESIS_PREV
    if start > 0:
        prev_row = conn.execute(
            select(ledger_events.c.leaf_hash).where(ledger_events.c.seq == start - 1)
        ).one_or_none()
        if prev_row is None:
            raise LedgerError(f"ledger event {start - 1} is missing; run verify")
        prev = bytes(prev_row.leaf_hash)
    leaves = []
    for expected, event in enumerate(iter_events(conn, start, stop), start):
        if event.seq != expected:
            raise LedgerError(f"ledger event {expected} is missing; run verify")
        leaf = event.leaf_hash
        if event.prev_hash != prev or leaf_hash(event.canonical()) != leaf:
            raise LedgerError(
                f"ledger event {event.seq} does not match its recorded hash; refusing to sign"
            )
        leaves.append(leaf)
        prev = leaf
    if len(leaves) != stop - start:
        raise LedgerError(f"the ledger is missing events below {stop}; run verify")
    return leaves


def _latest_row(conn: Connection) -> Row[tuple[object, ...]] | None:
    return conn.execute(
        select(checkpoints).order_by(checkpoints.c.id.desc()).limit(1)
    ).one_or_none()


def _split(frontier: bytes) -> list[bytes]:
    return [frontier[i : i + HASH_SIZE] for i in range(0, len(frontier), HASH_SIZE)]


def _checkpoint(row: Row[tuple[object, ...]]) -> Checkpoint:
    m = row._mapping
    return Checkpoint(
        id=int(m["id"]),
        origin=m["origin"],
        tree_size=int(m["tree_size"]),
        root_hash=bytes(m["root_hash"]),
        key_id=m["key_id"],
        note=m["note"],
        created_at=m["created_at"],
    )
