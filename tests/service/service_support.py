"""Support for the service tests: a running service on each backend over a generated world.

The world, its model and the master file are built once per session; each
backend gets one app whose worker has already processed agency A's batch,
so most tests only read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from custos import pipeline
from custos.config import Settings
from custos.ledger import generate_signing_key, save_signing_key
from custos.match import LoadedModel, load_model, train
from custos.policy.pack import load_pack
from custos.policy.roster import load_roster
from custos.service import create_app
from custos.service.auth import Role, issue_key
from custos.service.settings import ServiceConfig
from custos.store.testing import postgres_unavailable_reason, temporary_store_url
from custos.synth.world import generate

AGENCY_A = "DHS-ICE"
AGENCY_B = "ZZ-OTHER"
OFFICIAL_A = "ICE-0001"
OFFICIAL_B = "ZZO-0001"

OTHER_AGENCY = f'''
[[agencies]]
id = "{AGENCY_B}"
name = "Other Synthetic Agency"
head = "Director, Other Synthetic Agency"
inspector_general = "Other Synthetic Office of Inspector General"
safeguards_certified = 2025-04-07

  [[agencies.officials]]
  id = "{OFFICIAL_B}"
  name = "Q. Example"
  title = "Special Agent"
  recipient = true
'''


@dataclass(frozen=True)
class World:
    folder: Path
    roster: Path
    model: LoadedModel
    master: pipeline.Master
    batch_a: bytes
    batch_b: bytes
    small_a: bytes


def _rows(text: str, official: str | None, limit: int | None, prefix: str = "") -> bytes:
    reader = csv.DictReader(io.StringIO(text))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [])
    writer.writeheader()
    for i, row in enumerate(reader):
        if limit is not None and i >= limit:
            break
        if official:
            row["requesting_official"] = official
        row["request_id"] = prefix + row["request_id"]
        writer.writerow(row)
    return out.getvalue().encode()


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    base = tmp_path_factory.mktemp("service-world")
    folder = base / "world"
    generate(folder, taxpayers=400, requests=120, seed=3)
    roster = base / "roster.toml"
    roster.write_text((folder / "roster.toml").read_text() + OTHER_AGENCY)
    model_path = base / "model.json"
    train(folder, model_path)
    text = (folder / "requests.csv").read_text()
    return World(
        folder=folder,
        roster=roster,
        model=load_model(model_path),
        master=pipeline.Master.from_world(folder),
        batch_a=(folder / "requests.csv").read_bytes(),
        batch_b=_rows(text, OFFICIAL_B, 10, prefix="B-"),
        small_a=_rows(text, None, 12, prefix="S-"),
    )


def make_gateway(world: World, url: str, home: Path) -> pipeline.Gateway:
    key = home / "keys" / "ledger.key"
    save_signing_key(generate_signing_key("custos.test/ledger"), key)
    settings = Settings(
        home=home, database_url=url, ledger_key_path=key, ledger_origin="custos.test/ledger"
    )
    return pipeline.open_gateway(
        pack=load_pack(),
        roster=load_roster(world.roster),
        model=world.model,
        master=world.master,
        actor=pipeline.Actor("service:test", "test"),
        settings=settings,
    )


NO_TEST_REACHES_THE_LIMITS = ServiceConfig(
    rate_per_second=1000.0, rate_burst=1000, auth_failure_burst=10_000
)
"""The authorisation matrix fails to authenticate once per route; the limits have their own tests."""


@dataclass(frozen=True)
class Service:
    client: TestClient
    gateway: pipeline.Gateway
    keys: dict[str, str]
    batch_a: str
    batch_b: str

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}


def envelope_headers(official: str) -> dict[str, str]:
    return {
        "Content-Type": "text/csv",
        "X-Certifying-Official": official,
        "X-MOU-Reference": "MOU-TEST-1",
    }


def issue_all(gw: pipeline.Gateway) -> dict[str, str]:
    """One key per role, and a requester for each agency."""

    def issue(role: Role, agency: str | None) -> str:
        return issue_key(
            gw.store, role=role, agency=agency, actor="user:test", origin="test"
        ).secret_key

    return {
        "requester_a": issue(Role.REQUESTER, AGENCY_A),
        "requester_b": issue(Role.REQUESTER, AGENCY_B),
        "officer": issue(Role.OFFICER, None),
        "auditor": issue(Role.AUDITOR, None),
        "admin": issue(Role.ADMIN, None),
    }


@pytest.fixture(
    scope="module",
    params=[pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and (reason := postgres_unavailable_reason()):
        pytest.skip(reason)
    return str(request.param)


@pytest.fixture(scope="module")
def service(
    backend: str, world: World, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    home = tmp_path_factory.mktemp(f"service-{backend}")
    with temporary_store_url(backend, home) as url:
        gw = make_gateway(world, url, home)
        app = create_app(gw, config=NO_TEST_REACHES_THE_LIMITS)
        with TestClient(app, raise_server_exceptions=False) as client:
            keys = issue_all(gw)
            ids = []
            for who, official, body in (
                ("requester_a", OFFICIAL_A, world.batch_a),
                ("requester_b", OFFICIAL_B, world.batch_b),
            ):
                answer = client.post(
                    "/v1/batches",
                    content=body,
                    headers={**envelope_headers(official), "Authorization": f"Bearer {keys[who]}"},
                )
                assert answer.status_code == 202, answer.text
                ids.append(answer.json()["batch_id"])
            state = app.state.custos
            state.worker.join()
            yield Service(client, gw, keys, ids[0], ids[1])
        gw.store.close()
