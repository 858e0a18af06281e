"""Who may call what: every route × every role × own/other agency, and no leaks."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from service_support import OFFICIAL_A, OFFICIAL_B, Service, World, envelope_headers
from sqlalchemy import select

from custos.service.auth import Role, issue_key, revoke_key
from custos.store.schema import ledger_events

CALLERS = ("requester_a", "requester_b", "officer", "auditor", "admin", "nobody")
MISSING = "DHS-ICE-00000000000000000000"


def _routes(s: Service, world: World) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Name → (method, path, extra request arguments); batch routes on agency A's batch."""
    a = s.batch_a
    return {
        "submit": (
            "POST",
            "/v1/batches",
            {"content": world.small_a, "headers": envelope_headers(OFFICIAL_A)},
        ),
        "verify": (
            "POST",
            "/v1/verify",
            {
                "content": json.dumps(_verify_body(world)).encode(),
                "headers": {"Content-Type": "application/json"},
            },
        ),
        "progress": ("GET", f"/v1/batches/{a}", {}),
        "responses": ("GET", f"/v1/batches/{a}/responses", {}),
        "check": ("GET", f"/v1/batches/{a}/check", {}),
        "checkpoints": ("GET", "/v1/ledger/checkpoints", {}),
        "proofs": ("GET", "/v1/ledger/proofs/REQ-0000001?agency=DHS-ICE", {}),
        "accounting": ("GET", "/v1/accounting/123-45-6789", {}),
        "annual": ("GET", "/v1/reports/annual/2026", {}),
        "review_list": ("GET", "/v1/review", {}),
        "review_decide": (
            "POST",
            "/v1/review/DHS-ICE/NO-SUCH-REQUEST",
            {
                "content": b'{"decision": "decline", "rationale": "not enough to tell them apart"}',
                "headers": {"Content-Type": "application/json"},
            },
        ),
        "review_item": ("GET", "/v1/review/DHS-ICE/NO-SUCH-REQUEST", {}),
        "holds_list": ("GET", "/v1/holds", {}),
        "hold_get": ("GET", "/v1/holds/999999", {}),
        "hold_place": (
            "POST",
            "/v1/holds",
            _json({"scope": "batch", "target": MISSING, "reference": "r", "rationale": RATIONALE}),
        ),
        "hold_lift": (
            "POST",
            "/v1/holds/999999/lift",
            _json({"resolution": "release", "rationale": RATIONALE}),
        ),
        "hold_recheck": ("POST", "/v1/holds/recheck", {}),
        "admin_keys": ("GET", "/v1/admin/keys", {}),
        "admin_issue": ("POST", "/v1/admin/keys", _json({"role": "auditor"})),
        "admin_revoke": ("POST", "/v1/admin/keys/custos_nosuchkey/revoke", {}),
        "admin_roster": ("GET", "/v1/admin/roster", {}),
        "admin_pack": ("GET", "/v1/admin/pack", {}),
        "incident_open": (
            "POST",
            "/v1/incidents",
            _json(
                {
                    "selector": {"batches": [MISSING]},
                    "how_discovered": "authorisation probe: nothing to recall",
                    "discovered_at": "2026-01-01T00:00:00Z",
                }
            ),
        ),
        "incident_list": ("GET", "/v1/incidents", {}),
        "incident_get": ("GET", "/v1/incidents/999999", {}),
        "incident_report": ("GET", "/v1/incidents/999999/report", {}),
        "incident_disposal": ("GET", "/v1/incidents/999999/disposal", {}),
        "incident_confirm": (
            "POST",
            "/v1/incidents/999999/confirmations",
            _json(
                {
                    "agency": "DHS-ICE",
                    "confirmed_by": "probe",
                    "reference": "probe",
                    "destroyed_at": "2026-01-01T00:00:00Z",
                }
            ),
        ),
    }


RATIONALE = "a rationale long enough to be kept"


def _json(body: dict[str, Any]) -> dict[str, Any]:
    return {"content": json.dumps(body).encode(), "headers": {"Content-Type": "application/json"}}


OFFICER_ONLY = {
    "review_list": 200,
    "review_decide": 404,
    "review_item": 404,
    "hold_place": 201,
    "hold_lift": 404,
    "hold_recheck": 200,
}
OFFICER_OR_AUDITOR = {"holds_list": 200, "hold_get": 404}
_ALL = ("requester_a", "requester_b", "officer", "auditor", "admin")
INCIDENT = {
    "incident_open": {"officer": 404, "admin": 404},
    "incident_list": {"officer": 200, "admin": 200, "auditor": 200},
    "incident_get": {"officer": 404, "admin": 404, "auditor": 404},
    "incident_report": {"officer": 404, "admin": 404, "auditor": 404},
    "incident_disposal": dict.fromkeys(_ALL, 404),
    "incident_confirm": {"requester_a": 404, "requester_b": 404, "officer": 404, "admin": 404},
}
ADMIN_ONLY = {
    "admin_keys": 200,
    "admin_issue": 201,
    "admin_revoke": 404,
    "admin_roster": 200,
    "admin_pack": 200,
}


def _verify_body(world: World) -> dict[str, str]:
    """Agency A's first request under a fresh id: each requester gets an answer (B's is a
    rejection, its official not being B's), never another agency's record."""
    row = next(csv.DictReader(io.StringIO((world.folder / "requests.csv").read_text())))
    return {**row, "request_id": "AUTHZ-" + row["request_id"]}


def _expected(route: str, caller: str) -> int:
    if caller == "nobody":
        return 401
    batch_routes = {"submit", "verify", "progress", "responses", "check"}
    if route in batch_routes:
        if not caller.startswith("requester"):
            return 403
        if route == "verify":
            return 200
        if route == "submit":
            return 422 if caller == "requester_b" else 202
        return 200 if caller == "requester_a" else 404
    if route in OFFICER_ONLY:
        return OFFICER_ONLY[route] if caller == "officer" else 403
    if route in OFFICER_OR_AUDITOR:
        return OFFICER_OR_AUDITOR[route] if caller in ("officer", "auditor") else 403
    if route in ADMIN_ONLY:
        return ADMIN_ONLY[route] if caller == "admin" else 403
    if route in INCIDENT:
        return INCIDENT[route].get(caller, 403)
    return 200 if caller == "auditor" else 403


def _call(s: Service, method: str, path: str, caller: str, extra: dict[str, Any]) -> Any:
    headers = dict(extra.get("headers", {}))
    if caller != "nobody":
        headers.update(s.auth(caller))
    return s.client.request(method, path, headers=headers, content=extra.get("content"))


def test_every_route_every_role_exact_status(service: Service, world: World) -> None:
    service.client.app.state.custos.worker.join()  # type: ignore[attr-defined]
    table = {}
    for route, (method, path, extra) in _routes(service, world).items():
        for caller in CALLERS:
            got = _call(service, method, path, caller, extra)
            table[route, caller] = got.status_code
            if got.status_code >= 400:
                error = got.json()["error"]
                assert error["request_id"] == got.headers["x-request-id"]
    expected = {(r, c): _expected(r, c) for r, c in table}
    assert table == expected


def test_other_agency_sees_a_batch_exactly_as_if_it_did_not_exist(service: Service) -> None:
    for suffix in ("", "/responses", "/check"):
        theirs = service.client.get(
            f"/v1/batches/{service.batch_a}{suffix}", headers=service.auth("requester_b")
        )
        missing = service.client.get(
            f"/v1/batches/{MISSING}{suffix}", headers=service.auth("requester_b")
        )
        assert theirs.status_code == missing.status_code == 404
        body, none = theirs.json()["error"], missing.json()["error"]
        assert {**body, "request_id": ""} == {**none, "request_id": ""}
        assert "DHS-ICE" not in theirs.text and "REQ-" not in theirs.text


def test_a_requester_sees_only_its_own_rows(service: Service) -> None:
    own = service.client.get(
        f"/v1/batches/{service.batch_b}/responses", headers=service.auth("requester_b")
    )
    assert own.status_code == 200
    ids = [line.split(",")[0] for line in own.text.splitlines()[1:]]
    assert ids and all(i.startswith("B-") for i in ids)
    check = service.client.get(
        f"/v1/batches/{service.batch_b}/check", headers=service.auth("requester_b")
    )
    assert check.status_code == 200
    assert all(v["request_id"].startswith("B-") for v in check.json()["verdicts"])


def test_requester_b_submits_for_its_own_agency_only(service: Service, world: World) -> None:
    as_a = service.client.post(
        "/v1/batches",
        content=world.batch_b,
        headers={**envelope_headers(OFFICIAL_A), **service.auth("requester_b")},
    )
    assert as_a.status_code == 422
    assert as_a.json()["error"]["code"] == "official_not_authorized"
    own = service.client.post(
        "/v1/batches",
        content=world.batch_b,
        headers={**envelope_headers(OFFICIAL_B), **service.auth("requester_b")},
    )
    assert own.status_code == 202 and own.json()["batch_id"] == service.batch_b


def _auth_failures(service: Service) -> list[Any]:
    with service.gateway.store.read() as conn:
        return list(
            conn.execute(
                select(ledger_events)
                .where(ledger_events.c.event_type == "auth_failed")
                .order_by(ledger_events.c.seq)
            ).all()
        )


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-key",
        "Bearer custos_0123456789ab_" + "A" * 43,
    ],
)
def test_failed_authentication_is_a_ledger_event_with_the_client_origin(
    service: Service, authorization: str | None
) -> None:
    before = len(_auth_failures(service))
    headers = {"Authorization": authorization} if authorization else {}
    got = service.client.get("/v1/ledger/checkpoints", headers=headers)
    assert got.status_code == 401
    assert got.headers["www-authenticate"] == "Bearer"
    events = _auth_failures(service)
    assert len(events) == before + 1
    last = events[-1]
    assert last.success is False and last.origin == "http:testclient"
    assert json.loads(last.payload)["path"] == "/v1/ledger/checkpoints"


def test_a_wrong_secret_for_a_real_prefix_is_refused(service: Service) -> None:
    real = service.keys["auditor"]
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    got = service.client.get(
        "/v1/ledger/checkpoints", headers={"Authorization": f"Bearer {forged}"}
    )
    assert got.status_code == 401
    assert json.loads(_auth_failures(service)[-1].payload)["reason"] == "wrong secret"


def test_a_revoked_key_stops_working_at_once(service: Service) -> None:
    issued = issue_key(
        service.gateway.store, role=Role.AUDITOR, agency=None, actor="user:t", origin="t"
    )
    headers = {"Authorization": f"Bearer {issued.secret_key}"}
    assert service.client.get("/v1/ledger/checkpoints", headers=headers).status_code == 200
    revoke_key(service.gateway.store, issued.record.prefix, actor="user:t", origin="t")
    assert service.client.get("/v1/ledger/checkpoints", headers=headers).status_code == 401
