"""kill -9 at any point of a run, resume, and every row is answered exactly once.

Each run happens in a forked child that SIGKILLs itself just before its k-th
SQL statement, so the kill lands inside a stage's transaction, between
stages, or (for k past the last statement) not at all. The parent then
resumes in another child and compares the store with a run that was never
interrupted. Children come from a fork server that has imported custos but
never opened DuckDB, so no child inherits another test's database threads.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from custos import pipeline
from custos.config import load_settings
from custos.intake import read_batch
from custos.ledger import generate_signing_key, save_signing_key, verify
from custos.match import load_model, train
from custos.policy.pack import load_pack
from custos.policy.roster import load_roster
from custos.store import open_store
from custos.store.schema import disclosures, ledger_events, outcomes
from custos.synth.world import generate

pytestmark = pytest.mark.slow

KILL_POINTS = int(os.environ.get("CUSTOS_CRASH_POINTS", "22"))
"""22 in the suite; `benchmarks/bench_crash.py` runs the same test with more."""
_fork = multiprocessing.get_context("forkserver")
_fork.set_forkserver_preload(["custos.pipeline", "custos.match", "custos.synth.world"])


def _in_child(target: Callable[..., None], *args: Any) -> int:
    child = _fork.Process(target=target, args=args)
    child.start()
    child.join(timeout=300)
    assert child.exitcode is not None, "child did not finish"
    return child.exitcode


def _env(home: Path) -> None:
    os.environ["CUSTOS_HOME"] = str(home)
    os.environ.pop("CUSTOS_DATABASE_URL", None)
    os.environ.pop("CUSTOS_LEDGER_KEY", None)


def _train(world: Path, model: Path) -> None:
    train(world, model)
    os._exit(0)


def _run(world: Path, model: Path, home: Path, kill_at: int, counts: Any) -> None:
    """Run the world's batch; SIGKILL ourselves just before SQL statement `kill_at`."""
    _env(home)
    pack, roster = load_pack(), load_roster(world / "roster.toml")
    gw = pipeline.open_gateway(
        pack=pack,
        roster=roster,
        model=load_model(model),
        master=pipeline.Master.from_world(world),
        actor=pipeline.Actor("user:crash-test", "test"),
    )
    seen = 0

    def maybe_die(*_: Any) -> None:
        nonlocal seen
        seen += 1
        if seen == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    event.listen(gw.store.engine, "before_cursor_execute", maybe_die)
    source = world / "requests.csv"
    agency = pipeline.resolve_agency(roster, "")
    pipeline.run(
        gw,
        read_batch(source, agency=agency),
        agency=agency,
        source_sha256=pipeline.file_sha256(source),
    )
    counts.value = seen
    os._exit(0)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    base = tmp_path_factory.mktemp("crash")
    world = base / "world"
    generate(world, taxpayers=400, requests=120, seed=5)
    model = base / "model.json"
    assert _in_child(_train, world, model) == 0
    key = generate_signing_key("custos.test/ledger")
    return world, model, _keyfile(base, key)


def _keyfile(base: Path, key: Any) -> Path:
    path = base / "ledger.key"
    save_signing_key(key, path)
    return path


def _home(base: Path, keyfile: Path) -> Path:
    home = base
    (home / "keys").mkdir(parents=True)
    (home / "keys" / "ledger.key").write_bytes(keyfile.read_bytes())
    (home / "keys" / "ledger.key").chmod(0o600)
    return home


def _state(home: Path, keyfile: Path) -> tuple[dict[str, tuple[str, str | None]], int, bool]:
    """(outcome and TIN per request, disclosures, does the ledger verify)."""
    from custos.ledger.keys import load_signing_key

    store = open_store(load_settings({"CUSTOS_HOME": str(home)}).database_url)
    try:
        with store.read() as conn:
            rows = conn.execute(
                select(outcomes.c.request_id, outcomes.c.outcome, outcomes.c.tin)
            ).all()
            disclosed = conn.execute(select(func.count()).select_from(disclosures)).scalar_one()
            assert conn.execute(select(func.count()).select_from(ledger_events)).scalar_one()
        report = verify(store, load_signing_key(keyfile).verifier)
    finally:
        store.close()
    return {r.request_id: (r.outcome, r.tin) for r in rows}, int(disclosed), report.ok


def test_kill_nine_anywhere_then_resume_answers_each_row_once(
    setup: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    world, model, keyfile = setup
    counts = _fork.Value("i", 0)
    clean_home = _home(tmp_path / "clean", keyfile)
    assert _in_child(_run, world, model, clean_home, 0, counts) == 0
    statements = counts.value
    clean, clean_disclosures, clean_ok = _state(clean_home, keyfile)
    assert clean_ok and clean_disclosures > 0
    rows_in_batch = read_batch(world / "requests.csv").rows

    # Evenly spaced, so every stage's transaction (about 100 statements in all) is hit.
    step = (statements - 1) / (KILL_POINTS - 1)
    points = sorted({1 + round(i * step) for i in range(KILL_POINTS)})
    assert len(points) == KILL_POINTS
    killed = Counter[int]()
    for k in points:
        home = _home(tmp_path / f"kill-{k}", keyfile)
        code = _in_child(_run, world, model, home, k, counts)
        killed[code] += 1
        assert code == -signal.SIGKILL, f"run meant to die at statement {k} exited {code}"
        assert _in_child(_run, world, model, home, 0, counts) == 0, f"resume after {k} failed"
        resumed, disclosed, ok = _state(home, keyfile)
        assert ok, f"ledger does not verify after a kill at statement {k}"
        assert resumed == clean, f"answers differ from the clean run after a kill at {k}"
        assert disclosed == clean_disclosures
        assert len(resumed) + _row_rejections(home) == rows_in_batch
    assert killed[-signal.SIGKILL] == KILL_POINTS


def _row_rejections(home: Path) -> int:
    from custos.store.schema import row_rejections

    store = open_store(load_settings({"CUSTOS_HOME": str(home)}).database_url)
    try:
        with store.read() as conn:
            return int(conn.execute(select(func.count()).select_from(row_rejections)).scalar_one())
    finally:
        store.close()
