"""Reading policy TOML files strictly: every mistake is a PolicyError naming the file and key.

Packs and rosters are law made executable; a misspelt key silently ignored
could turn a rule off, so unknown keys are errors, not warnings.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from custos.errors import PolicyError

Table = Mapping[str, Any]


def read(path: Path, kind: str) -> tuple[bytes, Table]:
    """The file's bytes (for its content hash) and its parsed top-level table."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PolicyError(f"{kind} file not found: {path}") from None
    except OSError as exc:
        raise PolicyError(f"cannot read {kind} file {path}: {exc.strerror or exc}") from None
    try:
        return data, tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise PolicyError(f"{kind} file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{kind} file {path} is not valid TOML: {exc}") from None


class Reader:
    """Typed access to one TOML file's values, with errors that say where."""

    def __init__(self, path: Path, kind: str) -> None:
        self.origin = f"{kind} {path}"

    def fail(self, where: str, message: str) -> PolicyError:
        return PolicyError(f"{self.origin}: {where}: {message}")

    def keys(self, table: Table, where: str, allowed: Collection[str]) -> None:
        unknown = sorted(set(table) - set(allowed))
        if unknown:
            raise self.fail(where, f"unknown key(s) {', '.join(unknown)}")

    def table(self, parent: Table, key: str, where: str) -> Table:
        value = parent.get(key)
        if value is None:
            raise self.fail(where, f"missing [{key}] table")
        if not isinstance(value, Mapping):
            raise self.fail(where, f"{key} must be a table")
        return value

    def tables(self, parent: Table, key: str, where: str, *, required: bool) -> list[Table]:
        value = parent.get(key)
        if value is None:
            if required:
                raise self.fail(where, f"missing [[{key}]] entries")
            return []
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.fail(where, f"{key} must be an array of tables ([[{key}]])")
        if required and not value:
            raise self.fail(where, f"[[{key}]] is empty")
        return list(value)

    def text(self, table: Table, key: str, where: str, *, required: bool = True) -> str:
        value = table.get(key)
        if value is None:
            if required:
                raise self.fail(where, f"missing {key}")
            return ""
        if not isinstance(value, str):
            raise self.fail(where, f"{key} must be a string")
        if required and not value.strip():
            raise self.fail(where, f"{key} is blank")
        return value.strip()

    def texts(self, table: Table, key: str, where: str) -> tuple[str, ...]:
        value = table.get(key)
        if value is None:
            raise self.fail(where, f"missing {key}")
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(where, f"{key} must be a list of non-blank strings")
        if not value:
            raise self.fail(where, f"{key} is empty")
        if len({v.strip().casefold() for v in value}) != len(value):
            raise self.fail(where, f"{key} lists an entry twice")
        return tuple(v.strip() for v in value)

    def integer(self, table: Table, key: str, where: str, *, minimum: int) -> int:
        value = table.get(key)
        if value is None:
            raise self.fail(where, f"missing {key}")
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, f"{key} must be an integer")
        if value < minimum:
            raise self.fail(where, f"{key} must be at least {minimum}")
        return value

    def number(self, table: Table, key: str, where: str, *, low: float, high: float) -> float:
        value = table.get(key)
        if value is None:
            raise self.fail(where, f"missing {key}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(where, f"{key} must be a number")
        if not low <= value <= high:
            raise self.fail(where, f"{key} must lie between {low} and {high}")
        return float(value)

    def flag(self, table: Table, key: str, where: str, *, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(where, f"{key} must be true or false")
        return value

    def day(self, table: Table, key: str, where: str) -> date | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise self.fail(where, f"{key} must be a date (YYYY-MM-DD)")
