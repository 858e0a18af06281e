"""Fixtures for the match tests; the builders are in match_builders.py."""

from __future__ import annotations

import pytest
from match_builders import manual_settings

from custos.match.training import LoadedModel, model_hash


@pytest.fixture(scope="session")
def manual_model() -> LoadedModel:
    settings = manual_settings()
    return LoadedModel(settings=settings, sha256=model_hash(settings))
