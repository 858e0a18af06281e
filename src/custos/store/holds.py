"""Legal holds: while an agency has an active hold, its disclosures are held, not made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Row, select, update

from custos.errors import StoreError
from custos.store._sql import utc_now
from custos.store.schema import holds


@dataclass(frozen=True, slots=True)
class Hold:
    id: int
    agency_id: str
    reason: str
    placed_by: str
    placed_at: datetime
    lifted_by: str | None = None
    lifted_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.lifted_at is None


def place_hold(
    conn: Connection, agency_id: str, reason: str, placed_by: str, *, now: datetime | None = None
) -> Hold:
    if not reason.strip():
        raise StoreError("a hold needs a reason")
    result = conn.execute(
        holds.insert()
        .values(agency_id=agency_id, reason=reason, placed_by=placed_by, placed_at=now or utc_now())
        .returning(holds.c.id)
    )
    return _require(conn, int(result.scalar_one()))


def lift_hold(
    conn: Connection, hold_id: int, lifted_by: str, *, now: datetime | None = None
) -> Hold:
    hold = _require(conn, hold_id)
    if not hold.active:
        raise StoreError(f"hold {hold_id} was already lifted by {hold.lifted_by}")
    conn.execute(
        update(holds)
        .where(holds.c.id == hold_id)
        .values(lifted_by=lifted_by, lifted_at=now or utc_now())
    )
    return _require(conn, hold_id)


def active_holds(conn: Connection, agency_id: str | None = None) -> list[Hold]:
    query = select(holds).where(holds.c.lifted_at.is_(None))
    if agency_id is not None:
        query = query.where(holds.c.agency_id == agency_id)
    return [_hold(r) for r in conn.execute(query.order_by(holds.c.id)).all()]


def _require(conn: Connection, hold_id: int) -> Hold:
    row = conn.execute(select(holds).where(holds.c.id == hold_id)).one_or_none()
    if row is None:
        raise StoreError(f"no hold {hold_id}")
    return _hold(row)


def _hold(row: Row[tuple[object, ...]]) -> Hold:
    m = row._mapping
    return Hold(
        id=m["id"],
        agency_id=m["agency_id"],
        reason=m["reason"],
        placed_by=m["placed_by"],
        placed_at=m["placed_at"],
        lifted_by=m["lifted_by"],
        lifted_at=m["lifted_at"],
    )
