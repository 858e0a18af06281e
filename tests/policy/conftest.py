"""Fixtures for the policy tests; the builders are in policy_builders.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from policy_builders import ROSTER_TOML

from custos.policy.pack import Pack, load_pack
from custos.policy.roster import Roster, load_roster


@pytest.fixture(scope="session")
def pack() -> Pack:
    return load_pack()


@pytest.fixture(scope="session")
def roster(tmp_path_factory: pytest.TempPathFactory) -> Roster:
    path = tmp_path_factory.mktemp("roster") / "roster.toml"
    path.write_text(ROSTER_TOML, encoding="utf-8")
    return load_roster(path)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write text to a file under tmp_path and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write
