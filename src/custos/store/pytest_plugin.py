"""pytest fixtures that run a test against every store backend.

Import `store_url` and `store` into a conftest. Each test gets an empty,
migrated store: a copy of a SQLite file migrated once per session, or a
PostgreSQL schema migrated once per session and emptied before each test
(marked `postgres`, skipped with the reason when the server is down).
Migrating once keeps the suite fast; the migrations themselves are tested
by opening a fresh database in the store's own tests.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from custos.store.engine import Store, open_store
from custos.store.testing import empty_postgres, postgres_schema, postgres_unavailable_reason


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store-template") / "custos.db"
    open_store(f"sqlite:///{path}").close()
    return path


@pytest.fixture(scope="session")
def migrated_postgres_url() -> Iterator[str]:
    if reason := postgres_unavailable_reason():
        pytest.skip(reason)
    with postgres_schema() as url:
        open_store(url).close()
        yield url


@pytest.fixture(
    params=[pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated store on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("migrated_sqlite_template")
        shutil.copyfile(template, tmp_path / "custos.db")
        return f"sqlite:///{tmp_path / 'custos.db'}"
    url: str = request.getfixturevalue("migrated_postgres_url")
    empty_postgres(url)
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()
