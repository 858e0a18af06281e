"""Small synthetic worlds shared by the synth tests (generated once per session)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest

from custos.synth.world import WorldSummary, generate


@dataclass(frozen=True)
class World:
    path: Path
    summary: WorldSummary

    def rows(self, name: str) -> list[dict[str, str]]:
        with (self.path / name).open(newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))


@pytest.fixture(scope="session")
def world_5k(tmp_path_factory: pytest.TempPathFactory) -> World:
    """5,000 taxpayers and 8,000 requests: big enough for boilerplate and implausible rows."""
    out = tmp_path_factory.mktemp("world5k")
    return World(out, generate(out, taxpayers=5000, requests=8000, seed=11))


@pytest.fixture(scope="session")
def world_aug(tmp_path_factory: pytest.TempPathFactory) -> World:
    out = tmp_path_factory.mktemp("worldaug")
    return World(out, generate(out, taxpayers=4000, requests=5000, seed=12, profile="aug2025"))
