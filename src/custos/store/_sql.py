"""The few statements whose SQL differs between SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def utc_now() -> datetime:
    return datetime.now(UTC)


def insert_new(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> int:
    """Insert the rows that violate no unique constraint; return how many went in."""
    if not rows:
        return 0
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = dialect_insert(table).on_conflict_do_nothing().returning(table.c.id)
    return len(conn.execute(statement, rows).all())


def upsert(
    conn: Connection,
    table: Table,
    row: dict[str, Any],
    key: tuple[str, ...],
    keep: tuple[str, ...] = (),
) -> None:
    """Insert `row`, or update the row with the same `key`, leaving `keep` columns as they are."""
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = dialect_insert(table).values(row)
    updates = {n: statement.excluded[n] for n in row if n not in key and n not in keep}
    conn.execute(statement.on_conflict_do_update(index_elements=list(key), set_=updates))
