"""Shared fixtures: a small synthetic world and a model trained on it, once per session.

In CI (`CI=true`) the PostgreSQL server must answer: the server store is
tested over a real connection there, and a skipped backend would be a
silently weaker suite.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from custos.store.testing import postgres_unavailable_reason


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("CI") == "true" and (reason := postgres_unavailable_reason()):
        raise pytest.UsageError(f"CI requires PostgreSQL: {reason}")


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 taxpayers, 240 requests: every kind of request, in seconds."""
    from custos.synth.world import generate

    out = tmp_path_factory.mktemp("small-world")
    generate(out, taxpayers=600, requests=240, seed=21)
    return out


@pytest.fixture(scope="session")
def small_model(small_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from custos.match import train

    path = tmp_path_factory.mktemp("model") / "model.json"
    train(small_world, path)
    return path
