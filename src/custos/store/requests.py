"""Stored requests, and the rows of a batch that never became one.

A request is stored once per (agency, request_id): adding it again, from a
resubmitted batch, is a no-op. Rows that could not be read, or that repeat a
request id within the batch, are kept as row rejections, so every row of a
batch is accounted for by exactly one of the two.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from custos.errors import StoreError
from custos.model import ReasonCode, Request, Subject
from custos.store._sql import insert_new, utc_now
from custos.store.schema import requests, row_rejections


@dataclass(frozen=True, slots=True)
class RowRejection:
    """A batch row that is not a stored request, and why."""

    row: int
    line: int
    reason_code: ReasonCode
    error: str
    request_id: str = ""


def add_requests(
    conn: Connection, batch_id: str, batch: Sequence[Request], *, now: datetime | None = None
) -> int:
    """Store the batch's requests; return how many were new (the rest were already stored)."""
    at = now or utc_now()
    rows = []
    for request in batch:
        if not request.agency:
            raise StoreError(f"request {request.request_id!r} (row {request.row}) has no agency")
        rows.append(
            {
                "batch_id": batch_id,
                "row": request.row,
                "line": request.line,
                "agency_id": request.agency,
                "request_id": request.request_id,
                "payload": _payload(request),
                "received_at": at,
            }
        )
    return insert_new(conn, requests, rows)


def get_request(conn: Connection, agency_id: str, request_id: str) -> Request | None:
    row = conn.execute(
        select(requests.c.payload).where(
            requests.c.agency_id == agency_id, requests.c.request_id == request_id
        )
    ).one_or_none()
    return None if row is None else _request(row.payload)


def known_request_ids(conn: Connection, agency_id: str, request_ids: Sequence[str]) -> set[str]:
    """Which of `request_ids` the agency has already sent, in any batch."""
    found: set[str] = set()
    wanted = sorted(set(request_ids))
    for start in range(0, len(wanted), 5_000):
        chunk = wanted[start : start + 5_000]
        found.update(
            conn.execute(
                select(requests.c.request_id).where(
                    requests.c.agency_id == agency_id, requests.c.request_id.in_(chunk)
                )
            ).scalars()
        )
    return found


def batch_requests(conn: Connection, batch_id: str) -> list[Request]:
    """The batch's stored requests in row order."""
    rows = conn.execute(
        select(requests.c.payload).where(requests.c.batch_id == batch_id).order_by(requests.c.row)
    ).all()
    return [_request(r.payload) for r in rows]


def add_row_rejections(conn: Connection, batch_id: str, rejections: Sequence[RowRejection]) -> int:
    """Record rows that are not requests; return how many were new."""
    rows = [
        {
            "batch_id": batch_id,
            "row": r.row,
            "line": r.line,
            "request_id": r.request_id,
            "reason_code": r.reason_code.value,
            "error": r.error,
        }
        for r in rejections
    ]
    return insert_new(conn, row_rejections, rows)


def batch_row_rejections(conn: Connection, batch_id: str) -> list[RowRejection]:
    rows = conn.execute(
        select(row_rejections)
        .where(row_rejections.c.batch_id == batch_id)
        .order_by(row_rejections.c.row)
    ).all()
    return [
        RowRejection(r.row, r.line, ReasonCode(r.reason_code), r.error, r.request_id) for r in rows
    ]


def _payload(request: Request) -> dict[str, Any]:
    return dataclasses.asdict(request)


def _request(payload: dict[str, Any]) -> Request:
    fields = dict(payload)
    fields["subject"] = Subject(**fields.get("subject", {}))
    return Request(**fields)
