"""The store under test on every backend, and signing keys."""

import pytest

from custos.ledger import SigningKey, generate_signing_key
from custos.store.pytest_plugin import (  # noqa: F401
    migrated_postgres_url,
    migrated_sqlite_template,
    store,
    store_url,
)


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return generate_signing_key("custos.test/ledger")


@pytest.fixture(scope="session")
def other_key() -> SigningKey:
    """A second key with the same name: signatures by it must never verify."""
    return generate_signing_key("custos.test/ledger")
