"""Opening, configuring and migrating the store, on both backends."""

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, text
from sqlalchemy.exc import DBAPIError

from custos.config import load_settings
from custos.errors import StoreError
from custos.store import Store, open_store
from custos.store.schema import ledger_events, metadata
from custos.store.testing import tampering


def test_migrated_schema_matches_the_metadata(store: Store) -> None:
    with store.read() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_reopening_is_a_no_op_and_keeps_data(store: Store, store_url: str) -> None:
    with store.write() as conn:
        conn.execute(text("INSERT INTO agencies (id, name, created_at) VALUES ('A', 'x', :t)"),
                     {"t": "2025-01-01 00:00:00"})  # fmt: skip
    again = open_store(store_url)
    with again.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM agencies")).scalar_one() == 1
    again.close()


def test_sqlite_is_durable_wal_with_foreign_keys(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'home' / 'custos.db'}")
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    store.close()
    assert (tmp_path / "home" / "custos.db").exists()


def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(DBAPIError), store.write() as conn:
        conn.execute(
            text(
                "INSERT INTO holds (agency_id, reason, placed_by, placed_at) "
                "VALUES ('NO-SUCH-AGENCY', 'r', 'p', :t)"
            ),
            {"t": "2025-01-01 00:00:00"},
        )


def _event_row(seq: int) -> dict[str, object]:
    return {
        "seq": seq,
        "time": "2025-01-01T00:00:00.000000Z",
        "actor": "a",
        "event_type": "checkpoint",
        "success": True,
        "origin": "o",
        "object": "x",
        "payload": "{}",
        "prev_hash": bytes(32),
        "leaf_hash": bytes(32),
    }


@pytest.mark.parametrize(
    "statement", ["UPDATE ledger_events SET actor = 'b'", "DELETE FROM ledger_events"]
)
def test_ledger_rows_cannot_be_changed_or_deleted(store: Store, statement: str) -> None:
    with store.write() as conn:
        conn.execute(insert(ledger_events), [_event_row(0)])
    with pytest.raises(DBAPIError, match="append-only"), store.write() as conn:
        conn.execute(text(statement))
    with store.read() as conn:
        assert conn.execute(text("SELECT actor FROM ledger_events")).scalar_one() == "a"


def test_tampering_helper_lifts_and_restores_the_protection(store: Store) -> None:
    with store.write() as conn:
        conn.execute(insert(ledger_events), [_event_row(0), _event_row(1)])
    with tampering(store) as conn:
        conn.execute(text("DELETE FROM ledger_events WHERE seq = 1"))
    with pytest.raises(DBAPIError, match="append-only"), store.write() as conn:
        conn.execute(text("DELETE FROM ledger_events"))
    with store.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM ledger_events")).scalar_one() == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite://", "in-memory"),
        ("sqlite:///:memory:", "in-memory"),
        ("mysql://u@h/db", "unsupported database 'mysql'"),
        ("not a url", "not a database URL"),
    ],
)
def test_unsupported_urls_are_refused_clearly(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        open_store(url)


def test_unreachable_server_is_a_store_error_without_password() -> None:
    with pytest.raises(StoreError, match="cannot open the store") as info:
        open_store("postgresql+psycopg://u:s3cret@127.0.0.1:1/db?connect_timeout=2")
    assert "s3cret" not in str(info.value)


def test_a_store_at_another_revision_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'custos.db'}"
    open_store(url).close()
    store = open_store(url)
    with store.write() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    store.close()
    with pytest.raises(StoreError, match="ffff"):
        open_store(url)
    with pytest.raises(StoreError, match="revision ffff"):
        open_store(url, migrate=False)


def test_default_url_comes_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUSTOS_DATABASE_URL", raising=False)
    monkeypatch.setenv("CUSTOS_HOME", str(tmp_path / "home"))
    store = open_store()
    assert store.url == f"sqlite:///{tmp_path / 'home' / 'custos.db'}"
    store.close()
    assert os.stat(tmp_path / "home").st_mode & 0o077 == 0


def test_settings_defaults_and_overrides(tmp_path: Path) -> None:
    defaults = load_settings({})
    assert defaults.home == (Path.cwd() / ".custos")
    assert defaults.database_url == f"sqlite:///{Path.cwd() / '.custos' / 'custos.db'}"
    assert defaults.ledger_key_path == Path.cwd() / ".custos" / "keys" / "ledger.key"
    custom = load_settings(
        {"CUSTOS_HOME": str(tmp_path), "CUSTOS_DATABASE_URL": "postgresql://x/y"}
    )
    assert custom.home == tmp_path
    assert custom.database_url == "postgresql://x/y"
    assert custom.ledger_key_path == tmp_path / "keys" / "ledger.key"


def test_migrations_downgrade_to_nothing_and_back(store_url: str) -> None:
    from alembic import command

    from custos.store.engine import _alembic_config

    store = open_store(store_url)
    with store.write() as conn:
        command.downgrade(_alembic_config(conn), "base")
    with store.read() as conn:
        assert "ledger_events" not in inspect(conn).get_table_names()
    with store.write() as conn:
        command.upgrade(_alembic_config(conn), "head")
    with store.read() as conn:
        assert set(metadata.tables) <= set(inspect(conn).get_table_names())
    store.close()
