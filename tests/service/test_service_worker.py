"""The separate worker: claims waiting batches from the store and completes each once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from service_support import OFFICIAL_A, World, envelope_headers, issue_all, make_gateway
from sqlalchemy import select

from custos import store
from custos.errors import CustosError
from custos.ledger import EventType, NewEvent, append, latest_checkpoint, read_head
from custos.service import create_app
from custos.service.settings import ServiceConfig
from custos.service.worker import claim, pending_batches, run_worker, seal_idle_events
from custos.store.schema import ledger_events
from custos.store.testing import temporary_store_url


def test_worker_process_completes_a_waiting_batch_once(
    backend: str, world: World, tmp_path: Path
) -> None:
    with temporary_store_url(backend, tmp_path) as url:
        gw = make_gateway(world, url, tmp_path)
        app = create_app(gw, config=ServiceConfig(in_process_worker=False))
        with TestClient(app) as client:
            keys = issue_all(gw)
            headers = {
                **envelope_headers(OFFICIAL_A),
                "Authorization": f"Bearer {keys['requester_a']}",
            }
            batch_id = client.post("/v1/batches", content=world.small_a, headers=headers).json()[
                "batch_id"
            ]
            progress = client.get(f"/v1/batches/{batch_id}", headers=headers).json()
            assert progress["stage"] == "received" and progress["answered_rows"] == 0
            early = client.get(f"/v1/batches/{batch_id}/responses", headers=headers)
            assert early.status_code == 409
            assert early.json()["error"]["code"] == "batch_not_complete"
            with gw.store.read() as conn:
                assert pending_batches(conn, 300.0) == [batch_id]
            assert run_worker(gw, retry_after=300.0, once=True) == 1
            assert run_worker(gw, retry_after=300.0, once=True) == 0
            done = client.get(f"/v1/batches/{batch_id}", headers=headers).json()
            assert done["complete"] and done["answered_rows"] == done["rows"] == 12
            with gw.store.read() as conn:
                assert (
                    len(store.batch_outcomes(conn, batch_id))
                    + len(store.batch_row_rejections(conn, batch_id))
                    == 12
                )
        gw.store.close()


def test_a_failed_batch_waits_before_it_is_claimed_again(
    backend: str, world: World, tmp_path: Path
) -> None:
    with temporary_store_url(backend, tmp_path) as url:
        gw = make_gateway(world, url, tmp_path)
        create_app(gw, config=ServiceConfig(in_process_worker=False))
        with gw.store.write() as conn:
            store.create_batch(
                conn,
                batch_id="DHS-ICE-x",
                agency_id="DHS-ICE",
                source="t",
                source_sha256="0" * 64,
                row_count=0,
                malformed_count=0,
            )
            store.record_batch_failure(conn, "DHS-ICE-x", "boom")
        with claim(gw, retry_after=300.0) as claimed:
            assert claimed is None
        with claim(gw, retry_after=0.0) as claimed:
            assert claimed == "DHS-ICE-x"
            if backend == "postgresql":
                with claim(gw, retry_after=0.0) as second:
                    assert second is None
        gw.store.close()


def test_a_restarted_service_finishes_what_was_left(
    backend: str, world: World, tmp_path: Path
) -> None:
    with temporary_store_url(backend, tmp_path) as url:
        gw = make_gateway(world, url, tmp_path)
        first = create_app(gw, config=ServiceConfig(in_process_worker=False))
        with TestClient(first) as client:
            keys = issue_all(gw)
            headers = {
                **envelope_headers(OFFICIAL_A),
                "Authorization": f"Bearer {keys['requester_a']}",
            }
            batch_id = client.post("/v1/batches", content=world.small_a, headers=headers).json()[
                "batch_id"
            ]
        second = create_app(gw)
        with TestClient(second) as client:
            second.state.custos.worker.join()
            done = client.get(f"/v1/batches/{batch_id}", headers=headers).json()
        assert done["complete"] and done["answered_rows"] == 12
        gw.store.close()


def test_a_failing_batch_is_recorded_not_lost(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("matcher unavailable")

    with temporary_store_url("sqlite", tmp_path) as url:
        gw = make_gateway(world, url, tmp_path)
        monkeypatch.setattr("custos.pipeline.advance", broken)
        app = create_app(gw)
        with TestClient(app) as client:
            keys = issue_all(gw)
            headers = {
                **envelope_headers(OFFICIAL_A),
                "Authorization": f"Bearer {keys['requester_a']}",
            }
            batch_id = client.post("/v1/batches", content=world.small_a, headers=headers).json()[
                "batch_id"
            ]
            app.state.custos.worker.join()
            progress = client.get(f"/v1/batches/{batch_id}", headers=headers).json()
        assert progress["failed"] is True and progress["stage"] == "received"
        with gw.store.read() as conn:
            batch = store.get_batch(conn, batch_id)
            failed = conn.execute(
                select(ledger_events).where(ledger_events.c.event_type == "batch_failed")
            ).all()
        assert batch is not None and batch.error == "RuntimeError: matcher unavailable"
        assert [f.object for f in failed] == [f"batch:{batch_id}"]
        gw.store.close()


def test_sqlite_allows_one_worker_at_a_time(world: World, tmp_path: Path) -> None:
    with temporary_store_url("sqlite", tmp_path) as url:
        gw = make_gateway(world, url, tmp_path)
        app = create_app(gw)
        with TestClient(app), pytest.raises(CustosError, match="another worker"):
            run_worker(gw, retry_after=300.0, once=True)
        assert run_worker(gw, retry_after=300.0, once=True) == 0
        gw.store.close()


def test_events_between_batches_are_sealed_on_the_clock(world: World, tmp_path: Path) -> None:
    """The time-interval checkpoint: an event after the last batch gets signed when due."""
    with temporary_store_url("sqlite", tmp_path) as url:
        gw = make_gateway(world, url, tmp_path)
        append(gw.store, NewEvent("u", EventType.AUTH_FAILED, False, "http:127.0.0.1", "k", {}))
        seal_idle_events(gw, every=timedelta(0))
        with gw.store.read() as conn:
            sealed, head = latest_checkpoint(conn), read_head(conn)
        assert sealed is not None and sealed.tree_size == head.size
        seal_idle_events(gw, every=timedelta(0))
        with gw.store.read() as conn:
            again = latest_checkpoint(conn)
        assert again is not None and again.id == sealed.id, "nothing new: no new checkpoint"
        gw.store.close()


def test_the_in_process_worker_runs_again_when_the_lifespan_does(
    world: World, tmp_path: Path
) -> None:
    with temporary_store_url("sqlite", tmp_path) as url:
        gw = make_gateway(world, url, tmp_path)
        app = create_app(gw)
        with TestClient(app):
            keys = issue_all(gw)
        with TestClient(app) as client:
            headers = {
                **envelope_headers(OFFICIAL_A),
                "Authorization": f"Bearer {keys['requester_a']}",
            }
            batch_id = client.post("/v1/batches", content=world.small_a, headers=headers).json()[
                "batch_id"
            ]
            app.state.custos.worker.join()
            done = client.get(f"/v1/batches/{batch_id}", headers=headers).json()
        assert done["complete"] and done["answered_rows"] == 12
        gw.store.close()
