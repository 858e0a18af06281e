"""Idempotency keys that survive a restart, and the limit on failed authentications."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient
from service_support import OFFICIAL_A, World, envelope_headers, issue_all, make_gateway
from sqlalchemy import func, select

from custos import pipeline
from custos.config import Settings
from custos.policy.pack import load_pack
from custos.policy.roster import load_roster
from custos.service import create_app
from custos.service.idempotency import bind
from custos.service.settings import ServiceConfig
from custos.store.schema import batches, ledger_events
from custos.store.testing import temporary_store_url

NO_WORKER = ServiceConfig(in_process_worker=False)


def _reopened(world: World, url: str, home: Path) -> pipeline.Gateway:
    """A second gateway on the same store, work folder and signing key: a restarted server."""
    settings = Settings(
        home=home,
        database_url=url,
        ledger_key_path=home / "keys" / "ledger.key",
        ledger_origin="custos.test/ledger",
    )
    return pipeline.open_gateway(
        pack=load_pack(),
        roster=load_roster(world.roster),
        model=world.model,
        master=world.master,
        actor=pipeline.Actor("service:test", "test"),
        settings=settings,
    )


@contextmanager
def _served(gw: pipeline.Gateway, config: ServiceConfig = NO_WORKER) -> Iterator[TestClient]:
    with TestClient(create_app(gw, config=config), raise_server_exceptions=False) as client:
        yield client


def _batch_count(gw: pipeline.Gateway) -> int:
    with gw.store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(batches)).scalar_one())


def test_an_idempotency_key_keeps_its_batch_across_a_restart(world: World, tmp_path: Path) -> None:
    with temporary_store_url("sqlite", tmp_path) as url:
        first_gw = make_gateway(world, url, tmp_path)
        with _served(first_gw) as client:
            keys = issue_all(first_gw)
            headers = {
                **envelope_headers(OFFICIAL_A),
                "Authorization": f"Bearer {keys['requester_a']}",
                "Idempotency-Key": "order-7",
            }
            first = client.post("/v1/batches", content=world.small_a, headers=headers)
        first_gw.store.close()
        assert first.status_code == 202, first.text

        second_gw = _reopened(world, url, tmp_path)
        with _served(second_gw) as client:
            other = client.post("/v1/batches", content=world.batch_b, headers=headers)
            same = client.post("/v1/batches", content=world.small_a, headers=headers)
        assert other.status_code == 409, other.text
        assert other.json()["error"]["code"] == "idempotency_conflict"
        assert same.status_code == 202
        assert same.json()["batch_id"] == first.json()["batch_id"]
        assert _batch_count(second_gw) == 1, "the conflicting file must not become a batch"
        second_gw.store.close()


def test_an_unreadable_file_binds_no_key(world: World, tmp_path: Path) -> None:
    with temporary_store_url("sqlite", tmp_path) as url:
        gw = make_gateway(world, url, tmp_path)
        with _served(gw) as client:
            keys = issue_all(gw)
            headers = {
                **envelope_headers(OFFICIAL_A),
                "Authorization": f"Bearer {keys['requester_a']}",
                "Idempotency-Key": "retry-me",
            }
            bad = client.post("/v1/batches", content=b"no,header\n\x00\x01", headers=headers)
            good = client.post("/v1/batches", content=world.small_a, headers=headers)
        assert bad.status_code == 422, bad.text
        assert good.status_code == 202, good.text
        gw.store.close()


def test_keys_are_per_agency(tmp_path: Path) -> None:
    assert bind(tmp_path, "A", "k", "1" * 64) == "1" * 64
    assert bind(tmp_path, "B", "k", "2" * 64) == "2" * 64
    assert bind(tmp_path, "A", "k", "3" * 64) == "1" * 64


def test_racing_binds_of_one_key_agree_on_the_first(tmp_path: Path) -> None:
    results: list[str] = []
    start = threading.Barrier(16)

    def race(i: int) -> None:
        start.wait()
        results.append(bind(tmp_path, "AG", "same-key", f"{i:064x}"))

    threads = [threading.Thread(target=race, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 16 and len(set(results)) == 1
    assert [p.name for p in tmp_path.rglob(".bind-*")] == []


def _auth_failures(gw: pipeline.Gateway) -> int:
    with gw.store.read() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(ledger_events)
                .where(ledger_events.c.event_type == "auth_failed")
            ).scalar_one()
        )


def test_failed_authentications_are_limited_per_address_and_recorded(
    world: World, tmp_path: Path
) -> None:
    with temporary_store_url("sqlite", tmp_path) as url:
        gw = make_gateway(world, url, tmp_path)
        config = ServiceConfig(
            in_process_worker=False, auth_failures_per_second=0.001, auth_failure_burst=3
        )
        app = create_app(gw, config=config)
        keys = issue_all(gw)
        wrong = {"Authorization": "Bearer custos_000000000000_" + "x" * 43}
        good = {"Authorization": f"Bearer {keys['auditor']}"}
        path = "/v1/ledger/checkpoints"
        with (
            TestClient(app, client=("192.0.2.7", 4000)) as attacker,
            TestClient(app, client=("192.0.2.8", 4000)) as bystander,
        ):
            statuses = [attacker.get(path, headers=wrong).status_code for _ in range(5)]
            locked = attacker.get(path, headers=good)
            other = bystander.get(path, headers=good)
        assert statuses == [401, 401, 401, 429, 429]
        assert locked.status_code == 429
        assert locked.json()["error"]["code"] == "too_many_failed_authentications"
        assert int(locked.headers["retry-after"]) >= 1
        assert other.status_code == 200, "another address is not locked out"
        assert _auth_failures(gw) == 3, "each failed authentication, and only those, is recorded"
        gw.store.close()
