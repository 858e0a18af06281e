"""Incidents over HTTP: opening, reading, disposal lists and confirmations, by role."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from service_support import AGENCY_A, AGENCY_B, Service, World
from sqlalchemy import select

from custos import store
from custos.intake import read_batch_bytes
from custos.store.schema import ledger_events

CALLERS = ("requester_a", "requester_b", "officer", "auditor", "admin", "nobody")
HOW = "A corrected address rule found requests whose address was never checked"
WHEN = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
NO_SUCH = 999_999
SEEDED_A = "DHS-ICE-incident-seed"
SEEDED_B = "ZZ-OTHER-incident-seed"


@dataclass(frozen=True)
class Api:
    """The shared service, and two batches of disclosures of its world's people to recall."""

    service: Service
    batch_a: str
    batch_b: str

    @property
    def client(self) -> Any:
        return self.service.client

    @property
    def gateway(self) -> Any:
        return self.service.gateway

    @property
    def keys(self) -> dict[str, str]:
        return self.service.keys

    def auth(self, who: str) -> dict[str, str]:
        return self.service.auth(who)


@pytest.fixture(scope="module")
def api(service: Service, world: World) -> Api:
    """The incident routes over seeded batches.

    The disclosures are written through the store's repositories, as the review tests fill
    their queue, so that these tests do not depend on which requests the matcher releases.
    """
    with (world.folder / "truth.csv").open() as fh:
        tins = {r["request_id"]: r["true_tin"] for r in csv.DictReader(fh) if r["true_tin"]}
    parsed = read_batch_bytes(world.batch_a, "csv").requests
    with service.gateway.store.write() as conn:
        for batch_id, agency, prefix, rows in (
            (SEEDED_A, AGENCY_A, "INC-", parsed[:40]),
            (SEEDED_B, AGENCY_B, "INC-B-", parsed[40:60]),
        ):
            requests = [
                replace(r, agency=agency, request_id=prefix + r.request_id)
                for r in rows
                if r.request_id in tins
            ]
            store.create_batch(
                conn,
                batch_id=batch_id,
                agency_id=agency,
                source="seeded",
                source_sha256="1" * 64,
                row_count=len(requests),
                malformed_count=0,
            )
            store.add_requests(conn, batch_id, requests)
            store.record_disclosures(
                conn,
                [
                    store.DisclosureRecord(
                        batch_id=batch_id,
                        agency_id=agency,
                        request_id=r.request_id,
                        tin=tins[r.request_id.removeprefix(prefix)],
                        statute=r.statute,
                        fields=("street", "unit", "city", "state", "zip"),
                        as_of_tax_year=2024,
                        disclosed_at=datetime(2025, 8, 7, 15, 0, tzinfo=UTC),
                    )
                    for r in requests
                ],
            )
    return Api(service, SEEDED_A, SEEDED_B)


def _disclosed(s: Api, batch: str) -> list[store.DisclosureRecord]:
    with s.gateway.store.read() as conn:
        return store.batch_disclosures(conn, batch)


def _open(s: Api, selector: dict[str, Any], who: str = "officer") -> Any:
    body = {"selector": selector, "how_discovered": HOW, "discovered_at": WHEN}
    return s.client.post("/v1/incidents", json=body, headers=s.auth(who))


def _events(s: Api, kind: str, obj: str) -> list[Any]:
    with s.gateway.store.read() as conn:
        return list(
            conn.execute(
                select(ledger_events).where(
                    ledger_events.c.event_type == kind, ledger_events.c.object == obj
                )
            ).all()
        )


def test_an_officer_opens_by_request_id_and_an_auditor_reads_the_report(api: Api) -> None:
    chosen = _disclosed(api, api.batch_a)[:3]
    assert len(chosen) == 3
    got = _open(api, {"agency": AGENCY_A, "request_ids": [d.request_id for d in chosen]})
    assert got.status_code == 201, got.text
    body = got.json()
    assert body["marked"] == 3 and body["already_recalled"] == []
    incident = body["incident"]
    assert incident["status"] == "open" and incident["disclosures"] == 3
    assert incident["recipients"] == [
        {
            "agency": AGENCY_A,
            "requests": 3,
            "confirmed": False,
            "confirmed_at": None,
            "confirmed_by": None,
            "reference": None,
        }
    ]
    path = f"/v1/incidents/{incident['id']}"
    auditor = api.auth("auditor")
    assert api.client.get(path, headers=auditor).json() == incident

    report = api.client.get(f"{path}/report", headers=auditor)
    assert report.status_code == 200 and report.headers["content-type"] == "application/json"
    assert report.json()["counts"]["disclosures"] == 3
    memo = api.client.get(f"{path}/report?format=markdown", headers=auditor)
    assert memo.headers["content-type"].startswith("text/markdown")
    assert memo.text.startswith(f"# Incident {incident['id']}")
    with api.gateway.store.read() as conn:
        subjects = [store.get_request(conn, d.agency_id, d.request_id) for d in chosen]
    for text in (report.text, memo.text, json.dumps(incident)):
        for d, r in zip(chosen, subjects, strict=True):
            assert r is not None
            assert not re.search(rf"(?<!\d){d.tin}(?!\d)", text)
            assert r.subject.street.casefold() not in text.casefold()
            assert not re.search(rf"\b{re.escape(r.subject.last_name)}\b", text)

    (opened,) = _events(api, "incident_opened", f"incident:{incident['id']}")
    assert opened.actor == f"key:{api.keys['officer'].split('_')[1]}"
    assert opened.origin == "http:testclient"
    for d in chosen:
        (marked,) = _events(api, "disclosure_marked_wrongful", f"request:{AGENCY_A}/{d.request_id}")
        assert json.loads(marked.payload)["incident"] == incident["id"]

    again = _open(api, {"agency": AGENCY_A, "request_ids": [chosen[0].request_id]})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "incident_conflict"


def test_each_recipient_sees_only_its_own_list_and_confirms_it(api: Api) -> None:
    got = _open(api, {"batches": [api.batch_a, api.batch_b]}, who="admin")
    assert got.status_code == 201, got.text
    incident = got.json()["incident"]
    path = f"/v1/incidents/{incident['id']}"
    assert {r["agency"] for r in incident["recipients"]} == {AGENCY_A, AGENCY_B}

    own_b = api.client.get(f"{path}/disposal", headers=api.auth("requester_b"))
    assert own_b.status_code == 200
    (listed,) = own_b.json()["lists"]
    expected_b = sorted(d.request_id for d in _disclosed(api, api.batch_b))
    assert listed["agency"] == AGENCY_B and listed["request_ids"] == expected_b
    assert set(listed) >= {"request_ids", "sha256", "instructions", "confirmation"}

    theirs = api.client.get(f"{path}/disposal?agency={AGENCY_A}", headers=api.auth("requester_b"))
    missing = api.client.get(f"/v1/incidents/{NO_SUCH}/disposal", headers=api.auth("requester_b"))
    assert theirs.status_code == missing.status_code == 404
    assert {**theirs.json()["error"], "request_id": ""} == {
        **missing.json()["error"],
        "request_id": "",
    }
    everything = api.client.get(f"{path}/disposal", headers=api.auth("auditor")).json()
    assert [x["agency"] for x in everything["lists"]] == sorted([AGENCY_A, AGENCY_B])

    confirmation = {
        "confirmed_by": "Records Officer, Other Synthetic Agency",
        "reference": "DEST-2026-0001",
        "destroyed_at": datetime.now(UTC).isoformat(),
    }
    url = f"{path}/confirmations"
    first = api.client.post(url, json=confirmation, headers=api.auth("requester_b"))
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "open"
    twice = api.client.post(url, json=confirmation, headers=api.auth("requester_b"))
    assert twice.status_code == 409
    unnamed = api.client.post(url, json=confirmation, headers=api.auth("officer"))
    assert unnamed.status_code == 422
    on_paper = {**confirmation, "agency": AGENCY_A, "reference": "ICE-LETTER-7"}
    closed = api.client.post(url, json=on_paper, headers=api.auth("officer"))
    assert closed.status_code == 200, closed.text
    view = closed.json()
    assert view["status"] == "closed" and view["closed_at"] is not None
    assert {r["agency"]: r["reference"] for r in view["recipients"]} == {
        AGENCY_A: "ICE-LETTER-7",
        AGENCY_B: "DEST-2026-0001",
    }
    assert len(_events(api, "incident_closed", f"incident:{incident['id']}")) == 1
    everyone = len(_disclosed(api, api.batch_a)) + len(_disclosed(api, api.batch_b))
    assert got.json()["marked"] + len(got.json()["already_recalled"]) == everyone


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"selector": {"batches": ["NO-SUCH-BATCH"]}}, 404, "not_found"),
        ({"selector": {"agency": AGENCY_A, "request_ids": ["X"], "batch": "B"}}, 422, None),
        ({"selector": {"batch": "B", "rules": ["no-such-rule"]}}, 422, "invalid_incident"),
        ({"selector": {"agency": AGENCY_A, "request_ids": ["NO-SUCH-ID"]}}, 422, None),
        ({"discovered_at": "2026-01-20T07:00:00"}, 422, "invalid_request"),
        ({"how_discovered": "short"}, 422, "invalid_request"),
        ({"discovered_at": "2999-01-01T00:00:00Z"}, 422, "invalid_incident"),
    ],
)
def test_bad_incident_bodies_get_a_specific_error(
    api: Api, body: dict[str, Any], status: int, code: str | None
) -> None:
    full = {
        "selector": {"batches": [api.batch_a]},
        "how_discovered": HOW,
        "discovered_at": WHEN,
        **body,
    }
    got = api.client.post("/v1/incidents", json=full, headers=api.auth("officer"))
    assert got.status_code == status, got.text
    assert got.json()["error"]["code"] == (code or "invalid_incident")


def test_incident_pages(api: Api) -> None:
    officer = api.auth("officer")
    whole = api.client.get("/v1/incidents", headers=officer).json()
    assert whole["total"] == len(whole["items"])
    ids = [i["id"] for i in whole["items"]]
    assert ids == sorted(ids, reverse=True)
    page = api.client.get("/v1/incidents?offset=1&limit=1", headers=officer).json()
    assert page["total"] == whole["total"] and page["items"] == whole["items"][1:2]


def matrix_routes() -> dict[str, tuple[str, str, dict[str, Any]]]:
    """The incident rows for the authorisation matrix; none of them changes anything."""
    probe = {
        "selector": {"batches": ["NO-SUCH-BATCH"]},
        "how_discovered": "authorisation probe: nothing to recall",
        "discovered_at": "2026-01-01T00:00:00Z",
    }
    confirmation = {
        "agency": "DHS-ICE",
        "confirmed_by": "probe",
        "reference": "probe",
        "destroyed_at": "2026-01-01T00:00:00Z",
    }
    json_headers = {"Content-Type": "application/json"}
    return {
        "incident_open": (
            "POST",
            "/v1/incidents",
            {"content": json.dumps(probe).encode(), "headers": json_headers},
        ),
        "incident_list": ("GET", "/v1/incidents", {}),
        "incident_get": ("GET", f"/v1/incidents/{NO_SUCH}", {}),
        "incident_report": ("GET", f"/v1/incidents/{NO_SUCH}/report", {}),
        "incident_disposal": ("GET", f"/v1/incidents/{NO_SUCH}/disposal", {}),
        "incident_confirm": (
            "POST",
            f"/v1/incidents/{NO_SUCH}/confirmations",
            {"content": json.dumps(confirmation).encode(), "headers": json_headers},
        ),
    }


def matrix_expected(route: str, caller: str) -> int:
    if caller == "nobody":
        return 401
    staff = {"officer", "admin", "auditor"}
    if route == "incident_open":
        return 404 if caller in {"officer", "admin"} else 403
    if route == "incident_list":
        return 200 if caller in staff else 403
    if route in {"incident_get", "incident_report"}:
        return 404 if caller in staff else 403
    if route == "incident_disposal":
        return 404
    if route == "incident_confirm":
        return 403 if caller == "auditor" else 404
    raise AssertionError(route)


def test_every_incident_route_every_role_exact_status(api: Api) -> None:
    table = {}
    for route, (method, path, extra) in matrix_routes().items():
        for caller in CALLERS:
            headers = dict(extra.get("headers", {}))
            if caller != "nobody":
                headers.update(api.auth(caller))
            got = api.client.request(method, path, headers=headers, content=extra.get("content"))
            table[route, caller] = got.status_code
    assert table == {(r, c): matrix_expected(r, c) for r, c in table}
