"""Which signed checkpoint covers a batch: the ledger side of the oversight report.

A batch's events are found the ways the ledger names them: events whose
object is the batch (`batch:<id>`), events about one of its requests
(`request:<agency>/<request_id>`), events whose canonical payload carries
`"batch_id":"<id>"`, and the ledger sequence numbers the store kept beside
the batch's outcomes and disclosures. The batch is covered by the first
checkpoint whose tree includes the last of them (tree size > last seq).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, literal, or_, select

from custos.ledger import Checkpoint
from custos.ledger.canonical import quote
from custos.store.schema import checkpoints, disclosures, ledger_events, outcomes, requests

NOT_CHECKPOINTED = "not yet checkpointed"
NO_EVENTS = "no ledger events"


def batch_object(batch_id: str) -> str:
    """The `object` of a ledger event about a whole batch: `batch:<batch_id>`."""
    return f"batch:{batch_id}"


@dataclass(frozen=True, slots=True)
class LedgerCoverage:
    """How many ledger events concern the batch, the last one, and the checkpoint over it."""

    events: int
    last_seq: int | None
    checkpoint: Checkpoint | None

    @property
    def status(self) -> str:
        if self.last_seq is None:
            return NO_EVENTS
        if self.checkpoint is None:
            return NOT_CHECKPOINTED
        return f"covered by checkpoint {self.checkpoint.id} (tree size {self.checkpoint.tree_size})"


def ledger_coverage(conn: Connection, batch_id: str) -> LedgerCoverage:
    """The batch's ledger events and the first checkpoint whose tree includes all of them."""
    request_objects = select(
        literal("request:") + requests.c.agency_id + literal("/") + requests.c.request_id
    ).where(requests.c.batch_id == batch_id)
    named = or_(
        ledger_events.c.object == batch_object(batch_id),
        ledger_events.c.object.in_(request_objects),
        ledger_events.c.payload.contains(f'"batch_id":{quote(batch_id)}', autoescape=True),
    )
    count, last = conn.execute(
        select(func.count(), func.max(ledger_events.c.seq)).where(named)
    ).one()
    recorded = [
        conn.execute(
            select(func.max(table.c.ledger_seq)).where(table.c.batch_id == batch_id)
        ).scalar_one()
        for table in (outcomes, disclosures)
    ]
    seqs = [int(s) for s in (last, *recorded) if s is not None]
    last_seq = max(seqs) if seqs else None
    covering = None if last_seq is None else _first_covering(conn, last_seq)
    return LedgerCoverage(events=int(count), last_seq=last_seq, checkpoint=covering)


def _first_covering(conn: Connection, seq: int) -> Checkpoint | None:
    row = conn.execute(
        select(checkpoints).where(checkpoints.c.tree_size > seq).order_by(checkpoints.c.id).limit(1)
    ).one_or_none()
    if row is None:
        return None
    return Checkpoint(
        id=int(row.id),
        origin=row.origin,
        tree_size=int(row.tree_size),
        root_hash=bytes(row.root_hash),
        key_id=row.key_id,
        note=row.note,
        created_at=row.created_at,
    )
