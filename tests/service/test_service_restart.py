"""kill -9 the server and the worker mid-batch, restart them, and the batch completes once.

Real processes on PostgreSQL: `custos serve --no-worker` and `custos worker`.
The worker is killed by its own hand just before a chosen SQL statement (a
`sitecustomize` on its PYTHONPATH listens to every engine; nothing in custos
knows about it): first as matching ends, before its stage commits, and the
server with it; then, after both restart, inside the disclose stage's
transaction. After the restart the same file under the same Idempotency-Key
is the same batch. A third worker takes the batch to completion, and the
store must hold exactly one outcome per request, each disclosure once, the
same responses as an uninterrupted run, and a ledger `custos ledger verify`
accepts.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from service_support import AGENCY_A, OFFICIAL_A, World, envelope_headers, issue_all, make_gateway
from sqlalchemy import create_engine, select

from custos.ledger import generate_signing_key, save_signing_key
from custos.policy.roster import load_roster
from custos.service import create_app
from custos.service.auth import Role, issue_key
from custos.store import Agency, open_store, save_agency
from custos.store.schema import batches, disclosures, outcomes, row_rejections
from custos.store.testing import postgres_schema, postgres_unavailable_reason

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

CUSTOS = str(Path(sys.executable).with_name("custos"))
HOOK = """
import os, signal, sys

_marker = os.environ.get("CUSTOS_TEST_KILL_BEFORE")
if _marker:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    _with = os.environ.get("CUSTOS_TEST_KILL_WITH")

    def _die(conn, cursor, statement, parameters, *rest):
        if _marker.lower() not in statement.lower():
            return
        if _with and _with not in repr(parameters):
            return
        os.kill(os.getpid(), signal.SIGKILL)

    event.listen(Engine, "before_cursor_execute", _die)

# hide no sitecustomize further down the path
sys.path.remove(os.path.dirname(os.path.abspath(__file__)))
del sys.modules["sitecustomize"]
try:
    import sitecustomize
except ImportError:
    pass
"""


@pytest.fixture
def pg_url() -> Iterator[str]:
    if reason := postgres_unavailable_reason():
        pytest.skip(reason)
    with postgres_schema() as url:
        yield url


def _reference(world: World, tmp_path: Path) -> str:
    """The requester view of the batch from a run nobody interrupted."""
    with postgres_schema() as url:
        gw = make_gateway(world, url, tmp_path / "reference")
        with TestClient(create_app(gw)) as client:
            keys = issue_all(gw)
            headers = {
                **envelope_headers(OFFICIAL_A),
                "Authorization": f"Bearer {keys['requester_a']}",
            }
            batch_id = client.post("/v1/batches", content=world.batch_a, headers=headers).json()[
                "batch_id"
            ]
            client.app.state.custos.worker.join()  # type: ignore[attr-defined]
            got = client.get(f"/v1/batches/{batch_id}/responses", headers=headers)
            assert got.status_code == 200, got.text
        gw.store.close()
    return got.text


class Deployment:
    """One home, one store, and the server and worker processes started on them."""

    def __init__(self, world: World, url: str, home: Path) -> None:
        self.world, self.url, self.home = world, url, home
        (home / "hook").mkdir(parents=True)
        (home / "hook" / "sitecustomize.py").write_text(HOOK)
        signing = generate_signing_key("custos.test/ledger")
        save_signing_key(signing, home / "keys" / "ledger.key")
        self.verifier = str(signing.verifier)
        with open_store(url) as opened:
            with opened.write() as conn:
                for a in load_roster(world.roster).agencies:
                    save_agency(conn, Agency(a.id, a.name, a.safeguards_expires))
            self.key = issue_key(
                opened, role=Role.REQUESTER, agency=AGENCY_A, actor="user:test", origin="test"
            ).secret_key
        self.env = {
            **os.environ,
            "CUSTOS_HOME": str(home),
            "CUSTOS_DATABASE_URL": url,
            "CUSTOS_LEDGER_ORIGIN": "custos.test/ledger",
        }
        self.env.pop("CUSTOS_LEDGER_KEY", None)
        self.common = [
            "--world", str(world.folder),
            "--roster", str(world.roster),
            "--model", str(world.folder.parent / "model.json"),
        ]  # fmt: skip
        self.log = home / "processes.log"

    def worker(self, kill_before: tuple[str, str] | None = None) -> subprocess.Popen[bytes]:
        """A worker; with `kill_before`, one that dies before (statement, parameter)."""
        hook = {}
        if kill_before:
            hook = {
                "CUSTOS_TEST_KILL_BEFORE": kill_before[0],
                "CUSTOS_TEST_KILL_WITH": kill_before[1],
            }
        return self._start(["worker", "--poll", "0.2", "--retry-after", "0"], hook)

    def server(self) -> tuple[subprocess.Popen[bytes], str]:
        """A server without a worker of its own, and its base URL once it answers."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = self._start(["serve", "--no-worker", "--port", str(port)], {})
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert server.poll() is None, self.tail()
            try:
                if httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                    return server, base
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("the server did not start\n" + self.tail())

    def _start(self, args: list[str], hook: dict[str, str]) -> subprocess.Popen[bytes]:
        env = {**self.env, **hook}
        if hook:
            env["PYTHONPATH"] = os.pathsep.join(
                [str(self.home / "hook"), env.get("PYTHONPATH", "")]
            )
        command = [CUSTOS, args[0], *self.common, *args[1:]]
        with self.log.open("ab") as log:
            return subprocess.Popen(command, env=env, cwd=self.home, stdout=log, stderr=log)

    def submit(self, base: str) -> str:
        headers = {
            **envelope_headers(OFFICIAL_A),
            "Authorization": f"Bearer {self.key}",
            "Idempotency-Key": "restart-test-1",
        }
        got = httpx.post(
            f"{base}/v1/batches", content=self.world.batch_a, headers=headers, timeout=60
        )
        assert got.status_code == 202, got.text
        return str(got.json()["batch_id"])

    def stage(self, batch_id: str) -> str:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return str(
                    conn.execute(
                        select(batches.c.stage).where(batches.c.id == batch_id)
                    ).scalar_one()
                )
        finally:
            engine.dispose()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def _killed(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait()


def _stopped(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


def test_kill_nine_server_and_worker_mid_batch_then_the_batch_completes_once(
    world: World, pg_url: str, tmp_path: Path
) -> None:
    expected = _reference(world, tmp_path)
    d = Deployment(world, pg_url, tmp_path / "served")

    worker = d.worker(("UPDATE batches", "matched"))  # dies as matching ends, before it commits
    server, base = d.server()
    try:
        batch_id = d.submit(base)
        assert worker.wait(timeout=90) == -signal.SIGKILL, d.tail()
    finally:
        _killed(worker)
        _killed(server)
    assert d.stage(batch_id) == "gated"

    worker = d.worker(("INSERT INTO disclosures", ""))  # dies inside the disclose transaction
    server, base = d.server()
    try:
        assert d.submit(base) == batch_id, "the same file under the same key is the same batch"
        assert worker.wait(timeout=90) == -signal.SIGKILL, d.tail()
        assert d.stage(batch_id) == "decided"
        worker = d.worker()
        headers = {"Authorization": f"Bearer {d.key}"}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            progress = httpx.get(f"{base}/v1/batches/{batch_id}", headers=headers).json()
            if progress["complete"]:
                break
            time.sleep(0.2)
        assert progress["complete"] and progress["answered_rows"] == progress["rows"], d.tail()
        got = httpx.get(f"{base}/v1/batches/{batch_id}/responses", headers=headers)
    finally:
        _stopped(worker)
        _stopped(server)
    assert got.status_code == 200
    assert got.text == expected

    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            answered = Counter(
                [r.request_id for r in conn.execute(select(outcomes.c.request_id))]
                + [r.request_id for r in conn.execute(select(row_rejections.c.request_id))]
            )
            disclosed = Counter(
                r.request_id for r in conn.execute(select(disclosures.c.request_id))
            )
    finally:
        engine.dispose()
    submitted = [r["request_id"] for r in csv.DictReader(io.StringIO(world.batch_a.decode()))]
    assert answered == Counter(submitted), "every request has exactly one outcome"
    statuses = Counter(r["status"] for r in csv.DictReader(io.StringIO(expected)))
    assert disclosed and set(disclosed.values()) == {1}
    assert sum(disclosed.values()) == statuses["disclosed"]

    verify = subprocess.run(
        [CUSTOS, "ledger", "verify", "--key", d.verifier],
        env=d.env,
        cwd=d.home,
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
