"""The reports under test, on every store backend, over the world of report_builders.py."""

import pytest
from report_builders import Populated, populate

from custos.ledger import SigningKey, generate_signing_key
from custos.store import Store
from custos.store.pytest_plugin import (  # noqa: F401
    migrated_postgres_url,
    migrated_sqlite_template,
    store,
    store_url,
)


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return generate_signing_key("custos.test/ledger")


@pytest.fixture
def world(store: Store, signing_key: SigningKey) -> Populated:  # noqa: F811
    """The store filled with the report world; returns what the ledger recorded."""
    return populate(store, signing_key)
