"""Officers over HTTP: a review decided with its evidence in view, and a hold placed and lifted.

The service world makes no ambiguous match, so these run on the session's
small world, which does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from custos import store
from custos.match.comparisons import COMPARISON_NAMES
from custos.model import Outcome
from custos.pipeline import Gateway
from custos.service.app import create_app
from custos.service.auth import Role, issue_key
from custos.service.settings import ServiceConfig
from officer_support import AGENCY, officer_gateway, run_world

RATIONALE = "the first candidate's DOB and unit agree; the second moved in 2019"


@pytest.fixture
def desk(
    small_world: Path, small_model: Path, tmp_path: Path
) -> Iterator[tuple[TestClient, Gateway]]:
    with officer_gateway("sqlite", small_world, small_model, tmp_path) as gw:
        app = create_app(gw, config=ServiceConfig(rate_per_second=1000.0, rate_burst=1000))
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client, gw


def _key(gw: Gateway, role: Role, agency: str | None = None) -> dict[str, str]:
    secret = issue_key(gw.store, role=role, agency=agency, actor="user:t", origin="t").secret_key
    return {"Authorization": f"Bearer {secret}"}


def test_an_officer_reads_the_evidence_and_discloses_one_candidate(
    desk: tuple[TestClient, Gateway], small_world: Path
) -> None:
    client, gw = desk
    summary = run_world(gw, small_world)
    officer = _key(gw, Role.OFFICER)
    page = client.get("/v1/review", headers=officer).json()
    assert page["total"] >= 1
    first = page["items"][0]
    path = f"/v1/review/{first['agency']}/{first['request_id']}"

    case = client.get(path, headers=officer)
    assert case.status_code == 200, case.text
    body = case.json()
    assert body["request"]["last_name"] and not body["held"]
    assert [c["tin"] for c in body["candidates"]] == first["candidates"]
    scored = [c for c in body["candidates"] if c["fields"]]
    assert scored and all(
        [f["comparison"] for f in c["fields"]] == list(COMPARISON_NAMES) for c in scored
    )

    tin = first["candidates"][0]
    wrong = client.post(
        path, json={"decision": "disclose", "rationale": RATIONALE, "tin": "000000000"},
        headers=officer,
    )  # fmt: skip
    assert wrong.status_code == 409 and wrong.json()["error"]["code"] == "refused"
    done = client.post(
        path, json={"decision": "disclose", "rationale": RATIONALE, "tin": tin}, headers=officer
    )
    assert done.status_code == 200, done.text
    assert done.json() == {
        "agency": AGENCY,
        "request_id": first["request_id"],
        "status": "approved",
        "decided_by": done.json()["decided_by"],
        "tin": tin,
    }
    again = client.post(path, json={"decision": "decline", "rationale": RATIONALE}, headers=officer)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_decided"

    requester = _key(gw, Role.REQUESTER, AGENCY)
    answers = client.get(f"/v1/batches/{summary.batch_id}/responses", headers=requester)
    rows = {r["request_id"]: r for r in csv.DictReader(io.StringIO(answers.text))}
    assert rows[first["request_id"]]["status"] == "disclosed"
    assert rows[first["request_id"]]["street"]


def test_a_hold_placed_over_http_holds_a_batch_and_its_lift_releases_it(
    desk: tuple[TestClient, Gateway], small_world: Path
) -> None:
    client, gw = desk
    officer = _key(gw, Role.OFFICER)
    placed = client.post(
        "/v1/holds",
        json={"scope": "all", "reference": "Order 25-cv-7", "rationale": "court order, all"},
        headers=officer,
    )
    assert placed.status_code == 201, placed.text
    hold = placed.json()
    assert hold["active"] and hold["placed_by"].startswith("key:")
    auditor = _key(gw, Role.AUDITOR)
    listed = client.get("/v1/holds?active=true", headers=auditor).json()
    assert [h["id"] for h in listed["items"]] == [hold["id"]]

    summary = run_world(gw, small_world)
    with gw.store.read() as conn:
        outcomes = store.batch_outcomes(conn, summary.batch_id)
    held = [o for o in outcomes if o.outcome is Outcome.HELD]
    waiting_to_disclose = sum(o.held_outcome is Outcome.DISCLOSED for o in held)
    assert held and waiting_to_disclose > 0

    lifted = client.post(
        f"/v1/holds/{hold['id']}/lift",
        json={"resolution": "release", "rationale": "order vacated on appeal"},
        headers=officer,
    )
    assert lifted.status_code == 200, lifted.text
    result = lifted.json()
    assert result["released"] == len(held) and result["disclosed"] == waiting_to_disclose
    assert not result["hold"]["active"] and result["hold"]["resolution"] == "release"
    with gw.store.read() as conn:
        assert len(store.batch_disclosures(conn, summary.batch_id)) == waiting_to_disclose
        assert not store.held_outcomes(conn)
