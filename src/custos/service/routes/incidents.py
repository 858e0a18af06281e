"""Incidents and recall over HTTP: thin routes over `custos.incidents`.

Who may do what (default deny; the authorisation matrix test checks it):

- open an incident: officer, admin;
- list incidents, read one, read its report: officer, admin, auditor;
- read disposal lists: officer, admin, auditor (every list, or `?agency=`),
  and a requester for its own agency's list only;
- confirm destruction: a requester for its own agency, or an officer or admin
  recording a confirmation received on paper (naming the agency).

A requester asking for an incident that does not exist, or one that sent its
agency nothing, gets the same 404: it learns nothing about other agencies.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, Field

from custos import incidents
from custos.incidents import IncidentError
from custos.service.auth import Principal, Role
from custos.service.deps import StateDep, client_origin, require
from custos.service.errors import ApiError

router = APIRouter(prefix="/v1/incidents", tags=["incidents"])

Opener = Annotated[Principal, Depends(require(Role.OFFICER, Role.ADMIN))]
Reader = Annotated[Principal, Depends(require(Role.OFFICER, Role.ADMIN, Role.AUDITOR))]
ListReader = Annotated[
    Principal, Depends(require(Role.OFFICER, Role.ADMIN, Role.AUDITOR, Role.REQUESTER))
]
Confirmer = Annotated[Principal, Depends(require(Role.OFFICER, Role.ADMIN, Role.REQUESTER))]

IncidentId = Annotated[int, Path(ge=1, le=2**31 - 1)]

_STATUS = {"invalid": (422, "invalid_incident"), "not_found": (404, "not_found")}


class SelectorBody(BaseModel):
    """Request ids of one agency, or batches, optionally narrowed to rules their requests fail."""

    agency: str | None = Field(default=None, max_length=64)
    request_ids: list[str] | None = Field(default=None, max_length=incidents.MAX_IDS)
    batch: str | None = Field(default=None, max_length=64)
    batches: list[str] | None = Field(default=None, max_length=1000)
    rules: list[str] | None = Field(default=None, max_length=100)


class IncidentOpen(BaseModel):
    selector: SelectorBody
    how_discovered: str = Field(min_length=10, max_length=4000)
    discovered_at: AwareDatetime


class Recipient(BaseModel):
    agency: str
    requests: int
    confirmed: bool
    confirmed_at: str | None
    confirmed_by: str | None
    reference: str | None


class IncidentView(BaseModel):
    id: int
    status: str
    opened_by: str
    opened_at: str
    discovered_at: str
    closed_at: str | None
    how_discovered: str
    selector: dict[str, Any]
    disclosures: int
    report_sha256: str
    ledger_seq: int | None
    recipients: list[Recipient]


class Recalled(BaseModel):
    agency: str
    request_id: str
    incident: int


class IncidentOpened(BaseModel):
    incident: IncidentView
    marked: int
    already_recalled: list[Recalled]


class IncidentPage(BaseModel):
    items: list[IncidentView]
    total: int
    offset: int
    limit: int


class Confirmation(BaseModel):
    confirmed_by: str = Field(min_length=1, max_length=200)
    reference: str = Field(min_length=1, max_length=200)
    destroyed_at: AwareDatetime
    agency: str | None = Field(default=None, max_length=64)


class DisposalEntry(BaseModel):
    incident: int
    agency: str
    requested_at: str | None
    count: int
    request_ids: list[str]
    sha256: str
    instructions: str
    confirmation: dict[str, Any] | None


class DisposalLists(BaseModel):
    lists: list[DisposalEntry]


def _api_error(exc: IncidentError) -> ApiError:
    status, code = _STATUS.get(exc.kind, (409, "incident_conflict"))
    return ApiError(status, code, str(exc))


def _view(status: incidents.IncidentStatus) -> IncidentView:
    return IncidentView.model_validate(status.to_dict())


@router.post(
    "",
    status_code=201,
    response_model=IncidentOpened,
    summary="Open an incident: mark disclosures wrongful, write the report and disposal lists",
)
def open_incident(
    body: IncidentOpen, request: Request, state: StateDep, principal: Opener
) -> IncidentOpened:
    gw = state.gateway
    s = body.selector
    try:
        selector = incidents.parse_selector(
            agency=s.agency,
            request_ids=s.request_ids,
            batches=[*(s.batches or ()), *([s.batch] if s.batch else [])],
            rules=s.rules,
        )
        opened = incidents.open_incident(
            gw.store,
            selector,
            how_discovered=body.how_discovered,
            discovered_at=body.discovered_at,
            actor=principal.actor,
            origin=client_origin(request),
            pack=gw.pack,
            roster=gw.roster,
        )
        status = incidents.incident_status(gw.store, opened.incident.id)
    except IncidentError as exc:
        raise _api_error(exc) from None
    return IncidentOpened(
        incident=_view(status),
        marked=opened.marked,
        already_recalled=[
            Recalled(agency=a.agency, request_id=a.request_id, incident=a.incident_id)
            for a in opened.already_recalled
        ],
    )


@router.get("", response_model=IncidentPage, summary="Incidents, newest first")
def list_incidents(
    state: StateDep,
    principal: Reader,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> IncidentPage:
    page, total = incidents.list_incidents(state.gateway.store, offset=offset, limit=limit)
    return IncidentPage(items=[_view(s) for s in page], total=total, offset=offset, limit=limit)


@router.get("/{incident_id}", response_model=IncidentView, summary="One incident and its recall")
def get_incident(incident_id: IncidentId, state: StateDep, principal: Reader) -> IncidentView:
    try:
        return _view(incidents.incident_status(state.gateway.store, incident_id))
    except IncidentError as exc:
        raise _api_error(exc) from None


@router.get(
    "/{incident_id}/report",
    response_class=Response,
    responses={200: {"content": {"application/json": {}, "text/markdown": {}}}},
    summary="The incident report for the Inspector General and the Office of Safeguards",
)
def get_report(
    incident_id: IncidentId,
    state: StateDep,
    principal: Reader,
    format: Annotated[Literal["json", "markdown"], Query()] = "json",
) -> Response:
    try:
        report = incidents.incident_report(state.gateway.store, incident_id)
    except IncidentError as exc:
        raise _api_error(exc) from None
    if format == "markdown":
        return Response(incidents.render_report_markdown(report), media_type="text/markdown")
    return Response(incidents.report_json(report), media_type="application/json")


@router.get(
    "/{incident_id}/disposal",
    response_model=DisposalLists,
    summary="Disposal lists: the request ids each recipient must destroy",
)
def get_disposal(
    incident_id: IncidentId,
    state: StateDep,
    principal: ListReader,
    agency: Annotated[str | None, Query(max_length=64)] = None,
) -> DisposalLists:
    if principal.role is Role.REQUESTER:
        if agency is not None and agency != principal.agency:
            raise ApiError(404, "not_found", "disposal list not found")
        agency = principal.agency
    try:
        lists = incidents.disposal_lists(state.gateway.store, incident_id, agency)
    except IncidentError as exc:
        raise _api_error(exc) from None
    return DisposalLists(lists=[DisposalEntry.model_validate(d.to_dict()) for d in lists])


@router.post(
    "/{incident_id}/confirmations",
    response_model=IncidentView,
    summary="Record a recipient's confirmation that it destroyed its disposal list",
)
def confirm(
    incident_id: IncidentId,
    body: Confirmation,
    request: Request,
    state: StateDep,
    principal: Confirmer,
) -> IncidentView:
    if principal.role is Role.REQUESTER:
        if body.agency is not None and body.agency != principal.agency:
            raise ApiError(404, "not_found", "disposal list not found")
        agency = principal.agency or ""
    elif not body.agency:
        raise ApiError(422, "invalid_incident", "name the agency whose confirmation this is")
    else:
        agency = body.agency
    try:
        status = incidents.confirm_disposal(
            state.gateway.store,
            incident_id,
            agency,
            confirmed_by=body.confirmed_by,
            reference=body.reference,
            destroyed_at=body.destroyed_at,
            actor=principal.actor,
            origin=client_origin(request),
        )
    except IncidentError as exc:
        raise _api_error(exc) from None
    return _view(status)
