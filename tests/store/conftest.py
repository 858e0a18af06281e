"""The store under test, on every backend (see custos.store.pytest_plugin)."""

from custos.store.pytest_plugin import (  # noqa: F401
    migrated_postgres_url,
    migrated_sqlite_template,
    store,
    store_url,
)
