"""Opening the store: one engine per URL, configured for durability, migrated to head.

SQLite is opened in WAL mode with `synchronous=FULL` and foreign keys on, and
SQLAlchemy (not the sqlite3 driver) issues BEGIN, so that a write transaction
can start with `BEGIN IMMEDIATE`: it takes the database's single write lock
before its first read, which is what makes the ledger's read-the-head-then-
append sequence race-free across processes (datasette's one-writer shape).
PostgreSQL needs nothing special here; the ledger locks its own table.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from custos.config import load_settings
from custos.errors import StoreError

SQLITE_BUSY_TIMEOUT_S = 60.0
_WRITE = "custos_write"


class Store:
    """An open operational store: an engine on a database migrated to head.

    Use `write()` for every transaction that changes data and `read()` for the
    rest; both commit or roll back as a whole.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.engine.dialect.name

    @property
    def url(self) -> str:
        """The database URL, with any password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction; on SQLite it holds the write lock from its start."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: one consistent snapshot on both backends."""
        with self.engine.connect() as conn, conn.begin():
            if self.dialect == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield conn

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def is_write(conn: Connection) -> bool:
    """True when `conn` is inside a `Store.write()` transaction."""
    return bool(conn.get_execution_options().get(_WRITE, False))


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """Open the store at `url` (default: `CUSTOS_DATABASE_URL`) and upgrade it to head.

    With `migrate=False` the database must already be at head; a database at
    another revision is refused, so old code never writes to a newer schema.
    """
    url = url or load_settings().database_url
    engine = _create_engine(url)
    store = Store(engine)
    try:
        if migrate:
            _upgrade(store)
        _require_head(store)
    except (SQLAlchemyError, CommandError) as exc:
        engine.dispose()
        raise StoreError(f"cannot open the store at {store.url}: {_first_line(exc)}") from exc
    except StoreError:
        engine.dispose()
        raise
    return store


def _create_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except Exception as exc:  # ArgumentError, ValueError: any unparseable URL
        raise StoreError(f"not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or "mode=memory" in url:
            raise StoreError("an in-memory SQLite store is not supported; give a file path")
        path = Path(database)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    raise StoreError(f"unsupported database {backend!r}: use sqlite or postgresql")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if is_write(conn) else "BEGIN")


def _alembic_config(conn: Connection) -> Config:
    cfg = Config()
    location = resources.files("custos.store") / "migrations"
    cfg.set_main_option("script_location", str(location))
    cfg.attributes["connection"] = conn
    return cfg


def _upgrade(store: Store) -> None:
    with store.write() as conn:
        if store.dialect == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7161383635)")
        command.upgrade(_alembic_config(conn), "head")


def _require_head(store: Store) -> None:
    with store.read() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        head = ScriptDirectory.from_config(_alembic_config(conn)).get_current_head()
    if current != head:
        raise StoreError(
            f"the store at {store.url} is at schema revision {current or 'none'}, "
            f"this custos expects {head}; open it with migrations enabled"
        )


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
