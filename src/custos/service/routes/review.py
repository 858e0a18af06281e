"""Officers' review queue: ambiguous matches with their evidence, decided on the record.

The logic — what may be disclosed, the gate re-run, holds, blocks — lives
in `custos.review`; these routes only read the officer's input and shape
the answers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, model_validator

from custos import review
from custos.errors import DecisionRefused
from custos.service.auth import Principal, Role
from custos.service.deps import StateDep, actor_of, require
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


class ComparisonEvidence(BaseModel):
    comparison: str
    request: str
    candidate: str
    level: str
    weight: float


class CandidateView(BaseModel):
    tin: str
    taxpayer: dict[str, str]
    address: dict[str, Any]
    match_weight: float | None
    match_probability: float | None
    fields: list[ComparisonEvidence]


class ReviewCaseView(BaseModel):
    agency: str
    request_id: str
    batch_id: str
    status: str
    held: bool
    opened_at: str
    request: dict[str, Any]
    candidates: list[CandidateView]


class ReviewDecision(BaseModel):
    decision: Literal["disclose", "decline"]
    rationale: str = Field(min_length=10, max_length=4000)
    tin: str | None = Field(default=None, pattern=r"^\d{9}$")

    @model_validator(mode="after")
    def _tin_only_to_disclose(self) -> ReviewDecision:
        if (self.decision == "disclose") != (self.tin is not None):
            raise ValueError("disclose names exactly one candidate `tin`; decline names none")
        return self


class ReviewOutcome(BaseModel):
    agency: str
    request_id: str
    status: str
    decided_by: str
    tin: str | None


@router.get("", response_model=ReviewPage, summary="Open review items, oldest first")
def list_reviews(
    state: StateDep,
    principal: Officer,
    agency: Annotated[str | None, Query(max_length=64)] = None,
    batch: Annotated[str | None, Query(max_length=64)] = None,
    older_than_hours: Annotated[float | None, Query(ge=0, le=24 * 3650)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ReviewPage:
    before = (
        None if older_than_hours is None else datetime.now(UTC) - timedelta(hours=older_than_hours)
    )
    items = review.queue(state.gateway, agency=agency, batch=batch, opened_before=before)
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


@router.get(
    "/{agency}/{request_id}",
    response_model=ReviewCaseView,
    summary="One item: the request and each candidate side by side, with match weights",
)
def get_case(agency: str, request_id: str, state: StateDep, principal: Officer) -> ReviewCaseView:
    found = review.case(state.gateway, agency, request_id)
    if found is None:
        raise not_found("review item")
    subject = found.request.subject
    return ReviewCaseView(
        agency=found.item.agency_id,
        request_id=found.item.request_id,
        batch_id=found.item.batch_id,
        status=found.item.status.value,
        held=found.held,
        opened_at=found.item.opened_at.isoformat(),
        request={
            "case_number": found.request.case_number,
            "statute": found.request.statute,
            "reason": found.request.reason,
            "requesting_official": found.request.requesting_official,
            **{k: getattr(subject, k) for k in subject.__dataclass_fields__},
        },
        candidates=[CandidateView.model_validate(c) for c in found.candidates],
    )


@router.post(
    "/{agency}/{request_id}",
    response_model=ReviewOutcome,
    summary="Disclose one candidate, or decline, with a written rationale",
)
def decide(
    agency: str,
    request_id: str,
    body: ReviewDecision,
    request: Request,
    state: StateDep,
    principal: Officer,
) -> ReviewOutcome:
    try:
        decided = review.decide(
            state.gateway,
            agency,
            request_id,
            decision=body.decision,
            rationale=body.rationale,
            actor=actor_of(principal, request),
            tin=body.tin,
        )
    except DecisionRefused as exc:
        if exc.code == "not_found":
            raise not_found("review item") from None
        raise ApiError(409, exc.code, str(exc)) from None
    return ReviewOutcome(
        agency=decided.agency_id,
        request_id=decided.request_id,
        status=decided.status.value,
        decided_by=decided.decided_by or "",
        tin=decided.decision_tin,
    )
