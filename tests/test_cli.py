"""The command line end to end, as a custodian and an auditor use it.

Run a batch, then verify, prove (checked by the stand-alone verifier copied
out of the package, with nothing else of custos importable), prove
consistency between two batches' checkpoints, export, account for a
taxpayer, report — and see `verify` fail once the database is edited.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

import custos.ledger.verifier
from custos.cli import app
from custos.store import open_store
from custos.store.testing import tampering

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, small_model: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("CUSTOS_HOME", str(home))
    monkeypatch.delenv("CUSTOS_DATABASE_URL", raising=False)
    monkeypatch.delenv("CUSTOS_LEDGER_KEY", raising=False)
    assert _ok("ledger", "keygen").exit_code == 0
    shutil.copyfile(small_model, home / "model.json")
    return home


def _ok(*args: str) -> object:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _verifier(
    tmp_path: Path, home: Path, kind: str, document: Path
) -> subprocess.CompletedProcess[str]:
    """Run verifier.py from a folder holding nothing else, with -I: custos is not importable."""
    alone = tmp_path / "auditor"
    alone.mkdir(exist_ok=True)
    shutil.copyfile(custos.ledger.verifier.__file__, alone / "verifier.py")
    key = (home / "keys" / "ledger.pub").read_text().strip()
    return subprocess.run(
        [sys.executable, "-I", str(alone / "verifier.py"), "--key", key, kind, str(document)],
        capture_output=True,
        text=True,
        cwd=alone,
        check=False,
    )


def test_run_verify_prove_account_report(small_world: Path, home: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    _ok("run", "--world", str(small_world), "--out", str(out), "--report", str(out / "r.html"))
    for name in ("responses.csv", "decisions.csv", "disclosures.csv", "review.csv", "r.html"):
        assert (out / name).is_file()
    disclosures = _rows(out / "disclosures.csv")
    assert disclosures

    verified = _ok("ledger", "verify")
    assert "ledger verified" in verified.output  # type: ignore[attr-defined]

    proof = tmp_path / "proof.json"
    _ok("ledger", "prove", "--request", disclosures[0]["request_id"], "--out", str(proof))
    checked = _verifier(tmp_path, home, "inclusion", proof)
    assert checked.returncode == 0, checked.stderr
    forged = json.loads(proof.read_text())
    last = forged["entries"][-1]
    assert '"event_type":"disclosure_made"' in last["event"]
    last["event"] = last["event"].replace('"success":true', '"success":false')
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    assert _verifier(tmp_path, home, "inclusion", tmp_path / "forged.json").returncode == 1

    # A second batch (the first 50 rows again, under new request ids) adds a checkpoint.
    second = tmp_path / "second.csv"
    rows = _rows(small_world / "requests.csv")[:50]
    with second.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**r, "request_id": "B2-" + r["request_id"]} for r in rows)
    _ok(
        "run", "--world", str(small_world), "--requests", str(second), "--out", str(tmp_path / "r2")
    )
    export = tmp_path / "published.json"
    _ok("ledger", "export", "--out", str(export))
    sizes = [c["tree_size"] for c in json.loads(export.read_text())["checkpoints"]]
    assert len(sizes) >= 2
    exported = export.read_text()
    assert not any(d["tin"] in exported for d in disclosures), "the export must hold no TIN"
    consistency = tmp_path / "consistency.json"
    _ok("ledger", "consistency", str(sizes[0]), str(sizes[-1]), "--out", str(consistency))
    assert _verifier(tmp_path, home, "consistency", consistency).returncode == 0

    accounting = _ok("accounting", "--tin", disclosures[0]["tin"])
    assert disclosures[0]["request_id"] in accounting.output  # type: ignore[attr-defined]
    year = disclosures[0]["disclosed_at"][:4]
    _ok("report", "annual", "--year", year, "--out", str(tmp_path / "annual.html"))
    annual = json.loads((tmp_path / "annual.json").read_text())
    both = len(disclosures) + len(_rows(tmp_path / "r2" / "disclosures.csv"))
    assert annual["agencies"][0]["instances_of_disclosure"] == both

    _ok("ledger", "verify", "--trusted", str(export))
    store = open_store(f"sqlite:///{home / 'custos.db'}")
    with tampering(store) as conn:
        conn.execute(
            text("UPDATE ledger_events SET payload = replace(payload, :a, :b) WHERE seq = 5"),
            {"a": '"', "b": "'"},
        )
    store.close()
    broken = runner.invoke(app, ["ledger", "verify"])
    assert broken.exit_code == 1
    assert "first bad sequence number: 5" in broken.output


def test_run_without_a_signing_key_is_refused_before_anything_is_written(
    small_world: Path, small_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty").mkdir()
    shutil.copyfile(small_model, tmp_path / "empty" / "model.json")
    monkeypatch.setenv("CUSTOS_HOME", str(tmp_path / "empty"))
    result = runner.invoke(app, ["run", "--world", str(small_world), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "signing key" in result.output
    assert not (tmp_path / "empty" / "custos.db").exists()
