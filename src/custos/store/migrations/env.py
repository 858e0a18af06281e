"""Alembic environment: migrate the connection `open_store` passes in, nothing else."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from custos.store.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError("custos migrations run through custos.store.open_store(url)")
_run(_connection)
