"""Real-time verification: one request in the body, its answer in the response.

The body is one request as a JSON object with the batch contract's columns;
it is read by the same intake as a JSON Lines batch row, so a request means
the same here as in a file. A repeat of the same request returns the first
answer (`replayed: true`); a request id already used for a different request
is answered `rejected` / `duplicate_request_id`, as in a batch. The answer is
the requester's view only: the custodian's decision never leaves.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Body, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from custos import realtime
from custos.errors import BatchFileError
from custos.intake import read_batch_bytes
from custos.model import ResponseStatus
from custos.service.deps import Requester, ServiceState, StateDep, actor_of
from custos.service.errors import ApiError
from custos.service.worker import seal_idle_events

router = APIRouter(prefix="/v1/verify", tags=["verify"])

MAX_BODY_BYTES = 64 * 1024
"""A request is a few hundred bytes; anything near this is not one."""


class VerifyRequest(BaseModel):
    """One request: the batch contract's columns, every one text."""

    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(min_length=1, max_length=128)
    case_number: str = ""
    purpose: str = ""
    statute: str = ""
    tax_periods: str = ""
    reason: str = ""
    requesting_official: str = ""
    first_name: str = ""
    middle_name: str = ""
    last_name: str = ""
    suffix: str = ""
    dob: str = ""
    street: str = ""
    unit: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    tin: str = ""


class VerifyAnswer(BaseModel):
    """The requester's view of one request; the address only when it is disclosed."""

    request_id: str
    status: ResponseStatus
    reason_code: str | None = None
    street: str | None = None
    unit: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    as_of_tax_year: int | None = None
    batch_id: str
    replayed: bool


def _verifier(state: ServiceState, app_state: Any) -> realtime.Verifier:
    lazy = getattr(app_state, "custos_verifier", None)
    if not isinstance(lazy, realtime.LazyVerifier):
        lazy = realtime.LazyVerifier(state.gateway)
        app_state.custos_verifier = lazy
    return lazy.get()


def _answer(found: realtime.Verification) -> VerifyAnswer:
    response = found.result.response
    address = response.address
    return VerifyAnswer(
        request_id=response.request_id,
        status=response.status,
        reason_code=response.reason_code or None,
        street=address.street if address else None,
        unit=address.unit if address else None,
        city=address.city if address else None,
        state=address.state if address else None,
        zip=address.zip if address else None,
        as_of_tax_year=address.as_of_tax_year if address else None,
        batch_id=found.batch_id,
        replayed=found.replayed,
    )


@router.post(
    "",
    response_model=VerifyAnswer,
    summary="Verify one request now: gate, match, decide and disclose it in one call",
)
async def verify(
    request: Request,
    state: StateDep,
    principal: Requester,
    body: Annotated[VerifyRequest, Body()],
    background: BackgroundTasks,
) -> VerifyAnswer:
    assert principal.agency is not None
    agency = principal.agency
    line = json.dumps(body.model_dump(), ensure_ascii=False).encode()
    if len(line) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", f"a request is at most {MAX_BODY_BYTES} bytes")
    try:
        read = read_batch_bytes(line, "jsonl", source="verify", agency=agency)
    except BatchFileError as exc:
        raise ApiError(422, "unreadable_request", str(exc)) from None
    if read.malformed or len(read.requests) != 1:
        why = read.malformed[0].error if read.malformed else "not exactly one request"
        raise ApiError(422, "unreadable_request", why)
    actor = actor_of(principal, request)
    verifier = await run_in_threadpool(_verifier, state, request.app.state)
    found = await run_in_threadpool(verifier.verify, read.requests[0], agency=agency, actor=actor)
    background.add_task(seal_idle_events, state.gateway, realtime.CHECKPOINT_EVERY)
    return _answer(found)
