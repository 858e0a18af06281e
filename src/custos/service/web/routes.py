"""The pages under /ui: thin handlers that gather a view and render its template.

The data comes from `views` and the library; the handlers only check who
may look, read the form, and choose the template.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from custos import incidents, pipeline, store
from custos.ledger import EventType, NewEvent, append
from custos.outputs import RESPONSE_COLUMNS, response_row
from custos.report import annual_report, render_annual_html, render_batch_html
from custos.report.html import VENDORED_SCRIPTS, Chart
from custos.report.tables import Table, counts_table
from custos.service.auth import AuthFailure, Role, authenticate, record_auth_failure
from custos.service.deps import client_origin, get_state
from custos.service.web import charts, views
from custos.service.web.access import (
    HOME,
    AnyRole,
    Auditor,
    BatchReaders,
    Officer,
    Staff,
    Viewer,
    WebError,
    signer_of,
)
from custos.service.web.render import render, security_headers
from custos.service.web.session import (
    LOGIN_COOKIE,
    LOGIN_SECONDS,
    SESSION_COOKIE,
    SESSION_SECONDS,
)

router = APIRouter(prefix="/ui", include_in_schema=False)


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/ui",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _redirect(location: str) -> RedirectResponse:
    response = RedirectResponse(location, status_code=303)
    security_headers(response)
    return response


def _safe_next(target: str) -> str:
    """Only a path of these pages: never an open redirect to another site."""
    if target.startswith("/ui/") and not target.startswith("//") and "\\" not in target:
        return target
    return ""


# ---------------------------------------------------------------- sign in and out


@router.get("/", response_class=HTMLResponse)
def home(seen: AnyRole) -> RedirectResponse:
    return _redirect(HOME[seen.role])


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "") -> Response:
    return _login_page(request, next, error="", status=200)


def _login_page(request: Request, next_path: str, *, error: str, status: int) -> Response:
    signer = signer_of(request)
    nonce = signer.login_nonce()
    response = render(
        request,
        "login.html",
        None,
        status=status,
        token=signer.login_token(nonce),
        next=_safe_next(next_path),
        error=error,
    )
    _cookie(response, request, LOGIN_COOKIE, nonce, LOGIN_SECONDS)
    return response


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    api_key: Annotated[str, Form(max_length=200)] = "",
    token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Exchange an API key for a session; the key itself is never stored in the browser."""
    state = get_state(request)
    signer = signer_of(request)
    if not signer.check_login(request.cookies.get(LOGIN_COOKIE), token):
        return _login_page(
            request, next, error="The form expired; please sign in again.", status=403
        )
    origin = client_origin(request)
    if state.limiter.allow(f"login:{origin}") > 0:
        return _login_page(request, next, error="Too many attempts; wait a moment.", status=429)
    try:
        principal = await run_in_threadpool(
            authenticate, state.gateway.store, f"Bearer {api_key.strip()}"
        )
    except AuthFailure as failure:
        await run_in_threadpool(
            record_auth_failure, state.gateway.store, failure, origin=origin, path="/ui/login"
        )
        return _login_page(request, next, error="That key was not accepted.", status=401)
    await run_in_threadpool(
        append,
        state.gateway.store,
        NewEvent(
            principal.actor,
            EventType.AUTH_SUCCEEDED,
            True,
            origin,
            f"api_key:{principal.prefix}",
            {"via": "web", "role": principal.role.value},
        ),
    )
    _, cookie = signer.open(principal.prefix)
    response = _redirect(_safe_next(next) or HOME[principal.role])
    _cookie(response, request, SESSION_COOKIE, cookie, SESSION_SECONDS)
    response.delete_cookie(LOGIN_COOKIE, path="/ui", httponly=True, samesite="strict")
    return response


@router.post("/logout")
def logout(request: Request, seen: AnyRole) -> Response:
    signer_of(request).end(seen.session)
    response = _redirect("/ui/login")
    response.delete_cookie(SESSION_COOKIE, path="/ui", httponly=True, samesite="strict")
    return response


@router.get("/static/vendor/{name}")
def vendored(name: str) -> Response:
    """The report package's Vega libraries, served as files rather than copied."""
    if name not in VENDORED_SCRIPTS:
        raise WebError(404, "No such file.")
    text = (resources.files("custos.report") / "static" / name).read_bytes()
    return Response(
        text,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


# ---------------------------------------------------------------- batches


@router.get("/batches", response_class=HTMLResponse)
def batch_list(request: Request, seen: BatchReaders) -> Response:
    with get_state(request).gateway.store.read() as conn:
        rows = views.visible_batches(conn, seen.principal)
        held = views.held_counts(conn) if views.is_custodian(seen.principal) else {}
    waiting = {b: f"{n} request(s) held" for b, n in held.items()}
    return render(request, "batches.html", seen, batches=rows, waiting=waiting, when=views.when)


def _batch_or_404(request: Request, seen: Viewer, batch_id: str) -> views.BatchView:
    view = views.batch_view(get_state(request).gateway, batch_id, seen.principal)
    if view is None:
        raise WebError(404, "No such batch.")
    return view


@router.get("/batches/{batch_id}", response_class=HTMLResponse)
def batch_page(
    request: Request, seen: BatchReaders, batch_id: Annotated[str, Path(max_length=64)]
) -> Response:
    view = _batch_or_404(request, seen, batch_id)
    waiting = ""
    if views.is_custodian(seen.principal):
        gw = get_state(request).gateway
        with gw.store.read() as conn:
            waiting = views.batch_waiting(conn, gw, view.batch)
    funnel = Chart(
        "funnel",
        _bar("Funnel", "stage", view.funnel),
        counts_table("Funnel", "stage", view.funnel),
    )
    by_reason = tuple((r.reason, r.count) for r in view.rejections)
    rejections = Chart(
        "rejections",
        _bar("Rejections by primary reason", "reason", by_reason),
        counts_table("Rejections by primary reason", "reason", by_reason),
    )
    return render(
        request,
        "batch.html",
        seen,
        view=view,
        charts=[funnel, rejections] if by_reason else [funnel],
        waiting=waiting,
        when=views.when,
    )


def _bar(title: str, label: str, counts: tuple[tuple[str, int], ...]) -> dict[str, Any]:
    from custos.report.charts import bar_chart

    return bar_chart(title, label, counts)


@router.get("/batches/{batch_id}/responses.csv")
def batch_responses(
    request: Request, seen: BatchReaders, batch_id: Annotated[str, Path(max_length=64)]
) -> Response:
    """The requester view of a completed batch: what the agency itself downloads."""
    view = _batch_or_404(request, seen, batch_id)
    if not view.complete:
        raise WebError(409, "The batch is not complete yet.")
    with get_state(request).gateway.store.read() as conn:
        rows = [response_row(r.response) for r in pipeline.batch_results(conn, batch_id)]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=RESPONSE_COLUMNS, extrasaction="raise")
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        buffer.getvalue(),
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{batch_id}-responses.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/batches/{batch_id}/report.html")
def batch_oversight_report(
    request: Request, seen: Staff, batch_id: Annotated[str, Path(max_length=64)]
) -> Response:
    """The self-contained oversight report of the batch (counts only), as a file."""
    view = _batch_or_404(request, seen, batch_id)
    assert view.report is not None
    _record(request, seen, EventType.REPORT_GENERATED, f"report:batch/{batch_id}")
    return Response(
        render_batch_html(view.report),
        media_type="text/html",
        headers={
            "Content-Disposition": f'attachment; filename="{batch_id}-report.html"',
            "Cache-Control": "no-store",
        },
    )


def _record(request: Request, seen: Viewer, kind: EventType, obj: str) -> None:
    append(
        get_state(request).gateway.store,
        NewEvent(seen.principal.actor, kind, True, client_origin(request), obj, {"via": "web"}),
    )


# ---------------------------------------------------------------- review desk


@router.get("/review", response_class=HTMLResponse)
def review_queue(
    request: Request,
    seen: Officer,
    batch: Annotated[str, Query(max_length=64)] = "",
    agency: Annotated[str, Query(max_length=64)] = "",
    age: Annotated[str, Query(max_length=8)] = "",
    done: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    wanted = views.QueueFilter(batch=batch, agency=agency, age=age)
    now = datetime.now(UTC)
    items, every = views.review_queue(get_state(request).gateway, wanted, now)
    return render(
        request,
        "review_queue.html",
        seen,
        items=items,
        total=len(every),
        wanted=wanted,
        agencies=sorted({i.agency_id for i in every}),
        batches=sorted({i.batch_id for i in every}),
        ages=views.AGES,
        now=now,
        age_of=views.age,
        when=views.when,
        done=done,
    )


# ---------------------------------------------------------------- ledger


@router.get("/ledger", response_class=HTMLResponse)
def ledger(
    request: Request,
    seen: Staff,
    object: Annotated[str, Query(max_length=300)] = "",
    event_type: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    with get_state(request).gateway.store.read() as conn:
        events = views.ledger_page(conn, object_=object.strip(), event_type=event_type.strip())
    return render(
        request,
        "ledger.html",
        seen,
        events=events,
        object=object,
        event_type=event_type,
        event_types=[e.value for e in EventType],
    )


# ---------------------------------------------------------------- oversight


@router.get("/oversight", response_class=HTMLResponse)
def oversight(request: Request, seen: Auditor) -> Response:
    gw = get_state(request).gateway
    found = views.oversight(gw)
    with gw.store.read() as conn:
        holds = store.active_holds(conn)
    recent, _ = incidents.list_incidents(gw.store, limit=20)
    disclosed = Chart(
        "disclosures",
        charts.daily_chart(
            "Disclosures per agency by day", found.disclosures_by_day, series="agency"
        ),
        Table(
            "Disclosures per agency by day",
            ("day", "agency", "count"),
            tuple((d, a, str(n)) for d, a, n in found.disclosures_by_day),
        ),
    )
    rejected = Chart(
        "rejections",
        charts.daily_chart(
            "Rejections by primary reason by day", found.rejections_by_day, series="reason"
        ),
        Table(
            "Rejections by primary reason by day",
            ("day", "reason", "count"),
            tuple((d, r, str(n)) for d, r, n in found.rejections_by_day),
        ),
    )
    return render(
        request,
        "oversight.html",
        seen,
        found=found,
        charts=[disclosed, rejected],
        holds=holds,
        incidents=recent,
        years=views.report_years(),
        when=views.when,
    )


@router.get("/oversight/annual/{year}")
def annual(
    request: Request, seen: Auditor, year: Annotated[int, Path(ge=1900, le=9999)]
) -> Response:
    """The (p)(3)(C) annual report, the same self-contained page as `custos report annual`."""
    text = render_annual_html(annual_report(get_state(request).gateway.store, year))
    _record(request, seen, EventType.REPORT_GENERATED, f"report:annual/{year}")
    return Response(
        text,
        media_type="text/html",
        headers={
            "Content-Disposition": f'attachment; filename="annual-{year}.html"',
            "Cache-Control": "no-store",
        },
    )


__all__ = ["Role", "router"]
