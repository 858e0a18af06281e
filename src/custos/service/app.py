"""The FastAPI application: versioned routes, one error envelope, request ids, JSON logs.

`create_app` takes a gateway (or a function making one) so tests and the
CLI build the policy, model and master file their own way; the app itself
only serves. Every response carries `X-Request-ID` (the caller's, if it is a
sane token, else a new one) and every log line is one JSON object with it.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from fastapi import FastAPI, Request, Response

from custos import store
from custos.config import Settings
from custos.errors import CustosError
from custos.ledger import generate_signing_key, save_signing_key
from custos.pipeline import Gateway
from custos.service import errors, web
from custos.service.auth import RateLimiter
from custos.service.deps import ServiceState
from custos.service.routes import admin, audit, batches, holds, incidents, review, verify
from custos.service.settings import ServiceConfig
from custos.service.worker import InProcessWorker

log = logging.getLogger("custos.service")

API_VERSION = "1"
_SANE_ID = re.compile(r"\A[A-Za-z0-9._:-]{1,128}\Z")


def signing_key_settings(settings: Settings, *, dev: bool) -> Settings:
    """Settings whose ledger key exists; outside dev mode a missing key stops the server.

    In dev mode a missing key is replaced by an ephemeral one in a fresh
    temporary folder, announced loudly: checkpoints it signs prove nothing
    once the process is gone.
    """
    if settings.ledger_key_path.is_file():
        return settings
    if not dev:
        raise CustosError(
            f"no ledger signing key at {settings.ledger_key_path}; the service will not start "
            "without one (create it with `custos ledger keygen`, or run with --dev)"
        )
    folder = Path(tempfile.mkdtemp(prefix="custos-dev-key-"))
    path = folder / "ledger.key"
    save_signing_key(generate_signing_key(settings.ledger_origin), path)
    log.warning(
        json.dumps(
            {
                "event": "dev_signing_key",
                "message": "DEV MODE: using an EPHEMERAL ledger signing key; "
                "its checkpoints are worthless outside this process",
                "path": str(path),
            }
        )
    )
    return replace(settings, ledger_key_path=path)


def sync_agencies(gw: Gateway) -> None:
    """The roster's agencies in the store, so keys can be issued for them."""
    with gw.store.write() as conn:
        for agency in gw.roster.agencies:
            store.save_agency(
                conn,
                store.Agency(
                    id=agency.id,
                    name=agency.name,
                    safeguards_certified_until=agency.safeguards_expires,
                ),
            )


def create_app(
    gateway: Gateway | Callable[[], Gateway],
    *,
    dev: bool = False,
    config: ServiceConfig | None = None,
) -> FastAPI:
    """The service for one gateway; the in-process worker starts with the app's lifespan."""
    config = config or ServiceConfig()
    gw = gateway if isinstance(gateway, Gateway) else gateway()
    sync_agencies(gw)
    state = ServiceState(
        gateway=gw,
        config=config,
        limiter=RateLimiter(config.rate_per_second, config.rate_burst),
        dev=dev,
        worker=InProcessWorker(gw) if config.in_process_worker else None,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if state.worker is not None:
            state.worker.start(config.retry_failed_after_s)
        try:
            yield
        finally:
            if state.worker is not None:
                state.worker.stop()

    app = FastAPI(
        title="custos",
        version=API_VERSION,
        summary="Address disclosures under 26 U.S.C. § 6103(i)(2), on the record.",
        lifespan=lifespan,
    )
    app.state.custos = state
    errors.install(app)
    app.middleware("http")(_request_context)
    routers = (
        batches.router,
        verify.router,
        audit.router,
        review.router,
        holds.router,
        incidents.router,
        admin.router,
    )
    for router in routers:
        app.include_router(router, responses=errors.ERROR_RESPONSES)
    web.install(app)
    return app


async def _request_context(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    offered = request.headers.get(errors.REQUEST_ID_HEADER, "")
    request_id = offered if _SANE_ID.match(offered) else uuid.uuid4().hex
    request.state.request_id = request_id
    started = time.perf_counter()
    try:
        response = await call_next(request)
    except Exception:
        log.exception(_line(request, request_id, 500, started, event="unhandled_error"))
        response = errors.internal_error(request)
    response.headers[errors.REQUEST_ID_HEADER] = request_id
    log.info(_line(request, request_id, response.status_code, started))
    return response


def _line(
    request: Request, request_id: str, status: int, started: float, *, event: str = "request"
) -> str:
    return json.dumps(
        {
            "event": event,
            "request_id": request_id,
            "method": request.method,
            "path": request.url.path,
            "status": status,
            "ms": round((time.perf_counter() - started) * 1000, 1),
            "client": request.client.host if request.client else None,
        }
    )
