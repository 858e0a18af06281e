"""`custos keys issue|list|revoke` and `custos serve`'s refusal to start without a key."""

from __future__ import annotations

from pathlib import Path

import pytest
from service_support import AGENCY_B, World
from typer.testing import CliRunner

from custos.config import load_settings
from custos.service.auth import authenticate
from custos.service.cli import keys_app, service_app
from custos.store import open_store


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CUSTOS_HOME", str(tmp_path))
    monkeypatch.delenv("CUSTOS_DATABASE_URL", raising=False)
    monkeypatch.delenv("CUSTOS_LEDGER_KEY", raising=False)
    return tmp_path


def test_issue_list_revoke(home: Path, world: World) -> None:
    runner = CliRunner()
    issued = runner.invoke(
        keys_app,
        ["issue", "--role", "requester", "--agency", AGENCY_B, "--roster", str(world.roster)],
    )
    assert issued.exit_code == 0, issued.output
    key = issued.stdout.strip()
    with open_store(load_settings().database_url) as opened:
        principal = authenticate(opened, f"Bearer {key}")
    assert principal.agency == AGENCY_B
    listed = runner.invoke(keys_app, ["list"])
    assert listed.exit_code == 0
    assert f"{principal.prefix}\trequester\t{AGENCY_B}\tactive" in listed.stdout
    assert key.rsplit("_", 1)[1] not in listed.stdout
    revoked = runner.invoke(keys_app, ["revoke", principal.prefix])
    assert revoked.exit_code == 0
    assert "\trevoked" in runner.invoke(keys_app, ["list"]).stdout


def test_issue_refuses_an_unknown_role(home: Path) -> None:
    result = CliRunner().invoke(keys_app, ["issue", "--role", "superuser"])
    assert result.exit_code == 2
    assert "--role must be one of" in result.output


def test_serve_refuses_to_start_without_a_signing_key(home: Path, world: World) -> None:
    result = CliRunner().invoke(service_app, ["serve", "--world", str(world.folder)])
    assert result.exit_code == 2
    assert "will not start" in result.output
