"""Test support that ships with the package, as httpx ships `MockTransport`.

`postgres_schema` gives each test a private PostgreSQL schema on the shared
test server, so suites can run side by side; `tampering` lets a test act as an
administrator who switches off the ledger's append-only triggers to rewrite it.
Nothing here is used outside tests.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from custos.store.engine import Store
from custos.store.schema import APPEND_ONLY_TABLES, metadata

POSTGRES_TEST_URL = os.environ.get(
    "CUSTOS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


BACKENDS = ("sqlite", "postgresql")


@functools.cache
def postgres_unavailable_reason(url: str = POSTGRES_TEST_URL) -> str | None:
    """None when the test server answers, else why it cannot be used (asked once per process)."""
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return f"PostgreSQL at {make_url(url).render_as_string()} unavailable: {exc}"
    finally:
        engine.dispose()
    return None


@contextlib.contextmanager
def postgres_schema(url: str = POSTGRES_TEST_URL) -> Iterator[str]:
    """A fresh schema on the server; yields a URL whose search_path is that schema only."""
    schema = f"custos_t_{secrets.token_hex(6)}"
    admin = create_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        options = quote(f"-csearch_path={schema}")
        separator = "&" if "?" in url else "?"
        yield f"{url}{separator}options={options}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


@contextlib.contextmanager
def temporary_store_url(backend: str, directory: Path) -> Iterator[str]:
    """A URL for an empty store: a SQLite file in `directory`, or a fresh PostgreSQL schema."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'custos.db'}"
    elif backend == "postgresql":
        with postgres_schema() as url:
            yield url
    else:
        raise ValueError(f"unknown backend {backend!r}; use one of {BACKENDS}")


def empty_postgres(url: str) -> None:
    """Delete every row of a migrated store (a test's clean slate), triggers notwithstanding."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())
    finally:
        engine.dispose()


@contextlib.contextmanager
def tampering(store: Store) -> Iterator[Connection]:
    """A write transaction with the append-only triggers off, as an attacker with admin rights.

    The triggers are back on when the block ends, whether or not it raised.
    """
    with store.write() as conn:
        if store.dialect == "postgresql":
            for table in APPEND_ONLY_TABLES:
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            yield conn
            for table in APPEND_ONLY_TABLES:
                conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
            return
        saved = conn.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        ).all()
        for name, _sql in saved:
            conn.execute(text(f"DROP TRIGGER {name}"))
        try:
            yield conn
        finally:
            for _name, sql in saved:
                conn.execute(text(sql))
