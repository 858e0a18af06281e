"""`custos review` and `custos hold` at the console: the same decisions as over HTTP."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custos.cli import app

runner = CliRunner()
RATIONALE = "DOB and unit agree with the first candidate only"


@pytest.fixture
def home(tmp_path: Path, small_model: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("CUSTOS_HOME", str(home))
    monkeypatch.delenv("CUSTOS_DATABASE_URL", raising=False)
    monkeypatch.delenv("CUSTOS_LEDGER_KEY", raising=False)
    assert runner.invoke(app, ["ledger", "keygen"]).exit_code == 0
    shutil.copyfile(small_model, home / "model.json")
    return home


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_an_officer_holds_reviews_and_discloses_from_the_console(
    home: Path, small_world: Path, tmp_path: Path
) -> None:
    world = str(small_world)
    placed = _ok(
        "hold", "place", "--world", world, "--scope", "all", "--reference", "Order 25-cv-9",
        "--rationale", "an injunction against the programme",
    )  # fmt: skip
    assert placed.startswith("hold 1 placed: all")
    _ok("run", "--world", world, "--out", str(tmp_path / "run"))
    assert "Order 25-cv-9" in _ok("hold", "list", "--active")
    lifted = _ok("hold", "lift", "1", "--world", world, "--rationale", "order vacated on appeal")
    assert lifted.startswith("hold 1 lifted: released ") and "still held 0" in lifted

    listed = _ok("review", "list", "--world", world)
    line = next(x for x in listed.splitlines() if "DHS-ICE" in x)
    request_id = line.split("│")[2].strip()
    shown = json.loads(_ok("review", "show", "DHS-ICE", request_id, "--world", world))
    tin = shown["candidates"][0]["tin"]
    assert shown["status"] == "open" and shown["candidates"][0]["fields"]

    refused = runner.invoke(
        app,
        ["review", "decide", "DHS-ICE", request_id, "--world", world,
         "--rationale", RATIONALE, "--disclose", "000000000"],
    )  # fmt: skip
    assert refused.exit_code == 2 and "not one of this item's candidates" in refused.output
    decided = _ok(
        "review", "decide", "DHS-ICE", request_id, "--world", world, "--rationale", RATIONALE,
        "--disclose", tin,
    )  # fmt: skip
    assert decided.strip() == f"DHS-ICE/{request_id}: approved"
    accounting = _ok("accounting", "--tin", tin)
    assert request_id in accounting
