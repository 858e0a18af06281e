"""Holds: officers stop disclosures at once, and lift them with a resolution, on the record."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field, model_validator

from custos import holds
from custos.errors import StoreError
from custos.service.auth import Principal, Role
from custos.service.deps import StateDep, actor_of, require
from custos.service.errors import ApiError
from custos.store import Hold, HoldResolution, HoldScope, get_hold, list_holds

router = APIRouter(prefix="/v1/holds", tags=["holds"])

Officer = Annotated[Principal, Depends(require(Role.OFFICER))]
Reader = Annotated[Principal, Depends(require(Role.OFFICER, Role.AUDITOR))]
HoldId = Annotated[int, Path(ge=1, le=2_147_483_647)]


class HoldRequest(BaseModel):
    scope: Literal["agency", "statute", "batch", "all"]
    target: str | None = Field(default=None, min_length=1, max_length=200)
    reference: str = Field(min_length=1, max_length=300)
    rationale: str = Field(min_length=10, max_length=4000)

    @model_validator(mode="after")
    def _target_unless_all(self) -> HoldRequest:
        if (self.scope == "all") != (self.target is None):
            raise ValueError("a hold on `all` names no target; any other scope names one")
        return self


class LiftRequest(BaseModel):
    resolution: Literal["release", "decline"]
    rationale: str = Field(min_length=10, max_length=4000)


class HoldView(BaseModel):
    id: int
    scope: str
    target: str | None
    reference: str
    rationale: str
    placed_by: str
    placed_at: str
    active: bool
    lifted_by: str | None
    lifted_at: str | None
    resolution: str | None


class HoldPage(BaseModel):
    items: list[HoldView]
    total: int
    offset: int
    limit: int


class LiftView(BaseModel):
    hold: HoldView
    released: int
    disclosed: int
    declined: int
    rejected_by_gate: int
    still_held: int


def _view(h: Hold) -> HoldView:
    return HoldView(
        id=h.id,
        scope=h.scope.value,
        target=h.target,
        reference=h.reference,
        rationale=h.rationale,
        placed_by=h.placed_by,
        placed_at=h.placed_at.isoformat(),
        active=h.active,
        lifted_by=h.lifted_by,
        lifted_at=h.lifted_at.isoformat() if h.lifted_at else None,
        resolution=h.resolution.value if h.resolution else None,
    )


@router.post("", response_model=HoldView, status_code=201, summary="Place a hold")
def place(body: HoldRequest, request: Request, state: StateDep, principal: Officer) -> HoldView:
    hold = holds.place(
        state.gateway,
        HoldScope(body.scope),
        body.target,
        reference=body.reference,
        rationale=body.rationale,
        actor=actor_of(principal, request),
    )
    return _view(hold)


@router.get("", response_model=HoldPage, summary="Holds, newest first")
def list_all(
    state: StateDep,
    principal: Reader,
    active: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> HoldPage:
    with state.gateway.store.read() as conn:
        found = list_holds(conn, active_only=active)
    return HoldPage(
        items=[_view(h) for h in found[offset : offset + limit]],
        total=len(found),
        offset=offset,
        limit=limit,
    )


class RecheckView(BaseModel):
    released: int
    disclosed: int
    rejected_by_gate: int
    still_held: int


@router.post(
    "/recheck",
    response_model=RecheckView,
    summary="Release whatever no hold covers any more (after the roster renewed safeguards)",
)
def recheck(request: Request, state: StateDep, principal: Officer) -> RecheckView:
    done = holds.release_held(state.gateway, actor_of(principal, request))
    return RecheckView(
        released=done.released,
        disclosed=done.disclosed,
        rejected_by_gate=done.rejected_by_gate,
        still_held=done.still_held,
    )


@router.get("/{hold_id}", response_model=HoldView, summary="One hold")
def get_one(hold_id: HoldId, state: StateDep, principal: Reader) -> HoldView:
    try:
        with state.gateway.store.read() as conn:
            return _view(get_hold(conn, hold_id))
    except StoreError:
        raise ApiError(404, "not_found", "no such hold") from None


@router.post(
    "/{hold_id}/lift",
    response_model=LiftView,
    summary="Lift a hold: release or decline every request it held",
)
def lift(
    hold_id: HoldId, body: LiftRequest, request: Request, state: StateDep, principal: Officer
) -> LiftView:
    with state.gateway.store.read() as conn:
        try:
            current = get_hold(conn, hold_id)
        except StoreError:
            raise ApiError(404, "not_found", "no such hold") from None
    if not current.active:
        raise ApiError(409, "already_lifted", f"hold {hold_id} was already lifted")
    try:
        done = holds.lift(
            state.gateway,
            hold_id,
            resolution=HoldResolution(body.resolution),
            rationale=body.rationale,
            actor=actor_of(principal, request),
        )
    except StoreError as exc:
        raise ApiError(409, "already_lifted", str(exc)) from None
    assert done.hold is not None
    return LiftView(
        hold=_view(done.hold),
        released=done.released,
        disclosed=done.disclosed,
        declined=done.declined,
        rejected_by_gate=done.rejected_by_gate,
        still_held=done.still_held,
    )
