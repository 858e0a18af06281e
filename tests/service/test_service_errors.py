"""One error envelope for every error, request ids everywhere, JSON log lines, 429."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from service_support import OFFICIAL_A, Service, World, envelope_headers, issue_all, make_gateway

from custos.config import Settings
from custos.errors import CustosError
from custos.service import create_app, signing_key_settings
from custos.service.settings import ServiceConfig
from custos.store.testing import temporary_store_url


def _assert_envelope(response: object, status: int, code: str) -> None:
    from httpx2 import Response  # the TestClient's response type

    assert isinstance(response, Response)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "request_id"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["error"]["request_id"] == response.headers["x-request-id"]


def test_every_error_status_has_the_envelope(service: Service) -> None:
    c = service.client
    _assert_envelope(c.get("/v1/ledger/checkpoints"), 401, "unauthenticated")
    _assert_envelope(
        c.get("/v1/ledger/checkpoints", headers=service.auth("requester_a")), 403, "forbidden"
    )
    _assert_envelope(c.get("/v1/no-such-route"), 404, "not_found")
    _assert_envelope(
        c.get("/v1/batches/unknown", headers=service.auth("requester_a")), 404, "not_found"
    )
    _assert_envelope(c.delete("/v1/batches"), 405, "method_not_allowed")
    _assert_envelope(
        c.get("/v1/reports/annual/not-a-year", headers=service.auth("auditor")),
        422,
        "invalid_request",
    )
    _assert_envelope(
        c.get("/v1/accounting/12345", headers=service.auth("auditor")), 422, "invalid_tin"
    )


def test_an_unhandled_failure_is_a_500_envelope_without_the_cause(
    service: Service, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*_: object) -> str:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr("custos.service.routes.audit.export", explode)
    with caplog.at_level(logging.INFO, logger="custos.service"):
        got = service.client.get("/v1/ledger/checkpoints", headers=service.auth("auditor"))
    _assert_envelope(got, 500, "internal_error")
    assert "secret internal detail" not in got.text
    rid = got.headers["x-request-id"]
    assert any(
        r.exc_info and json.loads(r.getMessage())["request_id"] == rid for r in caplog.records
    )


def test_request_ids_are_echoed_or_generated_and_logged_as_json(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="custos.service"):
        echoed = service.client.get("/openapi.json", headers={"X-Request-ID": "abc-123"})
        made = service.client.get("/openapi.json")
        hostile = service.client.get("/openapi.json", headers={"X-Request-ID": "a b\x7f" * 60})
    assert echoed.headers["x-request-id"] == "abc-123"
    assert len(made.headers["x-request-id"]) == 32
    assert hostile.headers["x-request-id"] != "a b\x7f" * 60
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "custos.service"]
    logged = {line["request_id"] for line in lines if line["event"] == "request"}
    assert {"abc-123", made.headers["x-request-id"]} <= logged


def test_openapi_lists_the_versioned_routes_and_documents_the_envelope(
    service: Service,
) -> None:
    document = service.client.get("/openapi.json").json()
    paths = set(document["paths"])
    for path, operations in document["paths"].items():
        for operation in operations.values():
            error = operation["responses"]["422"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ErrorEnvelope"}, path
            assert "401" in operation["responses"] and "429" in operation["responses"]
    assert all(path.startswith("/v1/") for path in paths), paths
    assert paths >= {
        "/v1/batches",
        "/v1/batches/{batch_id}",
        "/v1/batches/{batch_id}/responses",
        "/v1/batches/{batch_id}/check",
        "/v1/ledger/checkpoints",
        "/v1/ledger/proofs/{request_id}",
        "/v1/accounting/{tin}",
        "/v1/reports/annual/{year}",
        "/v1/review",
        "/v1/review/{agency}/{request_id}",
        "/v1/holds",
        "/v1/holds/{hold_id}",
        "/v1/holds/{hold_id}/lift",
        "/v1/holds/recheck",
        "/v1/incidents",
        "/v1/incidents/{incident_id}",
        "/v1/incidents/{incident_id}/report",
        "/v1/incidents/{incident_id}/disposal",
        "/v1/incidents/{incident_id}/confirmations",
        "/v1/admin/keys",
        "/v1/admin/keys/{prefix}/revoke",
        "/v1/admin/roster",
        "/v1/admin/pack",
    }


def test_rate_limit_per_key_gives_429_with_retry_after(world: World, tmp_path: Path) -> None:
    with temporary_store_url("sqlite", tmp_path) as url:
        gw = make_gateway(world, url, tmp_path)
        config = ServiceConfig(rate_per_second=0.01, rate_burst=2, in_process_worker=False)
        with TestClient(create_app(gw, config=config), raise_server_exceptions=False) as client:
            keys = issue_all(gw)
            auditor = {"Authorization": f"Bearer {keys['auditor']}"}
            other = {"Authorization": f"Bearer {keys['admin']}"}
            statuses = [
                client.get("/v1/ledger/checkpoints", headers=auditor).status_code for _ in range(3)
            ]
            assert statuses == [200, 200, 429]
            limited = client.get("/v1/ledger/checkpoints", headers=auditor)
            _assert_envelope(limited, 429, "rate_limited")
            assert int(limited.headers["retry-after"]) >= 1
            assert client.get("/v1/ledger/checkpoints", headers=other).status_code == 403
        gw.store.close()


def test_an_upload_over_the_limit_is_refused_with_413(world: World, tmp_path: Path) -> None:
    with temporary_store_url("sqlite", tmp_path) as url:
        gw = make_gateway(world, url, tmp_path)
        config = ServiceConfig(in_process_worker=False, max_upload_bytes=1000)
        with TestClient(create_app(gw, config=config)) as client:
            keys = issue_all(gw)
            headers = {
                **envelope_headers(OFFICIAL_A),
                "Authorization": f"Bearer {keys['requester_a']}",
            }
            sized = client.post("/v1/batches", content=world.small_a, headers=headers)
            _assert_envelope(sized, 413, "payload_too_large")

            def chunks() -> Iterator[bytes]:
                yield world.small_a[:900]
                yield world.small_a[900:]

            chunked = client.post("/v1/batches", content=chunks(), headers=headers)
            _assert_envelope(chunked, 413, "payload_too_large")
        gw.store.close()


def test_no_signing_key_no_server_unless_dev(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'custos.db'}",
        ledger_key_path=tmp_path / "keys" / "missing.key",
        ledger_origin="custos.test/ledger",
    )
    with pytest.raises(CustosError, match="will not start"):
        signing_key_settings(settings, dev=False)
    with caplog.at_level(logging.WARNING, logger="custos.service"):
        dev = signing_key_settings(settings, dev=True)
    assert dev.ledger_key_path.is_file() and dev.ledger_key_path != settings.ledger_key_path
    assert any("EPHEMERAL" in r.getMessage() for r in caplog.records)
