"""Batches over HTTP: submission, idempotency, progress, the requester view, the dry run."""

from __future__ import annotations

import csv
import io

from service_support import OFFICIAL_A, Service, World, envelope_headers
from sqlalchemy import func, select

from custos.outputs import RESPONSE_COLUMNS
from custos.store.schema import outcomes, requests, row_rejections


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_processed_batch_is_complete_with_every_row_answered(service: Service) -> None:
    got = service.client.get(f"/v1/batches/{service.batch_a}", headers=service.auth("requester_a"))
    assert got.status_code == 200
    body = got.json()
    assert body["stage"] == "complete" and body["complete"] is True
    assert body["answered_rows"] == body["rows"] == 120
    assert body["failed"] is False


def test_responses_csv_has_exactly_the_requester_columns_and_every_row(
    service: Service, world: World
) -> None:
    got = service.client.get(
        f"/v1/batches/{service.batch_a}/responses", headers=service.auth("requester_a")
    )
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    header = next(csv.reader(io.StringIO(got.text)))
    assert tuple(header) == RESPONSE_COLUMNS
    rows = _csv(got.text)
    submitted = _csv(world.batch_a.decode())
    assert [r["request_id"] for r in rows] == [r["request_id"] for r in submitted]
    assert {r["status"] for r in rows} <= {"disclosed", "not_disclosed", "rejected"}
    disclosed = [r for r in rows if r["status"] == "disclosed"]
    assert disclosed, "the world's batch should disclose some addresses"
    assert all(r["street"] and r["zip"] for r in disclosed)
    assert all(not r["street"] for r in rows if r["status"] != "disclosed")


def test_check_reports_every_row_of_the_submitted_file(service: Service) -> None:
    got = service.client.get(
        f"/v1/batches/{service.batch_a}/check", headers=service.auth("requester_a")
    )
    assert got.status_code == 200
    body = got.json()
    assert body["rows"] == len(body["verdicts"]) == 120
    assert body["passed"] == sum(1 for v in body["verdicts"] if v["passed"])
    failed = [v for v in body["verdicts"] if not v["passed"]]
    assert sum(body["counts_by_reason"].values()) == len(failed)
    assert all(v["reason_codes"] for v in failed)


def _counts(service: Service, batch_id: str) -> tuple[int, int, int]:
    with service.gateway.store.read() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(
                select(func.count()).select_from(t).where(t.c.batch_id == batch_id)
            ).scalar_one()
            for t in (requests, outcomes, row_rejections)
        )


def test_resubmission_is_the_same_batch_and_adds_no_outcome(service: Service, world: World) -> None:
    before = _counts(service, service.batch_a)
    headers = {**envelope_headers(OFFICIAL_A), **service.auth("requester_a")}
    first = service.client.post(
        "/v1/batches", content=world.batch_a, headers={**headers, "Idempotency-Key": "k-1"}
    )
    again = service.client.post(
        "/v1/batches", content=world.batch_a, headers={**headers, "Idempotency-Key": "k-1"}
    )
    plain = service.client.post("/v1/batches", content=world.batch_a, headers=headers)
    assert first.status_code == again.status_code == plain.status_code == 202
    assert first.json()["batch_id"] == again.json()["batch_id"] == service.batch_a
    assert plain.json()["batch_id"] == service.batch_a
    assert first.headers["location"] == f"/v1/batches/{service.batch_a}"
    service.client.app.state.custos.worker.join()  # type: ignore[attr-defined]
    assert _counts(service, service.batch_a) == before
    assert before[1] + before[2] == 120


def test_idempotency_key_reused_with_other_content_is_a_conflict(
    service: Service, world: World
) -> None:
    headers = {**envelope_headers(OFFICIAL_A), **service.auth("requester_a")}
    service.client.post(
        "/v1/batches", content=world.batch_a, headers={**headers, "Idempotency-Key": "k-2"}
    )
    other = service.client.post(
        "/v1/batches", content=world.small_a, headers={**headers, "Idempotency-Key": "k-2"}
    )
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_conflict"


def test_a_request_id_answered_before_is_rejected_in_a_new_batch(
    service: Service, world: World
) -> None:
    text = world.batch_a.decode()
    lines = text.splitlines()
    reordered = "\n".join([lines[0], *reversed(lines[1:4])]) + "\n"
    headers = {**envelope_headers(OFFICIAL_A), **service.auth("requester_a")}
    got = service.client.post("/v1/batches", content=reordered.encode(), headers=headers)
    assert got.status_code == 202
    batch_id = got.json()["batch_id"]
    assert batch_id != service.batch_a
    service.client.app.state.custos.worker.join()  # type: ignore[attr-defined]
    rows = _csv(
        service.client.get(
            f"/v1/batches/{batch_id}/responses", headers=service.auth("requester_a")
        ).text
    )
    assert len(rows) == 3
    assert {r["reason_code"] for r in rows} == {"duplicate_request_id"}


def test_submission_needs_the_envelope_an_authorised_official_and_a_known_format(
    service: Service, world: World
) -> None:
    auth = service.auth("requester_a")
    cases = [
        ({"Content-Type": "text/csv", **auth}, 422, "missing_envelope"),
        ({**envelope_headers("NOBODY-9"), **auth}, 422, "official_not_authorized"),
        ({**envelope_headers(OFFICIAL_A), **auth, "Content-Type": "image/png"}, 415, None),
    ]
    for headers, status, code in cases:
        got = service.client.post("/v1/batches", content=world.small_a, headers=headers)
        assert got.status_code == status, got.text
        if code:
            assert got.json()["error"]["code"] == code
    garbage = service.client.post(
        "/v1/batches",
        content=b"\x00\x01not a batch",
        headers={
            **envelope_headers(OFFICIAL_A),
            **auth,
            "Content-Type": "application/vnd.apache.parquet",
        },
    )
    assert garbage.status_code == 422
    assert garbage.json()["error"]["code"] == "unreadable_batch"
