"""The custodian's working pages: one review item and its decision, holds, incidents.

Every decision goes through the library (`custos.review`, `custos.holds`,
`custos.incidents`), which writes the store and the ledger in one
transaction; a refusal comes back as the library's own message on the page.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from custos import holds, incidents, review, store
from custos.errors import CustosError
from custos.ledger import EventType, NewEvent, append, request_object
from custos.pipeline import Actor
from custos.report.html import Chart
from custos.report.tables import Table
from custos.service.deps import client_origin, get_state
from custos.service.routes.holds import HoldId
from custos.service.routes.incidents import IncidentId
from custos.service.web import charts, views
from custos.service.web.access import Custodian, Officer, Viewer, WebError
from custos.service.web.render import render, security_headers

router = APIRouter(prefix="/ui", include_in_schema=False)

Id = Annotated[str, Path(max_length=128)]
Text = Annotated[str, Form(max_length=4000)]


def _actor(request: Request, seen: Viewer) -> Actor:
    return Actor(id=seen.principal.actor, origin=client_origin(request))


def _see_other(location: str) -> RedirectResponse:
    response = RedirectResponse(location, status_code=303)
    security_headers(response)
    return response


# ---------------------------------------------------------------- one review item


@router.get("/review/{agency}/{request_id}", response_class=HTMLResponse)
def review_item(request: Request, seen: Officer, agency: Id, request_id: Id) -> Response:
    """The item side by side; opening it is an access to return information, on the record."""
    gw = get_state(request).gateway
    found = review.case(gw, agency, request_id)
    if found is None:
        raise WebError(404, "No such review item.")
    append(
        gw.store,
        NewEvent(
            seen.principal.actor,
            EventType.RECORDS_ACCESSED,
            True,
            client_origin(request),
            request_object(agency, request_id),
            {"via": "web", "page": "review", "candidates": len(found.candidates)},
        ),
    )
    return _item_page(request, seen, found, error="", status=200)


def _item_page(
    request: Request,
    seen: Viewer,
    found: review.ReviewCase,
    *,
    error: str,
    status: int,
    rationale: str = "",
    chosen: str = "",
) -> Response:
    waterfalls = []
    for n, c in enumerate(found.candidates, start=1):
        prior, weights = views.waterfall_steps(c)
        waterfalls.append(
            Chart(
                f"waterfall-{n}",
                charts.waterfall_chart(f"Candidate {n}: match weights", prior, weights),
                Table(
                    f"Candidate {n}: match weights",
                    ("comparison", "weight"),
                    (("prior", f"{prior:+.2f}"), *((k, f"{w:+.2f}") for k, w in weights)),
                ),
            )
        )
    with get_state(request).gateway.store.read() as conn:
        following = [
            i
            for i in store.open_reviews(conn)
            if (i.agency_id, i.request_id) != (found.item.agency_id, found.item.request_id)
        ]
    return render(
        request,
        "review_item.html",
        seen,
        status=status,
        case=found,
        fields=views.request_fields(found.request)[: len(views.REQUEST_FIELDS)],
        identity=views.identity_rows(found.request, found.candidates),
        evidence=views.evidence_rows(found.candidates),
        waterfalls=waterfalls,
        error=error,
        rationale=rationale,
        chosen=chosen,
        remaining=len(following),
        when=views.when,
    )


@router.post("/review/{agency}/{request_id}", response_class=HTMLResponse)
def review_decide(
    request: Request,
    seen: Officer,
    agency: Id,
    request_id: Id,
    decision: Annotated[str, Form(max_length=16)] = "",
    rationale: Text = "",
    tin: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    gw = get_state(request).gateway
    found = review.case(gw, agency, request_id)
    if found is None:
        raise WebError(404, "No such review item.")
    if decision not in ("disclose", "decline"):
        return _item_page(request, seen, found, error="Choose disclose or decline.", status=422)
    try:
        review.decide(
            gw,
            agency,
            request_id,
            decision="disclose" if decision == "disclose" else "decline",
            rationale=rationale,
            actor=_actor(request, seen),
            tin=(tin or None) if decision == "disclose" else None,
        )
    except CustosError as exc:
        return _item_page(
            request, seen, found, error=str(exc), status=409, rationale=rationale, chosen=tin
        )
    return _see_other("/ui/review?done=" + quote(f"{agency}/{request_id}", safe="/"))


# ---------------------------------------------------------------- holds


@router.get("/holds", response_class=HTMLResponse)
def hold_list(request: Request, seen: Custodian) -> Response:
    return _holds_page(request, seen, error="", status=200)


def _holds_page(request: Request, seen: Viewer, *, error: str, status: int) -> Response:
    gw = get_state(request).gateway
    with gw.store.read() as conn:
        every = store.list_holds(conn)
        recent = views.visible_batches(conn, seen.principal, limit=50)
    return render(
        request,
        "holds.html",
        seen,
        status=status,
        holds=every,
        scopes=[s.value for s in store.HoldScope],
        agencies=[a.id for a in gw.roster.agencies],
        batches=[b.id for b in recent],
        error=error,
        when=views.when,
    )


@router.post("/holds", response_class=HTMLResponse)
def hold_place(
    request: Request,
    seen: Custodian,
    scope: Annotated[str, Form(max_length=16)] = "",
    target: Annotated[str, Form(max_length=200)] = "",
    reference: Annotated[str, Form(max_length=500)] = "",
    rationale: Text = "",
) -> Response:
    try:
        chosen = store.HoldScope(scope)
    except ValueError:
        return _holds_page(request, seen, error="Choose what the hold covers.", status=422)
    try:
        holds.place(
            get_state(request).gateway,
            chosen,
            target.strip() or None,
            reference=reference,
            rationale=rationale,
            actor=_actor(request, seen),
        )
    except CustosError as exc:
        return _holds_page(request, seen, error=str(exc), status=422)
    return _see_other("/ui/holds")


@router.post("/holds/{hold_id}/lift", response_class=HTMLResponse)
def hold_lift(
    request: Request,
    seen: Custodian,
    hold_id: HoldId,
    resolution: Annotated[str, Form(max_length=16)] = "",
    rationale: Text = "",
) -> Response:
    try:
        chosen = store.HoldResolution(resolution)
    except ValueError:
        return _holds_page(request, seen, error="Choose release or decline.", status=422)
    try:
        holds.lift(
            get_state(request).gateway,
            hold_id,
            resolution=chosen,
            rationale=rationale,
            actor=_actor(request, seen),
        )
    except CustosError as exc:
        return _holds_page(request, seen, error=str(exc), status=409)
    return _see_other("/ui/holds")


# ---------------------------------------------------------------- incidents


@router.get("/incidents", response_class=HTMLResponse)
def incident_list(request: Request, seen: Custodian) -> Response:
    return _incidents_page(request, seen, error="", status=200)


def _incidents_page(request: Request, seen: Viewer, *, error: str, status: int) -> Response:
    found, total = incidents.list_incidents(get_state(request).gateway.store)
    return render(
        request,
        "incidents.html",
        seen,
        status=status,
        incidents=found,
        total=total,
        error=error,
        now=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        when=views.when,
    )


def _moment(text: str) -> datetime:
    """A `datetime-local` value, read as UTC (the pages print every time in UTC)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CustosError(f"{text!r} is not a date and time (YYYY-MM-DDTHH:MM, UTC)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@router.post("/incidents", response_class=HTMLResponse)
def incident_open(
    request: Request,
    seen: Custodian,
    agency: Annotated[str, Form(max_length=64)] = "",
    request_ids: Annotated[str, Form(max_length=200_000)] = "",
    batches: Annotated[str, Form(max_length=20_000)] = "",
    rules: Annotated[str, Form(max_length=2000)] = "",
    how_discovered: Text = "",
    discovered_at: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    gw = get_state(request).gateway
    try:
        selector = incidents.parse_selector(
            agency=agency.strip() or None,
            request_ids=request_ids.split() or None,
            batches=batches.split() or None,
            rules=rules.replace(",", " ").split() or None,
        )
        opened = incidents.open_incident(
            gw.store,
            selector,
            how_discovered=how_discovered,
            discovered_at=_moment(discovered_at),
            actor=seen.principal.actor,
            origin=client_origin(request),
            pack=gw.pack,
            roster=gw.roster,
        )
    except CustosError as exc:
        return _incidents_page(request, seen, error=str(exc), status=422)
    return _see_other(f"/ui/incidents/{opened.incident.id}")


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(request: Request, seen: Custodian, incident_id: IncidentId) -> Response:
    return _incident_page(request, seen, incident_id, error="", status=200)


def _incident_page(
    request: Request, seen: Viewer, incident_id: int, *, error: str, status: int
) -> Response:
    opened = get_state(request).gateway.store
    try:
        found = incidents.incident_status(opened, incident_id)
    except CustosError:
        raise WebError(404, "No such incident.") from None
    return render(
        request,
        "incident.html",
        seen,
        status=status,
        status_=found,
        memo=incidents.render_report_markdown(found.incident.report),
        error=error,
        now=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        when=views.when,
    )


@router.get("/incidents/{incident_id}/disposal/{agency}.json")
def incident_disposal(
    request: Request,
    seen: Custodian,
    incident_id: IncidentId,
    agency: Annotated[str, Path(max_length=64)],
) -> Response:
    """The recipient's disposal list (request ids only), to send to the agency."""
    try:
        lists = incidents.disposal_lists(get_state(request).gateway.store, incident_id, agency)
    except CustosError:
        raise WebError(404, "No such disposal list.") from None
    return Response(
        json.dumps(lists[0].to_dict(), indent=2, sort_keys=True) + "\n",
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="incident-{incident_id}-{agency}.json"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/incidents/{incident_id}/confirm/{agency}", response_class=HTMLResponse)
def incident_confirm(
    request: Request,
    seen: Custodian,
    incident_id: IncidentId,
    agency: Annotated[str, Path(max_length=64)],
    confirmed_by: Annotated[str, Form(max_length=200)] = "",
    reference: Annotated[str, Form(max_length=500)] = "",
    destroyed_at: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    try:
        incidents.confirm_disposal(
            get_state(request).gateway.store,
            incident_id,
            agency,
            confirmed_by=confirmed_by,
            reference=reference,
            destroyed_at=_moment(destroyed_at),
            actor=seen.principal.actor,
            origin=client_origin(request),
        )
    except CustosError as exc:
        return _incident_page(request, seen, incident_id, error=str(exc), status=409)
    return _see_other(f"/ui/incidents/{incident_id}")
