"""`custos check`: the dry run agrees with ground truth and exits as documented."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custos.cli import app
from custos.synth.world import generate

runner = CliRunner()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    generate(out, taxpayers=1500, requests=600, seed=11)
    return out


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_verdicts_agree_with_truth(world: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["check", str(world / "requests.csv"), "--world", str(world), "--out", str(tmp_path)]
    )
    assert result.exit_code == 1, result.output
    gate = _read(tmp_path / "gate.csv")
    truth = dict(enumerate(_read(world / "truth.csv"), start=1))
    requests = _read(world / "requests.csv")
    assert len(gate) == len(requests)
    assert [int(g["row"]) for g in gate] == list(range(1, len(requests) + 1))

    disagreements = []
    for g in gate:
        t = truth[int(g["row"])]
        rejected = t["expected_outcome"] == "rejected"
        primary = g["reason_codes"].split(";")[0] if g["reason_codes"] else ""
        if g["passed"] == "true" and rejected:
            disagreements.append(
                (g["request_id"], "passed but truth rejects", t["expected_reason"])
            )
        elif g["passed"] == "false" and not rejected:
            disagreements.append((g["request_id"], "rejected but truth is valid", primary))
        elif rejected and primary != t["expected_reason"]:
            disagreements.append((g["request_id"], primary, t["expected_reason"]))
    assert disagreements == []
    assert any(t["expected_outcome"] == "rejected" for t in truth.values())


def test_all_valid_batch_exits_zero(world: Path, tmp_path: Path) -> None:
    truth = [t["expected_outcome"] for t in _read(world / "truth.csv")]
    requests = _read(world / "requests.csv")
    rows = [r for r, t in zip(requests, truth, strict=True) if t != "rejected"]
    valid = tmp_path / "valid.csv"
    with valid.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = runner.invoke(
        app, ["check", str(valid), "--world", str(world), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    assert "passed" in result.output


def test_file_that_is_no_batch_exits_two(world: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.csv"
    junk.write_text("name,colour\nfig,purple\n", encoding="utf-8")
    result = runner.invoke(app, ["check", str(junk), "--world", str(world), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "request_id" in result.output


def test_missing_roster_exits_two(world: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(world / "requests.csv"), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "roster" in result.output
