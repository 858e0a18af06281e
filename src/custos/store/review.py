"""The review queue: ambiguous matches an officer must decide, never released unreviewed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, select, update

from custos.errors import StoreError
from custos.store._sql import insert_new, utc_now
from custos.store.schema import review_items


class ReviewStatus(StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A request waiting for (or decided by) an officer, with the candidate taxpayers."""

    batch_id: str
    agency_id: str
    request_id: str
    candidates: tuple[str, ...]
    opened_at: datetime
    status: ReviewStatus = ReviewStatus.OPEN
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_tin: str | None = None
    note: str | None = None
    evidence: tuple[dict[str, Any], ...] = ()
    """Per candidate: the compared values and each comparison's match weight (match.evidence)."""


def open_review(conn: Connection, item: ReviewItem) -> bool:
    """Queue the item; False if the request is already in the queue (in any status)."""
    row = {
        "batch_id": item.batch_id,
        "agency_id": item.agency_id,
        "request_id": item.request_id,
        "candidates": list(item.candidates),
        "evidence": list(item.evidence) or None,
        "status": ReviewStatus.OPEN.value,
        "opened_at": item.opened_at,
    }
    return bool(insert_new(conn, review_items, [row]))


def decide_review(
    conn: Connection,
    agency_id: str,
    request_id: str,
    *,
    status: ReviewStatus,
    decided_by: str,
    decision_tin: str | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> ReviewItem:
    """Close an open item. Approval names one of the candidates; nothing else may be approved."""
    item = get_review(conn, agency_id, request_id)
    if item is None:
        raise StoreError(f"no review item for {agency_id}/{request_id}")
    if item.status is not ReviewStatus.OPEN:
        raise StoreError(f"review of {agency_id}/{request_id} is already {item.status.value}")
    if status is ReviewStatus.OPEN:
        raise StoreError("a review decision must approve, reject or expire the item")
    if status is ReviewStatus.APPROVED and decision_tin not in item.candidates:
        raise StoreError(
            f"approval of {agency_id}/{request_id} must name one of its candidate taxpayers"
        )
    if status is not ReviewStatus.APPROVED and decision_tin is not None:
        raise StoreError("only an approval names a taxpayer")
    changed = conn.execute(
        update(review_items)
        .where(
            review_items.c.agency_id == agency_id,
            review_items.c.request_id == request_id,
            review_items.c.status == ReviewStatus.OPEN.value,
        )
        .values(
            status=status.value,
            decided_at=now or utc_now(),
            decided_by=decided_by,
            decision_tin=decision_tin,
            note=note,
        )
    ).rowcount
    if changed != 1:
        raise StoreError(f"review of {agency_id}/{request_id} was decided by someone else first")
    decided = get_review(conn, agency_id, request_id)
    assert decided is not None
    return decided


def get_review(conn: Connection, agency_id: str, request_id: str) -> ReviewItem | None:
    row = conn.execute(
        select(review_items).where(
            review_items.c.agency_id == agency_id, review_items.c.request_id == request_id
        )
    ).one_or_none()
    return None if row is None else _item(row)


def open_reviews(conn: Connection, agency_id: str | None = None) -> list[ReviewItem]:
    """Open items, oldest first."""
    query = select(review_items).where(review_items.c.status == ReviewStatus.OPEN.value)
    if agency_id is not None:
        query = query.where(review_items.c.agency_id == agency_id)
    rows = conn.execute(query.order_by(review_items.c.opened_at, review_items.c.id)).all()
    return [_item(r) for r in rows]


def _item(row: Row[tuple[object, ...]]) -> ReviewItem:
    m = row._mapping
    return ReviewItem(
        batch_id=m["batch_id"],
        agency_id=m["agency_id"],
        request_id=m["request_id"],
        candidates=tuple(m["candidates"]),
        opened_at=m["opened_at"],
        status=ReviewStatus(m["status"]),
        decided_at=m["decided_at"],
        decided_by=m["decided_by"],
        decision_tin=m["decision_tin"],
        note=m["note"],
        evidence=tuple(m["evidence"] or ()),
    )
