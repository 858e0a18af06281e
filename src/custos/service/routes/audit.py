"""Auditors' routes: checkpoints, inclusion proofs, accounting by TIN, the annual report.

Read only. Reading a taxpayer's accounting or producing a report is itself
a ledger event naming the auditor's key, as on the command line.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from custos.errors import LedgerError, StoreError
from custos.ledger import EventType, NewEvent, append, export, prove
from custos.report import (
    accounting_for_tin,
    annual_report,
    normalize_tin,
    render_accounting_json,
    render_annual_json,
)
from custos.service.auth import Principal
from custos.service.deps import Auditor, StateDep, client_origin
from custos.service.errors import ApiError

router = APIRouter(prefix="/v1", tags=["audit"])

JSON = "application/json"
_JSON_DOC: dict[int | str, dict[str, Any]] = {200: {"content": {JSON: {}}}}


def _json(text: str) -> Response:
    return Response(text, media_type=JSON)


def _record(
    state: StateDep, principal: Principal, request: Request, kind: EventType, obj: str
) -> None:
    append(
        state.gateway.store,
        NewEvent(principal.actor, kind, True, client_origin(request), obj, {"via": "api"}),
    )


@router.get(
    "/ledger/checkpoints",
    response_class=Response,
    responses=_JSON_DOC,
    summary="Every signed checkpoint (the export for oversight; no event data)",
)
def checkpoints(state: StateDep, principal: Auditor) -> Response:
    return _json(export(state.gateway.store))


@router.get(
    "/ledger/proofs/{request_id}",
    response_class=Response,
    responses=_JSON_DOC,
    summary="Inclusion proofs of every event about one request",
)
def proofs(
    request_id: str,
    state: StateDep,
    principal: Auditor,
    agency: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    try:
        bundle = prove(state.gateway.store, request_id, agency=agency)
    except LedgerError as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    return _json(bundle.to_json())


@router.get(
    "/accounting/{tin}",
    response_class=Response,
    responses=_JSON_DOC,
    summary="The (p)(3)(A) accounting of every request and disclosure about one taxpayer",
)
def accounting(tin: str, request: Request, state: StateDep, principal: Auditor) -> Response:
    try:
        clean = normalize_tin(tin)
    except StoreError as exc:
        raise ApiError(422, "invalid_tin", str(exc)) from None
    result = accounting_for_tin(state.gateway.store, clean)
    _record(state, principal, request, EventType.RECORDS_ACCESSED, f"tin:{clean}")
    return _json(render_accounting_json(result))


@router.get(
    "/reports/annual/{year}",
    response_class=Response,
    responses=_JSON_DOC,
    summary="The (p)(3)(C) annual report per agency",
)
def annual(
    year: Annotated[int, Path(ge=1900, le=9998)],
    request: Request,
    state: StateDep,
    principal: Auditor,
) -> Response:
    try:
        report = annual_report(state.gateway.store, year)
    except StoreError as exc:
        raise ApiError(422, "invalid_year", str(exc)) from None
    _record(state, principal, request, EventType.REPORT_GENERATED, f"report:annual/{year}")
    return _json(render_annual_json(report))
