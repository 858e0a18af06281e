"""Officers' review queue: ambiguous matches, and declining them on the record.

Only declines are recorded here. A disclose decision must re-run every gate
rule and make the disclosure through the pipeline's exactly-once path; until
that exists in the library, the API does not offer it (a `disclose` body is
refused by the schema).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from custos import store
from custos.errors import StoreError
from custos.ledger import EventType, NewEvent, append_events, request_object
from custos.service.auth import Principal, Role
from custos.service.deps import StateDep, client_origin, require
from custos.service.errors import ApiError, not_found

router = APIRouter(prefix="/v1/review", tags=["review"])

Officer = Annotated[Principal, Depends(require(Role.OFFICER))]


class ReviewEntry(BaseModel):
    agency: str
    request_id: str
    batch_id: str
    candidates: list[str]
    opened_at: str


class ReviewPage(BaseModel):
    items: list[ReviewEntry]
    total: int
    offset: int
    limit: int


class ReviewDecision(BaseModel):
    decision: Literal["decline"]
    rationale: str = Field(min_length=10, max_length=4000)


class ReviewOutcome(BaseModel):
    agency: str
    request_id: str
    status: str
    decided_by: str


@router.get("", response_model=ReviewPage, summary="Open review items, oldest first")
def list_reviews(
    state: StateDep,
    principal: Officer,
    agency: Annotated[str | None, Query(max_length=64)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ReviewPage:
    with state.gateway.store.read() as conn:
        items = store.open_reviews(conn, agency)
    return ReviewPage(
        items=[
            ReviewEntry(
                agency=i.agency_id,
                request_id=i.request_id,
                batch_id=i.batch_id,
                candidates=list(i.candidates),
                opened_at=i.opened_at.isoformat(),
            )
            for i in items[offset : offset + limit]
        ],
        total=len(items),
        offset=offset,
        limit=limit,
    )


def decline(
    opened: store.Store, agency: str, request_id: str, *, actor: str, origin: str, rationale: str
) -> store.ReviewItem:
    """Close an open item as declined, with the officer's rationale in the ledger, atomically.

    The request's outcome stays `ambiguous` (the requester sees `not_disclosed`).
    """
    with opened.write() as conn:
        item = store.get_review(conn, agency, request_id)
        if item is None:
            raise not_found("review item")
        if item.status is not store.ReviewStatus.OPEN:
            raise ApiError(409, "already_decided", f"this item is already {item.status.value}")
        try:
            decided = store.decide_review(
                conn,
                agency,
                request_id,
                status=store.ReviewStatus.REJECTED,
                decided_by=actor,
                note=rationale,
            )
        except StoreError as exc:
            raise ApiError(409, "already_decided", str(exc)) from None
        append_events(
            conn,
            [
                NewEvent(
                    actor=actor,
                    event_type=EventType.REVIEW_DECIDED,
                    success=True,
                    origin=origin,
                    object=request_object(agency, request_id),
                    payload={
                        "batch": item.batch_id,
                        "decision": "decline",
                        "candidates": len(item.candidates),
                        "rationale": rationale,
                    },
                )
            ],
        )
    return decided


@router.post(
    "/{agency}/{request_id}",
    response_model=ReviewOutcome,
    summary="Decline an ambiguous request, with a written rationale",
)
def decide(
    agency: str,
    request_id: str,
    body: ReviewDecision,
    request: Request,
    state: StateDep,
    principal: Officer,
) -> ReviewOutcome:
    decided = decline(
        state.gateway.store,
        agency,
        request_id,
        actor=principal.actor,
        origin=client_origin(request),
        rationale=body.rationale,
    )
    return ReviewOutcome(
        agency=decided.agency_id,
        request_id=decided.request_id,
        status=decided.status.value,
        decided_by=decided.decided_by or "",
    )
