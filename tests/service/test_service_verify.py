"""POST /v1/verify: one request in, the requester's view out, once."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_support import (
    AGENCY_A,
    OFFICIAL_A,
    Service,
    World,
    envelope_headers,
    issue_all,
    make_gateway,
)
from sqlalchemy import func, select

from custos.service import create_app
from custos.service.settings import ServiceConfig
from custos.store.schema import disclosures
from custos.store.testing import temporary_store_url

ANSWER_FIELDS = {
    "request_id",
    "status",
    "reason_code",
    "street",
    "unit",
    "city",
    "state",
    "zip",
    "as_of_tax_year",
    "batch_id",
    "replayed",
}


@pytest.fixture(scope="module")
def service(
    backend: str, world: World, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """A service that has answered one small batch of agency A (ids `S-…`)."""
    home: Path = tmp_path_factory.mktemp(f"verify-{backend}")
    with temporary_store_url(backend, home) as url:
        gw = make_gateway(world, url, home)
        app = create_app(gw, config=ServiceConfig(rate_per_second=1000.0, rate_burst=1000))
        with TestClient(app, raise_server_exceptions=False) as client:
            keys = issue_all(gw)
            submitted = client.post(
                "/v1/batches",
                content=world.small_a,
                headers={
                    **envelope_headers(OFFICIAL_A),
                    "Authorization": f"Bearer {keys['requester_a']}",
                },
            )
            assert submitted.status_code == 202, submitted.text
            app.state.custos.worker.join()
            yield Service(client, gw, keys, submitted.json()["batch_id"], "")
        gw.store.close()


def _bodies(world: World, prefix: str) -> list[dict[str, Any]]:
    rows = list(csv.DictReader(io.StringIO((world.folder / "requests.csv").read_text())))
    return [{**row, "request_id": prefix + row["request_id"]} for row in rows]


def _post(service: Service, body: object, who: str = "requester_a") -> Any:
    return service.client.post("/v1/verify", json=body, headers=service.auth(who))


def _truth(world: World) -> dict[str, str]:
    with (world.folder / "truth.csv").open(newline="") as fh:
        return {row["request_id"]: row["expected_outcome"] for row in csv.DictReader(fh)}


def test_a_disclosure_answers_with_the_address_and_a_repeat_replays_it(
    service: Service, world: World
) -> None:
    truth = _truth(world)
    body = next(
        b
        for b in _bodies(world, "V1-")
        if truth[b["request_id"].removeprefix("V1-")] == "disclosed"
    )
    first = _post(service, body)
    assert first.status_code == 200, first.text
    answer = first.json()
    assert set(answer) == ANSWER_FIELDS
    assert answer["status"] == "disclosed" and answer["replayed"] is False
    assert answer["street"] and answer["zip"] and answer["as_of_tax_year"]
    again = _post(service, body)
    assert again.status_code == 200
    assert again.json() == {**answer, "replayed": True}
    with service.gateway.store.read() as conn:
        count = conn.execute(
            select(func.count()).where(disclosures.c.request_id == body["request_id"])
        ).scalar_one()
    assert count == 1


def test_not_disclosed_says_nothing_more(service: Service, world: World) -> None:
    truth = _truth(world)
    body = next(
        b for b in _bodies(world, "V2-") if truth[b["request_id"].removeprefix("V2-")] == "no_match"
    )
    answer = _post(service, body).json()
    assert answer["status"] == "not_disclosed"
    assert {k for k, v in answer.items() if v not in (None, False)} == {
        "request_id",
        "status",
        "batch_id",
    }


def test_the_same_id_with_other_content_is_a_duplicate(service: Service, world: World) -> None:
    body = _bodies(world, "V3-")[0]
    assert _post(service, body).status_code == 200
    other = _post(service, {**body, "case_number": "ANOTHER-CASE"})
    assert other.status_code == 200
    assert other.json()["status"] == "rejected"
    assert other.json()["reason_code"] == "duplicate_request_id"
    assert other.json()["replayed"] is False


def test_an_id_used_in_a_batch_is_a_duplicate(service: Service, world: World) -> None:
    body = _bodies(world, "S-")[0]
    answer = _post(service, body).json()
    assert (answer["status"], answer["reason_code"]) == ("rejected", "duplicate_request_id")


def test_the_gate_answers_with_its_reason(service: Service, world: World) -> None:
    body = {**_bodies(world, "V4-")[0], "purpose": "civil enforcement"}
    answer = _post(service, body).json()
    assert (answer["status"], answer["reason_code"]) == ("rejected", "purpose_not_criminal")


def test_a_body_that_is_not_a_request_is_refused_with_the_envelope(service: Service) -> None:
    for body in ({"first_name": "A"}, {"request_id": "X-1", "agency": AGENCY_A}, ["x"]):
        got = _post(service, body)
        assert got.status_code == 422
        assert got.json()["error"]["request_id"] == got.headers["x-request-id"]


def test_only_a_requester_may_verify(service: Service, world: World) -> None:
    body = _bodies(world, "V5-")[0]
    for who in ("officer", "auditor", "admin"):
        assert _post(service, body, who).status_code == 403
    assert service.client.post("/v1/verify", json=body).status_code == 401
