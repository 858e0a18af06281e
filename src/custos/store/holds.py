"""Holds: while one is in force over a request, nothing about it is released.

A hold covers an agency, a statute, a batch, or everything (a court order
against the whole programme). It is lifted with a resolution — `release`
(the held requests continue) or `decline` (they are refused) — and never
deleted, so the record shows who stopped what, on whose authority, and for
how long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, Row, select, update

from custos.errors import StoreError
from custos.store._sql import utc_now
from custos.store.schema import holds


class HoldScope(StrEnum):
    AGENCY = "agency"
    STATUTE = "statute"
    BATCH = "batch"
    ALL = "all"


class HoldResolution(StrEnum):
    RELEASE = "release"
    DECLINE = "decline"


@dataclass(frozen=True, slots=True)
class Hold:
    id: int
    scope: HoldScope
    target: str | None
    reference: str
    rationale: str
    placed_by: str
    placed_at: datetime
    lifted_by: str | None = None
    lifted_at: datetime | None = None
    resolution: HoldResolution | None = None
    lift_rationale: str | None = None

    @property
    def active(self) -> bool:
        return self.lifted_at is None

    def covers(self, *, agency: str, statute: str, batch: str) -> bool:
        """True when a request of this agency, statute and batch falls under the hold."""
        match self.scope:
            case HoldScope.ALL:
                return True
            case HoldScope.AGENCY:
                return agency == self.target
            case HoldScope.STATUTE:
                return statute.strip().casefold() == (self.target or "").strip().casefold()
            case HoldScope.BATCH:
                return batch == self.target


def place_hold(
    conn: Connection,
    scope: HoldScope,
    target: str | None,
    *,
    reference: str,
    rationale: str,
    placed_by: str,
    now: datetime | None = None,
) -> Hold:
    if not reference.strip():
        raise StoreError("a hold needs a reference (the order, letter or finding it rests on)")
    if not rationale.strip():
        raise StoreError("a hold needs a rationale")
    if (scope is HoldScope.ALL) != (target is None or not target.strip()):
        raise StoreError(
            "a hold on everything names no target"
            if scope is HoldScope.ALL
            else f"a hold by {scope.value} must name the {scope.value}"
        )
    result = conn.execute(
        holds.insert()
        .values(
            scope=scope.value,
            target=None if scope is HoldScope.ALL else (target or "").strip(),
            reference=reference.strip(),
            rationale=rationale.strip(),
            placed_by=placed_by,
            placed_at=now or utc_now(),
        )
        .returning(holds.c.id)
    )
    return get_hold(conn, int(result.scalar_one()))


def lift_hold(
    conn: Connection,
    hold_id: int,
    *,
    resolution: HoldResolution,
    rationale: str,
    lifted_by: str,
    now: datetime | None = None,
) -> Hold:
    """Lift an active hold; lifting one twice is refused (two officers racing)."""
    if not rationale.strip():
        raise StoreError("lifting a hold needs a rationale")
    changed = conn.execute(
        update(holds)
        .where(holds.c.id == hold_id, holds.c.lifted_at.is_(None))
        .values(
            lifted_by=lifted_by,
            lifted_at=now or utc_now(),
            resolution=resolution.value,
            lift_rationale=rationale.strip(),
        )
    ).rowcount
    if changed != 1:
        hold = get_hold(conn, hold_id)
        raise StoreError(f"hold {hold_id} was already lifted by {hold.lifted_by}")
    return get_hold(conn, hold_id)


def active_holds(conn: Connection) -> list[Hold]:
    query = select(holds).where(holds.c.lifted_at.is_(None)).order_by(holds.c.id)
    return [_hold(r) for r in conn.execute(query).all()]


def list_holds(conn: Connection, *, active_only: bool = False) -> list[Hold]:
    query = select(holds).order_by(holds.c.id.desc())
    if active_only:
        query = query.where(holds.c.lifted_at.is_(None))
    return [_hold(r) for r in conn.execute(query).all()]


def get_hold(conn: Connection, hold_id: int) -> Hold:
    row = conn.execute(select(holds).where(holds.c.id == hold_id)).one_or_none()
    if row is None:
        raise StoreError(f"no hold {hold_id}")
    return _hold(row)


def _hold(row: Row[tuple[object, ...]]) -> Hold:
    m = row._mapping
    return Hold(
        id=m["id"],
        scope=HoldScope(m["scope"]),
        target=m["target"],
        reference=m["reference"],
        rationale=m["rationale"],
        placed_by=m["placed_by"],
        placed_at=m["placed_at"],
        lifted_by=m["lifted_by"],
        lifted_at=m["lifted_at"],
        resolution=HoldResolution(m["resolution"]) if m["resolution"] else None,
        lift_rationale=m["lift_rationale"],
    )
