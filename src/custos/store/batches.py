"""Batches and their recorded stages: the spine of exactly-once processing.

A batch's `stage` is the last stage that completed. Stages only move forward,
and re-recording the current stage is a no-op, so a resumed run can repeat
its last step safely. A failure is recorded beside the stage, not instead of
it, so the run knows where to resume.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, select, update

from custos.errors import StoreError
from custos.store._sql import utc_now
from custos.store.schema import BATCH_STAGES, batches


class BatchStage(StrEnum):
    """The stages a batch passes through, in order."""

    RECEIVED = "received"
    GATED = "gated"
    MATCHED = "matched"
    DECIDED = "decided"
    DISCLOSED = "disclosed"
    COMPLETE = "complete"

    @property
    def order(self) -> int:
        return BATCH_STAGES.index(self.value)


@dataclass(frozen=True, slots=True)
class Batch:
    """One received request file and how far it has been processed."""

    id: str
    agency_id: str
    source: str
    source_sha256: str
    received_at: datetime
    stage: BatchStage
    row_count: int
    malformed_count: int
    updated_at: datetime
    error: str | None = None


def create_batch(
    conn: Connection,
    *,
    batch_id: str,
    agency_id: str,
    source: str,
    source_sha256: str,
    row_count: int,
    malformed_count: int,
    now: datetime | None = None,
) -> Batch:
    """Record a received batch; receiving the same file under the same id again is a no-op.

    The same id with different content is refused: a batch id names one file.
    """
    existing = get_batch(conn, batch_id)
    if existing is not None:
        if existing.source_sha256 != source_sha256 or existing.agency_id != agency_id:
            raise StoreError(
                f"batch {batch_id!r} already exists with different content "
                f"(sha256 {existing.source_sha256[:12]}…, agency {existing.agency_id})"
            )
        return existing
    at = now or utc_now()
    conn.execute(
        batches.insert().values(
            id=batch_id,
            agency_id=agency_id,
            source=source,
            source_sha256=source_sha256,
            received_at=at,
            stage=BatchStage.RECEIVED.value,
            row_count=row_count,
            malformed_count=malformed_count,
            updated_at=at,
            error=None,
        )
    )
    return _require(conn, batch_id)


def get_batch(conn: Connection, batch_id: str) -> Batch | None:
    row = conn.execute(select(batches).where(batches.c.id == batch_id)).one_or_none()
    if row is None:
        return None
    return Batch(
        id=row.id,
        agency_id=row.agency_id,
        source=row.source,
        source_sha256=row.source_sha256,
        received_at=row.received_at,
        stage=BatchStage(row.stage),
        row_count=row.row_count,
        malformed_count=row.malformed_count,
        updated_at=row.updated_at,
        error=row.error,
    )


def advance_stage(
    conn: Connection, batch_id: str, stage: BatchStage, *, now: datetime | None = None
) -> Batch:
    """Record that `stage` completed; clears any recorded failure. Never moves backwards."""
    batch = _require(conn, batch_id)
    if stage.order < batch.stage.order:
        raise StoreError(
            f"batch {batch_id!r} is already {batch.stage.value}; it cannot go back to {stage.value}"
        )
    conn.execute(
        update(batches)
        .where(batches.c.id == batch_id)
        .values(stage=stage.value, updated_at=now or utc_now(), error=None)
    )
    return _require(conn, batch_id)


def record_batch_failure(
    conn: Connection, batch_id: str, error: str, *, now: datetime | None = None
) -> Batch:
    """Record why the stage after the current one failed; the stage itself is unchanged."""
    _require(conn, batch_id)
    conn.execute(
        update(batches)
        .where(batches.c.id == batch_id)
        .values(error=error, updated_at=now or utc_now())
    )
    return _require(conn, batch_id)


def _require(conn: Connection, batch_id: str) -> Batch:
    batch = get_batch(conn, batch_id)
    if batch is None:
        raise StoreError(f"no batch {batch_id!r} in the store")
    return batch
