"""Administrators: API keys, and read-only views of the roster and the policy pack in force.

The roster and the pack are files under change control, loaded when the
service starts; the API shows exactly what is in force (with the pack's
hash) rather than editing it, so a change to the law's rules is always a
reviewed file, never a click.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from custos.errors import CustosError, StoreError
from custos.service.auth import Principal, Role, issue_key, list_keys, revoke_key
from custos.service.deps import StateDep, client_origin, require
from custos.service.errors import ApiError, not_found
from custos.store.apikeys import ApiKeyRecord

router = APIRouter(prefix="/v1/admin", tags=["admin"])

Admin = Annotated[Principal, Depends(require(Role.ADMIN))]


class KeyView(BaseModel):
    prefix: str
    agency: str | None
    role: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None


class KeyPage(BaseModel):
    items: list[KeyView]
    total: int
    offset: int
    limit: int


class KeyRequest(BaseModel):
    role: Literal["requester", "officer", "auditor", "admin"]
    agency: str | None = Field(default=None, min_length=1, max_length=64)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class IssuedKeyView(KeyView):
    key: str = Field(description="The secret, shown this once and stored nowhere.")


class OfficialView(BaseModel):
    id: str
    name: str
    title: str
    recipient: bool


class AgencyView(BaseModel):
    id: str
    name: str
    safeguards_certified: str | None
    safeguards_expires: str | None
    safeguards_current: bool
    officials: list[OfficialView]


class RuleView(BaseModel):
    id: str
    clause: str
    reason: str
    description: str


class PackView(BaseModel):
    id: str
    version: str
    sha256: str
    title: str
    disclosure_profile: str
    disclosure_fields: list[str]
    rules: list[RuleView]
    match: dict[str, float]


def _key_view(r: ApiKeyRecord) -> KeyView:
    return KeyView(
        prefix=r.prefix,
        agency=r.agency_id,
        role=r.role,
        created_at=r.created_at.isoformat(),
        expires_at=r.expires_at.isoformat() if r.expires_at else None,
        revoked_at=r.revoked_at.isoformat() if r.revoked_at else None,
    )


@router.get("/keys", response_model=KeyPage, summary="Issued API keys (never their secrets)")
def keys(
    state: StateDep,
    principal: Admin,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> KeyPage:
    found = list_keys(state.gateway.store)
    return KeyPage(
        items=[_key_view(r) for r in found[offset : offset + limit]],
        total=len(found),
        offset=offset,
        limit=limit,
    )


@router.post("/keys", response_model=IssuedKeyView, status_code=201, summary="Issue an API key")
def issue(body: KeyRequest, request: Request, state: StateDep, principal: Admin) -> IssuedKeyView:
    expires = (
        datetime.now(UTC) + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    )
    try:
        issued = issue_key(
            state.gateway.store,
            role=Role(body.role),
            agency=body.agency,
            expires_at=expires,
            actor=principal.actor,
            origin=client_origin(request),
        )
    except CustosError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from None
    return IssuedKeyView(key=issued.secret_key, **_key_view(issued.record).model_dump())


@router.post("/keys/{prefix}/revoke", response_model=KeyView, summary="Revoke an API key now")
def revoke(prefix: str, request: Request, state: StateDep, principal: Admin) -> KeyView:
    try:
        record = revoke_key(
            state.gateway.store, prefix, actor=principal.actor, origin=client_origin(request)
        )
    except StoreError:
        raise not_found("key") from None
    return _key_view(record)


@router.get("/roster", response_model=list[AgencyView], summary="The roster in force")
def roster(state: StateDep, principal: Admin) -> list[AgencyView]:
    today = state.gateway.today or date.today()
    return [
        AgencyView(
            id=a.id,
            name=a.name,
            safeguards_certified=a.safeguards_certified.isoformat()
            if a.safeguards_certified
            else None,
            safeguards_expires=a.safeguards_expires.isoformat() if a.safeguards_expires else None,
            safeguards_current=a.safeguards_current(today),
            officials=[
                OfficialView(id=o.id, name=o.name, title=o.title, recipient=o.recipient)
                for o in a.officials
            ],
        )
        for a in state.gateway.roster.agencies
    ]


@router.get("/pack", response_model=PackView, summary="The policy pack in force, with its hash")
def pack(state: StateDep, principal: Admin) -> PackView:
    p = state.gateway.pack
    return PackView(
        id=p.ref.id,
        version=p.ref.version,
        sha256=p.ref.sha256,
        title=p.title,
        disclosure_profile=p.disclosure_profile,
        disclosure_fields=list(p.disclosure_fields),
        rules=[
            RuleView(id=r.id, clause=r.clause, reason=r.reason.value, description=r.description)
            for r in p.rules
        ],
        match={
            "threshold": p.match.threshold,
            "review_threshold": p.match.review_threshold,
            "margin_weight": p.match.margin_weight,
            "margin_any_weight": p.match.margin_any_weight,
        },
    )
