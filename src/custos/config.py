"""Settings, read from the environment once and passed down as a value.

Every setting is an environment variable listed in `SETTINGS` with its
meaning, so the docs can be generated from (and checked against) this table.
Relative paths are resolved against the current directory at load time, so a
`Settings` value never changes meaning when the process changes directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SETTINGS: dict[str, str] = {
    "CUSTOS_HOME": (
        "Folder for custos's own files (the SQLite store, the ledger signing key). "
        "Default: `.custos` in the current directory."
    ),
    "CUSTOS_DATABASE_URL": (
        "SQLAlchemy URL of the operational store, e.g. "
        "`postgresql+psycopg://custos@db.internal/custos`. "
        "Default: the SQLite file `custos.db` under CUSTOS_HOME."
    ),
    "CUSTOS_LEDGER_KEY": (
        "Path of the Ed25519 private key that signs ledger checkpoints "
        "(Go note signer format, mode 0600). "
        "Default: `keys/ledger.key` under CUSTOS_HOME."
    ),
    "CUSTOS_LEDGER_ORIGIN": (
        "The ledger's origin line in every checkpoint, and the signing key's name. "
        "Default: `custos.local/ledger`."
    ),
}

DEFAULT_HOME = ".custos"
DEFAULT_ORIGIN = "custos.local/ledger"


@dataclass(frozen=True, slots=True)
class Settings:
    """Where custos keeps its state and how it names its ledger."""

    home: Path
    database_url: str
    ledger_key_path: Path
    ledger_origin: str


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from `environ` (default: the process environment)."""
    env = os.environ if environ is None else environ
    home = Path(env.get("CUSTOS_HOME") or DEFAULT_HOME).expanduser().absolute()
    database_url = env.get("CUSTOS_DATABASE_URL") or f"sqlite:///{home / 'custos.db'}"
    key_path = Path(env.get("CUSTOS_LEDGER_KEY") or home / "keys" / "ledger.key")
    return Settings(
        home=home,
        database_url=database_url,
        ledger_key_path=key_path.expanduser().absolute(),
        ledger_origin=env.get("CUSTOS_LEDGER_ORIGIN") or DEFAULT_ORIGIN,
    )
