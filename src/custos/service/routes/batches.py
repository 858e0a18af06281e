"""Requesters' batches: submit, follow, download the requester view, dry-run check.

A batch of another agency is reported exactly like a batch that does not
exist (404), so a requester learns nothing about other agencies' traffic.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from custos import pipeline, store
from custos.check import check_batch
from custos.errors import BatchFileError
from custos.intake import Format, read_batch_bytes
from custos.outputs import RESPONSE_COLUMNS, response_row
from custos.service.deps import Requester, ServiceState, StateDep, actor_of
from custos.service.errors import ApiError, not_found
from custos.service.idempotency import bind

router = APIRouter(prefix="/v1/batches", tags=["batches"])

MEDIA_TYPES: dict[str, Format] = {
    "text/csv": "csv",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/vnd.apache.parquet": "parquet",
}
FORMATS: dict[str, Format] = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}
UPLOAD = "upload"


class BatchAccepted(BaseModel):
    batch_id: str
    stage: str


class BatchProgress(BaseModel):
    batch_id: str
    stage: str
    complete: bool
    rows: int
    malformed_rows: int
    answered_rows: int
    failed: bool


class Verdict(BaseModel):
    row: int
    request_id: str
    passed: bool
    reason_codes: list[str]


class CheckResult(BaseModel):
    batch_id: str
    rows: int
    passed: int
    pack_id: str
    pack_version: str
    counts_by_reason: dict[str, int]
    verdicts: list[Verdict]


def _format_of(content_type: str | None) -> Format:
    media = (content_type or "").split(";")[0].strip().lower()
    fmt = MEDIA_TYPES.get(media)
    if fmt is None:
        allowed = ", ".join(MEDIA_TYPES)
        raise ApiError(415, "unsupported_media_type", f"send the batch as one of: {allowed}")
    return fmt


def _own_batch(state: ServiceState, agency: str | None, batch_id: str) -> store.Batch:
    with state.gateway.store.read() as conn:
        batch = store.get_batch(conn, batch_id)
    if batch is None or agency is None or batch.agency_id != agency:
        raise not_found("batch")
    return batch


def _upload_dir(state: ServiceState, batch_id: str) -> Path:
    return state.gateway.work / batch_id / UPLOAD


@router.post(
    "",
    status_code=202,
    response_model=BatchAccepted,
    summary="Submit a batch of requests (CSV, JSON Lines or Parquet body)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}} for media in MEDIA_TYPES
            },
        }
    },
)
async def submit_batch(
    request: Request,
    state: StateDep,
    principal: Requester,
    certifying_official: Annotated[str | None, Query()] = None,
    mou_reference: Annotated[str | None, Query()] = None,
    x_certifying_official: Annotated[str | None, Header()] = None,
    x_mou_reference: Annotated[str | None, Header()] = None,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JSONResponse:
    assert principal.agency is not None
    agency = principal.agency
    fmt = _format_of(request.headers.get("content-type"))
    official = (x_certifying_official or certifying_official or "").strip()
    mou = (x_mou_reference or mou_reference or "").strip()
    if not official or not mou:
        raise ApiError(
            422,
            "missing_envelope",
            "name the certifying official and the MOU reference "
            "(X-Certifying-Official and X-MOU-Reference headers, or query parameters)",
        )
    if not state.gateway.roster.is_authorized(official, agency):
        raise ApiError(
            422,
            "official_not_authorized",
            f"{official!r} is not an authorised official of {agency} on the roster",
        )
    limit = state.config.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "payload_too_large", f"a batch is at most {limit} bytes")
    data = await _bounded_body(request, limit)
    if not data:
        raise ApiError(422, "empty_batch", "the request body is empty; send the batch file")
    sha = hashlib.sha256(data).hexdigest()
    actor = actor_of(principal, request)
    batch_id = await run_in_threadpool(
        _receive,
        state,
        data,
        fmt,
        agency,
        sha,
        actor,
        {"certifying_official": official, "mou": mou},
        idempotency_key,
    )
    if state.worker is not None:
        state.worker.submit(batch_id)
    return await run_in_threadpool(_accepted, state, batch_id)


async def _bounded_body(request: Request, limit: int) -> bytes:
    """The body, refusing it as soon as it passes `limit` (a chunked upload has no length)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "payload_too_large", f"a batch is at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _receive(
    state: ServiceState,
    data: bytes,
    fmt: Format,
    agency: str,
    sha: str,
    actor: pipeline.Actor,
    envelope: dict[str, str],
    idempotency_key: str | None,
) -> str:
    """Read, bind the Idempotency-Key, receive: a file that cannot be read binds no key."""
    try:
        batch = read_batch_bytes(
            data,
            fmt,
            source=f"upload:{sha[:16]}.{fmt}",
            agency=agency,
            max_bytes=state.config.max_upload_bytes,
        )
    except BatchFileError as exc:
        raise ApiError(422, "unreadable_batch", str(exc)) from None
    if idempotency_key and bind(state.gateway.work, agency, idempotency_key, sha) != sha:
        raise ApiError(
            409, "idempotency_conflict", "this Idempotency-Key was used with a different batch file"
        )
    gw = replace(state.gateway, actor=actor)
    batch_id = pipeline.receive(gw, batch, agency=agency, source_sha256=sha)
    folder = _upload_dir(state, batch_id)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"batch.{fmt}"
    if not target.exists():
        partial = target.with_suffix(".partial")
        partial.write_bytes(data)
        partial.replace(target)
        (folder / "envelope.json").write_text(json.dumps(envelope, sort_keys=True))
    return batch_id


def _accepted(state: ServiceState, batch_id: str) -> JSONResponse:
    with state.gateway.store.read() as conn:
        batch = store.get_batch(conn, batch_id)
    assert batch is not None
    body = BatchAccepted(batch_id=batch_id, stage=batch.stage.value)
    return JSONResponse(
        body.model_dump(), status_code=202, headers={"Location": f"/v1/batches/{batch_id}"}
    )


@router.get("/{batch_id}", response_model=BatchProgress, summary="A batch's progress")
def get_progress(batch_id: str, state: StateDep, principal: Requester) -> BatchProgress:
    batch = _own_batch(state, principal.agency, batch_id)
    with state.gateway.store.read() as conn:
        answered = len(store.batch_outcomes(conn, batch_id)) + len(
            store.batch_row_rejections(conn, batch_id)
        )
    return BatchProgress(
        batch_id=batch.id,
        stage=batch.stage.value,
        complete=batch.stage is store.BatchStage.COMPLETE,
        rows=batch.row_count,
        malformed_rows=batch.malformed_count,
        answered_rows=answered,
        failed=batch.error is not None,
    )


@router.get(
    "/{batch_id}/responses",
    response_class=StreamingResponse,
    summary="The requester view of a completed batch, as CSV",
    responses={200: {"content": {"text/csv": {}}}},
)
def get_responses(batch_id: str, state: StateDep, principal: Requester) -> StreamingResponse:
    batch = _own_batch(state, principal.agency, batch_id)
    if batch.stage is not store.BatchStage.COMPLETE:
        raise ApiError(
            409, "batch_not_complete", f"batch {batch_id} is at stage {batch.stage.value}"
        )
    with state.gateway.store.read() as conn:
        rows = [response_row(r.response) for r in pipeline.batch_results(conn, batch_id)]
    return StreamingResponse(
        _csv_lines(rows),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{batch_id}-responses.csv"'},
    )


def _csv_lines(rows: list[dict[str, str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=RESPONSE_COLUMNS, extrasaction="raise")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > 1 << 16:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@router.get(
    "/{batch_id}/check",
    response_model=CheckResult,
    summary="The dry-run gate report of a submitted batch (no matching)",
)
def get_check(batch_id: str, state: StateDep, principal: Requester) -> CheckResult:
    batch = _own_batch(state, principal.agency, batch_id)
    found = sorted(_upload_dir(state, batch_id).glob("batch.*"))
    if not found:
        raise ApiError(409, "upload_unavailable", f"the file of batch {batch_id} is no longer held")
    path = found[0]
    fmt = FORMATS[path.suffix.lstrip(".")]
    read = read_batch_bytes(
        path.read_bytes(),
        fmt,
        source=batch.source,
        agency=batch.agency_id,
        max_bytes=max(state.config.max_upload_bytes, path.stat().st_size),
    )
    gw = state.gateway
    report = check_batch(read, gw.pack, gw.roster, agency=batch.agency_id, today=gw.today)
    return CheckResult(
        batch_id=batch_id,
        rows=report.rows,
        passed=report.passed,
        pack_id=report.pack.id,
        pack_version=report.pack.version,
        counts_by_reason={str(k): v for k, v in report.counts_by_reason().items()},
        verdicts=[
            Verdict(
                row=v.row,
                request_id=v.request_id,
                passed=v.passed,
                reason_codes=[str(c) for c in v.reason_codes],
            )
            for v in report.verdicts
        ],
    )
